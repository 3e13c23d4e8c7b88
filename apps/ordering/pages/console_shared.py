"""What the console's ordering pages share: the services of a request, reading form values into what
the services take, labels of stored codes, paging, and the notice a page shows after a redirect.

Pages parse text into values and nothing else: every rule (ranges, required fields, transitions, data
scopes) is the service's, so a refusal reads the same on a page as in the API."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from litestar import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.lifecycle import LABELS as STATUS_LABELS
from apps.ordering.orders import ANY_APPROVER, NAMED_PERSON
from apps.ordering.payments import METHOD_LABELS
from interconnect.models import EnterpriseLink
from portal.errors import FieldError, ValidationFailed
from portal.http.inputs import whole_number
from portal.i18n import N_, gettext
from roles.pages.labels import role_name, roles_by_key, roles_of_kind

AnyRequest = Request[Any, Any, Any]
PAGE_SIZE = 25
ENTERPRISE_CHOICES = 500  # enterprises offered in a select

ACTION_LABELS = {
    "submit": N_("Submit"),
    "approve": N_("Approve"),
    "approve_step": N_("Approval step"),
    "reject": N_("Reject"),
    "ship": N_("Ship"),
    "receive": N_("Receive"),
    "complete": N_("Complete"),
    "cancel": N_("Cancel"),
}
PAYMENT_STATUS_LABELS = {
    "reported": N_("Reported, waiting"),
    "confirmed": N_("Confirmed"),
    "rejected": N_("Rejected"),
}
KIND_LABELS = {"base": N_("Base (everyone)"), "tier": N_("Tier"), "enterprise": N_("Enterprise")}
ENTRY_LABELS = {
    "order": N_("Order"),
    "payment": N_("Payment"),
    "reversal": N_("Reversal"),
    "settlement": N_("Service settlement"),
    "commission": N_("Commission"),
    "fund": N_("Market development funds"),
    "opening": N_("Opening balance"),
    "closing": N_("Closing balance"),
}
_TABLES: dict[str, Mapping[str, str]] = {
    "status": STATUS_LABELS,
    "action": ACTION_LABELS,
    "payment": PAYMENT_STATUS_LABELS,
    "method": METHOD_LABELS,
    "kind": KIND_LABELS,
    "entry": ENTRY_LABELS,
}
# What a page says after a redirect (?done=...): the change went through.
DONE_MESSAGES = {
    "approved": N_("The order is approved."),
    "step": N_("Your approval step is recorded; the order waits for the next step."),
    "rejected": N_("The order is rejected."),
    "shipped": N_("The shipment is recorded."),
    "cancelled": N_("The order is cancelled."),
    "completed": N_("The order is completed."),
    "saved": N_("Saved."),
    "created": N_("Created."),
    "deleted": N_("Deleted."),
    "imported": N_("The file is imported."),
    "recorded": N_("The payment is recorded and matched."),
    "confirmed": N_("The payment is confirmed and matched."),
    "payment_rejected": N_("The payment is rejected."),
}


def ordering_label(kind: str, code: str | None) -> str:
    """For templates: a stored code of the ordering app in the page's language (the code if unknown)."""
    if code is None:
        return ""
    found = _TABLES[kind].get(code)
    return gettext(found) if found else code


def done_message(done: str | None) -> str | None:
    found = DONE_MESSAGES.get(done or "")
    return gettext(found) if found else None


def amount(value: Decimal | None) -> str:
    """Money as shown: two places (the stored four only where they carry something), grouped."""
    if value is None:
        return ""
    two = value.quantize(Decimal("0.01"))
    return f"{two if two == value else value.normalize():,}"


def percent_of(share: Decimal | None) -> str:
    return "" if share is None else f"{share * 100:.1f}%"


def page_helpers() -> dict[str, Any]:
    """Functions the ordering templates use (the ordering component declares no template globals)."""
    return {"olabel": ordering_label, "amount": amount, "percent_of": percent_of}


async def enterprise_choices(db: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    rows = await db.execute(
        select(EnterpriseLink.id, EnterpriseLink.name).order_by(EnterpriseLink.name).limit(ENTERPRISE_CHOICES)
    )
    return [(key, name) for key, name in rows]


# --- reading forms and query strings ---


def text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return value.strip() if isinstance(value, str) else ""


def optional_uuid(value: str | None) -> uuid.UUID | None:
    """A filter value: blank or unreadable is "any"."""
    try:
        return uuid.UUID(value.strip()) if value and value.strip() else None
    except ValueError:
        return None


def form_uuid(data: Mapping[str, Any], name: str, errors: list[FieldError]) -> uuid.UUID | None:
    """A select of the form: blank is "none"; a value that is no id is a field error."""
    value = text(data, name)
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        errors.append(FieldError(name, N_("is not known"), "unknown"))
        return None


def form_int(data: Mapping[str, Any], name: str, errors: list[FieldError], default: int | None = None) -> int | None:
    value = text(data, name)
    if not value:
        return default
    try:
        return whole_number(name, value)
    except ValidationFailed as error:
        errors.extend(error.errors)
        return None


def form_decimal(data: Mapping[str, Any], name: str, errors: list[FieldError]) -> Decimal | None:
    value = text(data, name).replace(",", "")
    if not value:
        return None
    try:
        found = Decimal(value)
    except InvalidOperation:
        errors.append(FieldError(name, N_("must be a number"), "invalid"))
        return None
    if not found.is_finite():
        errors.append(FieldError(name, N_("must be a number"), "invalid"))
        return None
    return found


def form_date(data: Mapping[str, Any], name: str, errors: list[FieldError]) -> date | None:
    value = text(data, name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(name, N_("must be a date (YYYY-MM-DD)"), "invalid"))
        return None


def raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


def with_query(path: str, **values: Any) -> str:
    kept = {k: str(v) for k, v in values.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path


async def role_namer(db: AsyncSession) -> Callable[[str | None], str]:
    """For templates: a role key as its name in the page's language ("*": anyone who may approve)."""
    roles = await roles_by_key(db)

    def name_of(key: str | None) -> str:
        if key == ANY_APPROVER:
            return gettext(N_("Any approver"))
        if key == NAMED_PERSON:
            return gettext(N_("A named person"))
        return role_name(roles.get(key or "")) or (key or "")

    return name_of


async def staff_roles(db: AsyncSession) -> list[tuple[str, str]]:
    """(key, name) of the staff roles, for a select."""
    return [(r.key, role_name(r)) for r in await roles_of_kind(db, "internal")]
