"""What a CRM account's keys must be, whoever types them (a partner registering a deal, an ERP sending its
customers), and the event every change of an account publishes.

`checked_keys` reads the tax id, phone and email a person or system typed, adds a field error for each that
is no such thing, and gives them in the form matching compares (`portal.crm.matching`). Every change of an
account, by any code path, publishes `crm.account.changed` in its own transaction (a flush hook), so what
follows accounts (an ERP's change feed) misses none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.crm.matching import email_key, phone_key, tax_key
from portal.crm.models import Account
from portal.db.tenancy import TenantSession
from portal.errors import FieldError
from portal.i18n import N_
from portal.outbox import publish

ACCOUNT_CHANGED = "crm.account.changed"
ACCOUNT_AGGREGATE = "crm.account"


def text_of(errors: list[FieldError], values: Mapping[str, Any], name: str, limit: int) -> str | None:
    value = str(values.get(name) or "").strip()
    if len(value) > limit:
        errors.append(FieldError(name, N_("may be at most %(max)s characters"), "too_long", {"max": limit}))
        return None
    return value or None


def checked_keys(errors: list[FieldError], values: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
    """The tax id, phone and email in `values` as matching keys (None when not given); each one given that
    is not what it says adds a field error."""
    tax_id, phone, email = text_of(errors, values, "tax_id", 40), text_of(errors, values, "phone", 40), None
    email = text_of(errors, values, "email", 254)
    if tax_id and tax_key(tax_id) is None:
        errors.append(FieldError("tax_id", N_("must have letters or digits"), "invalid"))
    if phone and phone_key(phone) is None:
        errors.append(FieldError("phone", N_("must be a phone number"), "invalid"))
    if email and email_key(email) is None:
        errors.append(FieldError("email", N_("must be an email address"), "invalid"))
    return tax_key(tax_id), phone_key(phone), email_key(email)


@event.listens_for(TenantSession, "after_flush")
def _account_changed(session: Session, _flush_context: Any) -> None:
    changed = [
        obj
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, Account) and (obj in session.new or obj in session.deleted or session.is_modified(obj))
    ]
    for account in changed:
        publish(session, ACCOUNT_CHANGED, ACCOUNT_AGGREGATE, account.id, {"id": str(account.id)})  # type: ignore[arg-type]
