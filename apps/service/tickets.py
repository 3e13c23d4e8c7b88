"""Tickets as one actor may see them. Every read goes through the actor's data scope (`scoped`), and every
ticket leaves as `present()` makes it: without the fields the actor's field rules hide, and, for a
partner that has not yet accepted the ticket, without the fields the "not yet accepted" rules hide (the
customer's phone and address). JSON, pages and exports all render from it.

One class serves every side: staff act on "service.ticket", a partner's dispatcher on
"partner.service.ticket" (the enterprise's tickets), an engineer on "partner.service.job" (their own).
A ticket outside the read scope is "not found"; one readable but outside the write scope is refused (403).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service import lifecycle
from apps.service.models import PRIORITIES, TICKET_STATUSES, TICKET_TYPES, Ticket, TicketEvent
from apps.service.objects import OFFER_FIELDS, PARTNER_OFFER
from apps.service.sla import clock
from interconnect.models import EnterpriseLink, Region
from portal import timezones
from portal.actor import Actor
from portal.calendars.arithmetic import BusinessCalendar
from portal.calendars.service import business_calendar
from portal.db.types import utcnow
from portal.errors import NotFound, PermissionDenied
from portal.i18n import N_
from roles.access import scoped
from roles.policy import RolePolicy
from roles.scopes import Access

OPEN = "open"
SORTS = ("newest", "oldest", "priority", "due", "number")
EXPORT_LIMIT = 10_000
EXPORT_FIELDS = (
    "number",
    "type",
    "priority",
    "status",
    "product_name",
    "serial_number",
    "under_warranty",
    "enterprise",
    "engineer_name",
    "region",
    "contact_name",
    "contact_phone",
    "address",
    "symptoms",
    "resolution",
    "created_at",
    "resolved_at",
)


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """`status` one status or "open" (not yet resolved nor cancelled); `search` a ticket number, serial
    number or product; the rest exact."""

    status: str | None = None
    search: str | None = None
    priority: str | None = None
    type: str | None = None
    enterprise_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None
    opened_from: date | None = None
    opened_to: date | None = None
    breached: bool = False  # only tickets that missed a service-level target
    # "staff": new tickets no dispatch rule matched (the staff's queue); "pool": those in the open pool
    queue: str | None = None
    rating: int | None = None  # the customer's rating, 1 to 5
    sort: str = "newest"  # one of SORTS


def _sorted(query: Select[tuple[Ticket]], sort: str) -> Select[tuple[Ticket]]:
    """The list's order; the id last, so a page boundary never shows a ticket twice or skips one."""
    if sort == "oldest":
        return query.order_by(Ticket.created_at, Ticket.id)
    if sort == "priority":
        rank = case({p: i for i, p in enumerate(PRIORITIES)}, value=Ticket.priority)
        return query.order_by(rank.desc(), Ticket.created_at.desc(), Ticket.id.desc())
    if sort == "due":  # the resolution target that falls first; none at the end
        return query.order_by(Ticket.resolution_due_at.is_(None), Ticket.resolution_due_at, Ticket.id)
    if sort == "number":
        return query.order_by(Ticket.number, Ticket.id)
    return query.order_by(Ticket.created_at.desc(), Ticket.id.desc())


class Tickets:
    """The tickets `actor` may reach as `obj`."""

    def __init__(self, session: AsyncSession, policy: RolePolicy, actor: Actor, obj: str) -> None:
        self.session = session
        self.policy = policy
        self.actor = actor
        self.obj = obj
        self._actions: dict[str, list[str]] = {}
        self._calendar: BusinessCalendar | None = None

    # --- reading ---

    async def query(self, access: Access = "read") -> Select[tuple[Ticket]]:
        return await scoped(self.session, select(Ticket), self.policy, self.actor, self.obj, access)

    async def page(self, wanted: TicketFilter, limit: int = 50, offset: int = 0) -> tuple[list[Ticket], int]:
        """In the order asked for (newest first unless said otherwise)."""
        query = self.filtered(await self.query(), wanted)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(_sorted(query, wanted.sort).limit(limit).offset(offset))
        return list(rows), total

    def filtered(self, query: Select[tuple[Ticket]], wanted: TicketFilter) -> Select[tuple[Ticket]]:
        if wanted.status == OPEN:
            query = query.where(Ticket.status.in_(lifecycle.OPEN))
        elif wanted.status in TICKET_STATUSES:
            query = query.where(Ticket.status == wanted.status)
        if wanted.priority in PRIORITIES:
            query = query.where(Ticket.priority == wanted.priority)
        if wanted.breached:
            query = query.where(or_(Ticket.response_breached, Ticket.resolution_breached))
        if wanted.queue == "staff":
            query = query.where(Ticket.status == "new", Ticket.unmatched_at.is_not(None))
        elif wanted.queue == "pool":
            query = query.where(Ticket.status == "new", Ticket.pooled_at.is_not(None))
        if wanted.rating is not None and 1 <= wanted.rating <= 5:
            query = query.where(Ticket.rating == wanted.rating)
        if wanted.type in TICKET_TYPES:
            query = query.where(Ticket.type == wanted.type)
        if wanted.enterprise_id is not None:
            query = query.where(Ticket.enterprise_id == wanted.enterprise_id)
        if wanted.region_id is not None:
            query = query.where(Ticket.region_id == wanted.region_id)
        zone = self.actor.time_zone
        if wanted.opened_from is not None:
            query = query.where(Ticket.created_at >= timezones.start_of_day(wanted.opened_from, zone))
        if wanted.opened_to is not None:
            query = query.where(Ticket.created_at < timezones.start_of_day(wanted.opened_to, zone, days=1))
        if wanted.search and wanted.search.strip():
            # never the customer's fields: a partner may have them hidden, and a search would tell them
            like = f"%{wanted.search.strip().lower()}%"
            query = query.where(
                or_(
                    func.lower(Ticket.number).like(like),
                    func.lower(Ticket.serial_number).like(like),
                    func.lower(Ticket.product_name).like(like),
                )
            )
        return query

    async def get(self, ticket_id: uuid.UUID) -> Ticket:
        ticket = await self.session.scalar((await self.query()).where(Ticket.id == ticket_id))
        if ticket is None:
            raise NotFound(N_("No such ticket"))
        return ticket

    async def writable(self, ticket_id: uuid.UUID) -> Ticket:
        """A ticket the actor may change: not found if they may not even read it, refused if they may only
        read it. Not locked: the transition's UPDATE names the status it read (the mapper's version
        column), so a concurrent change makes it fail rather than wait and overwrite."""
        await self.get(ticket_id)
        ticket = await self.session.scalar((await self.query("write")).where(Ticket.id == ticket_id))
        if ticket is None:
            raise PermissionDenied(N_("You may read this ticket but not change it"), code="record_read_only")
        return ticket

    async def events(self, ticket: Ticket) -> list[TicketEvent]:
        found = list(
            await self.session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at, TicketEvent.id)
            )
        )
        if self.actor.kind != "external":
            return found
        # a partner's part of the story starts when the ticket was last dispatched to its enterprise:
        # what another partner did with it before is not theirs to read
        start = 0
        for index, event in enumerate(found):
            if event.action in ("dispatch", "reassign") and event.enterprise_id == ticket.enterprise_id:
                start = index
        return found[start:]

    # --- what the actor may do ---

    def may(self, permission: str) -> bool:
        return self.policy.allows(self.actor, (self.obj, permission))

    def may_take(self, action: str) -> bool:
        permission = lifecycle.permission_of(action, self.actor)
        return permission is not None and self.may(permission)

    def actions(self, ticket: Ticket) -> list[str]:
        """What the actor may do to the ticket next: it depends on the status (and the actor) alone, so a
        list works it out once per status."""
        found = self._actions.get(ticket.status)
        if found is None:
            found = [a for a in lifecycle.actions_from(ticket.status, self.actor) if self.may_take(a)]
            self._actions[ticket.status] = found
        return list(found)

    # --- presenting ---

    def hidden(self, ticket: Ticket) -> frozenset[str]:
        """The fields of this ticket the actor may not see: their field rules on their object, and for a
        partner before acceptance the "not yet accepted" rules, hidden by default (a role that does not
        grant that object hides them too)."""
        rules = self.policy.fields(self.actor, self.obj)
        hidden = {name for name, access in rules.items() if access == "hidden"}
        if self.actor.kind == "external" and ticket.status in lifecycle.BEFORE_ACCEPTANCE:
            offer = {name for name, _label in OFFER_FIELDS}
            if self.policy.allows(self.actor, (PARTNER_OFFER, "read")):
                before = self.policy.fields(self.actor, PARTNER_OFFER)
                offer = {name for name in offer if before.get(name) == "hidden"}
            hidden |= offer
        return frozenset(hidden)

    async def names(self, tickets: Sequence[Ticket]) -> dict[uuid.UUID, str]:
        """The names of the enterprises and regions these tickets name, by id."""
        known: dict[uuid.UUID, str] = {}
        if self.actor.enterprise_id is not None and self.actor.enterprise_name is not None:
            known[self.actor.enterprise_id] = self.actor.enterprise_name  # read with the session
        links = sorted({t.enterprise_id for t in tickets if t.enterprise_id is not None} - known.keys())
        if links:
            rows = await self.session.execute(
                select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(links))
            )
            known.update({key: name for key, name in rows})
        regions = sorted({t.region_id for t in tickets if t.region_id is not None})
        if regions:
            rows = await self.session.execute(select(Region.id, Region.name).where(Region.id.in_(regions)))
            known.update({key: name for key, name in rows})
        return known

    def summary(self, ticket: Ticket, names: dict[uuid.UUID, str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": ticket.id,
            "number": ticket.number,
            "type": ticket.type,
            "priority": ticket.priority,
            "status": ticket.status,
            "device_id": ticket.device_id,
            "product_name": ticket.product_name,
            "serial_number": ticket.serial_number,
            "under_warranty": ticket.under_warranty,
            "symptoms": ticket.symptoms,
            "contact_name": ticket.contact_name,
            "contact_phone": ticket.contact_phone,
            "address": ticket.address,
            "region_id": ticket.region_id,
            "region": names.get(ticket.region_id) if ticket.region_id else None,
            "enterprise_id": ticket.enterprise_id,
            "enterprise": names.get(ticket.enterprise_id) if ticket.enterprise_id else None,
            "engineer_id": ticket.engineer_id,
            "engineer_name": ticket.engineer_name,
            "opened_by_kind": ticket.opened_by_kind,
            "reject_reason": ticket.reject_reason,
            "hold_reason": ticket.hold_reason,
            "cancel_reason": ticket.cancel_reason,
            "reopen_reason": ticket.reopen_reason,
            "resolution": ticket.resolution,
            "created_at": ticket.created_at,
            "dispatched_at": ticket.dispatched_at,
            "accepted_at": ticket.accepted_at,
            "on_the_way_at": ticket.on_the_way_at,
            "on_site_at": ticket.on_site_at,
            "held_at": ticket.held_at,
            "resolved_at": ticket.resolved_at,
            "confirmed_at": ticket.confirmed_at,
            "closed_at": ticket.closed_at,
            "cancelled_at": ticket.cancelled_at,
            "reopened_at": ticket.reopened_at,
            "pooled_at": ticket.pooled_at,
            "unmatched_at": ticket.unmatched_at,
            "rating": ticket.rating,
            "actions": self.actions(ticket),
            **self.sla(ticket),
        }
        if self.actor.kind == "external":
            del values["reject_reason"]  # why a partner handed it back is between it and the manufacturer
        hidden = self.hidden(ticket)
        return {k: v for k, v in values.items() if k not in hidden}

    def sla(self, ticket: Ticket) -> dict[str, Any]:
        """Each target's due instant, whether it was missed, and the business minutes left (negative:
        overdue by; none while its clock does not run)."""
        response, resolution = (None, None)
        if self._calendar is not None:
            response, resolution = clock.left(ticket, self._calendar, utcnow())
        return {
            "response_due_at": ticket.response_due_at,
            "response_breached": ticket.response_breached,
            "response_left_minutes": _minutes(response),
            "resolution_due_at": ticket.resolution_due_at,
            "resolution_breached": ticket.resolution_breached,
            "resolution_left_minutes": _minutes(resolution),
            "sla_paused": ticket.status == "on_hold" and ticket.resolution_due_at is not None,
        }

    async def calendar(self) -> BusinessCalendar:
        """The tenant's calendar, worked out once for every ticket this answer shows."""
        if self._calendar is None:
            self._calendar = await business_calendar(self.session)
        return self._calendar

    async def out_many(self, tickets: Sequence[Ticket]) -> list[dict[str, Any]]:
        await self.calendar()
        names = await self.names(tickets)
        return [self.summary(t, names) for t in tickets]

    async def out(self, ticket: Ticket) -> dict[str, Any]:
        """The ticket with its timeline."""
        await self.calendar()
        names = await self.names([ticket])
        events = await self.events(ticket)
        event_links = sorted({e.enterprise_id for e in events if e.enterprise_id is not None} - names.keys())
        if event_links:
            rows = await self.session.execute(
                select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(event_links))
            )
            names.update({key: name for key, name in rows})
        return {
            **self.summary(ticket, names),
            "timeline": [
                {
                    "at": e.at,
                    "action": e.action,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "by": e.actor_name,
                    "by_kind": e.actor_kind,
                    "enterprise": names.get(e.enterprise_id) if e.enterprise_id else None,
                    "engineer_name": e.engineer_name,
                    "note": e.note,
                    "rule": e.rule_name,
                }
                for e in events
            ],
        }

    # --- export ---

    def export_columns(self) -> list[str]:
        rules = self.policy.fields(self.actor, self.obj)
        return [name for name in EXPORT_FIELDS if rules.get(name) != "hidden"]

    async def export_rows(self, wanted: TicketFilter | None = None) -> tuple[list[str], list[list[str]]]:
        columns = self.export_columns()
        wanted = wanted or TicketFilter()
        query = self.filtered(await self.query(), wanted)
        tickets = list(await self.session.scalars(_sorted(query, wanted.sort).limit(EXPORT_LIMIT)))
        names = await self.names(tickets)
        cells = []
        for ticket in tickets:
            values = self.summary(ticket, names)
            cells.append([_cell(values.get(name), self.actor.time_zone) for name in columns])
        return columns, cells


def _minutes(left: timedelta | None) -> int | None:
    """Whole minutes, rounded towards zero: one second overdue is not yet a minute overdue."""
    return None if left is None else int(left / timedelta(minutes=1))


def _cell(value: Any, time_zone: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return timezones.moment_text(value, time_zone)
    return str(value)
