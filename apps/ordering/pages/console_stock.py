"""Stock in the console: a warehouse's products with on hand, reserved and available, a stock count per
product (apps.ordering.stock.set_on_hand: never below what orders hold reserved), and new warehouses."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import stock
from apps.ordering.catalog import settings_of
from apps.ordering.dependencies import AdminDep
from apps.ordering.models import Product, StockLevel, Warehouse
from apps.ordering.objects import STOCK
from apps.ordering.pages.console_shared import (
    PAGE_SIZE,
    done_message,
    form_int,
    optional_uuid,
    page_helpers,
    raise_if,
    text,
    with_query,
)
from portal.errors import FieldError, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors


async def _stock_page(
    db: AsyncSession,
    warehouse: str | None = None,
    q: str | None = None,
    page: str | None = None,
    *,
    done: str | None = None,
    row_errors: dict[uuid.UUID, str] | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    warehouses = list(await db.scalars(select(Warehouse).order_by(Warehouse.code)))
    chosen_id = optional_uuid(warehouse) or (await settings_of(db)).default_warehouse_id
    chosen = next((w for w in warehouses if w.id == chosen_id), warehouses[0] if warehouses else None)
    search = (q or "").strip()[:100]
    number = page_number(page)
    rows: list[dict[str, object]] = []
    total = 0
    totals = (0, 0)
    if chosen is not None:
        query = select(Product.id, Product.sku, Product.name, StockLevel.on_hand, StockLevel.reserved).outerjoin(
            StockLevel, (StockLevel.product_id == Product.id) & (StockLevel.warehouse_id == chosen.id)
        )
        if search:
            pattern = f"%{search.lower()}%"
            query = query.where(or_(func.lower(Product.name).like(pattern), func.lower(Product.sku).like(pattern)))
        total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
        found = await db.execute(query.order_by(Product.sku).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))
        rows = [
            {
                "product_id": pid,
                "sku": sku,
                "name": name,
                "on_hand": on_hand or 0,
                "reserved": reserved or 0,
                "available": (on_hand or 0) - (reserved or 0),
            }
            for pid, sku, name, on_hand, reserved in found
        ]
        totals = await stock.totals(db, chosen.id)
    query_values = {"warehouse": chosen.id if chosen else None, "q": search}
    return Template(
        "ordering/console/stock.html",
        context={
            **page_helpers(),
            "warehouses": warehouses,
            "chosen": chosen,
            "q": search,
            "rows": rows,
            "total": total,
            "totals": totals,
            "paging": paging("/console/ordering/stock", query_values, number, total, PAGE_SIZE),
            "row_errors": row_errors or {},
            "notice": done_message(done),
            "form": form or {},
            "errors": errors or {},
            "section": "stock",
        },
        status_code=status_code,
    )


@get("/console/ordering/stock", opt=requires(STOCK, "read"), include_in_schema=False)
async def stock_page(
    db: DB,
    warehouse: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _stock_page(db, warehouse, q, page, done=done)


@post(
    "/console/ordering/warehouses/{warehouse_id:uuid}/stock/{product_id:uuid}",
    opt=requires(STOCK, "update"),
    include_in_schema=False,
)
async def stock_count_page(
    warehouse_id: FromPath[uuid.UUID], product_id: FromPath[uuid.UUID], data: Form, db: DB, admin: AdminDep
) -> Template | Redirect:
    """A stock count: on hand becomes the number typed."""
    await admin.warehouse(warehouse_id)
    product = await admin.product(product_id)
    q, page = text(data, "q"), text(data, "page")
    errors: list[FieldError] = []
    try:
        async with db.begin_nested():
            on_hand = form_int(data, "on_hand", errors)
            if on_hand is None and not errors:
                errors.append(FieldError("on_hand", N_("is required"), "required"))
            raise_if(errors)
            await stock.set_on_hand(db, warehouse_id, product_id, on_hand)  # type: ignore[arg-type]
    except ValidationFailed as error:
        message = "; ".join(field_errors(error).values())
        return await _stock_page(
            db, str(warehouse_id), q, page, row_errors={product.id: message}, status_code=error.status
        )
    back = with_query("/console/ordering/stock", warehouse=warehouse_id, q=q, page=page, done="saved")
    return Redirect(f"{back}#stock-{product_id}")


@post("/console/ordering/warehouses", opt=requires(STOCK, "update"), include_in_schema=False)
async def create_warehouse_page(data: Form, db: DB, admin: AdminDep) -> Template | Redirect:
    form = {name: text(data, name) for name in ("code", "name")}
    try:
        async with db.begin_nested():
            created = await admin.create_warehouse(form["code"], form["name"])
    except ValidationFailed as error:
        return await _stock_page(db, form=form, errors=field_errors(error), status_code=422)
    return Redirect(with_query("/console/ordering/stock", warehouse=created.id, done="created"))


STOCK_PAGES = [stock_page, stock_count_page, create_warehouse_page]
