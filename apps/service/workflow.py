"""What happens to a ticket: opening it, and every transition of apps.service.lifecycle. Each transition
is asked of the roles package (the actor's permission for the action on their ticket object), reaches the
ticket through the actor's write scope, is checked against the state machine, and is written with its
timeline entry (the ticket's audit entry comes with the update) and its outbox event
(`service.ticket.<action>`) in one flush. The UPDATE names the status the ticket had when read, so two
transitions made at once from the same status cannot both succeed: the second finds no row and is
refused (409), with nothing written."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from apps.service import lifecycle
from apps.service.dispatch.decide import decide
from apps.service.engineers import engineer, service_partner
from apps.service.field.rules import check_signed
from apps.service.lifecycle import Step, TicketChanged
from apps.service.models import PRIORITIES, TICKET_TYPES, Device, ServiceSettings, Ticket, TicketEvent
from apps.service.objects import DEVICE
from apps.service.sla import clock
from apps.service.tickets import Tickets
from interconnect.models import Region
from portal import timezones
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from portal.i18n import N_, Msgid
from portal.outbox import publish
from roles.access import scoped

STEPS_BY_RULE = lifecycle.STEPS[("new", "dispatch")]
NOTE_LIMIT = 1000
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
RESOLUTION_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class NewTicket:
    type: str
    symptoms: str
    contact_name: str
    contact_phone: str
    priority: str = "normal"
    device_id: uuid.UUID | None = None
    address: str | None = None  # the device's site when left out
    region_id: uuid.UUID | None = None  # the device's region when left out
    contact_email: str | None = None


def _text(errors: list[FieldError], field: str, value: str | None, limit: int, *, required: bool = False) -> str | None:
    cleaned = (value or "").strip()
    if required and not cleaned:
        errors.append(FieldError(field, N_("is required"), "required"))
    elif len(cleaned) > limit:
        errors.append(FieldError(field, N_("may be at most %(max)s characters"), "too_long", {"max": limit}))
    return cleaned or None


def _choice(errors: list[FieldError], field: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        errors.append(FieldError(field, N_("must be one of %(choices)s"), "invalid", {"choices": ", ".join(choices)}))


async def next_number(session: AsyncSession) -> str:
    """The tenant's next ticket number (T000001, …): one conditional UPDATE of its counter, so two tickets
    opened at once never share one (the second waits for the first's row)."""
    counter = ServiceSettings.next_ticket_number
    statement = update(ServiceSettings).values(next_ticket_number=counter + 1).returning(counter)
    value = await session.scalar(statement)
    if value is None:  # a tenant made before its settings were seeded
        session.add(ServiceSettings())
        await session.flush()
        value = await session.scalar(statement)
    return f"T{int(value or 1) - 1:06d}"


def event_payload(ticket: Ticket, action: str) -> dict[str, object]:
    return {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "action": action,
        "status": ticket.status,
        "channel": ticket.channel,
        "enterprise_id": ticket.enterprise_id,
        "engineer_id": ticket.engineer_id,
    }


# Who owns a ticket nobody of the manufacturer's opened (a dealer's or a customer's), while no engineer has
# it: nobody. A partner's person who opened it must not reach it through the owner branch of a service
# partner's data level (its notes, its field work, its steps); they follow it on their own side.
NOBODY = uuid.UUID(int=0)


def owner_of_opener(ticket: Ticket) -> uuid.UUID:
    """The ticket's owner when no engineer holds it: staff who opened it, else nobody."""
    return ticket.opened_by if ticket.opened_by_kind == "internal" else NOBODY


def channel_of(actor: Actor) -> str:
    if actor.kind == "customer":
        return "device_page"
    if actor.kind == "external":
        return "partner"
    return "api" if actor.channel == "api" else "staff"


async def open_ticket(tickets: Tickets, data: NewTicket) -> Ticket:
    """A new ticket waiting for dispatch. Warranty is decided from the device (its warranty end against
    today where the tenant is); the address and region are the device's unless given."""
    session, actor = tickets.session, tickets.actor
    errors: list[FieldError] = []
    device: Device | None = None
    if data.device_id is not None:
        query = await scoped(session, select(Device), tickets.policy, actor, DEVICE)
        device = await session.scalar(query.where(Device.id == data.device_id))
        if device is None:
            errors.append(FieldError("device_id", N_("No such device"), "unknown"))
    return await open_on_device(tickets, data, device, errors)


async def open_on_device(
    tickets: Tickets, data: NewTicket, device: Device | None, errors: list[FieldError] | None = None
) -> Ticket:
    """Open the ticket on a device the caller has already reached (through the actor's scope, or, for a
    customer, through the device's public page), recording the channel it came by."""
    session, actor = tickets.session, tickets.actor
    errors = errors if errors is not None else []
    _choice(errors, "type", data.type, TICKET_TYPES)
    _choice(errors, "priority", data.priority, PRIORITIES)
    symptoms = _text(errors, "symptoms", data.symptoms, 2000, required=True)
    contact_name = _text(errors, "contact_name", data.contact_name, 100, required=True)
    contact_phone = _text(errors, "contact_phone", data.contact_phone, 40, required=True)
    address = _text(errors, "address", data.address, 500)
    contact_email = _text(errors, "contact_email", data.contact_email, 254)
    if contact_email is not None and not EMAIL.match(contact_email):
        errors.append(FieldError("contact_email", N_("is not an email address"), "invalid"))
    region_id = data.region_id or (device.region_id if device is not None else None)
    if (
        data.region_id is not None
        and await session.scalar(select(Region.id).where(Region.id == data.region_id)) is None
    ):
        errors.append(FieldError("region_id", N_("No such region"), "unknown"))
    address = address or (device.site_address if device is not None else None)
    if address is None and not any(e.field == "address" for e in errors):
        errors.append(FieldError("address", N_("is required when no device is named"), "required"))
    if errors:
        raise ValidationFailed(errors)
    warranty = None
    if device is not None and device.warranty_end is not None:
        warranty = device.warranty_end >= timezones.today(actor.time_zone)
    ticket = Ticket(
        number=await next_number(session),
        type=data.type,
        priority=data.priority,
        status="new",
        device_id=device.id if device is not None else None,
        product_name=device.product_name if device is not None else None,
        serial_number=device.serial_number if device is not None else None,
        under_warranty=warranty,
        symptoms=symptoms,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        address=address,
        region_id=region_id,
        owner_id=actor.user_id if actor.kind == "internal" else NOBODY,
        enterprise_id=None,
        opened_by=actor.user_id,
        opened_by_kind=actor.kind,
        channel=channel_of(actor),
    )
    session.add(ticket)
    await session.flush()
    await clock.started(session, ticket)
    session.add(_event(tickets, ticket, "open", None, "new"))
    publish(session, "service.ticket.open", "service.ticket", ticket.id, event_payload(ticket, "open"))
    await session.flush()
    settings = await session.scalar(select(ServiceSettings))
    if settings is not None and settings.auto_dispatch:
        await by_rules(automation(tickets), ticket)
    return ticket


def automation(tickets: Tickets) -> Tickets:
    """The tenant's own automation acting on its tickets (dispatch by rules, closing by itself): the
    timeline names no person; the permission was the tenant's, turning the automation on."""
    actor = tickets.actor
    system = Actor(
        user_id=uuid.UUID(int=0),
        tenant_id=actor.tenant_id,
        kind="system",
        channel="system",
        time_zone=actor.time_zone,
        tenant_slug=actor.tenant_slug,
        tenant_name=actor.tenant_name,
    )
    return Tickets(tickets.session, tickets.policy, system, tickets.obj)


class NoRuleMatched(Conflict):
    code, title = "no_dispatch_rule", N_("No dispatch rule matches this ticket")


async def by_rules(tickets: Tickets, ticket: Ticket, *, strict: bool = False) -> Ticket:
    """Dispatch a new ticket to the partner the tenant's rules choose, the rule named on the timeline.
    No rule matches: the ticket waits for staff (marked, with a timeline entry), or, `strict` (staff asked
    for it), 409 with nothing written."""
    step = STEPS_BY_RULE
    if ticket.status != "new":
        lifecycle.check(ticket, "dispatch", tickets.actor)  # 409 naming the status
    decision = await decide(tickets.session, ticket)
    if decision is None:
        if strict:
            raise NoRuleMatched(
                N_("No dispatch rule matches this ticket, or its partners are all busy: dispatch it yourself")
            )
        unmatched = lifecycle.Step("new", "unmatched", "new", lifecycle.STAFF)
        return await apply(tickets, ticket, unmatched, None, {"unmatched_at": utcnow()})
    return await dispatch_to(tickets, ticket, step, decision.chosen.enterprise_id, rule_name=decision.rule_name)


async def dispatch_by_rules(tickets: Tickets, ticket_id: uuid.UUID) -> Ticket:
    """Staff ask the rules to dispatch a new ticket (permission `dispatch`)."""
    ticket, _step, _note = await _take(tickets, ticket_id, "dispatch", None)
    return await by_rules(tickets, ticket, strict=True)


def _event(
    tickets: Tickets,
    ticket: Ticket,
    action: str,
    from_status: str | None,
    to_status: str,
    note: str | None = None,
    *,
    enterprise_id: uuid.UUID | None = None,
    engineer_name: str | None = None,
    rule_name: str | None = None,
) -> TicketEvent:
    actor = tickets.actor
    if actor.kind == "system":  # the tenant's own automation: dispatch by rules, closing by itself
        return TicketEvent(
            ticket_id=ticket.id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor_kind="system",
            enterprise_id=enterprise_id,
            note=note,
            rule_name=rule_name,
        )
    return TicketEvent(
        ticket_id=ticket.id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor_kind=actor.kind,
        actor_id=actor.user_id,
        actor_name=actor.display_name or actor.email or None,
        enterprise_id=enterprise_id,
        engineer_name=engineer_name,
        note=note,
        rule_name=rule_name,
    )


async def _take(
    tickets: Tickets, ticket_id: uuid.UUID, action: str, note: str | None
) -> tuple[Ticket, Step, str | None]:
    """The ticket, the step and the note, once the actor may take this action on this ticket now."""
    if not tickets.may_take(action):
        raise PermissionDenied()
    ticket = await tickets.writable(ticket_id)
    step = lifecycle.check(ticket, action, tickets.actor)
    limit = RESOLUTION_LIMIT if action == "resolve" else NOTE_LIMIT
    errors: list[FieldError] = []
    cleaned = _text(errors, "note", note, limit, required=action in lifecycle.NOTE_REQUIRED)
    if errors:
        raise ValidationFailed(errors)
    return ticket, step, cleaned


async def apply(
    tickets: Tickets,
    ticket: Ticket,
    step: Step,
    note: str | None,
    changes: dict[str, Any] | None = None,
    *,
    enterprise_id: uuid.UUID | None = None,
    engineer_name: str | None = None,
    rule_name: str | None = None,
) -> Ticket:
    session = tickets.session
    expected = ticket.status
    session.add(
        _event(
            tickets,
            ticket,
            step.action,
            expected,
            step.to,
            note,
            enterprise_id=enterprise_id,
            engineer_name=engineer_name,
            rule_name=rule_name,
        )
    )
    ticket.status = step.to
    now = utcnow()
    if step.action != "pool":  # any other step takes it out of the pool
        ticket.pooled_at = None
    if step.to != "new":  # dispatched at last: no longer waiting for staff
        ticket.unmatched_at = None
    stamp = lifecycle.STAMPS.get(step.to)
    if stamp is not None and step.to != expected:
        setattr(ticket, stamp, now)
    for name, value in (changes or {}).items():
        setattr(ticket, name, value)
    await clock.stepped(session, ticket, step.action, expected, now)
    publish(session, f"service.ticket.{step.action}", "service.ticket", ticket.id, event_payload(ticket, step.action))
    try:
        await session.flush()
    except StaleDataError:
        raise TicketChanged(
            N_("Someone changed this ticket at the same moment: it is no longer %(status)s. Open it again."),
            status=Msgid(lifecycle.LABELS[expected]),
        ) from None
    return ticket


async def dispatch(
    tickets: Tickets,
    ticket_id: uuid.UUID,
    enterprise_id: uuid.UUID,
    engineer_id: uuid.UUID | None = None,
    note: str | None = None,
    *,
    action: str = "dispatch",
    rule_name: str | None = None,
) -> Ticket:
    """Send the ticket to a service partner (`reassign`: to another one, from wherever it is), optionally
    naming the engineer; the partner then accepts or rejects it. `rule_name`: the dispatch rule that
    chose the partner, for the timeline."""
    ticket, step, cleaned = await _take(tickets, ticket_id, action, note)
    return await dispatch_to(tickets, ticket, step, enterprise_id, engineer_id, cleaned, rule_name=rule_name)


async def dispatch_to(
    tickets: Tickets,
    ticket: Ticket,
    step: Step,
    enterprise_id: uuid.UUID,
    engineer_id: uuid.UUID | None = None,
    cleaned: str | None = None,
    *,
    rule_name: str | None = None,
) -> Ticket:
    """The dispatch step itself, once the caller has checked it may be taken."""
    link = await service_partner(tickets.session, enterprise_id)
    person = None
    if engineer_id is not None:
        person = await engineer(tickets.session, tickets.policy, tickets.actor.tenant_id, link.id, engineer_id)
    changes = {
        "enterprise_id": link.id,
        "engineer_id": person.id if person else None,
        "engineer_name": person.name if person else None,
        "owner_id": person.id if person else owner_of_opener(ticket),
        "dispatched_at": utcnow(),
    }
    return await apply(
        tickets,
        ticket,
        step,
        cleaned,
        changes,
        enterprise_id=link.id,
        engineer_name=person.name if person else None,
        rule_name=rule_name,
    )


async def assign(tickets: Tickets, ticket_id: uuid.UUID, engineer_id: uuid.UUID, note: str | None = None) -> Ticket:
    """The partner's dispatcher names the engineer (of the enterprise the ticket is dispatched to), who then
    owns it: it is among their own tickets."""
    ticket, step, cleaned = await _take(tickets, ticket_id, "assign", note)
    assert ticket.enterprise_id is not None  # a partner reaches only tickets dispatched to it
    person = await engineer(tickets.session, tickets.policy, tickets.actor.tenant_id, ticket.enterprise_id, engineer_id)
    changes = {"engineer_id": person.id, "engineer_name": person.name, "owner_id": person.id}
    return await apply(
        tickets, ticket, step, cleaned, changes, enterprise_id=ticket.enterprise_id, engineer_name=person.name
    )


async def reopen(tickets: Tickets, ticket_id: uuid.UUID, note: str | None) -> Ticket:
    """A resolved, confirmed or closed ticket back to its partner, within the tenant's reopening window."""
    ticket, step, cleaned = await _take(tickets, ticket_id, "reopen", note)
    settings = await tickets.session.scalar(select(ServiceSettings))
    days = settings.reopen_days if settings is not None else 14
    if ticket.resolved_at is not None and ticket.resolved_at + timedelta(days=days) < utcnow():
        raise Conflict(
            N_("This ticket was resolved more than %(days)s days ago and can no longer be reopened; open a new one"),
            code="reopen_window_passed",
            days=days,
        )
    changes = {"reopen_reason": cleaned, "reopened_at": utcnow(), "dispatched_at": utcnow()}
    return await apply(tickets, ticket, step, cleaned, changes, enterprise_id=ticket.enterprise_id)


async def to_pool(tickets: Tickets, ticket_id: uuid.UUID, note: str | None = None) -> Ticket:
    """Put a new ticket in the open pool of its region, where a partner of that region may take it."""
    ticket, step, cleaned = await _take(tickets, ticket_id, "pool", note)
    if ticket.region_id is None:
        raise ValidationFailed.single(
            "region_id", N_("A ticket needs a region to go to the open pool: its region's partners take it"), "required"
        )
    if ticket.pooled_at is not None:
        raise Conflict(N_("This ticket is already in the open pool"), code="already_pooled")
    return await apply(tickets, ticket, step, cleaned, {"pooled_at": utcnow(), "unmatched_at": None})


# What the other transitions change besides the status, from the note.
_NOTE_COLUMN = {"reject": "reject_reason", "hold": "hold_reason", "resolve": "resolution", "cancel": "cancel_reason"}


async def move(tickets: Tickets, ticket_id: uuid.UUID, action: str, note: str | None = None) -> Ticket:
    """Any transition that needs nothing but a note: accept, reject, start, arrive, hold, resume, resolve,
    confirm, close, cancel."""
    if action in ("dispatch", "reassign", "assign", "reopen", "pool", "take") or action not in lifecycle.PERMISSIONS:
        raise ValueError(f"{action} is not a plain transition")
    ticket, step, cleaned = await _take(tickets, ticket_id, action, note)
    if action == "resolve":  # the tenant may require the customer's signature first
        await check_signed(tickets.session, ticket)
    changes: dict[str, Any] = {}
    if action in _NOTE_COLUMN:
        changes[_NOTE_COLUMN[action]] = cleaned
    enterprise_id = None
    if action == "reject":  # back to the manufacturer's queue: the partner and its engineer let go of it
        enterprise_id = ticket.enterprise_id
        changes.update(enterprise_id=None, engineer_id=None, engineer_name=None, owner_id=owner_of_opener(ticket))
    return await apply(tickets, ticket, step, cleaned, changes, enterprise_id=enterprise_id)


async def take(
    tickets: Tickets,
    ticket_id: uuid.UUID,
    action: str,
    note: str | None = None,
    *,
    enterprise_id: uuid.UUID | None = None,
    engineer_id: uuid.UUID | None = None,
) -> Ticket:
    """Any transition by name (the pages' one form handler): the fields each needs are checked by it."""
    if action in ("dispatch", "reassign"):
        if enterprise_id is None:
            raise ValidationFailed.single("enterprise_id", N_("Choose the service partner"), "required")
        return await dispatch(tickets, ticket_id, enterprise_id, engineer_id, note, action=action)
    if action == "assign":
        if engineer_id is None:
            raise ValidationFailed.single("engineer_id", N_("Choose the engineer"), "required")
        return await assign(tickets, ticket_id, engineer_id, note)
    if action == "reopen":
        return await reopen(tickets, ticket_id, note)
    if action == "pool":
        return await to_pool(tickets, ticket_id, note)
    return await move(tickets, ticket_id, action, note)


async def confirm_by_customer(tickets: Tickets, ticket: Ticket, rating: int, comment: str | None) -> Ticket:
    """The customer confirms the resolved ticket and rates it, through its progress link (the caller has
    found the ticket by the link: the link is the customer's permission). The `confirm` transition, made
    by the customer: on the timeline, audited and published like any other. A ticket is rated once."""
    if tickets.actor.kind != "customer":
        raise PermissionDenied()
    if ticket.rating is not None:
        raise Conflict(N_("This ticket has already been rated"), code="already_rated")
    step = lifecycle.check(ticket, "confirm", tickets.actor)
    errors: list[FieldError] = []
    if rating not in range(1, 6):
        errors.append(FieldError("rating", N_("must be a whole number from 1 to 5"), "invalid"))
    cleaned = _text(errors, "comment", comment, NOTE_LIMIT)
    if errors:
        raise ValidationFailed(errors)
    changes = {"rating": rating, "rating_comment": cleaned, "rated_at": utcnow()}
    return await apply(tickets, ticket, step, cleaned, changes)
