"""What the service app's pages share: stored codes in words, the notices after a redirect, the choices
its forms offer, and running one transition from a form.

Pages parse text into values and nothing else: every rule (required notes, engineers of the enterprise,
transitions, data scopes) is the workflow's, so a refusal reads the same on a page as in the API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service import lifecycle, workflow
from apps.service.models import PRIORITIES, TICKET_STATUSES, TICKET_TYPES
from apps.service.tickets import OPEN, SORTS, Tickets
from interconnect.models import EnterpriseLink, PartnerType, Region
from portal.errors import DomainError, NotFound, ValidationFailed
from portal.i18n import N_, gettext
from portal.ui.forms import uuid_or_none
from portal.ui.refusals import field_errors, refusal_of

PAGE_SIZE = 25
CHOICES = 500  # enterprises and regions offered in a select

TYPE_LABELS = {
    "installation": N_("Installation"),
    "repair": N_("Repair"),
    "maintenance": N_("Maintenance"),
    "inspection": N_("Inspection"),
}
PRIORITY_LABELS = {"low": N_("Low"), "normal": N_("Normal"), "high": N_("High"), "urgent": N_("Urgent")}
_TABLES: dict[str, Mapping[str, str]] = {
    "status": lifecycle.LABELS,
    "action": lifecycle.ACTION_LABELS,
    "type": TYPE_LABELS,
    "priority": PRIORITY_LABELS,
}
# What a page says after a transition went through (?done=<action>).
DONE = {
    "open": N_("The ticket is opened. Dispatch it to a service partner."),
    "dispatch": N_("The ticket is dispatched."),
    "dispatch_rules": N_("The ticket is dispatched to the partner the rules chose."),
    "pool": N_("The ticket is in the open pool: a partner of its region may take it."),
    "take": N_("You took the ticket: it is yours."),
    "reassign": N_("The ticket is dispatched to the other partner."),
    "accept": N_("You accepted the ticket."),
    "reject": N_("The ticket is handed back to the manufacturer."),
    "assign": N_("The engineer is assigned."),
    "start": N_("You are on the way."),
    "arrive": N_("You are on site."),
    "hold": N_("The ticket is on hold."),
    "resume": N_("Work on the ticket resumes."),
    "resolve": N_("The ticket is resolved."),
    "confirm": N_("The resolution is confirmed for the customer."),
    "close": N_("The ticket is closed."),
    "reopen": N_("The ticket is reopened and back with its partner."),
    "cancel": N_("The ticket is cancelled."),
    "field_check_in": N_("You are checked in on site."),
    "field_note": N_("The note is added."),
    "field_part": N_("The part is recorded and taken out of your stock."),
    "field_photo": N_("The photo is added."),
    "field_signature": N_("The customer's signature is saved."),
    "recorded": N_("The device is recorded."),
    "saved": N_("The device is saved."),
    "imported": N_("The file is imported."),
}
# The buttons of the forms, where the action's name alone would not say enough.
BUTTONS = {
    "reject": N_("Hand it back"),
    "start": N_("I am on my way"),
    "arrive": N_("I am on site"),
    "resolve": N_("Mark as resolved"),
}
NOTE_LABELS = {
    "reject": N_("Why do you hand it back?"),
    "hold": N_("What is it waiting for?"),
    "resolve": N_("What was done"),
    "reopen": N_("Why reopen it?"),
    "cancel": N_("Why cancel it?"),
}
ALL = "all"
STATUS_FILTERS = (OPEN, *TICKET_STATUSES, ALL)
# The lists' orders (apps.service.tickets.SORTS) in words.
SORT_LABELS = {
    "newest": N_("Newest first"),
    "oldest": N_("Oldest first"),
    "priority": N_("Most urgent first"),
    "due": N_("Resolution due first"),
    "number": N_("By number"),
}


RATINGS = ("1", "2", "3", "4", "5")  # a list's rating filter, as its links have it


def day_of(value: str | None) -> date | None:
    """A list's day filter (YYYY-MM-DD) as typed; None when it is empty or not a day."""
    try:
        return date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None


def with_query(path: str, values: Mapping[str, Any]) -> str:
    """A list's address with its filters, the empty ones left out."""
    kept = {k: str(v) for k, v in values.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


def sort_filter(value: str | None) -> str:
    """A list's order as chosen, "" for the default (newest first)."""
    return value if value in SORTS and value != "newest" else ""


def service_label(kind: str, code: str | None) -> str:
    """For templates: a stored code of the service app in the page's language (the code if unknown)."""
    if code is None:
        return ""
    found = _TABLES[kind].get(code)
    return gettext(found) if found else code


def page_helpers() -> dict[str, Any]:
    """What the service templates use (the component declares no template globals)."""
    return {
        "slabel": service_label,
        "buttons": BUTTONS,
        "note_labels": NOTE_LABELS,
        "note_required": lifecycle.NOTE_REQUIRED,
        "types": TICKET_TYPES,
        "priorities": PRIORITIES,
    }


def done_message(done: str | None) -> str | None:
    found = DONE.get(done or "")
    return gettext(found) if found else None


def text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def status_filter(value: str | None) -> str:
    """A list's status filter as chosen ("open" unless another is, "all" for every status)."""
    return value if value in STATUS_FILTERS else OPEN


def wanted_status(chosen: str) -> str | None:
    return None if chosen == ALL else chosen


async def service_partners(db: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    """Active enterprises to dispatch to, the service providers first."""
    rows = await db.execute(
        select(EnterpriseLink.id, EnterpriseLink.name, PartnerType.code)
        .join(
            PartnerType,
            (PartnerType.tenant_id == EnterpriseLink.tenant_id) & (PartnerType.id == EnterpriseLink.partner_type_id),
        )
        .where(EnterpriseLink.status == "active")
        .order_by(EnterpriseLink.name)
        .limit(CHOICES)
    )
    found = list(rows)
    return [(key, name) for key, name, code in sorted(found, key=lambda r: r[2] != "service_provider")]


async def regions(db: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    return [(key, name) for key, name in await db.execute(select(Region.id, Region.name).order_by(Region.name))]


async def run_action(
    db: AsyncSession,
    tickets: Tickets,
    ticket_id: uuid.UUID,
    action: str,
    data: Mapping[str, Any],
    render: Callable[..., Awaitable[Any]],
    done: Callable[[], Any],
) -> Any:
    """One transition from a form (note, and the partner or engineer where the action takes one), inside a
    savepoint: a refusal rolls back what it had begun and shows the ticket's page with why, and the
    status it answers with; otherwise `done()` (a redirect)."""
    await tickets.get(ticket_id)  # outside the actor's scope, or another tenant's: not found, not refused
    form = {name: text(data, name) for name in ("note", "enterprise_id", "engineer_id")}
    try:
        async with db.begin_nested():
            await workflow.take(
                tickets,
                ticket_id,
                action,
                form["note"] or None,
                enterprise_id=uuid_or_none(form["enterprise_id"]),
                engineer_id=uuid_or_none(form["engineer_id"]),
            )
    except NotFound:
        raise
    except DomainError as error:
        errors = field_errors(error) if isinstance(error, ValidationFailed) else {}
        return await render(alert=refusal_of(error), failed=action, form=form, errors=errors, status_code=error.status)
    return done()
