"""The catalog as one actor sees it. A partner sees listed products visible to their partner type and
tier, each at their own effective price; the manufacturer's staff see every product with cost and margin
(as their field rules allow). Every product leaves as `shown()` makes it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import pricing, stock
from apps.ordering.models import Category, OrderingSettings, Product, ProductVisibility, StockLevel
from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.db.tenancy import tenant_of
from portal.errors import NotFound
from portal.i18n import N_
from roles.access import Shown, shown_to
from roles.policy import RolePolicy

MARGIN_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Audience:
    """Whose view of the catalog: a partner type and tier (a partner, or staff acting for one), or
    everyone (staff looking at the catalog itself)."""

    partner_type_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None
    everything: bool = False


_PRODUCTS = Product.__table__.c
_VISIBILITY = ProductVisibility.__table__.c


@lru_cache(maxsize=8)
def _visible(everything: bool, partner_type: bool, tier: bool) -> ColumnElement[bool]:
    """What an audience of this shape sees: listed, and visible to all or to one of its visibility rows (a
    row names a type, a tier, or both; a blank side matches any). The tenant, type and tier are bound per
    run (`Catalog.params`); in Core, so a Core statement may use it as well as an ORM one."""
    if everything:
        return true()
    rows = select(_VISIBILITY.product_id).where(
        _VISIBILITY.tenant_id == bindparam("tenant_id"),
        or_(_VISIBILITY.partner_type_id.is_(None), _VISIBILITY.partner_type_id == bindparam("partner_type_id"))
        if partner_type
        else _VISIBILITY.partner_type_id.is_(None),
        or_(_VISIBILITY.tier_id.is_(None), _VISIBILITY.tier_id == bindparam("tier_id"))
        if tier
        else _VISIBILITY.tier_id.is_(None),
    )
    return and_(_PRODUCTS.listed.is_(True), or_(_PRODUCTS.visible_to_all.is_(True), _PRODUCTS.id.in_(rows)))


def visible_to(audience: Audience) -> ColumnElement[bool]:
    return _visible(audience.everything, audience.partner_type_id is not None, audience.tier_id is not None)


@lru_cache(maxsize=8)
def _products_visible(visible: ColumnElement[bool]) -> Select[tuple[Product]]:
    return select(Product).where(visible)


@lru_cache(maxsize=8)
def _products_by_id(visible: ColumnElement[bool]) -> Select[tuple[Product]]:
    """Built once per audience shape (see `_visible()`): placing an order and the cart run it each time."""
    return _products_visible(visible).where(Product.id.in_(bindparam("ids", expanding=True)))


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
        """The products the audience sees; run it with `params`."""
        return _products_visible(visible_to(self.audience))

    @property
    def params(self) -> dict[str, Any]:
        """What the catalog's statements bind: the tenant, and the audience's type and tier."""
        audience = self.audience
        return {
            "tenant_id": tenant_of(self.session),
            "partner_type_id": audience.partner_type_id,
            "tier_id": audience.tier_id,
        }

    async def page(
        self,
        search: str | None = None,
        category_id: uuid.UUID | None = None,
        limit: int = 24,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], int]:
        """By name; the products with their category's name and what is available in the default
        warehouse, and how many there are, in one statement (a second counts them only when the page is
        past the last product), then their prices in another."""
        buyer = self.buyer
        statement, count = _page_statements(
            visible_to(self.audience),
            bool(search),
            category_id is not None,
            buyer.tier_id is not None,
            buyer.enterprise_id is not None,
        )
        params = {
            **self.params,
            **pricing.price_params(self.session, buyer),
            "category_id": category_id,
            "limit": limit,
            "offset": offset,
        }
        if search:
            params["search"] = f"%{search.strip().lower()}%"
        # Core on the unit of work's connection: the statement names its tenant (see _page_statements)
        connection = await self.session.connection()
        products: dict[uuid.UUID, Any] = {}
        price_rows = []
        # a product's row once per item pricing it; its cells by position (a row's names are looked up)
        for row in (await connection.execute(statement, params)).all():
            if row[0] not in products:
                products[row[0]] = row
            if row[_PRICE_LIST_ID] is not None:
                price_rows.append((row[0], *row[_PRICE_COLUMNS:]))
        if products:
            total = next(iter(products.values()))[_TOTAL_FOUND]
        elif offset == 0:
            total = 0
        else:
            total = (await connection.execute(count, params)).scalar_one()
        priced = pricing.choose(price_rows, dict.fromkeys(products, 1))
        return [
            self.out(dict(zip(PRODUCT_NAMES, row, strict=False)), priced.get(key), row[_AVAILABLE], row[_CATEGORY])
            for key, row in products.items()
        ], total

    async def get(self, product_id: uuid.UUID) -> Product:
        found = await self.visible([product_id])
        if not found:
            raise NotFound(N_("No such product"))
        return found[product_id]

    async def visible(self, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Product]:
        if not product_ids:
            return {}
        statement = _products_by_id(visible_to(self.audience))
        rows = await self.session.scalars(statement, {**self.params, "ids": sorted(set(product_ids))})
        return {p.id: p for p in rows}

    async def present(self, products: Sequence[Product]) -> list[dict[str, Any]]:
        """Products as the actor may see them, each at the buyer's price for one unit."""
        ids = [p.id for p in products]
        priced = await pricing.prices(self.session, self.buyer, ids)
        settings = await settings_of(self.session)
        left = await stock.available(self.session, settings.default_warehouse_id, ids)
        names = await self.category_names([p.category_id for p in products if p.category_id])
        return [
            self.out(product_fields(p), priced.get(p.id), left.get(p.id, 0), names.get(p.category_id)) for p in products
        ]

    async def category_names(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID | None, str]:
        if not ids:
            return {}
        rows = await self.session.execute(_CATEGORY_NAMES, {"ids": sorted(set(ids))})
        return {key: name for key, name in rows}

    @cached_property
    def shown(self) -> Shown:
        return shown_to(self.policy, self.actor, self.obj)

    def out(
        self, fields: dict[str, Any], price: pricing.Price | None, left: int, category: str | None
    ) -> dict[str, Any]:
        """A product as the actor may see it, from its `fields` (a dict of the caller's own, by the names
        of PRODUCT_NAMES: a page's row, or `product_fields()` of a loaded product)."""
        hidden = self.shown.hidden
        fields["category"] = category
        fields["available"] = left
        if price is None:
            fields.update(price=None, currency=None, price_source=None, breaks=[])
        else:
            fields.update(
                price=price.unit_price,
                currency=price.currency,
                price_source=price.source,
                breaks=[{"min_quantity": q, "unit_price": p} for q, p in price.breaks],
            )
        if "margin" not in hidden:
            fields["margin"] = margin(None if price is None else price.unit_price, fields["cost_price"])
        if self.actor.kind == "external":
            del fields["listed"], fields["visible_to_all"]
        if "price" in hidden:
            del fields["breaks"], fields["price_source"]
        return self.shown(fields)


# What a catalog shows of a product, by name (the product's attribute of that name), in a page's order.
PRODUCT_NAMES = (
    "id",
    "sku",
    "name",
    "category_id",
    "unit",
    "pack_size",
    "min_order_quantity",
    "description",
    "image_url",
    "listed",
    "visible_to_all",
    "cost_price",
)


def product_fields(product: Product) -> dict[str, Any]:
    """A loaded product's fields as `Catalog.out()` takes them."""
    return {name: getattr(product, name) for name in PRODUCT_NAMES}


_CATEGORIES = Category.__table__
_STOCK = StockLevel.__table__
_SETTINGS_TABLE = OrderingSettings.__table__.c


# A page's row: the product's fields by PRODUCT_NAMES (the id first), then these, then the columns of
# `pricing.price_items()` but its product_id (min_quantity, unit_price, price_list_id, ...).
_CATEGORY, _AVAILABLE, _TOTAL_FOUND = len(PRODUCT_NAMES), len(PRODUCT_NAMES) + 1, len(PRODUCT_NAMES) + 2
_PRICE_COLUMNS = len(PRODUCT_NAMES) + 3
_PRICE_LIST_ID = _PRICE_COLUMNS + 2


@lru_cache(maxsize=32)
def _page_statements(
    visible: ColumnElement[bool], search: bool, category: bool, tier: bool, enterprise: bool
) -> tuple[Select[Any], Select[Any]]:
    """A page of the catalog and its count: the products `visible` (see `_visible()`) with their
    category's name and what is available in the default warehouse, each table named with its tenant;
    the tenant, audience, buyer, filters and page are bound per run. The page carries the count as a
    scalar subquery (the database counts as it would alone), and each product comes once per price
    item that may price it for the buyer (`pricing.price_items()`, for a buyer with or without a tier
    and an enterprise), so one round trip brings the page priced. Built once per shape: every catalog
    page runs one, and building it (and SQLAlchemy working out its cache key) costs more than running
    it."""
    tenant = bindparam("tenant_id")
    where = [_PRODUCTS.tenant_id == tenant, visible]
    if search:
        pattern = bindparam("search")
        where.append(or_(func.lower(_PRODUCTS.name).like(pattern), func.lower(_PRODUCTS.sku).like(pattern)))
    if category:
        where.append(_PRODUCTS.category_id == bindparam("category_id"))
    count = select(func.count()).select_from(Product.__table__).where(*where)
    warehouse = (
        select(_SETTINGS_TABLE.default_warehouse_id).where(_SETTINGS_TABLE.tenant_id == tenant).scalar_subquery()
    )
    joined = Product.__table__.outerjoin(
        _CATEGORIES, and_(_CATEGORIES.c.tenant_id == _PRODUCTS.tenant_id, _CATEGORIES.c.id == _PRODUCTS.category_id)
    ).outerjoin(
        _STOCK,
        and_(
            _STOCK.c.tenant_id == _PRODUCTS.tenant_id,
            _STOCK.c.product_id == _PRODUCTS.id,
            _STOCK.c.warehouse_id == warehouse,
        ),
    )
    page = (
        select(
            *(_PRODUCTS[name] for name in PRODUCT_NAMES),
            _CATEGORIES.c.name.label("category"),
            func.coalesce(_STOCK.c.on_hand - _STOCK.c.reserved, 0).label("available"),
            count.scalar_subquery().label("total_found"),
        )
        .select_from(joined)
        .where(*where)
        .order_by(_PRODUCTS.name, _PRODUCTS.sku)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .cte("page")
    )
    items = pricing.price_items(tier, enterprise).subquery("prices")
    priced = (
        select(page, *(column for column in items.c if column.key != "product_id"))
        .select_from(page.outerjoin(items, items.c.product_id == page.c.id))
        .order_by(page.c.name, page.c.sku, page.c.id)
    )
    return priced, count


def categories_query() -> Select[tuple[Category]]:
    return select(Category).order_by(Category.sort_order, Category.name)


def category_out(category: Category) -> dict[str, Any]:
    return {"id": category.id, "code": category.code, "name": category.name, "parent_id": category.parent_id}
