"""The partner side of the ordering API: the buyer's own catalog and prices, the cart, orders (placed
with an Idempotency-Key, then cancelled or received), and the enterprise's account: balance, credit,
statement and reported payments."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from apps.ordering import account, placing, workflow
from apps.ordering.addresses import address_out
from apps.ordering.catalog import categories_query, category_out
from apps.ordering.controllers.shared import xlsx
from apps.ordering.dependencies import (
    PARTNER_DEPENDENCIES,
    AddressBookDep,
    CartDep,
    CatalogDep,
    OrdersDep,
    PaymentsDep,
    own_enterprise,
)
from apps.ordering.objects import PARTNER_ACCOUNT, PARTNER_CATALOG, PARTNER_ORDER
from apps.ordering.schemas import (
    AccountOut,
    AddressIn,
    AddressOut,
    AddressPatch,
    CartLineIn,
    CartOut,
    CategoryOut,
    Comment,
    OrderIn,
    OrderOut,
    OrderPage,
    PaymentIn,
    PaymentOut,
    PaymentPage,
    ProductOut,
    ProductPage,
    StatementOut,
)
from portal import timezones
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Limit, Offset, Search
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from portal.spreadsheets import XLSX_MEDIA_TYPE


def statement_out(found: account.Statement) -> StatementOut:
    values = {
        "enterprise_id": found.enterprise_id,
        "start": found.start,
        "end": found.end,
        "opening_balance": found.opening,
        "debits": found.debits,
        "credits": found.credits,
        "closing_balance": found.closing,
        "lines": found.lines,
    }
    return typed(values, StatementOut)


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
    dependencies = PARTNER_DEPENDENCIES

    @get("/catalog", opt=requires(PARTNER_CATALOG, "read"))
    async def list_products(
        self,
        catalog: CatalogDep,
        search: Search = None,
        category_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 24,
        offset: Offset = 0,
    ) -> ProductPage:
        items, total = await catalog.page(search, category_id, limit, offset)
        return typed({"items": items, "total": total, "limit": limit, "offset": offset}, ProductPage)

    @get("/catalog/{product_id:uuid}", opt=requires(PARTNER_CATALOG, "read"))
    async def get_product(self, product_id: FromPath[uuid.UUID], catalog: CatalogDep) -> ProductOut:
        return typed((await catalog.present([await catalog.get(product_id)]))[0], ProductOut)

    @get("/categories", opt=requires(PARTNER_CATALOG, "read"))
    async def list_categories(self, db: DB) -> list[CategoryOut]:
        return typed([category_out(c) for c in await db.scalars(categories_query())], list[CategoryOut])

    @get("/cart", opt=requires(PARTNER_ORDER, "create"))
    async def get_cart(self, cart: CartDep) -> CartOut:
        """The cart, priced now at the buyer's prices."""
        return typed(await cart.out(), CartOut)

    @put("/cart/{product_id:uuid}", opt=requires(PARTNER_ORDER, "create"))
    async def set_cart_line(
        self,
        product_id: FromPath[uuid.UUID],
        data: JSONBody[CartLineIn],
        cart: CartDep,
    ) -> CartOut:
        """Set the product's quantity in the cart (0 takes it out)."""
        await cart.set(product_id, data.quantity)
        return typed(await cart.out(), CartOut)

    @delete("/cart", opt=requires(PARTNER_ORDER, "create"))
    async def clear_cart(self, cart: CartDep) -> None:
        await cart.clear()


class PartnerOrdersController(Controller):
    """The orders the actor's data scope reaches: their enterprise's (a distributor's also its stores'
    where the manufacturer says so). Hidden fields are absent from every answer."""

    path = "/api/partner/ordering/orders"
    tags = ["partner: ordering"]
    dependencies = PARTNER_DEPENDENCIES

    @get("/", opt=requires(PARTNER_ORDER, "read"))
    async def list_orders(
        self,
        orders: OrdersDep,
        status: FromQuery[str | None] = None,
        search: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OrderPage:
        """Newest first; `status` is one status or "open"; `search` matches the order number."""
        rows, total = await orders.page(status, search, None, limit, offset)
        return typed(
            {"items": await orders.out_many(rows), "total": total, "limit": limit, "offset": offset}, OrderPage
        )

    @post("/", opt=requires(PARTNER_ORDER, "create"))
    async def place_order(self, data: JSONBody[OrderIn], db: DB, orders: OrdersDep, cart: CartDep) -> OrderOut:
        """Place an order for one's enterprise from `lines`, or from the cart (then emptied). Send an
        Idempotency-Key header: a retried submit returns the same order, a concurrent one waits for it."""
        actor = orders.actor  # not a dependency of its own beside `db`: see apps.ordering.dependencies
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
            tracked=False,  # only presented
        )
        if data.lines is None:
            await cart.clear()
        return typed(await orders.out(order), OrderOut)

    @get("/export.xlsx", opt=requires(PARTNER_ORDER, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_orders(self, orders: OrdersDep) -> Response[bytes]:
        columns, rows = await orders.export_rows()
        return await xlsx("orders", columns, rows)

    @get("/{order_id:uuid}", opt=requires(PARTNER_ORDER, "read"))
    async def get_order(self, order_id: FromPath[uuid.UUID], orders: OrdersDep) -> OrderOut:
        """The order with its lines, approval steps, shipments and timeline."""
        return typed(await orders.out(await orders.get(order_id)), OrderOut)

    @post("/{order_id:uuid}/cancel", opt=requires(PARTNER_ORDER, "cancel"), status_code=200)
    async def cancel_order(self, order_id: FromPath[uuid.UUID], data: JSONBody[Comment], orders: OrdersDep) -> OrderOut:
        """Cancel an order not yet approved; `comment` says why."""
        return typed(await orders.out(await workflow.cancel(orders, order_id, data.comment)), OrderOut)

    @post("/{order_id:uuid}/receive", opt=requires(PARTNER_ORDER, "receive"), status_code=200)
    async def receive_order(
        self, order_id: FromPath[uuid.UUID], data: JSONBody[Comment], orders: OrdersDep
    ) -> OrderOut:
        """Confirm the goods of a shipped order arrived."""
        return typed(await orders.out(await workflow.receive(orders, order_id, data.comment)), OrderOut)


class PartnerAccountController(Controller):
    """The enterprise's account with the manufacturer."""

    path = "/api/partner/ordering/account"
    tags = ["partner: ordering"]
    dependencies = PARTNER_DEPENDENCIES

    @get("/", opt=requires(PARTNER_ACCOUNT, "read"))
    async def get_account(self, db: DB, actor: CurrentActor) -> AccountOut:
        """Balance owed, credit limit and what is left of it, and orders still to pay."""
        enterprise = own_enterprise(actor)
        standing = await account.credit(db, enterprise)
        open_orders = await account.open_orders(db, enterprise)
        values = {
            "balance": standing.balance,
            "awaiting_approval": standing.awaiting,
            "credit_limit": standing.limit,
            "credit_left": standing.left,
            "open_orders": [
                {"id": o.id, "number": o.number, "total": o.total, "paid_amount": o.paid_amount} for o in open_orders
            ],
        }
        return typed(values, AccountOut)

    @get("/statement", opt=requires(PARTNER_ACCOUNT, "read"))
    async def get_statement(
        self, db: DB, actor: CurrentActor, start: FromQuery[date | None] = None, end: FromQuery[date | None] = None
    ) -> StatementOut:
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
        self, payments: PaymentsDep, actor: CurrentActor, limit: Limit = 50, offset: Offset = 0
    ) -> PaymentPage:
        own_enterprise(actor)
        items, total = await payments.page(None, None, limit, offset)
        return typed({"items": items, "total": total, "limit": limit, "offset": offset}, PaymentPage)

    @post("/payments", opt=requires(PARTNER_ACCOUNT, "create"))
    async def report_payment(
        self, data: JSONBody[PaymentIn], db: DB, payments: PaymentsDep, actor: CurrentActor
    ) -> PaymentOut:
        """Tell the manufacturer about a payment made; it is on the account once they confirm it."""
        enterprise = own_enterprise(actor)
        payment = await payments.create(
            enterprise_id=enterprise,
            amount=data.amount,
            method=data.method,
            received_on=data.received_on,
            reference=data.reference,
            note=data.note,
        )
        return typed(await payments.out(payment), PaymentOut)


class PartnerAddressesController(Controller):
    """The enterprise's address book, kept by the people who place its orders; checkout preselects the
    default. Another enterprise's address is not found."""

    path = "/api/partner/ordering/addresses"
    tags = ["partner: ordering"]
    dependencies = PARTNER_DEPENDENCIES

    @get("/", opt=requires(PARTNER_ORDER, "create"))
    async def list_addresses(self, address_book: AddressBookDep) -> list[AddressOut]:
        """The default first."""
        return typed([address_out(a) for a in await address_book.list()], list[AddressOut])

    @post("/", opt=requires(PARTNER_ORDER, "create"))
    async def create_address(self, data: JSONBody[AddressIn], db: DB, address_book: AddressBookDep) -> AddressOut:
        """A new address; the first one, or one sent with `is_default`, becomes the default."""
        values = sent(data, leave_out=("is_default",))
        return typed(address_out(await address_book.create(values, make_default=data.is_default)), AddressOut)

    @get("/{address_id:uuid}", opt=requires(PARTNER_ORDER, "create"))
    async def get_address(self, address_id: FromPath[uuid.UUID], address_book: AddressBookDep) -> AddressOut:
        return typed(address_out(await address_book.get(address_id)), AddressOut)

    @patch("/{address_id:uuid}", opt=requires(PARTNER_ORDER, "create"))
    async def update_address(
        self, address_id: FromPath[uuid.UUID], data: JSONBody[AddressPatch], address_book: AddressBookDep
    ) -> AddressOut:
        """Change the address (orders placed before keep their copy); `is_default: true` makes it the
        default."""
        values = sent(data, leave_out=("is_default",))
        updated = await address_book.update(address_id, values, make_default=data.is_default is True)
        return typed(address_out(updated), AddressOut)

    @delete("/{address_id:uuid}", opt=requires(PARTNER_ORDER, "create"))
    async def delete_address(self, address_id: FromPath[uuid.UUID], address_book: AddressBookDep) -> None:
        await address_book.delete(address_id)


PARTNER_CONTROLLERS = [
    PartnerCatalogController,
    PartnerOrdersController,
    PartnerAccountController,
    PartnerAddressesController,
]
