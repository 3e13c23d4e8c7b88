"""Fund budgets and requests as one actor reaches them: a partner their enterprise's requests (never a
budget), staff every request and the budgets.

A budget's `reserved` moves only by conditional UPDATEs (reserved + part <= amount when approving), so
concurrent approvals never reserve more than the budget holds: exactly the ones it can afford pass, the
others are refused (409 fund_budget_exhausted). Each request's status moves by a conditional UPDATE on the
status it leaves, so a request is approved, claimed or paid once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.amounts import money
from apps.agent.commissions.statements import Ledger
from apps.agent.funds.models import FundBudget, FundRequest
from apps.agent.listing import NEWEST, NO_SPAN, OLDEST, Sorts, Span
from interconnect.models import EnterpriseLink, PartnerTier
from portal import timezones
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.i18n import N_
from portal.storage.attachments import Attachments
from portal.storage.models import Attachment
from portal.storage.uploads import IMAGES_AND_DOCUMENTS

PROOF = "agent.fund_request"  # the attachment owner type of a claim's proof
PROOF_USE = IMAGES_AND_DOCUMENTS


def ledger_description(found: FundRequest) -> str:
    """The account entry's words: what the funds were for, and the request they pay."""
    purpose = " ".join(found.purpose.split())
    return f"Market development funds: {purpose}"[:180] + f" ({str(found.id)[:8]})"


def _text(field: str, value: Any, limit: int, required: bool = False) -> str | None:
    cleaned = str(value).strip() if value is not None else ""
    if not cleaned:
        if required:
            raise ValidationFailed.single(field, N_("is required"), "required")
        return None
    if len(cleaned) > limit:
        raise ValidationFailed.single(field, N_("may be at most %(max)s characters"), "too_long", max=limit)
    return cleaned


def _day(field: str, value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationFailed.single(field, N_("must be a date (YYYY-MM-DD)"), "invalid") from None


FUND_SORTS = Sorts(
    {
        "newest": (NEWEST, (FundRequest.created_at.desc(), FundRequest.id.desc())),
        "oldest": (OLDEST, (FundRequest.created_at, FundRequest.id)),
        "amount": (N_("Largest amount asked"), (FundRequest.amount.desc(), FundRequest.id)),
        "partner": (N_("Partner"), (EnterpriseLink.name, FundRequest.created_at.desc(), FundRequest.id)),
        "status": (N_("Status"), (FundRequest.status, FundRequest.created_at.desc(), FundRequest.id)),
    }
)
SORT_FIELDS = {"amount": "amount"}


@dataclass(frozen=True, slots=True)
class FundFilter:
    """What a fund request list shows: a status, a partner (staff), the days asked, a search of the
    purpose (and, staff, the partner's name), an order."""

    status: str | None = None
    enterprise_id: uuid.UUID | None = None
    span: Span = NO_SPAN
    search: str | None = None
    sort: str | None = None


class Funds:
    def __init__(
        self,
        session: AsyncSession,
        actor: Actor,
        enterprise_id: uuid.UUID | None,
        attachments: Attachments,
        hidden: frozenset[str] = frozenset(),
        ledger: Ledger | None = None,
    ) -> None:
        """`hidden`: the amounts field rules hide from the actor, left out of what they are shown.
        `ledger`: the partners' accounts a payment is posted to (the ordering app's, when installed)."""
        self.hidden = hidden
        self.ledger = ledger
        self.session = session
        self.actor = actor
        self.enterprise_id = enterprise_id
        self.attachments = attachments

    # --- budgets (staff) ---

    async def budgets(self) -> list[FundBudget]:
        return list(
            await self.session.scalars(select(FundBudget).order_by(FundBudget.starts_on.desc(), FundBudget.name))
        )

    async def budget(self, budget_id: uuid.UUID) -> FundBudget:
        budget = await self.session.scalar(select(FundBudget).where(FundBudget.id == budget_id))
        if budget is None:
            raise NotFound(N_("No such budget"))
        return budget

    async def create_budget(self, values: Mapping[str, Any]) -> FundBudget:
        name = _text("name", values.get("name"), 100, required=True)
        starts, ends = _day("starts_on", values.get("starts_on")), _day("ends_on", values.get("ends_on"))
        if ends < starts:
            raise ValidationFailed.single("ends_on", N_("must not be before the start"), "invalid")
        tier_id = values.get("tier_id")
        if tier_id is not None and (
            await self.session.scalar(select(PartnerTier.id).where(PartnerTier.id == tier_id)) is None
        ):
            raise ValidationFailed.single("tier_id", N_("No such tier"), "not_found")
        budget = FundBudget(
            name=name,
            starts_on=starts,
            ends_on=ends,
            tier_id=tier_id,
            amount=money("amount", values.get("amount"), positive=False),
        )
        self.session.add(budget)
        await self.session.flush()
        await self.session.refresh(budget)
        return budget

    async def update_budget(self, budget_id: uuid.UUID, values: Mapping[str, Any]) -> FundBudget:
        """A new name or amount; the amount never below what approved requests hold."""
        budget = await self.budget(budget_id)
        if "name" in values:
            budget.name = _text("name", values["name"], 100, required=True) or budget.name
        if "amount" in values:
            amount = money("amount", values["amount"], positive=False)
            changed = await self.session.execute(
                update(FundBudget)
                .where(FundBudget.id == budget.id, FundBudget.reserved <= amount)
                .values(amount=amount, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:
                raise ValidationFailed.single(
                    "amount",
                    N_("is less than approved requests hold (%(reserved)s)"),
                    "too_low",
                    reserved=budget.reserved,
                )
        await self.session.flush()
        await self.session.refresh(budget)
        return budget

    # --- requests ---

    def _scoped(self) -> Any:
        query = select(FundRequest)
        if self.enterprise_id is not None:
            query = query.where(FundRequest.enterprise_id == self.enterprise_id)
        return query

    def sorts(self) -> Sorts:
        """The orders offered: none by an amount the field rules hide."""
        return Sorts({k: v for k, v in FUND_SORTS.orders.items() if SORT_FIELDS.get(k) not in self.hidden})

    async def page(
        self, status: str | None = None, limit: int = 50, offset: int = 0, *, wanted: FundFilter | None = None
    ) -> tuple[list[tuple[FundRequest, str]], int]:
        """Newest first unless `wanted` orders otherwise, with the partner's name."""
        wanted = wanted or FundFilter(status=status)
        query = (
            self._scoped()
            .add_columns(EnterpriseLink.name)
            .join(EnterpriseLink, EnterpriseLink.id == FundRequest.enterprise_id)
        )
        if wanted.status:
            query = query.where(FundRequest.status == wanted.status)
        if wanted.enterprise_id is not None and self.enterprise_id is None:
            query = query.where(FundRequest.enterprise_id == wanted.enterprise_id)
        query = query.where(*wanted.span.where(FundRequest.created_at))
        if wanted.search:
            typed = wanted.search.lower()
            searched = [func.lower(FundRequest.purpose).contains(typed, autoescape=True)]
            if self.enterprise_id is None:
                searched.append(func.lower(EnterpriseLink.name).contains(typed, autoescape=True))
            query = query.where(or_(*searched))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.execute(query.order_by(*self.sorts().by(wanted.sort)).limit(limit).offset(offset))
        return [(r, name) for r, name in rows], total

    async def get(self, request_id: uuid.UUID) -> FundRequest:
        found = await self.session.scalar(self._scoped().where(FundRequest.id == request_id))
        if found is None:
            raise NotFound(N_("No such fund request"))
        return found

    async def enterprise_name(self, enterprise_id: uuid.UUID) -> str:
        return await self.session.scalar(select(EnterpriseLink.name).where(EnterpriseLink.id == enterprise_id)) or ""

    async def proofs(self, request_id: uuid.UUID) -> list[Attachment]:
        return await self.attachments.of(self.session, PROOF, [request_id])

    async def request(self, amount: Any, purpose: Any) -> FundRequest:
        """A partner's request: what they ask for and why."""
        assert self.enterprise_id is not None
        made = FundRequest(
            enterprise_id=self.enterprise_id,
            requested_by=self.actor.user_id,
            amount=money("amount", amount),
            purpose=_text("purpose", purpose, 2000, required=True),
        )
        self.session.add(made)
        await self.session.flush()
        await self.session.refresh(made)
        return made

    async def approve(
        self, request_id: uuid.UUID, budget_id: uuid.UUID, amount: Any = None, note: Any = None
    ) -> FundRequest:
        """Approve the amount asked (or less) against a budget the partner's tier may draw on."""
        found = await self.get(request_id)
        part = found.amount if amount is None else money("amount", amount)
        if part > found.amount:
            raise ValidationFailed.single("amount", N_("is more than the partner asked for"), "too_high")
        budget = await self.session.scalar(select(FundBudget).where(FundBudget.id == budget_id))
        if budget is None:
            raise ValidationFailed.single("budget_id", N_("No such budget"), "not_found")
        tier_id = await self.session.scalar(
            select(EnterpriseLink.tier_id).where(EnterpriseLink.id == found.enterprise_id)
        )
        if budget.tier_id is not None and budget.tier_id != tier_id:
            raise ValidationFailed.single("budget_id", N_("is another tier's budget"), "wrong_tier")
        today = timezones.today(self.actor.time_zone)
        if not budget.starts_on <= today <= budget.ends_on:
            raise ValidationFailed.single(
                "budget_id",
                N_("covers %(start)s to %(end)s, not today"),
                "out_of_period",
                start=budget.starts_on.isoformat(),
                end=budget.ends_on.isoformat(),
            )
        await self._move(
            found,
            "requested",
            status="approved",
            budget_id=budget.id,
            approved_amount=part,
            decision_note=_text("note", note, 1000),
            decided_by=self.actor.user_id,
            decided_at=utcnow(),
        )
        reserved = await self.session.execute(
            update(FundBudget)
            .where(FundBudget.id == budget.id, FundBudget.reserved + part <= FundBudget.amount)
            .values(reserved=FundBudget.reserved + part, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if reserved.rowcount != 1:
            raise Conflict(N_("The budget has not enough left for this request"), code="fund_budget_exhausted")
        await self.session.refresh(found)
        return found

    async def reject(self, request_id: uuid.UUID, note: Any) -> FundRequest:
        found = await self.get(request_id)
        await self._move(
            found,
            "requested",
            status="rejected",
            decision_note=_text("note", note, 1000, required=True),
            decided_by=self.actor.user_id,
            decided_at=utcnow(),
        )
        await self.session.refresh(found)
        return found

    async def claim(
        self, request_id: uuid.UUID, amount: Any, note: Any, content: bytes, filename: str | None
    ) -> FundRequest:
        """The partner's claim on an approved request, with its proof (an image or a PDF, checked by
        content before a byte is stored). All is checked before anything is kept."""
        found = await self.get(request_id)
        part = money("amount", amount)
        if found.approved_amount is None or part > found.approved_amount:
            raise ValidationFailed.single("amount", N_("is more than was approved"), "too_high")
        text = _text("note", note, 2000)
        if found.status != "approved":
            raise Conflict(N_("This request cannot be claimed now"), code="fund_request_status")
        await self.attachments.save(self.session, self.actor, content, filename, PROOF_USE, PROOF, found.id)
        await self._move(found, "approved", status="claimed", claimed_amount=part, claim_note=text, claimed_at=utcnow())
        await self.session.refresh(found)
        return found

    async def pay(self, request_id: uuid.UUID, amount: Any = None) -> FundRequest:
        """Pay a claim (the amount claimed, or less): the budget's paid part grows by it, what was
        approved but not paid goes back to the budget, and the payment is posted to the partner's account
        in the same transaction. Only the one payment whose conditional UPDATE moves the request from
        "claimed" posts it: a second payment, at once or later, is refused before anything is written."""
        found = await self.get(request_id)
        if found.claimed_amount is None or found.approved_amount is None or found.budget_id is None:
            raise Conflict(N_("This request cannot be paid now"), code="fund_request_status")
        part = found.claimed_amount if amount is None else money("amount", amount, positive=False)
        if part > found.claimed_amount:
            raise ValidationFailed.single("amount", N_("is more than was claimed"), "too_high")
        released = found.approved_amount - part
        await self._move(
            found, "claimed", status="paid", paid_amount=part, paid_by=self.actor.user_id, paid_at=utcnow()
        )
        drawn = await self.session.execute(
            update(FundBudget)
            .where(FundBudget.id == found.budget_id, FundBudget.paid + part <= FundBudget.reserved - released)
            .values(paid=FundBudget.paid + part, reserved=FundBudget.reserved - released, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if drawn.rowcount != 1:
            raise Conflict(N_("The budget has not enough left for this request"), code="fund_budget_exhausted")
        await self.session.refresh(found)
        if self.ledger is not None and part > 0:
            await self.ledger(self.session, found.enterprise_id, ledger_description(found), part, "fund")
            found.posted = True
            await self.session.flush()
        return found

    async def _move(self, found: FundRequest, source: str, **values: Any) -> None:
        moved = await self.session.execute(
            update(FundRequest)
            .where(FundRequest.id == found.id, FundRequest.status == source)
            .values(**values, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise Conflict(
                N_("The request has moved on and cannot be changed this way now"), code="fund_request_status"
            )
