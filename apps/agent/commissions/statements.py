"""Statements: a partner's commission lines for a period gathered into one document, reviewed by the
partner (accepted or disputed), then approved by the upstream, which posts the total to the partner's
account, or withdrawn, which frees its lines for the next statement.

Every status change is a conditional UPDATE on the status it leaves, so two people deciding at once
cannot both succeed; a line joins a statement by a conditional UPDATE on `statement_id IS NULL`, so it is
on one statement only."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.commissions.models import CommissionLine, CommissionStatement
from apps.agent.listing import Sorts
from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.components import Component
from portal.db.types import utcnow
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.i18n import N_

# An app that keeps partners' accounts offers this under `Component.extra["account_ledger"]`:
# (session, enterprise, description, amount, kind) adds an entry; a positive amount is owed to the
# partner; the kind is "commission" (an approved statement) or "fund" (a paid fund claim).
Ledger = Callable[[AsyncSession, uuid.UUID, str, Decimal, str], Awaitable[None]]
LEDGER_KEY = "account_ledger"
PERIOD = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")
ZERO = Decimal(0)


def ledger_of(components: Sequence[Component]) -> Ledger | None:
    return next((c.extra[LEDGER_KEY] for c in components if LEDGER_KEY in c.extra), None)


def period_end(period: str) -> date:
    """The first day after the period ("YYYY-MM", a calendar month)."""
    match = PERIOD.match(period or "")
    if match is None:
        raise ValidationFailed.single("period", N_("must be a month as YYYY-MM"), "invalid")
    year, month = int(match.group(1)), int(match.group(2))
    return date(year + month // 12, month % 12 + 1, 1)


def last_ended(today: date) -> str:
    """The latest month that has ended on `today` (UTC): the one a statement is made for by default."""
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first:%Y-%m}"


def ended_period_end(period: str, today: date) -> date:
    """`period_end`, for a month that has ended: a statement of the month under way (or a later one)
    would leave out what it has yet to earn, so it is refused, naming the month and when it can be made."""
    end = period_end(period)
    if end > today:
        raise ValidationFailed.single(
            "period",
            N_("%(period)s has not ended yet: its statements can be made from %(day)s"),
            "period_not_ended",
            period=period,
            day=end.isoformat(),
        )
    return end


STATEMENT_SORTS = Sorts(
    {
        "newest": (
            N_("Latest month first"),
            (CommissionStatement.period.desc(), EnterpriseLink.name, CommissionStatement.round.desc()),
        ),
        "oldest": (
            N_("Earliest month first"),
            (CommissionStatement.period, EnterpriseLink.name, CommissionStatement.round),
        ),
        "partner": (
            N_("Partner"),
            (EnterpriseLink.name, CommissionStatement.period.desc(), CommissionStatement.round.desc()),
        ),
        "total": (
            N_("Largest total"),
            (CommissionStatement.total.desc(), CommissionStatement.period.desc(), CommissionStatement.id),
        ),
    }
)


@dataclass(frozen=True, slots=True)
class StatementFilter:
    """What a statement list shows: a status, a partner (staff), months from `first` to `last` (YYYY-MM),
    a search of the partner's name (staff), an order."""

    status: str | None = None
    enterprise_id: uuid.UUID | None = None
    first: str | None = None
    last: str | None = None
    search: str | None = None
    sort: str | None = None


def month(text: str | None) -> str | None:
    """A month typed as a list's filter (YYYY-MM); anything else is no filter."""
    cleaned = (text or "").strip()[:7]
    return cleaned if PERIOD.match(cleaned) else None


class Statements:
    """The statements one actor may reach: a partner their enterprise's (`enterprise_id`), staff all."""

    def __init__(
        self,
        session: AsyncSession,
        actor: Actor | None,
        enterprise_id: uuid.UUID | None,
        ledger: Ledger | None,
        hidden: frozenset[str] = frozenset(),
    ) -> None:
        """`actor` None: the demo, which only closes periods. `hidden`: the fields (rate, amount) field
        rules hide from the actor, left out of what they are shown (a hidden amount hides the totals)."""
        self.session = session
        self.actor = actor
        self.enterprise_id = enterprise_id
        self.ledger = ledger
        self.hidden = hidden

    @property
    def partner(self) -> bool:
        return self.enterprise_id is not None

    # --- reading ---

    def sorts(self) -> Sorts:
        """The orders offered: none by the total when the field rules hide the amounts."""
        return Sorts(
            {k: v for k, v in STATEMENT_SORTS.orders.items() if not (k == "total" and "amount" in self.hidden)}
        )

    async def page(
        self,
        status: str | None = None,
        enterprise_id: uuid.UUID | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        wanted: StatementFilter | None = None,
    ) -> tuple[list[tuple[CommissionStatement, str]], int]:
        """Newest period first (unless `wanted` orders otherwise), with the partner's name."""
        wanted = wanted or StatementFilter(status=status, enterprise_id=enterprise_id)
        query = select(CommissionStatement, EnterpriseLink.name).join(
            EnterpriseLink, EnterpriseLink.id == CommissionStatement.enterprise_id
        )
        partner = self.enterprise_id or wanted.enterprise_id
        if partner is not None:
            query = query.where(CommissionStatement.enterprise_id == partner)
        if wanted.status:
            query = query.where(CommissionStatement.status == wanted.status)
        if wanted.first:
            query = query.where(CommissionStatement.period >= wanted.first)
        if wanted.last:
            query = query.where(CommissionStatement.period <= wanted.last)
        if wanted.search and not self.partner:
            query = query.where(func.lower(EnterpriseLink.name).contains(wanted.search.lower(), autoescape=True))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.execute(query.order_by(*self.sorts().by(wanted.sort)).limit(limit).offset(offset))
        return [(s, name) for s, name in rows], total

    async def get(self, statement_id: uuid.UUID) -> CommissionStatement:
        query = select(CommissionStatement).where(CommissionStatement.id == statement_id)
        if self.enterprise_id is not None:
            query = query.where(CommissionStatement.enterprise_id == self.enterprise_id)
        statement = await self.session.scalar(query)
        if statement is None:
            raise NotFound(N_("No such commission statement"))
        return statement

    async def enterprise_name(self, enterprise_id: uuid.UUID) -> str:
        return await self.session.scalar(select(EnterpriseLink.name).where(EnterpriseLink.id == enterprise_id)) or ""

    async def lines(self, statement_id: uuid.UUID) -> list[CommissionLine]:
        await self.get(statement_id)
        return list(
            await self.session.scalars(
                select(CommissionLine)
                .where(CommissionLine.statement_id == statement_id)
                .order_by(CommissionLine.earned_on, CommissionLine.created_at, CommissionLine.id)
            )
        )

    async def unstated(self, limit: int = 200) -> list[CommissionLine]:
        """Lines not on a statement yet (a partner's own; staff: everyone's), newest first."""
        query = select(CommissionLine).where(CommissionLine.statement_id.is_(None))
        if self.enterprise_id is not None:
            query = query.where(CommissionLine.enterprise_id == self.enterprise_id)
        return list(
            await self.session.scalars(
                query.order_by(CommissionLine.earned_on.desc(), CommissionLine.created_at.desc()).limit(limit)
            )
        )

    # --- the upstream ---

    async def close(self, period: str, enterprise_id: uuid.UUID | None = None) -> list[CommissionStatement]:
        """A statement for `period` of each partner (or of `enterprise_id`) with lines not yet on one,
        earned before the period ended: lines of earlier months that missed their statement come along. A
        partner whose statement of the period is already reviewed or approved keeps its lines for the next.
        Only a month that has ended (in UTC, as lines are dated) is closed."""
        end = ended_period_end(period, utcnow().date())
        if enterprise_id is not None and await self.enterprise_name(enterprise_id) == "":
            raise ValidationFailed.single("enterprise_id", N_("No such enterprise"), "not_found")
        waiting = select(CommissionLine.enterprise_id, CommissionLine.currency).where(
            CommissionLine.statement_id.is_(None), CommissionLine.earned_on < end
        )
        if enterprise_id is not None:
            waiting = waiting.where(CommissionLine.enterprise_id == enterprise_id)
        made = []
        for partner, currency in (await self.session.execute(waiting.distinct())).all():
            # one closing per partner at a time (PostgreSQL): the round numbers stay unique
            await self.session.execute(select(EnterpriseLink.id).where(EnterpriseLink.id == partner).with_for_update())
            statement = await self._statement_to_fill(partner, period, currency)
            if statement is None:
                continue
            await self.session.execute(
                update(CommissionLine)
                .where(
                    CommissionLine.enterprise_id == partner,
                    CommissionLine.currency == currency,
                    CommissionLine.statement_id.is_(None),
                    CommissionLine.earned_on < end,
                )
                .values(statement_id=statement.id)
                .execution_options(synchronize_session=False)
            )
            await self._count(statement)
            made.append(statement)
        return made

    async def _statement_to_fill(self, partner: uuid.UUID, period: str, currency: str) -> CommissionStatement | None:
        rounds = list(
            await self.session.scalars(
                select(CommissionStatement)
                .where(
                    CommissionStatement.enterprise_id == partner,
                    CommissionStatement.period == period,
                    CommissionStatement.currency == currency,
                )
                .order_by(CommissionStatement.round.desc())
            )
        )
        latest = rounds[0] if rounds else None
        if latest is not None and latest.status == "open":
            return latest
        if latest is not None and latest.status != "withdrawn":
            return None
        statement = CommissionStatement(
            enterprise_id=partner, period=period, currency=currency, round=(latest.round + 1) if latest else 1
        )
        self.session.add(statement)
        await self.session.flush()
        return statement

    async def _count(self, statement: CommissionStatement) -> None:
        total, count = (
            await self.session.execute(
                select(func.coalesce(func.sum(CommissionLine.amount), ZERO), func.count()).where(
                    CommissionLine.statement_id == statement.id
                )
            )
        ).one()
        statement.total, statement.lines_count = Decimal(total), count
        await self.session.flush()

    async def approve(self, statement_id: uuid.UUID) -> CommissionStatement:
        """An accepted statement approved, and its total posted to the partner's account."""
        statement = await self._move(statement_id, ("accepted",), "approved")
        if self.ledger is not None and statement.total != ZERO:
            description = f"Commission {statement.period}" + (f" ({statement.round})" if statement.round > 1 else "")
            await self.ledger(self.session, statement.enterprise_id, description, statement.total, "commission")
            statement.posted = True
            await self.session.flush()
        return statement

    async def withdraw(self, statement_id: uuid.UUID, note: str | None) -> CommissionStatement:
        """Taken back before approval (a dispute upheld, a line to correct): its lines go on the next one."""
        statement = await self._move(statement_id, ("open", "accepted", "disputed"), "withdrawn", note)
        await self.session.execute(
            update(CommissionLine)
            .where(CommissionLine.statement_id == statement.id)
            .values(statement_id=None)
            .execution_options(synchronize_session=False)
        )
        await self.session.flush()
        return statement

    # --- the partner ---

    async def review(self, statement_id: uuid.UUID, accept: bool, note: str | None) -> CommissionStatement:
        if not accept and not note:
            raise ValidationFailed.single("note", N_("Say what is wrong with the statement"), "required")
        return await self._move(statement_id, ("open",), "accepted" if accept else "disputed", note)

    async def _move(
        self, statement_id: uuid.UUID, sources: tuple[str, ...], target: str, note: str | None = None
    ) -> CommissionStatement:
        statement = await self.get(statement_id)
        assert self.actor is not None
        values: dict[str, object] = {"status": target, "updated_at": utcnow()}
        if self.partner:
            values |= {"reviewed_by": self.actor.user_id, "reviewed_at": utcnow(), "review_note": note}
        else:
            values |= {"decided_by": self.actor.user_id, "decided_at": utcnow()}
            if note:
                values["review_note"] = note
        moved = await self.session.execute(
            update(CommissionStatement)
            .where(CommissionStatement.id == statement.id, CommissionStatement.status.in_(sources))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise Conflict(N_("The statement has moved on and cannot be changed this way now"), code="statement_status")
        await self.session.refresh(statement)
        return statement
