"""A partner person's cart: quantities per product, priced when shown at the buyer's effective price
for that quantity (so quantity breaks show as the cart grows). A product that went out of the buyer's
catalog stays in the cart marked unavailable, and placing the order refuses it by name. A quantity that
breaks the product's minimum or pack size is refused when it is set; one that a later change of the
product made wrong is named on its line when the cart is shown."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select

from apps.ordering import pricing
from apps.ordering.catalog import Catalog
from apps.ordering.models import CartLine
from apps.ordering.placing import MAX_LINES, MAX_QUANTITY, LineIn, quantity_rules
from portal.errors import ValidationFailed
from portal.i18n import N_, gettext


class Cart:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.session = catalog.session
        self.owner = catalog.actor.user_id

    async def lines(self) -> list[CartLine]:
        return list(
            await self.session.scalars(
                select(CartLine).where(CartLine.membership_id == self.owner).order_by(CartLine.created_at, CartLine.id)
            )
        )

    async def set(self, product_id: uuid.UUID, quantity: int) -> None:
        """Put the product in the cart at this quantity (0 takes it out)."""
        if not 0 <= quantity <= MAX_QUANTITY:
            raise ValidationFailed.single(
                "quantity", N_("must be between 0 and %(max)s"), "out_of_range", max=MAX_QUANTITY
            )
        line = await self.session.scalar(
            select(CartLine).where(CartLine.membership_id == self.owner, CartLine.product_id == product_id)
        )
        if quantity == 0:
            if line is not None:
                await self.session.delete(line)
            await self.session.flush()
            return
        product = await self.catalog.get(product_id)  # only what the buyer may see goes in
        broken = quantity_rules(product, quantity, "quantity")
        if broken:
            raise ValidationFailed(broken)
        if line is None:
            if len(await self.lines()) >= MAX_LINES:
                raise ValidationFailed.single("product_id", N_("A cart holds at most %(max)s products"), max=MAX_LINES)
            self.session.add(CartLine(membership_id=self.owner, product_id=product_id, quantity=quantity))
        else:
            line.quantity = quantity
        await self.session.flush()

    async def clear(self) -> None:
        await self.session.execute(delete(CartLine).where(CartLine.membership_id == self.owner))

    async def as_order_lines(self) -> list[LineIn]:
        return [LineIn(line.product_id, line.quantity) for line in await self.lines()]

    async def out(self) -> dict[str, Any]:
        lines = await self.lines()
        quantities = {line.product_id: line.quantity for line in lines}
        visible = await self.catalog.visible(list(quantities))
        priced = await pricing.prices(self.session, self.catalog.buyer, quantities)
        shown = {p["id"]: p for p in await self.catalog.present(list(visible.values()))}
        items: list[dict[str, Any]] = []
        total = Decimal(0)
        for line in lines:
            product = shown.get(line.product_id)
            price = priced.get(line.product_id)
            unit_price = None if price is None or product is None else price.unit_price
            line_total = None if unit_price is None else unit_price * line.quantity
            total += line_total or 0
            found = visible.get(line.product_id)
            problems = [] if found is None else quantity_rules(found, line.quantity, "quantity")
            items.append(
                {
                    "product_id": line.product_id,
                    "quantity": line.quantity,
                    "available_to_order": product is not None and price is not None,
                    "problems": [{"code": p.code, "message": gettext(p.message, **p.params)} for p in problems],
                    "product": product,
                    "unit_price": unit_price,
                    "line_total": line_total,
                }
            )
        if self.catalog.policy.fields(self.catalog.actor, self.catalog.obj).get("price") == "hidden":
            for item in items:
                item.pop("unit_price")
                item.pop("line_total")
            return {"items": items}
        return {"items": items, "total": total}
