"""The ordering app's services for a request, built by dependency injection: a controller (or page)
names the set for its side once, in `dependencies=`, and its handlers take what they use by name.

The partner side reaches the partner objects (the buyer's own catalog and prices, the orders its data
scope reaches), the staff side the manufacturer's; the same names mean the same services on both."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide

from apps.ordering.addresses import AddressBook
from apps.ordering.admin import CatalogAdmin
from apps.ordering.cart import Cart
from apps.ordering.catalog import Catalog
from apps.ordering.objects import CATALOG, ORDER, PARTNER_CATALOG, PARTNER_ORDER
from apps.ordering.orders import Orders
from apps.ordering.payments import Payments
from portal.actor import Actor
from portal.errors import PermissionDenied
from portal.http.deps import DB, provide_actor
from portal.i18n import N_
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]


def orders_of(request: AnyRequest, db: DB, actor: Actor, obj: str) -> Orders:
    return Orders(db, policy_of(request), actor, obj)


async def catalog_of(request: AnyRequest, db: DB, actor: Actor, obj: str) -> Catalog:
    return await Catalog.for_actor(db, policy_of(request), actor, obj)


def own_enterprise(actor: Actor) -> uuid.UUID:
    if actor.enterprise_id is None:
        raise PermissionDenied(N_("Only people of a partner enterprise have an account"), code="no_enterprise")
    return actor.enterprise_id


# The providers below read the actor from the request rather than taking the `actor` dependency beside
# `db`: Litestar resolves dependencies of the same depth in a task group of their own, on every request.


def provide_partner_orders(request: AnyRequest, db: DB) -> Orders:
    return orders_of(request, db, provide_actor(request), PARTNER_ORDER)


def provide_staff_orders(request: AnyRequest, db: DB) -> Orders:
    return orders_of(request, db, provide_actor(request), ORDER)


async def provide_partner_catalog(request: AnyRequest, db: DB) -> Catalog:
    return await catalog_of(request, db, provide_actor(request), PARTNER_CATALOG)


async def provide_staff_catalog(request: AnyRequest, db: DB) -> Catalog:
    return await catalog_of(request, db, provide_actor(request), CATALOG)


def provide_cart(catalog: NamedDependency[Catalog]) -> Cart:
    return Cart(catalog)


def provide_payments(orders: NamedDependency[Orders]) -> Payments:
    return Payments(orders)


def provide_address_book(request: AnyRequest, db: DB) -> AddressBook:
    """The book of the actor's own enterprise."""
    return AddressBook(db, own_enterprise(provide_actor(request)))


def provide_catalog_admin(db: DB) -> CatalogAdmin:
    return CatalogAdmin(db)


def _sync(provider: Any) -> Provide:
    return Provide(provider, sync_to_thread=False)


PARTNER_DEPENDENCIES = {
    "orders": _sync(provide_partner_orders),
    "catalog": Provide(provide_partner_catalog),
    "cart": _sync(provide_cart),
    "payments": _sync(provide_payments),
    "address_book": _sync(provide_address_book),
}
STAFF_DEPENDENCIES = {
    "orders": _sync(provide_staff_orders),
    "catalog": Provide(provide_staff_catalog),
    "payments": _sync(provide_payments),
    "admin": _sync(provide_catalog_admin),
}

# Markers for handler parameters.
OrdersDep = NamedDependency[Orders]
CatalogDep = NamedDependency[Catalog]
CartDep = NamedDependency[Cart]
PaymentsDep = NamedDependency[Payments]
AddressBookDep = NamedDependency[AddressBook]
AdminDep = NamedDependency[CatalogAdmin]
