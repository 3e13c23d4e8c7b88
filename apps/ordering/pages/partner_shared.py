"""What the partner portal's ordering pages share: the page frame, money and labels as shown, readable
refusals, paging, and the one-time keys that make a resubmitted form harmless.

The pages hold no rules of their own: they call the services the partner API calls, and show what
those return (a field hidden from the actor is absent there, so it is absent here)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Request
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.lifecycle import LABELS
from apps.ordering.objects import PARTNER_ORDER
from interconnect.pages.workspace import PortalContext
from portal import idempotency
from portal.actor import Actor
from portal.errors import DomainError, FieldError, ValidationFailed
from portal.i18n import N_, gettext, lazy
from portal.ui.numbers import money
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]
KEY_FIELD = "key"

ACTION_LABELS = {
    "submit": N_("Placed"),
    "approve": N_("Approved"),
    "approve_step": N_("Approval step taken"),
    "reject": N_("Rejected"),
    "ship": N_("Shipped"),
    "receive": N_("Received"),
    "complete": N_("Completed"),
    "cancel": N_("Cancelled"),
}
APPROVAL_LABELS = {
    "pending": lazy.pgettext("approval step", "Waiting"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
APPROVAL_REASONS = {"rule": N_("Order review"), "credit": N_("Credit check")}
PAYMENT_STATUS_LABELS = {"reported": N_("Reported"), "confirmed": N_("Confirmed"), "rejected": N_("Rejected")}
ENTRY_LABELS = {
    "order": N_("Order"),
    "payment": N_("Payment"),
    "reversal": N_("Cancelled order"),
    "settlement": N_("Service settlement"),
    "commission": N_("Commission"),
    "fund": N_("Market development funds"),
}
# Services name a form's inputs; a message that is not a sentence of its own reads after its label.
FIELD_LABELS = {
    "quantity": N_("Quantity"),
    "product_id": N_("Product"),
    "amount": N_("Amount"),
    "received_on": N_("Paid on"),
    "method": N_("Method"),
    "reference": N_("Reference"),
    "note": N_("Note"),
    "ship_to": N_("Ship to"),
    "address_id": N_("Ship to"),
    "po_number": N_("PO number"),
    "requested_delivery_date": N_("Requested delivery date"),
    "comment": N_("Reason"),
    "start": N_("From"),
    "end": N_("To"),
    KEY_FIELD: N_("Form"),
}


def image_src(url: str | None) -> str | None:
    """Only web addresses and site paths go into an <img>: the catalog is typed by people."""
    if url and (url.startswith(("https://", "http://")) or (url.startswith("/") and not url.startswith("//"))):
        return url
    return None


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: money(v) if isinstance(v, Decimal) else v for k, v in params.items()}


def _sentence(error: FieldError) -> str:
    text = gettext(error.message, **_params(error.params))
    name = error.field.rsplit(".", 1)[-1]
    if text[:1].islower() and name in FIELD_LABELS:
        return f"{gettext(FIELD_LABELS[name])}: {text}"
    return text


def refusal_lines(error: DomainError) -> list[str]:
    """Why the service refused, as sentences in the reader's language (amounts with two decimals)."""
    if isinstance(error, ValidationFailed):
        return list(dict.fromkeys(_sentence(e) for e in error.errors))
    return [gettext(error.detail, **_params(error.params))]


def form_errors(error: ValidationFailed) -> dict[str, str]:
    """Messages per input of the form (the field names of the service); an input that breaks two
    rules shows both."""
    found: dict[str, list[str]] = {}
    for e in error.errors:
        found.setdefault(e.field, []).append(gettext(e.message, **_params(e.params)))
    return {name: " ".join(messages) for name, messages in found.items()}


def one_time_key() -> str:
    return secrets.token_urlsafe(18)


async def once(
    session: AsyncSession,
    actor: Actor,
    request: AnyRequest,
    key: str | None,
    create: Callable[[], Awaitable[dict[str, Any]]],
) -> dict[str, Any]:
    """Run `create` once per key the page rendered: the same form sent again (a double click, a reload
    of the answer) gets the first result back. The key stands for the one form on the one page, so the
    fingerprint is the path alone. Callers run this inside a savepoint, so a refusal takes the claim of
    the key back with everything else, and the corrected form may use it again."""

    async def run() -> tuple[int, dict[str, Any]]:
        return 201, await create()

    fingerprint = idempotency.fingerprint("POST", request.url.path, {})
    saved = await idempotency.run_once(session, actor, (key or "").strip() or None, fingerprint, run)
    return msgspec.json.decode(saved.body)


def may(request: AnyRequest, actor: Actor, obj: str, action: str) -> bool:
    """Whether to offer a form: display only, the guard decides on every request."""
    return policy_of(request).allows(actor, (obj, action))


def may_order(request: AnyRequest, actor: Actor) -> bool:
    return may(request, actor, PARTNER_ORDER, "create")


def uuid_or_none(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def date_or_none(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def base_of(portal: PortalContext) -> str:
    return portal.path("ordering")


def render(name: str, portal: PortalContext, status_code: int = 200, **values: Any) -> Template:
    """One of the ordering pages, with the helpers every one of them uses."""
    return Template(
        f"ordering/portal/{name}.html",
        context={
            **portal.frame,
            "base": base_of(portal),
            "money": money,
            "image_src": image_src,
            "status_labels": LABELS,
            **values,
        },
        status_code=status_code,
    )


def limited(form: Mapping[str, str], columns: Mapping[str, Any]) -> dict[str, str | None]:
    """Text inputs trimmed (empty: None) and held to their columns' lengths, so a long paste is a
    message on the form rather than a database error."""
    errors: list[FieldError] = []
    values: dict[str, str | None] = {}
    for name, column in columns.items():
        value = (form.get(name) or "").strip()
        length = getattr(column.type, "length", None)
        if length is not None and len(value) > length:
            errors.append(FieldError(name, N_("may be at most %(max)s characters"), "too_long", {"max": length}))
        values[name] = value or None
    if errors:
        raise ValidationFailed(errors)
    return values
