"""The parts a settlement bills: what each ticket actually used, each at its catalog price.

The parts used are the ticket's field entries of kind "part" (apps.service.field: each took the quantity
out of the partner's consigned stock), summed per product. A part's unit price is the catalog's, as the
ordering app prices it for no particular buyer (its base price list: apps.ordering.pricing) for one unit
on the day the ticket closed: the service app builds on ordering's catalog, and a spare part is a catalog
product, so it has no price list of its own. A part the catalog has no price for is billed at 0, its unit
price left empty, so the partner sees it on the statement and may dispute the line.

As with the old flat amount, parts are reimbursed only for a ticket under warranty: outside it the
customer pays for them, and the line bills none."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.pricing import Buyer, prices
from apps.service.field.models import FieldEntry

ZERO = Decimal(0)
CENTS = Decimal("0.01")
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class BilledPart:
    product_id: uuid.UUID | None
    sku: str | None
    name: str
    quantity: int
    unit_price: Decimal | None  # None: the catalog had no price for it (billed at 0)

    @property
    def amount(self) -> Decimal:
        return ZERO if self.unit_price is None else (self.unit_price * self.quantity).quantize(CENTS)


async def used(
    session: AsyncSession, ticket_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID | None, str | None, str, int]]]:
    """Per ticket, the parts it used: (product, SKU, name, quantity), summed per product, by name."""
    found: dict[uuid.UUID, list[tuple[uuid.UUID | None, str | None, str, int]]] = defaultdict(list)
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), _CHUNK):
        rows = await session.execute(
            select(
                FieldEntry.ticket_id,
                FieldEntry.product_id,
                func.max(FieldEntry.sku),
                func.max(FieldEntry.product_name),
                func.sum(FieldEntry.quantity),
            )
            .where(FieldEntry.kind == "part", FieldEntry.ticket_id.in_(ids[start : start + _CHUNK]))
            .group_by(FieldEntry.ticket_id, FieldEntry.product_id)
        )
        for ticket_id, product_id, sku, name, quantity in rows:
            found[ticket_id].append((product_id, sku, name or sku or "", int(quantity or 0)))
    for parts in found.values():
        parts.sort(key=lambda p: (p[2], p[1] or ""))
    return found


async def billed(
    session: AsyncSession, tickets: Iterable[tuple[uuid.UUID, bool | None, date]]
) -> dict[uuid.UUID, list[BilledPart]]:
    """Per ticket (id, under warranty, the day it closed), the parts billed: none outside warranty."""
    wanted = [(ticket_id, day) for ticket_id, warranty, day in tickets if warranty]
    parts = await used(session, [ticket_id for ticket_id, _day in wanted])
    by_day: dict[date, set[uuid.UUID]] = defaultdict(set)
    for ticket_id, day in wanted:
        by_day[day].update(p[0] for p in parts.get(ticket_id, ()) if p[0] is not None)
    unit: dict[tuple[date, uuid.UUID], Decimal] = {}
    for day, products in by_day.items():
        if products:
            for product_id, price in (await prices(session, Buyer(), sorted(products), on=day)).items():
                unit[(day, product_id)] = price.unit_price
    return {
        ticket_id: [
            BilledPart(
                product_id,
                sku,
                name,
                quantity,
                unit.get((day, product_id)) if product_id is not None else None,
            )
            for product_id, sku, name, quantity in parts.get(ticket_id, ())
            if quantity > 0
        ]
        for ticket_id, day in wanted
    }
