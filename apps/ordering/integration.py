"""The ordering app's records as an ERP keeps them in step (sync/integrations, which finds these objects in
the component's `extra["integration_objects"]`, so ordering never imports sync): products, price lists with
their prices and stock levels per warehouse, written through the catalog's own administration
(`CatalogAdmin`, `stock.set_on_hand`), so a record sent by an ERP is checked and refused exactly as one typed
in the console; and orders, which the change feed reports.

Each object: `upsert(session, item, current, resolve)` writes one item (a dict as sent, without its
external id) onto the record `current` (None: a new one) and answers (outcome, record id), the outcome
"created", "updated" or "unchanged" (nothing written); a refusal is a `ValidationFailed` naming the item's
fields. `resolve(object, external ids)` gives the ids of records of another object by the ERP's ids (a
price's product). `changed(session, event)` names the records an event says changed; `read(session, ids)`
gives them as the change feed shows them (a record not found was deleted)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import stock
from apps.ordering.admin import CatalogAdmin
from apps.ordering.models import Order, OrderLine, PriceList, PriceListItem, Product, StockLevel, Warehouse
from apps.ordering.stock import STOCK_CHANGED
from apps.ordering.syncing import PRICES_CHANGED, PRODUCT_CHANGED
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_
from portal.outbox import Event

Resolve = Callable[[str, Sequence[str]], Awaitable[dict[str, uuid.UUID]]]

PRODUCT_FIELDS = (
    "sku",
    "name",
    "unit",
    "pack_size",
    "min_order_quantity",
    "description",
    "image_url",
    "cost_price",
    "listed",
)
PRICE_LIST_FIELDS = ("name", "kind", "tier_id", "enterprise_id", "currency", "valid_from", "valid_to", "active")


def _unknown(item: Mapping[str, Any], allowed: Sequence[str]) -> None:
    extra = sorted(set(item) - set(allowed))
    if extra:
        raise ValidationFailed([FieldError(name, N_("is not a field of this object"), "unknown") for name in extra])


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (uuid.UUID, date)):
        return str(value)
    return value


class ProductObject:
    name = "products"
    scope = "integration.products"
    label = N_("Products")
    mapped = True
    writable = True

    def accepts(self, event_type: str) -> bool:
        return event_type == PRODUCT_CHANGED

    fields = PRODUCT_FIELDS

    async def upsert(
        self, session: AsyncSession, item: Mapping[str, Any], current: uuid.UUID | None, resolve: Resolve
    ) -> tuple[str, uuid.UUID]:
        _unknown(item, PRODUCT_FIELDS)
        admin = CatalogAdmin(session)
        if current is None:
            missing = [FieldError(n, N_("is required"), "required") for n in ("sku", "name") if n not in item]
            if missing:
                raise ValidationFailed(missing)
            return "created", (await admin.create_product(dict(item))).id
        product = await admin.product(current)
        checked = await admin.product_values(dict(item), product)
        if all(getattr(product, n) == v for n, v in checked.items()):
            return "unchanged", product.id
        await admin.update_product(product.id, dict(item))
        return "updated", product.id

    async def changed(self, session: AsyncSession, event: Event) -> list[uuid.UUID]:
        return [event.aggregate_id]

    async def read(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        rows = await session.scalars(select(Product).where(Product.id.in_(ids)))
        return {p.id: {"id": str(p.id), **{n: _plain(getattr(p, n)) for n in PRODUCT_FIELDS}} for p in rows}


class PriceListObject:
    """A price list and its prices: `prices` (when sent) become the list's items exactly, each naming its
    product by the ERP's id (`product`), with `min_quantity` (1 when not sent) and `unit_price`."""

    name = "price_lists"
    scope = "integration.price_lists"
    label = N_("Price lists")
    mapped = True
    writable = True

    def accepts(self, event_type: str) -> bool:
        return event_type == PRICES_CHANGED

    fields = (*PRICE_LIST_FIELDS, "prices")

    async def _items(self, item: Mapping[str, Any], resolve: Resolve) -> list[tuple[Any, Any, Any]] | None:
        prices = item.get("prices")
        if prices is None:
            return None
        if not isinstance(prices, list):
            raise ValidationFailed.single("prices", N_("must be a list"), "invalid")
        errors: list[FieldError] = []
        wanted = [p.get("product") for p in prices if isinstance(p, dict)]
        known = await resolve("products", [str(w) for w in wanted if isinstance(w, str)])
        items = []
        for number, price in enumerate(prices):
            field = f"prices[{number}]"
            if not isinstance(price, dict) or set(price) - {"product", "min_quantity", "unit_price"}:
                errors.append(FieldError(field, N_("must have product, min_quantity and unit_price"), "invalid"))
                continue
            product = known.get(str(price.get("product")))
            if product is None:
                errors.append(FieldError(f"{field}.product", N_("No product has this external id"), "unknown"))
                continue
            items.append((product, price.get("min_quantity", 1), price.get("unit_price")))
        if errors:
            raise ValidationFailed(errors)
        return items

    async def upsert(
        self, session: AsyncSession, item: Mapping[str, Any], current: uuid.UUID | None, resolve: Resolve
    ) -> tuple[str, uuid.UUID]:
        _unknown(item, self.fields)
        admin = CatalogAdmin(session)
        items = await self._items(item, resolve)
        values = {n: item[n] for n in PRICE_LIST_FIELDS if n in item}
        for name in ("tier_id", "enterprise_id"):
            values[name] = _uuid(values.get(name), name)
        for name in ("valid_from", "valid_to"):
            values[name] = _date(values.get(name), name)
        if current is None:
            price_list = await admin.create_price_list(values)
            if items is not None:
                await _replace(admin, price_list.id, items)
            return "created", price_list.id
        price_list = await admin.price_list(current)
        for fixed in ("kind", "tier_id", "enterprise_id", "currency"):
            sent = str(values[fixed]).upper() if fixed == "currency" else values.get(fixed)
            if fixed in item and sent != getattr(price_list, fixed):
                raise ValidationFailed.single(fixed, N_("cannot change once the list exists"), "immutable")
        changing = {n: values[n] for n in ("name", "valid_from", "valid_to", "active") if n in item}
        same = all(getattr(price_list, n) == v for n, v in changing.items())
        if items is not None:
            before = {(i["product_id"], i["min_quantity"], i["unit_price"]) for i in await admin.items(current)}
            if _as_items(items) != before:
                same = False
                await _replace(admin, current, items)
        if changing and not all(getattr(price_list, n) == v for n, v in changing.items()):
            await admin.update_price_list(current, changing)
        return ("unchanged" if same else "updated"), current

    async def changed(self, session: AsyncSession, event: Event) -> list[uuid.UUID]:
        return [event.aggregate_id]

    async def read(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        lists = {p.id: p for p in await session.scalars(select(PriceList).where(PriceList.id.in_(ids)))}
        prices: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in lists}
        rows = await session.execute(
            select(PriceListItem.price_list_id, PriceListItem.product_id, Product.sku, PriceListItem.min_quantity)
            .add_columns(PriceListItem.unit_price)
            .join(Product, Product.id == PriceListItem.product_id)
            .where(PriceListItem.price_list_id.in_(list(lists)))
            .order_by(PriceListItem.price_list_id, Product.sku, PriceListItem.min_quantity)
        )
        for list_id, product_id, sku, quantity, price in rows:
            prices[list_id].append(
                {"product_id": str(product_id), "sku": sku, "min_quantity": quantity, "unit_price": str(price)}
            )
        return {
            i: {"id": str(i), **{n: _plain(getattr(p, n)) for n in PRICE_LIST_FIELDS}, "prices": prices[i]}
            for i, p in lists.items()
        }


class StockObject:
    """A stock level: how many of a product (by the ERP's id) are on hand in a warehouse (by its code).
    Its identity is the pair, so it keeps no external id of its own."""

    name = "stock"
    scope = "integration.stock"
    label = N_("Stock levels")
    mapped = False
    writable = True

    def accepts(self, event_type: str) -> bool:
        return event_type == STOCK_CHANGED

    fields = ("product", "warehouse", "on_hand")

    async def upsert(
        self, session: AsyncSession, item: Mapping[str, Any], current: uuid.UUID | None, resolve: Resolve
    ) -> tuple[str, uuid.UUID]:
        _unknown(item, self.fields)
        errors: list[FieldError] = []
        product_key, code, on_hand = item.get("product"), item.get("warehouse"), item.get("on_hand")
        product = (await resolve("products", [product_key])).get(product_key) if isinstance(product_key, str) else None
        if product is None:
            errors.append(FieldError("product", N_("No product has this external id"), "unknown"))
        warehouse = (
            await session.scalar(select(Warehouse.id).where(Warehouse.code == code)) if isinstance(code, str) else None
        )
        if warehouse is None:
            errors.append(FieldError("warehouse", N_("No warehouse has this code"), "unknown"))
        if isinstance(on_hand, bool) or not isinstance(on_hand, int) or not 0 <= on_hand <= 2_000_000_000:
            errors.append(
                FieldError(
                    "on_hand",
                    N_("must be between %(low)s and %(high)s"),
                    "out_of_range",
                    {"low": 0, "high": 2_000_000_000},
                )
            )
        if errors or product is None or warehouse is None:
            raise ValidationFailed(errors)
        before = await session.scalar(
            select(StockLevel).where(StockLevel.warehouse_id == warehouse, StockLevel.product_id == product)
        )
        if before is not None and before.on_hand == on_hand:
            return "unchanged", before.id
        level = await stock.set_on_hand(session, warehouse, product, on_hand)
        return ("created" if before is None else "updated"), level.id

    async def changed(self, session: AsyncSession, event: Event) -> list[uuid.UUID]:
        warehouse = uuid.UUID(str(event.payload["warehouse_id"]))
        pairs = [(warehouse, uuid.UUID(p)) for p in event.payload.get("products", ())]
        if not pairs:
            return []
        rows = await session.scalars(
            select(StockLevel.id).where(tuple_(StockLevel.warehouse_id, StockLevel.product_id).in_(pairs))
        )
        return list(rows)

    async def read(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        rows = await session.execute(
            select(StockLevel, Warehouse.code, Product.sku)
            .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
            .join(Product, Product.id == StockLevel.product_id)
            .where(StockLevel.id.in_(ids))
        )
        return {
            level.id: {
                "id": str(level.id),
                "product_id": str(level.product_id),
                "sku": sku,
                "warehouse": code,
                "on_hand": level.on_hand,
                "reserved": level.reserved,
            }
            for level, code, sku in rows
        }


class OrderObject:
    """Orders, which the change feed reports (the ERP does not write them here)."""

    name = "orders"
    scope = "integration.changes"
    label = N_("Orders")
    mapped = False
    writable = False
    fields = ()

    def accepts(self, event_type: str) -> bool:
        return event_type.startswith("ordering.order.")

    async def changed(self, session: AsyncSession, event: Event) -> list[uuid.UUID]:
        return [event.aggregate_id]

    async def read(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        orders = {o.id: o for o in await session.scalars(select(Order).where(Order.id.in_(ids)))}
        lines: dict[uuid.UUID, list[dict[str, Any]]] = {i: [] for i in orders}
        for line in await session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id.in_(list(orders)))
            .order_by(OrderLine.order_id, OrderLine.line_no)
        ):
            lines[line.order_id].append(
                {
                    "product_id": str(line.product_id),
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price": str(line.unit_price),
                }
            )
        return {
            i: {
                "id": str(i),
                "number": o.number,
                "status": o.status,
                "enterprise_id": _plain(o.enterprise_id),
                "currency": o.currency,
                "total": str(o.total),
                "po_number": o.po_number,
                "lines": lines[i],
            }
            for i, o in orders.items()
        }


async def _replace(admin: CatalogAdmin, list_id: uuid.UUID, items: list[tuple[Any, Any, Any]]) -> None:
    """The catalog's own replacement of a list's items, its refusals naming the fields as the ERP sent them
    (`prices[n]`, where the console's API says `items[n]`)."""
    try:
        await admin.replace_items(list_id, items)
    except ValidationFailed as error:
        raise ValidationFailed(
            [
                replace(e, field="prices" + e.field[len("items") :]) if e.field.startswith("items[") else e
                for e in error.errors
            ]
        ) from None


def _as_items(items: list[tuple[Any, Any, Any]]) -> set[tuple[Any, Any, Any]] | None:
    """The prices sent as the stored items would be, or None when one is not even a price (the catalog's
    check then says why)."""
    if not all(isinstance(q, int) and not isinstance(q, bool) for _p, q, _u in items):
        return None
    try:
        return {(p, q, Decimal(str(u))) for p, q, u in items}
    except ArithmeticError:
        return None


def _uuid(value: Any, name: str) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed.single(name, N_("must be an id"), "invalid") from None


def _date(value: Any, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed.single(name, N_("must be a date (YYYY-MM-DD)"), "invalid") from None


INTEGRATION_OBJECTS = (ProductObject(), PriceListObject(), StockObject(), OrderObject())
