"""The partner side of the ordering API: the buyer's own catalog and prices, the cart, orders (placed
with an Idempotency-Key, then cancelled or received), and the enterprise's account: balance, credit,
statement and reported payments."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from apps.ordering import account, placing, workflow
from apps.ordering.addresses import AddressBook, address_out
from apps.ordering.cart import Cart
from apps.ordering.catalog import categories_query, category_out
from apps.ordering.controllers.shared import AnyRequest, catalog_of, orders_of, xlsx
from apps.ordering.objects import PARTNER_ACCOUNT, PARTNER_CATALOG, PARTNER_ORDER
from apps.ordering.payments import Payments
from apps.ordering.schemas import AddressIn, AddressPatch, CartLineIn, Comment, OrderIn, Page, PaymentIn
from portal import timezones
from portal.actor import Actor
from portal.errors import PermissionDenied
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Limit, Offset, Search
from portal.i18n import N_
from portal.identity.schemas import sent
from portal.permissions import requires
from portal.spreadsheets import XLSX_MEDIA_TYPE


def own_enterprise(actor: Actor) -> uuid.UUID:
    if actor.enterprise_id is None:
        raise PermissionDenied(N_("Only people of a partner enterprise have an account"), code="no_enterprise")
    return actor.enterprise_id


def statement_out(found: account.Statement) -> dict[str, Any]:
    return {
        "enterprise_id": found.enterprise_id,
        "start": found.start,
        "end": found.end,
        "opening_balance": found.opening,
        "debits": found.debits,
        "credits": found.credits,
        "closing_balance": found.closing,
        "lines": found.lines,
    }


def period(start: date | None, end: date | None, time_zone: str) -> tuple[date, date]:
    """The month so far where the tenant is, unless given."""
    today = timezones.today(time_zone)
    finish = end or today
    return start or finish.replace(day=1), finish


def statement_cells(found: account.Statement) -> tuple[list[str], list[list[str]]]:
    columns = ["date", "kind", "description", "debit", "credit", "balance"]
    rows = [["", "opening", "", "", "", str(found.opening)]]
    for line in found.lines:
        rows.append(
            [
                f"{line['at']:%Y-%m-%d}",
                line["kind"],
                line["description"],
                str(line["debit"]) if line["debit"] else "",
                str(line["credit"]) if line["credit"] else "",
                str(line["balance"]),
            ]
        )
    rows.append(["", "closing", "", str(found.debits), str(found.credits), str(found.closing)])
    return columns, rows


class PartnerCatalogController(Controller):
    """The products the buyer's partner type and tier may see, each at the buyer's own price."""

    path = "/api/partner/ordering"
    tags = ["partner: ordering"]

    @get("/catalog", opt=requires(PARTNER_CATALOG, "read"))
    async def list_products(
        self,
        request: AnyRequest,
        db: DB,
        actor: CurrentActor,
        search: Search = None,
        category_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 24,
        offset: Offset = 0,
    ) -> Page:
        catalog = await catalog_of(request, db, actor, PARTNER_CATALOG)
        items, total = await catalog.page(search, category_id, limit, offset)
        return Page(items, total, limit, offset)

    @get("/catalog/{product_id:uuid}", opt=requires(PARTNER_CATALOG, "read"))
    async def get_product(
        self, product_id: FromPath[uuid.UUID], request: AnyRequest, db: DB, actor: CurrentActor
    ) -> dict[str, Any]:
        catalog = await catalog_of(request, db, actor, PARTNER_CATALOG)
        return (await catalog.present([await catalog.get(product_id)]))[0]

    @get("/categories", opt=requires(PARTNER_CATALOG, "read"))
    async def list_categories(self, db: DB) -> list[dict[str, Any]]:
        return [category_out(c) for c in await db.scalars(categories_query())]

    @get("/cart", opt=requires(PARTNER_ORDER, "create"))
    async def get_cart(self, request: AnyRequest, db: DB, actor: CurrentActor) -> dict[str, Any]:
        """The cart, priced now at the buyer's prices."""
        return await Cart(await catalog_of(request, db, actor, PARTNER_CATALOG)).out()

    @put("/cart/{product_id:uuid}", opt=requires(PARTNER_ORDER, "create"))
    async def set_cart_line(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[CartLineIn],
        request: AnyRequest,
        db: DB,
        actor: CurrentActor,
    ) -> dict[str, Any]:
        """Set the product's quantity in the cart (0 takes it out)."""
        cart = Cart(await catalog_of(request, db, actor, PARTNER_CATALOG))
        await cart.set(product_id, data.quantity)
        return await cart.out()

    @delete("/cart", opt=requires(PARTNER_ORDER, "create"))
    async def clear_cart(self, request: AnyRequest, db: DB, actor: CurrentActor) -> None:
        await Cart(await catalog_of(request, db, actor, PARTNER_CATALOG)).clear()


class PartnerOrdersController(Controller):
    """The orders the actor's data scope reaches: their enterprise's (a distributor's also its stores'
    where the manufacturer says so). Hidden fields are absent from every answer."""

    path = "/api/partner/ordering/orders"
    tags = ["partner: ordering"]

    @get("/", opt=requires(PARTNER_ORDER, "read"))
    async def list_orders(
        self,
        request: AnyRequest,
        db: DB,
        actor: CurrentActor,
        status: FromQuery[str | None] = None,
        search: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page:
        """Newest first; `status` is one status or "open"; `search` matches the order number."""
        orders = orders_of(request, db, actor, PARTNER_ORDER)
        rows, total = await orders.page(status, search, None, limit, offset)
        return Page(await orders.out_many(rows), total, limit, offset)

    @post("/", opt=requires(PARTNER_ORDER, "create"))
    async def place_order(
        self, data: JSONBody[OrderIn], request: AnyRequest, db: DB, actor: CurrentActor
    ) -> dict[str, Any]:
        """Place an order for one's enterprise from `lines`, or from the cart (then emptied). Send an
        Idempotency-Key header: a retried submit returns the same order, a concurrent one waits for it."""
        orders = orders_of(request, db, actor, PARTNER_ORDER)
        cart = Cart(await catalog_of(request, db, actor, PARTNER_CATALOG))
        lines = (
            [placing.LineIn(line.product_id, line.quantity) for line in data.lines]
            if data.lines is not None
            else await cart.as_order_lines()
        )
        order = await placing.place(
            orders,
            lines,
            enterprise_id=actor.enterprise_id,
            ship_to=data.ship_to,
            address_id=data.address_id,
            po_number=data.po_number,
            requested_delivery_date=data.requested_delivery_date,
            note=data.note,
        )
        if data.lines is None:
            await cart.clear()
        return await orders.out(order)

    @get("/export.xlsx", opt=requires(PARTNER_ORDER, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_orders(self, request: AnyRequest, db: DB, actor: CurrentActor) -> Response[bytes]:
        columns, rows = await orders_of(request, db, actor, PARTNER_ORDER).export_rows()
        return await xlsx("orders", columns, rows)

    @get("/{order_id:uuid}", opt=requires(PARTNER_ORDER, "read"))
    async def get_order(
        self, order_id: FromPath[uuid.UUID], request: AnyRequest, db: DB, actor: CurrentActor
    ) -> dict[str, Any]:
        """The order with its lines, approval steps, shipments and timeline."""
        orders = orders_of(request, db, actor, PARTNER_ORDER)
        return await orders.out(await orders.get(order_id))

    @post("/{order_id:uuid}/cancel", opt=requires(PARTNER_ORDER, "cancel"), status_code=200)
    async def cancel_order(
        self, order_id: FromPath[uuid.UUID], data: JSONBody[Comment], request: AnyRequest, db: DB, actor: CurrentActor
    ) -> dict[str, Any]:
        """Cancel an order not yet approved; `comment` says why."""
        orders = orders_of(request, db, actor, PARTNER_ORDER)
        return await orders.out(await workflow.cancel(orders, order_id, data.comment))

    @post("/{order_id:uuid}/receive", opt=requires(PARTNER_ORDER, "receive"), status_code=200)
    async def receive_order(
        self, order_id: FromPath[uuid.UUID], data: JSONBody[Comment], request: AnyRequest, db: DB, actor: CurrentActor
    ) -> dict[str, Any]:
        """Confirm the goods of a shipped order arrived."""
        orders = orders_of(request, db, actor, PARTNER_ORDER)
        return await orders.out(await workflow.receive(orders, order_id, data.comment))


class PartnerAccountController(Controller):
    """The enterprise's account with the manufacturer."""

    path = "/api/partner/ordering/account"
    tags = ["partner: ordering"]

    @get("/", opt=requires(PARTNER_ACCOUNT, "read"))
    async def get_account(self, db: DB, actor: CurrentActor) -> dict[str, Any]:
        """Balance owed, credit limit and what is left of it, and orders still to pay."""
        enterprise = own_enterprise(actor)
        standing = await account.credit(db, enterprise)
        open_orders = await account.open_orders(db, enterprise)
        return {
            "balance": standing.balance,
            "awaiting_approval": standing.awaiting,
            "credit_limit": standing.limit,
            "credit_left": standing.left,
            "open_orders": [
                {"id": o.id, "number": o.number, "total": o.total, "paid_amount": o.paid_amount} for o in open_orders
            ],
        }

    @get("/statement", opt=requires(PARTNER_ACCOUNT, "read"))
    async def get_statement(
        self, db: DB, actor: CurrentActor, start: FromQuery[date | None] = None, end: FromQuery[date | None] = None
    ) -> dict[str, Any]:
        """The statement from `start` to `end` (inclusive; this month so far when not given)."""
        first, last = period(start, end, actor.time_zone)
        return statement_out(await account.statement(db, own_enterprise(actor), first, last, actor.time_zone))

    @get("/statement.xlsx", opt=requires(PARTNER_ACCOUNT, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_statement(
        self, db: DB, actor: CurrentActor, start: FromQuery[date | None] = None, end: FromQuery[date | None] = None
    ) -> Response[bytes]:
        first, last = period(start, end, actor.time_zone)
        columns, rows = statement_cells(
            await account.statement(db, own_enterprise(actor), first, last, actor.time_zone)
        )
        return await xlsx("statement", columns, rows)

    @get("/payments", opt=requires(PARTNER_ACCOUNT, "read"))
    async def list_payments(
        self, request: AnyRequest, db: DB, actor: CurrentActor, limit: Limit = 50, offset: Offset = 0
    ) -> Page:
        own_enterprise(actor)
        items, total = await Payments(orders_of(request, db, actor, PARTNER_ORDER)).page(None, None, limit, offset)
        return Page(items, total, limit, offset)

    @post("/payments", opt=requires(PARTNER_ACCOUNT, "create"))
    async def report_payment(
        self, data: JSONBody[PaymentIn], request: AnyRequest, db: DB, actor: CurrentActor
    ) -> dict[str, Any]:
        """Tell the manufacturer about a payment made; it is on the account once they confirm it."""
        enterprise = own_enterprise(actor)
        payments = Payments(orders_of(request, db, actor, PARTNER_ORDER))
        payment = await payments.create(
            enterprise_id=enterprise,
            amount=data.amount,
            method=data.method,
            received_on=data.received_on,
            reference=data.reference,
            note=data.note,
        )
        return await payments.out(payment)


class PartnerAddressesController(Controller):
    """The enterprise's address book, kept by the people who place its orders; checkout preselects the
    default. Another enterprise's address is not found."""

    path = "/api/partner/ordering/addresses"
    tags = ["partner: ordering"]

    @get("/", opt=requires(PARTNER_ORDER, "create"))
    async def list_addresses(self, db: DB, actor: CurrentActor) -> list[dict[str, Any]]:
        """The default first."""
        return [address_out(a) for a in await AddressBook(db, own_enterprise(actor)).list()]

    @post("/", opt=requires(PARTNER_ORDER, "create"))
    async def create_address(self, data: JSONBody[AddressIn], db: DB, actor: CurrentActor) -> dict[str, Any]:
        """A new address; the first one, or one sent with `is_default`, becomes the default."""
        book = AddressBook(db, own_enterprise(actor))
        return address_out(await book.create(sent(data, leave_out=("is_default",)), make_default=data.is_default))

    @get("/{address_id:uuid}", opt=requires(PARTNER_ORDER, "create"))
    async def get_address(self, address_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor) -> dict[str, Any]:
        return address_out(await AddressBook(db, own_enterprise(actor)).get(address_id))

    @patch("/{address_id:uuid}", opt=requires(PARTNER_ORDER, "create"))
    async def update_address(
        self, address_id: FromPath[uuid.UUID], data: JSONBody[AddressPatch], db: DB, actor: CurrentActor
    ) -> dict[str, Any]:
        """Change the address (orders placed before keep their copy); `is_default: true` makes it the
        default."""
        book = AddressBook(db, own_enterprise(actor))
        values = sent(data, leave_out=("is_default",))
        return address_out(await book.update(address_id, values, make_default=data.is_default is True))

    @delete("/{address_id:uuid}", opt=requires(PARTNER_ORDER, "create"))
    async def delete_address(self, address_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor) -> None:
        await AddressBook(db, own_enterprise(actor)).delete(address_id)


PARTNER_CONTROLLERS = [
    PartnerCatalogController,
    PartnerOrdersController,
    PartnerAccountController,
    PartnerAddressesController,
]
