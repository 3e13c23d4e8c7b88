"""Price lists in the console: the lists, a new one (base, tier or enterprise, valid from and to), a
list's items in an editor that replaces them all, and its items as a spreadsheet to download and to
import (apps.ordering.price_sheets, the same as the API's)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import price_sheets
from apps.ordering.admin import CatalogAdmin
from apps.ordering.dependencies import AdminDep
from apps.ordering.models import PriceList, PriceListItem, Product
from apps.ordering.objects import PRICES
from apps.ordering.pages.console_shared import (
    done_message,
    enterprise_choices,
    form_date,
    form_int,
    form_uuid,
    page_helpers,
    raise_if,
    text,
)
from interconnect.dependencies import ProgrammeDep
from interconnect.pages.programme_settings import programme_settings
from interconnect.programme import Programme
from portal.errors import FieldError, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.spreadsheets import MAX_BYTES
from portal.ui.downloads import download, stamped
from portal.ui.forms import Form
from portal.ui.labels import setting_name
from portal.ui.refusals import field_errors

PRODUCT_CHOICES = 1000  # a bigger catalog is priced by spreadsheet
BLANK_ROWS = 5
ROW_FIELD = re.compile(r"^(product|qty|price):(\d{1,4})$")
ITEM_ERROR = re.compile(r"^items\[(\d+)\](?:\.(\w+))?$")
UPLOAD_BODY_LIMIT = MAX_BYTES + 256 * 1024


@dataclass
class SheetForm:
    file: UploadFile | None = None  # optional here, so that a missing file is a field error on the page


async def _lists_page(
    db: AsyncSession,
    programme: Programme,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    lists = list(await db.scalars(select(PriceList).order_by(PriceList.kind, PriceList.name)))
    counts = dict(
        (
            await db.execute(select(PriceListItem.price_list_id, func.count()).group_by(PriceListItem.price_list_id))
        ).all()
    )
    settings = await programme_settings(programme)
    enterprises = await enterprise_choices(db)
    return Template(
        "ordering/console/price_lists.html",
        context={
            **page_helpers(),
            "lists": lists,
            "counts": counts,
            "tiers": [(t.id, setting_name(t.name)) for t in settings.tiers],
            "tier_names": settings.tier_names,
            "enterprises": enterprises,
            "enterprise_names": dict(enterprises),
            "form": form or {"kind": "base", "currency": "CNY"},
            "errors": errors or {},
            "section": "prices",
        },
        status_code=status_code,
    )


@get("/console/ordering/price-lists", opt=requires(PRICES, "read"), include_in_schema=False)
async def price_lists_page(db: DB, programme: ProgrammeDep) -> Template:
    return await _lists_page(db, programme)


@post("/console/ordering/price-lists", opt=requires(PRICES, "create"), include_in_schema=False)
async def create_price_list_page(data: Form, db: DB, admin: AdminDep, programme: ProgrammeDep) -> Template | Redirect:
    names = ("name", "kind", "tier_id", "enterprise_id", "currency", "valid_from", "valid_to")
    form = {name: text(data, name) for name in names}
    errors: list[FieldError] = []
    values: dict[str, Any] = {"name": form["name"], "kind": form["kind"], "currency": form["currency"]}
    values["tier_id"] = form_uuid(data, "tier_id", errors)
    values["enterprise_id"] = form_uuid(data, "enterprise_id", errors)
    values["valid_from"] = form_date(data, "valid_from", errors)
    values["valid_to"] = form_date(data, "valid_to", errors)
    try:
        async with db.begin_nested():
            raise_if(errors)
            created = await admin.create_price_list(values)
    except ValidationFailed as error:
        return await _lists_page(db, programme, form=form, errors=field_errors(error), status_code=422)
    return Redirect(f"/console/ordering/price-lists/{created.id}?done=created")


async def _list_page(
    db: AsyncSession,
    admin: CatalogAdmin,
    programme: Programme,
    list_id: uuid.UUID,
    *,
    done: str | None = None,
    rows: list[dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
    sheet_errors: list[tuple[bool, str]] | None = None,
    status_code: int = 200,
) -> Template:
    price_list = await admin.price_list(list_id)
    items = await admin.items(list_id)
    if rows is None:
        rows = [
            {"product": str(i["product_id"]), "qty": str(i["min_quantity"]), "price": str(i["unit_price"])}
            for i in items
        ]
    rows = [*rows, *({"product": "", "qty": "", "price": ""} for _ in range(BLANK_ROWS))]
    products = await db.execute(
        select(Product.id, Product.sku, Product.name).order_by(Product.sku).limit(PRODUCT_CHOICES)
    )
    settings = await programme_settings(programme)
    return Template(
        "ordering/console/price_list.html",
        context={
            **page_helpers(),
            "price_list": price_list,
            "items": items,
            "rows": rows,
            "products": [(str(key), f"{sku} · {name}") for key, sku, name in products],
            "tier_names": settings.tier_names,
            "enterprise_names": dict(await enterprise_choices(db)),
            "errors": errors or {},
            "sheet_errors": sheet_errors or [],
            "notice": done_message(done),
            "columns": list(price_sheets.EXPORT_COLUMNS),
            "section": "prices",
        },
        status_code=status_code,
    )


@get("/console/ordering/price-lists/{price_list_id:uuid}", opt=requires(PRICES, "read"), include_in_schema=False)
async def price_list_page(
    price_list_id: FromPath[uuid.UUID],
    db: DB,
    admin: AdminDep,
    programme: ProgrammeDep,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _list_page(db, admin, programme, price_list_id, done=done)


@post(
    "/console/ordering/price-lists/{price_list_id:uuid}/items", opt=requires(PRICES, "update"), include_in_schema=False
)
async def replace_items_page(
    price_list_id: FromPath[uuid.UUID], data: Form, db: DB, admin: AdminDep, programme: ProgrammeDep
) -> Template | Redirect:
    """The editor's rows (`product:<n>`, `qty:<n>`, `price:<n>`) become the list's items; a row without
    a product is left out."""
    await admin.price_list(price_list_id)
    numbers = sorted({int(m.group(2)) for k in data if (m := ROW_FIELD.match(k))})
    rows = [{f: text(data, f"{f}:{n}") for f in ("product", "qty", "price")} for n in numbers]
    rows = [r for r in rows if r["product"] or r["qty"] or r["price"]]
    errors: list[FieldError] = []
    items: list[tuple[uuid.UUID | None, int | None, str]] = []
    for index, row in enumerate(rows):
        found: list[FieldError] = []
        product_id = form_uuid(row, "product", found)
        quantity = form_int(row, "qty", found, default=1)
        if product_id is None and not found:
            found.append(FieldError("product", N_("is required"), "required"))
        errors.extend(FieldError(f"row:{index}.{e.field}", e.message, e.code) for e in found)
        items.append((product_id, quantity, row["price"].replace(",", "")))
    try:
        async with db.begin_nested():
            raise_if(errors)
            await admin.replace_items(price_list_id, items)  # type: ignore[arg-type]
    except ValidationFailed as error:
        return await _list_page(
            db, admin, programme, price_list_id, rows=rows, errors=_row_errors(error), status_code=422
        )
    return Redirect(f"/console/ordering/price-lists/{price_list_id}?done=saved")


def _row_errors(error: ValidationFailed) -> dict[str, str]:
    """The service's `items[<i>].<field>` as the editor's row fields."""
    found: dict[str, str] = {}
    for e in error.errors:
        match = ITEM_ERROR.match(e.field)
        column = {"product_id": "product", "min_quantity": "qty", "unit_price": "price"}
        key = f"row:{match.group(1)}.{column.get(match.group(2) or '', 'product')}" if match else e.field
        found[key] = gettext(e.message, **e.params)
    return found


@get(
    "/console/ordering/price-lists/{price_list_id:uuid}/items.xlsx",
    opt=requires(PRICES, "export"),
    include_in_schema=False,
)
async def export_items_page(price_list_id: FromPath[uuid.UUID], db: DB) -> Response[bytes]:
    content = await price_sheets.export_xlsx(db, price_list_id)
    return download(content, stamped("price-list"))


@post(
    "/console/ordering/price-lists/{price_list_id:uuid}/import",
    opt=requires(PRICES, "import"),
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def import_items_page(
    price_list_id: FromPath[uuid.UUID], data: MultipartBody[SheetForm], db: DB, admin: AdminDep, programme: ProgrammeDep
) -> Template | Redirect:
    await admin.price_list(price_list_id)
    try:
        async with db.begin_nested():
            if data.file is None or not data.file.filename:
                raise ValidationFailed.single("file", N_("is required: upload a .csv or .xlsx file"), "required")
            content = await data.file.read()
            await data.file.close()
            await price_sheets.import_items(db, price_list_id, data.file.filename, content)
    except ValidationFailed as error:
        problems = [(e.field == "file", gettext(e.message, **e.params)) for e in error.errors]
        return await _list_page(db, admin, programme, price_list_id, sheet_errors=problems, status_code=422)
    return Redirect(f"/console/ordering/price-lists/{price_list_id}?done=imported")


PRICE_PAGES = [
    price_lists_page,
    create_price_list_page,
    price_list_page,
    replace_items_page,
    export_items_page,
    import_items_page,
]
