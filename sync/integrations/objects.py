"""What roles grant on integration keys, the scopes a key may hold, and the objects an ERP keeps in step.

Staff manage keys with `sync.integration_key` (read, create, update: rotate and revoke). A key's scopes are
the objects under "integration." (portal.permissions): no role is granted them, and a key passes a route's
check only when its scopes name the route's object. Each writable object is one an app offers in its
component's `extra["integration_objects"]` (the ordering app: products, price lists, stock) or the CRM's
accounts (customers, here: the CRM is the kernel's); the change feed reports each of them, and orders."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.crm.accounts import ACCOUNT_CHANGED, checked_keys, text_of
from portal.crm.models import Account
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.outbox import Event
from portal.permissions import ProtectedObject

if TYPE_CHECKING:
    from portal.services import Services

KEY = "sync.integration_key"
CHANGES = "integration.changes"

# scope -> what a person reads on the console
SCOPES: dict[str, str] = {
    "integration.products": N_("Products: send products"),
    "integration.price_lists": N_("Price lists: send price lists and their prices"),
    "integration.stock": N_("Stock: send stock levels per warehouse"),
    "integration.customers": N_("Customers: send CRM accounts"),
    CHANGES: N_("Changes: read the change feed"),
}

OBJECTS = (
    ProtectedObject(KEY, N_("Integration keys"), ("read", "create", "update")),
    ProtectedObject("integration.products", N_("Products (integration)"), ("write",)),
    ProtectedObject("integration.price_lists", N_("Price lists (integration)"), ("write",)),
    ProtectedObject("integration.stock", N_("Stock levels (integration)"), ("write",)),
    ProtectedObject("integration.customers", N_("Customers (integration)"), ("write",)),
    ProtectedObject(CHANGES, N_("Change feed (integration)"), ("read",)),
)


class Resolve(Protocol):
    async def __call__(self, obj: str, external_ids: Sequence[str]) -> dict[str, uuid.UUID]: ...


class IntegrationObject(Protocol):
    """name: the API's path segment and the feed's object; scope: the key scope writing it needs; mapped:
    records keep the ERP's external id; writable: the ERP sends it (else the feed only reports it)."""

    name: str
    scope: str
    label: str
    mapped: bool
    writable: bool
    fields: Sequence[str]

    def accepts(self, event_type: str) -> bool: ...

    async def upsert(
        self, session: AsyncSession, item: Mapping[str, Any], current: uuid.UUID | None, resolve: Resolve
    ) -> tuple[str, uuid.UUID]: ...

    async def changed(self, session: AsyncSession, event: Event) -> list[uuid.UUID]: ...

    async def read(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]: ...


ACCOUNT_FIELDS = ("name", "code", "tax_id", "phone", "email")


class CustomerObject:
    """CRM accounts of kind customer, checked as the CRM checks an account's keys (portal.crm.accounts)."""

    name = "customers"
    scope = "integration.customers"
    label = N_("Customers")
    mapped = True
    writable = True
    fields = ACCOUNT_FIELDS

    def accepts(self, event_type: str) -> bool:
        return event_type == ACCOUNT_CHANGED

    async def upsert(
        self, session: AsyncSession, item: Mapping[str, Any], current: uuid.UUID | None, resolve: Resolve
    ) -> tuple[str, uuid.UUID]:
        errors = [
            FieldError(n, N_("is not a field of this object"), "unknown") for n in sorted(set(item) - set(self.fields))
        ]
        name, code = text_of(errors, item, "name", 200), text_of(errors, item, "code", 60)
        tax_id, phone, email = checked_keys(errors, item)
        account = None
        if current is not None:
            account = await session.scalar(select(Account).where(Account.id == current).with_for_update())
            if account is None:  # deleted here since: the caller makes it anew
                raise NotFound(N_("No such customer"))
        if account is None and not name and "name" not in [e.field for e in errors]:
            errors.append(FieldError("name", N_("is required"), "required"))
        if "name" in item and not name and account is not None:
            errors.append(FieldError("name", N_("is required"), "required"))
        if errors:
            raise ValidationFailed(errors)
        values = {"name": name, "code": code, "tax_id": tax_id, "phone": phone, "email": email}
        values = {k: v for k, v in values.items() if k in item}
        if account is None:
            account = Account(kind="customer", **values)
            session.add(account)
            await session.flush()
            return "created", account.id
        if all(getattr(account, k) == v for k, v in values.items()):
            return "unchanged", account.id
        for key, value in values.items():
            setattr(account, key, value)
        await session.flush()
        return "updated", account.id

    async def changed(self, session: AsyncSession, event: Event) -> list[uuid.UUID]:
        return [event.aggregate_id]

    async def read(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        rows = await session.scalars(select(Account).where(Account.id.in_(ids)))
        return {a.id: {"id": str(a.id), "kind": a.kind, **{n: getattr(a, n) for n in ACCOUNT_FIELDS}} for a in rows}


CUSTOMERS = CustomerObject()


def integration_objects(services: Services) -> dict[str, IntegrationObject]:
    """Every object an installed app offers, and the CRM's customers, by name."""
    found: dict[str, IntegrationObject] = {}
    for component in services.components:
        for obj in component.extra.get("integration_objects", ()):
            found[obj.name] = obj
    found[CUSTOMERS.name] = CUSTOMERS
    return found
