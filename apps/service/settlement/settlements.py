"""Settlements as one actor may reach them (staff: "service.settlement"; a partner: its enterprise's,
"partner.service.settlement"), and their steps:

- run (staff): the partner's closed tickets of the period not yet in any settlement, each priced by the
  fee schedule (labour, travel) and the parts it used (apps.service.settlement.parts), become the lines of
  a new settlement in review. A ticket is settled exactly once: a line's
  ticket is unique, so of two runs at once over the same tickets the second is refused, nothing written;
- dispute (the partner): a line's amount, with a reason, while the settlement is in review;
- answer (staff): a disputed line is adjusted (new amounts) or the dispute rejected, with a reply;
  a dispute and its answer each publish an event the settlement's notices follow (the service managers
  hear of a dispute, the partner's dispatchers of the answer: apps.service.settlement.notices);
- approve (staff): with no dispute left open, the settlement is final and its total is credited to the
  partner's account (the ordering app's ledger, apps.ordering.account).
Every read goes through the actor's data scope; a settlement outside it is "not found"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from apps.ordering import account
from apps.service.models import ServiceSettings, Ticket
from apps.service.settlement import parts as billing
from apps.service.settlement.fees import ZERO, Price, Schedule, amount_error
from apps.service.settlement.models import Settlement, SettlementLine, SettlementPart
from interconnect.models import EnterpriseLink
from portal import timezones
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from portal.i18n import N_
from portal.outbox import publish
from roles.access import scoped
from roles.policy import RolePolicy
from roles.scopes import Access

MAX_DAYS = 366  # a settlement covers at most a year
MAX_LINES = 5000
MAX_NOTE = 1000
EXPORT_COLUMNS = (
    "settlement",
    "partner",
    "ticket",
    "type",
    "closed_at",
    "under_warranty",
    "labour",
    "travel",
    "parts",
    "parts_used",
    "amount",
    "dispute",
    "dispute_reason",
    "answer",
)


class SettlementChanged(Conflict):
    code, title = "settlement_changed", N_("The settlement changed meanwhile")


@dataclass(frozen=True, slots=True)
class Answer:
    decision: str  # "adjust" | "reject"
    answer: str
    labour: Decimal | None = None
    travel: Decimal | None = None
    parts: Decimal | None = None


def _note(field: str, value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed.single(field, N_("is required"), "required")
    if len(text) > MAX_NOTE:
        raise ValidationFailed.single(field, N_("must be at most %(max)s characters"), "too_long", max=MAX_NOTE)
    return text


class Settlements:
    def __init__(self, session: AsyncSession, policy: RolePolicy, actor: Actor, obj: str) -> None:
        self.session = session
        self.policy = policy
        self.actor = actor
        self.obj = obj

    # --- reading ---

    async def query(self, access: Access = "read") -> Select[tuple[Settlement]]:
        return await scoped(self.session, select(Settlement), self.policy, self.actor, self.obj, access)

    async def page(
        self, status: str | None, enterprise_id: uuid.UUID | None, limit: int, offset: int
    ) -> tuple[list[Settlement], int]:
        """Newest first."""
        query = await self.query()
        if status:
            query = query.where(Settlement.status == status)
        if enterprise_id is not None:
            query = query.where(Settlement.enterprise_id == enterprise_id)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(
            query.order_by(Settlement.created_at.desc(), Settlement.id.desc()).limit(limit).offset(offset)
        )
        return list(rows), total

    async def get(self, settlement_id: uuid.UUID) -> Settlement:
        found = await self.session.scalar((await self.query()).where(Settlement.id == settlement_id))
        if found is None:
            raise NotFound(N_("No such settlement"))
        return found

    async def writable(self, settlement_id: uuid.UUID) -> Settlement:
        await self.get(settlement_id)
        found = await self.session.scalar((await self.query("write")).where(Settlement.id == settlement_id))
        if found is None:
            raise PermissionDenied(N_("You may read this settlement but not change it"), code="record_read_only")
        return found

    async def lines(self, settlement: Settlement) -> list[SettlementLine]:
        return list(
            await self.session.scalars(
                select(SettlementLine)
                .where(SettlementLine.settlement_id == settlement.id)
                .order_by(SettlementLine.closed_at, SettlementLine.ticket_number)
            )
        )

    async def names(self, settlements: list[Settlement]) -> dict[uuid.UUID, str]:
        ids = sorted({s.enterprise_id for s in settlements if s.enterprise_id is not None})
        if not ids:
            return {}
        rows = await self.session.execute(
            select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(ids))
        )
        return {key: name for key, name in rows}

    def summary(self, settlement: Settlement, names: dict[uuid.UUID, str]) -> dict[str, Any]:
        return {
            "id": settlement.id,
            "number": settlement.number,
            "enterprise_id": settlement.enterprise_id,
            "enterprise": names.get(settlement.enterprise_id) if settlement.enterprise_id else None,
            "period_start": settlement.period_start,
            "period_end": settlement.period_end,
            "status": settlement.status,
            "total": settlement.total,
            "created_at": settlement.created_at,
            "approved_at": settlement.approved_at,
        }

    async def out_many(self, settlements: list[Settlement]) -> list[dict[str, Any]]:
        names = await self.names(settlements)
        return [self.summary(s, names) for s in settlements]

    async def parts_of(self, lines: list[SettlementLine]) -> dict[uuid.UUID, list[SettlementPart]]:
        """The parts each line billed, by name (none for a line run before parts were billed from use)."""
        found: dict[uuid.UUID, list[SettlementPart]] = {line.id: [] for line in lines}
        if lines:
            rows = await self.session.scalars(
                select(SettlementPart)
                .where(SettlementPart.line_id.in_(sorted(found)))
                .order_by(SettlementPart.name, SettlementPart.id)
            )
            for part in rows:
                found[part.line_id].append(part)
        return found

    async def out(self, settlement: Settlement) -> dict[str, Any]:
        lines = await self.lines(settlement)
        parts = await self.parts_of(lines)
        return {
            **self.summary(settlement, await self.names([settlement])),
            "open_disputes": sum(1 for line in lines if line.dispute == "open"),
            "lines": [line_out(line, parts[line.id]) for line in lines],
        }

    def may(self, permission: str) -> bool:
        return self.policy.allows(self.actor, (self.obj, permission))

    # --- run ---

    async def run(self, enterprise_id: uuid.UUID, start: date, end: date) -> Settlement:
        """A new settlement of the partner's closed, unsettled tickets closed from `start` to `end` (the
        tenant's days, inclusive). Tickets without a fee for their type are left for a later run."""
        errors: list[FieldError] = []
        if end < start:
            errors.append(FieldError("period_end", N_("must not be before the start")))
        elif (end - start).days >= MAX_DAYS:
            errors.append(
                FieldError("period_end", N_("a settlement covers at most %(days)s days"), params={"days": MAX_DAYS})
            )
        if end > timezones.today(self.actor.time_zone):
            errors.append(FieldError("period_end", N_("must not be in the future")))
        partner = await self.session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == enterprise_id))
        if partner is None:
            errors.append(FieldError("enterprise_id", N_("No such partner enterprise"), "unknown"))
        if errors:
            raise ValidationFailed(errors)
        zone = self.actor.time_zone
        settled = exists().where(SettlementLine.tenant_id == Ticket.tenant_id, SettlementLine.ticket_id == Ticket.id)
        tickets = list(
            await self.session.execute(
                select(Ticket.id, Ticket.number, Ticket.type, Ticket.region_id, Ticket.under_warranty, Ticket.closed_at)
                .where(
                    Ticket.enterprise_id == enterprise_id,
                    Ticket.status == "closed",
                    Ticket.closed_at >= timezones.start_of_day(start, zone),
                    Ticket.closed_at < timezones.start_of_day(end, zone, days=1),
                    ~settled,
                )
                .order_by(Ticket.closed_at, Ticket.number)
                .limit(MAX_LINES)
            )
        )
        schedule = await Schedule.read(self.session)
        fees: list[tuple[Any, Price]] = []
        for row in tickets:
            price = schedule.price(row.type, row.region_id)
            if price is not None:
                fees.append((row, price))
        used = await billing.billed(self.session, [(r.id, r.under_warranty, r.closed_at.date()) for r, _p in fees])
        priced: list[tuple[Any, Price, list[billing.BilledPart]]] = []
        for row, fee in fees:
            parts = used.get(row.id, [])
            priced.append((row, Price(fee.labour, fee.travel, sum((p.amount for p in parts), ZERO)), parts))
        if not priced:
            raise ValidationFailed.single(
                "enterprise_id",
                N_("has no closed ticket in this period that is not settled yet and has a fee"),
                "nothing_to_settle",
            )
        try:
            async with self.session.begin_nested():
                settlement = Settlement(
                    number=await _next_number(self.session),
                    enterprise_id=enterprise_id,
                    owner_id=self.actor.user_id,
                    period_start=start,
                    period_end=end,
                    status="review",
                    total=sum((price.amount for _row, price, _parts in priced), ZERO),
                )
                self.session.add(settlement)
                await self.session.flush()
                lines: list[tuple[SettlementLine, list[billing.BilledPart]]] = []
                for row, price, parts in priced:
                    line = SettlementLine(
                        settlement_id=settlement.id,
                        ticket_id=row.id,
                        ticket_number=row.number,
                        ticket_type=row.type,
                        under_warranty=row.under_warranty,
                        closed_at=row.closed_at,
                        labour=price.labour,
                        travel=price.travel,
                        parts=price.parts,
                        amount=price.amount,
                    )
                    self.session.add(line)
                    lines.append((line, parts))
                await self.session.flush()
                for line, parts in lines:
                    for part in parts:
                        self.session.add(
                            SettlementPart(
                                line_id=line.id,
                                product_id=part.product_id,
                                sku=part.sku,
                                name=part.name,
                                quantity=part.quantity,
                                unit_price=part.unit_price,
                                amount=part.amount,
                            )
                        )
                await self.session.flush()
        except IntegrityError:
            raise Conflict(
                N_("Another settlement took some of these tickets at the same moment. Run it again."),
                code="tickets_settled_meanwhile",
            ) from None
        publish(self.session, "service.settlement.created", "service.settlement", settlement.id, _payload(settlement))
        await self.session.flush()
        return settlement

    # --- disputes ---

    async def _line(self, settlement: Settlement, line_id: uuid.UUID) -> SettlementLine:
        line = await self.session.scalar(
            select(SettlementLine).where(SettlementLine.id == line_id, SettlementLine.settlement_id == settlement.id)
        )
        if line is None:
            raise NotFound(N_("No such line in this settlement"))
        return line

    def _in_review(self, settlement: Settlement) -> None:
        if settlement.status != "review":
            raise Conflict(N_("This settlement is approved: it cannot change any more."), code="settlement_approved")

    async def dispute(self, settlement_id: uuid.UUID, line_id: uuid.UUID, reason: str | None) -> Settlement:
        """The partner disputes a line once, while the settlement is in review."""
        settlement = await self.writable(settlement_id)
        line = await self._line(settlement, line_id)
        text = _note("reason", reason)
        self._in_review(settlement)
        moved = await self.session.execute(
            update(SettlementLine)
            .where(SettlementLine.id == line.id, SettlementLine.dispute == "none")
            .values(dispute="open", dispute_reason=text, disputed_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise Conflict(N_("This line is disputed already."), code="line_disputed")
        await self.session.refresh(line)
        await self._touch(settlement)
        publish(
            self.session,
            "service.settlement.disputed",
            "service.settlement",
            settlement.id,
            {**_payload(settlement), "ticket_number": line.ticket_number},
        )
        await self.session.flush()
        return settlement

    async def answer(self, settlement_id: uuid.UUID, line_id: uuid.UUID, answer: Answer) -> Settlement:
        """Staff answer an open dispute: "adjust" sets the amounts given (the others stay), "reject" keeps
        them; both with a reply the partner reads. The settlement's total follows."""
        settlement = await self.writable(settlement_id)
        line = await self._line(settlement, line_id)
        errors: list[FieldError] = []
        if answer.decision not in ("adjust", "reject"):
            errors.append(
                FieldError("decision", N_("must be one of %(choices)s"), params={"choices": "adjust, reject"})
            )
        amounts = {"labour": answer.labour, "travel": answer.travel, "parts": answer.parts}
        for name, value in amounts.items():
            error = None if value is None else amount_error(name, value)
            if error is not None:
                errors.append(error)
        if answer.decision == "adjust" and all(v is None for v in amounts.values()):
            errors.append(FieldError("labour", N_("give the adjusted amounts"), "required"))
        if errors:
            raise ValidationFailed(errors)
        reply = _note("answer", answer.answer)
        self._in_review(settlement)
        values: dict[str, Any] = {"answer": reply, "answered_at": utcnow()}
        if answer.decision == "adjust":
            new = {name: (getattr(line, name) if value is None else value) for name, value in amounts.items()}
            values.update(new, dispute="adjusted", amount=sum(new.values(), ZERO))
        else:
            values["dispute"] = "rejected"
        moved = await self.session.execute(
            update(SettlementLine)
            .where(SettlementLine.id == line.id, SettlementLine.dispute == "open")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise Conflict(N_("This line has no open dispute."), code="no_open_dispute")
        await self.session.refresh(line)
        settlement.total = (
            await self.session.scalar(
                select(func.coalesce(func.sum(SettlementLine.amount), ZERO)).where(
                    SettlementLine.settlement_id == settlement.id
                )
            )
            or ZERO
        )
        await self._touch(settlement)
        publish(
            self.session,
            "service.settlement.answered",
            "service.settlement",
            settlement.id,
            {**_payload(settlement), "ticket_number": line.ticket_number, "decision": line.dispute},
        )
        await self.session.flush()
        return settlement

    # --- approval ---

    async def approve(self, settlement_id: uuid.UUID) -> Settlement:
        """Final: refused while a dispute is open. The total is credited to the partner's account in the
        same transaction. The settlement is written first, with its status as read (version column), and the
        disputes counted after: a dispute sent at the same moment either is counted (it committed first) or
        finds the settlement approved and is refused, and of two approvals at once one posts."""
        settlement = await self.writable(settlement_id)
        self._in_review(settlement)
        settlement.status = "approved"
        settlement.approved_at = utcnow()
        settlement.approved_by = self.actor.user_id
        await self._touch(settlement)
        open_disputes = await self.session.scalar(
            select(func.count()).where(SettlementLine.settlement_id == settlement.id, SettlementLine.dispute == "open")
        )
        if open_disputes:
            raise Conflict(
                N_("Disputed lines wait for an answer before the settlement can be approved (%(count)s)."),
                code="disputes_open",
                count=open_disputes,
            )
        assert settlement.enterprise_id is not None
        if settlement.total > 0:
            self.session.add(
                account.entry(settlement.enterprise_id, "settlement", settlement.number, credit=settlement.total)
            )
        publish(self.session, "service.settlement.approved", "service.settlement", settlement.id, _payload(settlement))
        await self.session.flush()
        return settlement

    async def _touch(self, settlement: Settlement) -> None:
        """Writes the settlement with its status as read: a settlement approved meanwhile refuses."""
        settlement.updated_at = utcnow()
        try:
            await self.session.flush()
        except StaleDataError:
            raise SettlementChanged(N_("Someone changed this settlement at the same moment. Open it again.")) from None

    # --- export ---

    async def export_rows(self, settlement: Settlement) -> tuple[list[str], list[list[str]]]:
        names = await self.names([settlement])
        partner = names.get(settlement.enterprise_id, "") if settlement.enterprise_id else ""
        rows = []
        lines = await self.lines(settlement)
        parts = await self.parts_of(lines)
        for line in lines:
            rows.append(
                [
                    settlement.number,
                    partner,
                    line.ticket_number,
                    line.ticket_type,
                    timezones.moment_text(line.closed_at, self.actor.time_zone),
                    "" if line.under_warranty is None else ("yes" if line.under_warranty else "no"),
                    f"{line.labour:.2f}",
                    f"{line.travel:.2f}",
                    f"{line.parts:.2f}",
                    "; ".join(_part_text(part) for part in parts[line.id]),
                    f"{line.amount:.2f}",
                    line.dispute,
                    line.dispute_reason or "",
                    line.answer or "",
                ]
            )
        rows.append(["", "", "", "", "", "", "", "", "", "", f"{settlement.total:.2f}", "", "", ""])
        return list(EXPORT_COLUMNS), rows


def _part_text(part: SettlementPart) -> str:
    """'Seal kit (SK-1) 2 x 15.00 = 30.00'; without a catalog price '... 2 x - = 0.00'."""
    unit = "-" if part.unit_price is None else f"{part.unit_price:.2f}"
    name = f"{part.name} ({part.sku})" if part.sku else part.name
    return f"{name} {part.quantity} x {unit} = {part.amount:.2f}"


def part_out(part: SettlementPart) -> dict[str, Any]:
    return {
        "product_id": part.product_id,
        "sku": part.sku,
        "name": part.name,
        "quantity": part.quantity,
        "unit_price": part.unit_price,
        "amount": part.amount,
    }


def line_out(line: SettlementLine, parts: list[SettlementPart] | None = None) -> dict[str, Any]:
    return {
        "id": line.id,
        "ticket_id": line.ticket_id,
        "ticket_number": line.ticket_number,
        "ticket_type": line.ticket_type,
        "under_warranty": line.under_warranty,
        "closed_at": line.closed_at,
        "labour": line.labour,
        "travel": line.travel,
        "parts": line.parts,
        # the parts billed, each at its catalog price; empty for a line whose parts were a flat amount
        "parts_used": [part_out(part) for part in parts or []],
        "amount": line.amount,
        "dispute": line.dispute,
        "dispute_reason": line.dispute_reason,
        "disputed_at": line.disputed_at,
        "answer": line.answer,
        "answered_at": line.answered_at,
    }


def _payload(settlement: Settlement) -> dict[str, Any]:
    return {
        "settlement_id": settlement.id,
        "number": settlement.number,
        "enterprise_id": settlement.enterprise_id,
        "status": settlement.status,
        "total": str(settlement.total),
    }


async def _next_number(session: AsyncSession) -> str:
    """The tenant's next settlement number (S000001, …), one conditional UPDATE of its counter."""
    counter = ServiceSettings.next_settlement_number
    value = await session.scalar(update(ServiceSettings).values(next_settlement_number=counter + 1).returning(counter))
    return f"S{int(value or 1) - 1:06d}"
