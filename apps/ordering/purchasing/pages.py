"""The console's purchase order pages (/console/ordering/purchase-orders): the list, a new purchase order to
one of the workspace's suppliers, and one purchase order with its lines and the supplier's answer."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from apps.ordering.models import Product
from apps.ordering.pages.console_shared import (
    PAGE_SIZE,
    done_message,
    form_date,
    form_int,
    form_uuid,
    page_helpers,
    text,
    with_query,
)
from apps.ordering.placing import LineIn
from apps.ordering.purchasing.access import PURCHASE_ORDER
from apps.ordering.purchasing.controllers import DEPENDENCIES, PurchasesDep
from apps.ordering.purchasing.models import PURCHASE_STATUSES
from apps.ordering.purchasing.orders import LABELS, purchase_order_out
from portal.errors import Conflict, FieldError, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

LINE_ROWS = 8
PRODUCT_CHOICES = 500


def _notice(done: str | None) -> str | None:
    if done == "cancel":
        return gettext(N_("The supplier is asked to cancel its order; its answer shows here."))
    if done == "cancelled":
        return gettext(N_("The purchase order is cancelled."))
    if done == "resent":
        return gettext(N_("The purchase order is sent to the supplier again."))
    if done == "receipt":
        return gettext(N_("The supplier is told the goods arrived; they go into your stock when it records it."))
    if done == "created":
        return gettext(N_("The purchase order is sent to the supplier."))
    return done_message(done)


def _labels() -> dict[str, str]:
    return {code: gettext(label) for code, label in LABELS.items()}


@get("/console/ordering/purchase-orders", opt=requires(PURCHASE_ORDER, "read"), include_in_schema=False)
async def purchase_orders_page(
    purchases: PurchasesDep,
    status: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    chosen = status if status in PURCHASE_STATUSES else ""
    number = page_number(page)
    rows, total = await purchases.page(chosen or None, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    return Template(
        "ordering/console/purchase_orders.html",
        context={
            **page_helpers(),
            "rows": [purchase_order_out(o) for o in rows],
            "total": total,
            "statuses": [(code, label) for code, label in _labels().items()],
            "chosen": chosen,
            "paging": paging("/console/ordering/purchase-orders", {"status": chosen}, number, total, PAGE_SIZE),
            "notice": done_message(done),
            "section": "purchase_orders",
        },
    )


async def _new_page(
    db: DB,
    purchases: PurchasesDep,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    editing: dict[str, Any] | None = None,
) -> Template:
    products = await db.execute(
        select(Product.id, Product.sku, Product.name)
        .where(Product.listed.is_(True))
        .order_by(Product.sku)
        .limit(PRODUCT_CHOICES)
    )
    return Template(
        "ordering/console/purchase_order_new.html",
        context={
            **page_helpers(),
            "suppliers": [(str(s.tenant_id), s.name) for s in await purchases.suppliers()],
            "products": [(str(pid), f"{sku} — {name}") for pid, sku, name in products],
            "rows": range(LINE_ROWS),
            "form": form or {},
            "errors": errors or {},
            "section": "purchase_orders",
            "editing": editing,
            "alert": None,
        },
        status_code=status_code,
    )


@get("/console/ordering/purchase-orders/new", opt=requires(PURCHASE_ORDER, "create"), include_in_schema=False)
async def new_purchase_order_page(db: DB, purchases: PurchasesDep) -> Template:
    return await _new_page(db, purchases)


@post("/console/ordering/purchase-orders", opt=requires(PURCHASE_ORDER, "create"), include_in_schema=False)
async def create_purchase_order_page(data: Form, db: DB, purchases: PurchasesDep) -> Template | Redirect:
    """A new purchase order from the form's rows (a row without a product is left out)."""
    return await _saved(data, db, purchases, None)


async def _saved(data: Form, db: DB, purchases: PurchasesDep, editing: dict[str, Any] | None) -> Template | Redirect:
    """The form sent: a new purchase order, or the change of `editing`."""
    names = ["supplier_id", "ship_to", "note", "requested_delivery_date"]
    names += [f"{kind}.{n}" for n in range(LINE_ROWS) for kind in ("product", "quantity")]
    form = {name: text(data, name) for name in names}
    errors: list[FieldError] = []
    supplier = form_uuid(data, "supplier_id", errors) if editing is None else None
    wanted = form_date(data, "requested_delivery_date", errors)
    lines: list[LineIn] = []
    rows: list[int] = []  # the form row of each line, to show a line's error on its row
    for n in range(LINE_ROWS):
        product = form_uuid(data, f"product.{n}", errors)
        quantity = form_int(data, f"quantity.{n}", errors, default=1)
        if product is not None and quantity is not None:
            lines.append(LineIn(product, quantity))
            rows.append(n)
    try:
        if errors:
            raise ValidationFailed(errors)
        async with db.begin_nested():
            if editing is None:
                order, _lines = await purchases.create(
                    supplier, lines, ship_to=form["ship_to"], note=form["note"], requested_delivery_date=wanted
                )
            else:
                order, _lines = await purchases.revise(
                    editing["id"], lines, ship_to=form["ship_to"], note=form["note"], requested_delivery_date=wanted
                )
    except Conflict as error:
        assert editing is not None
        return await _shown(purchases, editing["id"], alert=refusal_of(error), status_code=409)
    except ValidationFailed as error:
        shown: dict[str, str] = {}
        for key, message in field_errors(error).items():
            number, _sep, part = key.removeprefix("lines[").partition("].")
            if key.startswith("lines[") and number.isdigit() and int(number) < len(rows):
                key = f"{'product' if part == 'product_id' else 'quantity'}.{rows[int(number)]}"
            elif key == "lines":
                key = "product.0"
            shown[key] = message
        return await _new_page(db, purchases, form, shown, status_code=422, editing=editing)
    done = "created" if editing is None else "resent"
    return Redirect(with_query(f"/console/ordering/purchase-orders/{order.id}", done=done))


@get(
    "/console/ordering/purchase-orders/{purchase_order_id:uuid}/edit",
    opt=requires(PURCHASE_ORDER, "update"),
    include_in_schema=False,
)
async def edit_purchase_order_page(purchase_order_id: FromPath[uuid.UUID], db: DB, purchases: PurchasesDep) -> Template:
    order = await purchases.get(purchase_order_id)
    lines = await purchases.lines(order.id)
    form = {
        "ship_to": order.ship_to,
        "note": order.note or "",
        "requested_delivery_date": order.requested_delivery_date.isoformat() if order.requested_delivery_date else "",
    }
    for n, line in enumerate(lines[:LINE_ROWS]):
        form[f"product.{n}"], form[f"quantity.{n}"] = str(line.product_id), str(line.quantity)
    return await _new_page(db, purchases, form, editing=purchase_order_out(order))


@post(
    "/console/ordering/purchase-orders/{purchase_order_id:uuid}/edit",
    opt=requires(PURCHASE_ORDER, "update"),
    include_in_schema=False,
)
async def revise_purchase_order_page(
    purchase_order_id: FromPath[uuid.UUID], data: Form, db: DB, purchases: PurchasesDep
) -> Template | Redirect:
    order = await purchases.get(purchase_order_id)
    return await _saved(data, db, purchases, purchase_order_out(order))


@get(
    "/console/ordering/purchase-orders/{purchase_order_id:uuid}",
    opt=requires(PURCHASE_ORDER, "read"),
    include_in_schema=False,
)
async def purchase_order_page(
    purchase_order_id: FromPath[uuid.UUID], purchases: PurchasesDep, done: FromQuery[str | None] = None
) -> Template:
    order = await purchases.get(purchase_order_id)
    shown: dict[str, Any] = purchase_order_out(order, await purchases.lines(order.id))
    return Template(
        "ordering/console/purchase_order.html",
        context={**page_helpers(), "po": shown, "notice": _notice(done), "alert": None, "section": "purchase_orders"},
    )


async def _shown(purchases: PurchasesDep, purchase_order_id: uuid.UUID, *, alert: str, status_code: int) -> Template:
    order = await purchases.get(purchase_order_id)
    shown = purchase_order_out(order, await purchases.lines(order.id))
    return Template(
        "ordering/console/purchase_order.html",
        context={**page_helpers(), "po": shown, "alert": alert, "section": "purchase_orders"},
        status_code=status_code,
    )


async def _acted(purchases: PurchasesDep, db: DB, purchase_order_id: uuid.UUID, action: str) -> Template | Redirect:
    try:
        async with db.begin_nested():
            order = await getattr(purchases, action)(purchase_order_id)
    except Conflict as error:
        return await _shown(purchases, purchase_order_id, alert=refusal_of(error), status_code=409)
    done = {"receive": "receipt", "resend": "resent"}.get(
        action, "cancelled" if order.status == "cancelled" else action
    )
    return Redirect(with_query(f"/console/ordering/purchase-orders/{purchase_order_id}", done=done))


@post(
    "/console/ordering/purchase-orders/{purchase_order_id:uuid}/receive",
    opt=requires(PURCHASE_ORDER, "receive"),
    include_in_schema=False,
)
async def receive_purchase_order_page(
    purchase_order_id: FromPath[uuid.UUID], db: DB, purchases: PurchasesDep
) -> Template | Redirect:
    return await _acted(purchases, db, purchase_order_id, "receive")


@post(
    "/console/ordering/purchase-orders/{purchase_order_id:uuid}/cancel",
    opt=requires(PURCHASE_ORDER, "cancel"),
    include_in_schema=False,
)
async def cancel_purchase_order_page(
    purchase_order_id: FromPath[uuid.UUID], db: DB, purchases: PurchasesDep
) -> Template | Redirect:
    return await _acted(purchases, db, purchase_order_id, "cancel")


@post(
    "/console/ordering/purchase-orders/{purchase_order_id:uuid}/resend",
    opt=requires(PURCHASE_ORDER, "update"),
    include_in_schema=False,
)
async def resend_purchase_order_page(
    purchase_order_id: FromPath[uuid.UUID], db: DB, purchases: PurchasesDep
) -> Template | Redirect:
    return await _acted(purchases, db, purchase_order_id, "resend")


PURCHASE_PAGES = [
    Router(
        path="/",
        route_handlers=[
            purchase_orders_page,
            new_purchase_order_page,
            create_purchase_order_page,
            purchase_order_page,
            receive_purchase_order_page,
            cancel_purchase_order_page,
            resend_purchase_order_page,
            edit_purchase_order_page,
            revise_purchase_order_page,
        ],
        dependencies=DEPENDENCIES,
    )
]
