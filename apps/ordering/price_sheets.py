"""A price list's items as a spreadsheet: exported as XLSX (sku, name, min_quantity, unit_price, every
cell text) and imported from XLSX or CSV of the same columns. An import is all or nothing: every row
is checked first, each problem named with its spreadsheet row, and only a clean file replaces the
list's items (through CatalogAdmin.replace_items, the API's own path). An exported file imports back
unchanged."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.admin import CatalogAdmin, money
from apps.ordering.models import Product
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_
from portal.spreadsheets import file_error, records, workbook_bytes

EXPORT_COLUMNS = ("sku", "name", "min_quantity", "unit_price")
REQUIRED = ("sku", "unit_price")
IGNORED = ("name",)  # exported for the reader; the SKU says which product
MAX_ROWS = 5000
MAX_ERRORS = 50  # enough to fix a file by; a wholly wrong file need not list every row
MAX_QUANTITY = 1_000_000


@dataclass(frozen=True, slots=True)
class Imported:
    rows: int
    products: int


def _row_error(row: int, column: str, message: str, code: str = "invalid", **params: Any) -> FieldError:
    return FieldError(f"rows[{row}].{column}", message, code, {"row": row, **params})


async def export_cells(session: AsyncSession, list_id: uuid.UUID) -> tuple[list[str], list[list[str]]]:
    items = await CatalogAdmin(session).items(list_id)
    rows = [[i["sku"], i["name"], str(i["min_quantity"]), str(i["unit_price"])] for i in items]
    return list(EXPORT_COLUMNS), rows


async def export_xlsx(session: AsyncSession, list_id: uuid.UUID) -> bytes:
    """The list's items as a workbook (the list must exist: CatalogAdmin refuses with not found)."""
    price_list = await CatalogAdmin(session).price_list(list_id)
    columns, rows = await export_cells(session, list_id)
    return await asyncio.to_thread(workbook_bytes, columns, rows, price_list.name or "Prices")


def _header(cells: list[str]) -> list[str | None]:
    errors: list[FieldError] = []
    mapped: list[str | None] = []
    for title in cells:
        key = re.sub(r"[\s\-]+", "_", title.strip().lower()).strip("_*")
        if not key or key in IGNORED:
            mapped.append(None)
        elif key not in EXPORT_COLUMNS:
            errors.append(
                FieldError(
                    "file",
                    N_("has an unknown column %(column)s; the columns are: %(known)s"),
                    "unknown_column",
                    {"column": repr(title), "known": ", ".join(EXPORT_COLUMNS)},
                )
            )
            mapped.append(None)
        elif key in mapped:
            errors.append(
                FieldError("file", N_("has the column %(column)s twice"), "duplicate_column", {"column": key})
            )
            mapped.append(None)
        else:
            mapped.append(key)
    for column in REQUIRED:
        if column not in mapped:
            errors.append(FieldError("file", N_("has no %(column)s column"), "missing_column", {"column": column}))
    if errors:
        raise ValidationFailed(errors)
    return mapped


def read_rows(filename: str, content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(spreadsheet row, column -> text) of the first sheet; the header is row 1, blank rows skipped."""
    cells_of = records(filename, content)
    header: list[str | None] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for number, cells in enumerate(cells_of, start=1):
            if not any(cells):
                continue
            if header is None:
                header = _header(cells)
                continue
            values = {c: "" for c in EXPORT_COLUMNS}
            for column, cell in zip(header, cells, strict=False):
                if column is not None:
                    values[column] = cell
            rows.append((number, values))
            if len(rows) > MAX_ROWS:
                raise file_error(N_("has more than %(max)s rows"), "too_many_rows", max=f"{MAX_ROWS:,}")
    finally:
        cells_of.close()
    if header is None:
        raise file_error(N_("is empty"), "empty")
    if not rows:
        raise file_error(N_("has a header but no rows"), "empty")
    return rows


async def import_items(session: AsyncSession, list_id: uuid.UUID, filename: str, content: bytes) -> Imported:
    """Replace the list's items with the file's rows, or refuse the whole file naming each bad row."""
    admin = CatalogAdmin(session)
    await admin.price_list(list_id, lock=True)
    rows = await asyncio.to_thread(read_rows, filename, content)
    skus = sorted({values["sku"] for _n, values in rows if values["sku"]})
    known = (
        dict((await session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus)))).all())
        if skus
        else {}
    )
    errors: list[FieldError] = []
    items: list[tuple[uuid.UUID, int, Decimal]] = []
    first_row: dict[tuple[uuid.UUID, int], int] = {}
    for number, values in rows:
        found: list[FieldError] = []
        sku = values["sku"]
        product_id = known.get(sku)
        if not sku:
            found.append(_row_error(number, "sku", N_("Row %(row)s: the SKU is missing"), "required"))
        elif product_id is None:
            found.append(
                _row_error(number, "sku", N_("Row %(row)s: no product has the SKU %(sku)s"), "unknown", sku=sku)
            )
        quantity = _quantity(values["min_quantity"], number, found)
        price = _price(values["unit_price"], number, found)
        if not found and product_id is not None and quantity is not None and price is not None:
            key = (product_id, quantity)
            if key in first_row:
                found.append(
                    _row_error(
                        number,
                        "min_quantity",
                        N_("Row %(row)s: %(sku)s from %(quantity)s is already on row %(first)s"),
                        "duplicate",
                        sku=sku,
                        quantity=quantity,
                        first=first_row[key],
                    )
                )
            else:
                first_row[key] = number
                items.append((product_id, quantity, price))
        errors.extend(found)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise ValidationFailed(errors, N_("The file was not imported: correct the rows named and upload it again"))
    await admin.replace_items(list_id, items)
    return Imported(len(items), len({p for p, _q, _u in items}))


def _quantity(text: str, row: int, errors: list[FieldError]) -> int | None:
    if not text:
        return 1
    try:
        value = Decimal(text)
        quantity = int(value)
        if value != quantity:
            raise ValueError(text)
    except (ArithmeticError, ValueError):
        errors.append(_row_error(row, "min_quantity", N_("Row %(row)s: the quantity must be a whole number")))
        return None
    if not 1 <= quantity <= MAX_QUANTITY:
        errors.append(
            _row_error(
                row, "min_quantity", N_("Row %(row)s: the quantity must be between 1 and %(max)s"), max=MAX_QUANTITY
            )
        )
        return None
    return quantity


def _price(text: str, row: int, errors: list[FieldError]) -> Decimal | None:
    if not text:
        errors.append(_row_error(row, "unit_price", N_("Row %(row)s: the unit price is missing"), "required"))
        return None
    found: list[FieldError] = []
    price = money(found, "unit_price", text.replace(",", ""))
    if found:
        # the catalog's own money rule, said with the row it is about
        errors.append(
            _row_error(row, "unit_price", N_("Row %(row)s: the unit price %(value)s is not a valid price"), value=text)
        )
        return None
    return price
