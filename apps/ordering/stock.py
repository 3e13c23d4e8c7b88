"""Stock moves by conditional UPDATE only: a reservation succeeds only while enough is available
(on_hand - reserved), in the same statement that takes it, so concurrent orders can never oversell; the
table's checks (reserved <= on_hand, both >= 0) stand behind it. Rows are changed in product order, so
two orders touching the same products never lock each other in opposite orders."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import Product, StockLevel
from portal.errors import Conflict, ValidationFailed
from portal.i18n import N_
from portal.outbox import publish

STOCK_CHANGED = "ordering.stock.changed"


def stock_changed(session: AsyncSession, warehouse_id: uuid.UUID, product_ids: list[uuid.UUID]) -> None:
    """On hand changed in a warehouse (a count, goods taken in or shipped), in the change's transaction."""
    if product_ids:
        payload = {"warehouse_id": str(warehouse_id), "products": sorted(str(p) for p in product_ids)}
        publish(session, STOCK_CHANGED, "ordering.stock", warehouse_id, payload)


class OutOfStock(Conflict):
    code, title = "out_of_stock", N_("Not enough stock")


# Every catalog page runs it: built once (the tenancy hook scopes it; see portal.db.tenancy).
_AVAILABLE = select(StockLevel.product_id, StockLevel.on_hand - StockLevel.reserved).where(
    StockLevel.warehouse_id == bindparam("warehouse_id"),
    StockLevel.product_id.in_(bindparam("products", expanding=True)),
)


async def available(
    session: AsyncSession, warehouse_id: uuid.UUID | None, product_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """on_hand - reserved per product in the warehouse; products without a stock row have 0."""
    if warehouse_id is None or not product_ids:
        return dict.fromkeys(product_ids, 0)
    rows = await session.execute(_AVAILABLE, {"warehouse_id": warehouse_id, "products": product_ids})
    found = {product: int(amount) for product, amount in rows}
    return {p: found.get(p, 0) for p in product_ids}


async def _sku(session: AsyncSession, product_id: uuid.UUID) -> str:
    return await session.scalar(select(Product.sku).where(Product.id == product_id)) or str(product_id)


async def reserve(session: AsyncSession, warehouse_id: uuid.UUID, quantities: Mapping[uuid.UUID, int]) -> None:
    """Reserve all or nothing (the caller's transaction rolls back the part taken when one fails)."""
    for product_id in sorted(quantities):
        quantity = quantities[product_id]
        result = await session.execute(
            update(StockLevel)
            .where(
                StockLevel.warehouse_id == warehouse_id,
                StockLevel.product_id == product_id,
                StockLevel.on_hand - StockLevel.reserved >= quantity,
            )
            .values(reserved=StockLevel.reserved + quantity)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            left = (await available(session, warehouse_id, [product_id]))[product_id]
            raise OutOfStock(
                N_("Only %(available)s of %(sku)s are available (%(wanted)s wanted)"),
                sku=await _sku(session, product_id),
                available=left,
                wanted=quantity,
            )


async def release(session: AsyncSession, warehouse_id: uuid.UUID, quantities: Mapping[uuid.UUID, int]) -> None:
    for product_id in sorted(quantities):
        if quantities[product_id] > 0:
            await session.execute(
                update(StockLevel)
                .where(
                    StockLevel.warehouse_id == warehouse_id,
                    StockLevel.product_id == product_id,
                    StockLevel.reserved >= quantities[product_id],
                )
                .values(reserved=StockLevel.reserved - quantities[product_id])
                .execution_options(synchronize_session=False)
            )


async def issue(
    session: AsyncSession, warehouse_id: uuid.UUID, quantities: Mapping[uuid.UUID, int], reserved: bool
) -> None:
    """Stock leaves the warehouse: from what the order reserved, or (an order shipped without a
    reservation) from what is available."""
    for product_id in sorted(quantities):
        quantity = quantities[product_id]
        condition = (
            StockLevel.reserved >= quantity if reserved else StockLevel.on_hand - StockLevel.reserved >= quantity
        )
        values = (
            {"on_hand": StockLevel.on_hand - quantity, "reserved": StockLevel.reserved - quantity}
            if reserved
            else {"on_hand": StockLevel.on_hand - quantity}
        )
        result = await session.execute(
            update(StockLevel)
            .where(StockLevel.warehouse_id == warehouse_id, StockLevel.product_id == product_id, condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise OutOfStock(N_("Not enough %(sku)s in the warehouse to ship"), sku=await _sku(session, product_id))
    stock_changed(session, warehouse_id, [p for p, q in quantities.items() if q])


async def take_in(session: AsyncSession, warehouse_id: uuid.UUID, quantities: Mapping[uuid.UUID, int]) -> None:
    """Goods arrive in the warehouse (a purchase order received): on hand grows by each quantity."""
    for product_id in sorted(quantities):
        quantity = quantities[product_id]
        if quantity <= 0:
            continue
        result = await session.execute(
            update(StockLevel)
            .where(StockLevel.warehouse_id == warehouse_id, StockLevel.product_id == product_id)
            .values(on_hand=StockLevel.on_hand + quantity)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.add(StockLevel(warehouse_id=warehouse_id, product_id=product_id, on_hand=quantity, reserved=0))
    await session.flush()
    stock_changed(session, warehouse_id, [p for p, q in quantities.items() if q > 0])


async def set_on_hand(
    session: AsyncSession, warehouse_id: uuid.UUID, product_id: uuid.UUID, on_hand: int
) -> StockLevel:
    """A stock count: on hand becomes `on_hand`, never below what orders hold reserved."""
    if on_hand < 0:
        raise ValidationFailed.single("on_hand", N_("must be 0 or more"), "out_of_range")
    level = await session.scalar(
        select(StockLevel)
        .where(StockLevel.warehouse_id == warehouse_id, StockLevel.product_id == product_id)
        .with_for_update()
    )
    if level is None:
        level = StockLevel(warehouse_id=warehouse_id, product_id=product_id, on_hand=on_hand, reserved=0)
        session.add(level)
        stock_changed(session, warehouse_id, [product_id])
    elif on_hand < level.reserved:
        raise ValidationFailed.single(
            "on_hand",
            N_("must be at least the %(reserved)s reserved by orders"),
            "below_reserved",
            reserved=level.reserved,
        )
    elif level.on_hand != on_hand:
        level.on_hand = on_hand
        stock_changed(session, warehouse_id, [product_id])
    await session.flush()
    return level


async def totals(session: AsyncSession, warehouse_id: uuid.UUID) -> tuple[int, int]:
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(StockLevel.on_hand), 0), func.coalesce(func.sum(StockLevel.reserved), 0)
            ).where(StockLevel.warehouse_id == warehouse_id)
        )
    ).one()
    return int(row[0]), int(row[1])
