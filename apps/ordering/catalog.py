"""The catalog as one actor sees it. A partner sees listed products visible to their partner type and
tier, each at their own effective price; the manufacturer's staff see every product with cost and margin
(as their field rules allow). Every product leaves as `shown()` makes it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import pricing, stock
from apps.ordering.models import Category, OrderingSettings, Product, ProductVisibility
from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.errors import NotFound
from portal.i18n import N_
from roles.access import shown
from roles.policy import RolePolicy

MARGIN_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Audience:
    """Whose view of the catalog: a partner type and tier (a partner, or staff acting for one), or
    everyone (staff looking at the catalog itself)."""

    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    everything: bool = False


def visible_to(audience: Audience) -> ColumnElement[bool]:
    """Listed, and visible to all or to one of the audience's visibility rows (a row names a type, a
    tier, or both; a blank side matches any)."""
    if audience.everything:
        return true()
    rows = select(ProductVisibility.product_id).where(
        or_(ProductVisibility.partner_type_id.is_(None), ProductVisibility.partner_type_id == audience.partner_type_id)
        if audience.partner_type_id is not None
        else ProductVisibility.partner_type_id.is_(None),
        or_(ProductVisibility.tier_id.is_(None), ProductVisibility.tier_id == audience.tier_id)
        if audience.tier_id is not None
        else ProductVisibility.tier_id.is_(None),
    )
    return and_(Product.listed.is_(True), or_(Product.visible_to_all.is_(True), Product.id.in_(rows)))


def margin(price: Decimal | None, cost: Decimal | None) -> Decimal | None:
    if price is None or cost is None or price == 0:
        return None
    return ((price - cost) / price).quantize(MARGIN_PLACES)


async def buyer_of(session: AsyncSession, enterprise_id: uuid.UUID | None) -> tuple[pricing.Buyer, Audience]:
    """The prices and the catalog of an enterprise (None: the base list, and what everyone sees)."""
    if enterprise_id is None:
        return pricing.Buyer(), Audience()
    link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == enterprise_id))
    if link is None:
        raise NotFound(N_("No such enterprise"))
    return pricing.Buyer(link.id, link.tier_id), Audience(link.partner_type_id, link.tier_id)


# Statements every catalog page runs, built once (the tenancy hook scopes them; see portal.db.tenancy).
_SETTINGS = select(OrderingSettings)


async def settings_of(session: AsyncSession) -> OrderingSettings:
    found = await session.scalar(_SETTINGS)
    if found is None:  # a tenant made before the ordering app was installed, and not migrated since
        found = OrderingSettings()
        session.add(found)
        await session.flush()
    return found


_CATEGORY_NAMES = select(Category.id, Category.name).where(Category.id.in_(bindparam("ids", expanding=True)))


class Catalog:
    """Products `actor` may see as `obj`, priced for `buyer` and filtered for `audience`."""

    def __init__(
        self,
        session: AsyncSession,
        policy: RolePolicy,
        actor: Actor,
        obj: str,
        buyer: pricing.Buyer,
        audience: Audience,
    ) -> None:
        self.session = session
        self.policy = policy
        self.actor = actor
        self.obj = obj
        self.buyer = buyer
        self.audience = audience

    @classmethod
    async def for_actor(cls, session: AsyncSession, policy: RolePolicy, actor: Actor, obj: str) -> Catalog:
        """A partner's own catalog and prices; staff see the whole catalog at base prices."""
        if actor.kind == "external":
            buyer = pricing.Buyer(actor.enterprise_id, actor.tier_id)
            return cls(session, policy, actor, obj, buyer, Audience(actor.partner_type_id, actor.tier_id))
        return cls(session, policy, actor, obj, pricing.Buyer(), Audience(everything=True))

    def query(self) -> Select[tuple[Product]]:
        return select(Product).where(visible_to(self.audience))

    async def page(
        self,
        search: str | None = None,
        category_id: uuid.UUID | None = None,
        limit: int = 24,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        query = self.query()
        if search:
            pattern = f"%{search.strip().lower()}%"
            query = query.where(or_(func.lower(Product.name).like(pattern), func.lower(Product.sku).like(pattern)))
        if category_id is not None:
            query = query.where(Product.category_id == category_id)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(await self.session.scalars(query.order_by(Product.name, Product.sku).limit(limit).offset(offset)))
        return await self.present(rows), total

    async def get(self, product_id: uuid.UUID) -> Product:
        product = await self.session.scalar(self.query().where(Product.id == product_id))
        if product is None:
            raise NotFound(N_("No such product"))
        return product

    async def visible(self, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Product]:
        if not product_ids:
            return {}
        rows = await self.session.scalars(self.query().where(Product.id.in_(sorted(set(product_ids)))))
        return {p.id: p for p in rows}

    async def present(self, products: Sequence[Product]) -> list[dict[str, Any]]:
        """Products as the actor may see them, each at the buyer's price for one unit."""
        ids = [p.id for p in products]
        priced = await pricing.prices(self.session, self.buyer, ids)
        settings = await settings_of(self.session)
        left = await stock.available(self.session, settings.default_warehouse_id, ids)
        names = await self.category_names([p.category_id for p in products if p.category_id])
        return [self.out(p, priced.get(p.id), left.get(p.id, 0), names.get(p.category_id)) for p in products]

    async def category_names(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID | None, str]:
        if not ids:
            return {}
        rows = await self.session.execute(_CATEGORY_NAMES, {"ids": sorted(set(ids))})
        return {key: name for key, name in rows}

    def out(self, product: Product, price: pricing.Price | None, left: int, category: str | None) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": product.id,
            "sku": product.sku,
            "name": product.name,
            "category_id": product.category_id,
            "category": category,
            "unit": product.unit,
            "pack_size": product.pack_size,
            "min_order_quantity": product.min_order_quantity,
            "description": product.description,
            "image_url": product.image_url,
            "listed": product.listed,
            "visible_to_all": product.visible_to_all,
            "price": None if price is None else price.unit_price,
            "currency": None if price is None else price.currency,
            "price_source": None if price is None else price.source,
            "breaks": [] if price is None else [{"min_quantity": q, "unit_price": p} for q, p in price.breaks],
            "available": left,
            "cost_price": product.cost_price,
            "margin": margin(None if price is None else price.unit_price, product.cost_price),
        }
        if self.actor.kind == "external":
            for staff_only in ("listed", "visible_to_all"):
                values.pop(staff_only)
        rules = self.policy.fields(self.actor, self.obj)
        if rules.get("price") == "hidden":
            values.pop("breaks")
            values.pop("price_source")
        return shown(self.policy, self.actor, self.obj, values)


def categories_query() -> Select[tuple[Category]]:
    return select(Category).order_by(Category.sort_order, Category.name)


def category_out(category: Category) -> dict[str, Any]:
    return {"id": category.id, "code": category.code, "name": category.name, "parent_id": category.parent_id}
