"""The catalog as sync sees it: an upstream's products, each with the price that applies to the linked
enterprise, flow to a downstream tenant's own catalog (sync/crosstenant; described to sync by this
object, listed in the component's `extra["sync_objects"]`, so ordering never imports sync).

Upstream, a product counts as present while it is listed and visible to the enterprise; one that stops
being present is withdrawn downstream (unlisted: its orders keep it). Downstream, a product is matched
by the mapping table only; a downstream product with the SKU of one being sent for the first time is a clash
(sync/crosstenant/apply.py), never taken over."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import pricing
from apps.ordering.catalog import buyer_of, visible_to
from apps.ordering.models import Category, Product
from portal.db.tenancy import tenant_of
from portal.i18n import N_
from portal.ids import uuid7
from portal.outbox import publish

PRODUCT_CHANGED = "ordering.product.changed"
PRICES_CHANGED = "ordering.price_list.changed"

_READ = ("id", "sku", "name", "unit", "pack_size", "min_order_quantity", "description", "image_url")
_TEXT_LIMITS = {"sku": 60, "name": 200, "unit": 20, "image_url": 500, "description": 10_000}


class ProductSync:
    name = "ordering.product"
    label = N_("Products and prices")
    events = frozenset({PRODUCT_CHANGED, PRICES_CHANGED})
    source_fields = (
        "sku",
        "name",
        "unit",
        "pack_size",
        "min_order_quantity",
        "description",
        "image_url",
        "category",
        "price",
        "currency",
    )
    target_fields = {
        "sku": "text",
        "name": "text",
        "unit": "text",
        "pack_size": "int",
        "min_order_quantity": "int",
        "description": "text",
        "image_url": "text",
        "cost_price": "decimal",
    }
    required_targets = frozenset({"sku", "name"})
    field_labels = {
        "sku": N_("SKU"),
        "name": N_("Name"),
        "unit": N_("Unit"),
        "pack_size": N_("Pack size"),
        "min_order_quantity": N_("Minimum order quantity"),
        "description": N_("Description"),
        "image_url": N_("Image address"),
        "category": N_("Category"),
        "price": N_("Price"),
        "currency": N_("Currency"),
        "cost_price": N_("Cost price"),
    }
    default_mapping = (
        {"target": "sku", "kind": "rename", "source": "sku"},
        {"target": "name", "kind": "rename", "source": "name"},
        {"target": "unit", "kind": "rename", "source": "unit"},
        {"target": "pack_size", "kind": "rename", "source": "pack_size"},
        {"target": "min_order_quantity", "kind": "rename", "source": "min_order_quantity"},
        {"target": "description", "kind": "rename", "source": "description"},
        {"target": "cost_price", "kind": "rename", "source": "price"},
    )

    def changed_ids(self, event_type: str, aggregate_id: uuid.UUID, payload: Mapping[str, Any]) -> list[uuid.UUID]:
        if event_type == PRODUCT_CHANGED:
            return [aggregate_id]
        return [uuid.UUID(str(p)) for p in payload.get("products", ())]

    async def read(
        self,
        session: AsyncSession,
        link_id: uuid.UUID,
        ids: Sequence[uuid.UUID] | None,
        after: uuid.UUID | None,
        limit: int,
    ) -> list[tuple[uuid.UUID, dict[str, Any], bool]]:
        """(id, values, present) of the products named (or the next `limit` after `after`, by id), as
        the enterprise sees them: its price at quantity 1 (none: no list prices it for the enterprise),
        present while listed and visible to it."""
        buyer, audience = await buyer_of(session, link_id)
        visible = visible_to(audience).label("visible")
        # the columns only (a batch reads many products: no loading them as objects)
        query = (
            select(*(getattr(Product, c) for c in _READ), Category.code, visible)
            .outerjoin(Category, (Category.tenant_id == Product.tenant_id) & (Category.id == Product.category_id))
            .order_by(Product.id)
        )
        if ids is not None:
            query = query.where(Product.id.in_(sorted(ids)))
        else:
            query = query.limit(limit)
            if after is not None:
                query = query.where(Product.id > after)
        params = {
            "tenant_id": tenant_of(session),
            "partner_type_id": audience.partner_type_id,
            "tier_id": audience.tier_id,
        }
        rows = (await session.execute(query, params)).all()
        found = await pricing.prices(session, buyer, [row.id for row in rows])
        out: list[tuple[uuid.UUID, dict[str, Any], bool]] = []
        for row in rows:
            price = found.get(row.id)
            values = {name: getattr(row, name) for name in _READ[1:]}
            values["category"] = row.code
            values["price"] = str(price.unit_price) if price else None
            values["currency"] = price.currency if price else None
            out.append((row.id, values, bool(row.visible)))
        return out

    async def count(self, session: AsyncSession) -> int:
        return int(await session.scalar(select(func.count()).select_from(Product)) or 0)

    async def cuts(self, session: AsyncSession, after: uuid.UUID | None, every: int) -> list[tuple[uuid.UUID, int]]:
        """After `after` (by id), every `every`-th product's id and the last one's, with its position: one
        pass over the id index, however large the catalog."""
        ranked = select(
            Product.id,
            func.row_number().over(order_by=Product.id).label("n"),
            func.count().over().label("total"),
        )
        if after is not None:
            ranked = ranked.where(Product.id > after)
        inner = ranked.subquery()
        query = (
            select(inner.c.id, inner.c.n)
            .where((inner.c.n % every == 0) | (inner.c.n == inner.c.total))
            .order_by(inner.c.n)
        )
        return [(i, int(n)) for i, n in (await session.execute(query)).all()]

    async def rows(
        self, session: AsyncSession, peer_ids: Sequence[uuid.UUID], keys: Sequence[str]
    ) -> tuple[dict[uuid.UUID, Product], dict[str, Product]]:
        """The downstream products by id (locked), and those whose SKU is among `keys` (clashes)."""
        by_id: dict[uuid.UUID, Product] = {}
        if peer_ids:
            query = select(Product).where(Product.id.in_(sorted(set(peer_ids)))).order_by(Product.id)
            by_id = {p.id: p for p in await session.scalars(query.with_for_update())}
        by_key: dict[str, Product] = {}
        if keys:
            wanted = sorted({k[: _TEXT_LIMITS["sku"]] for k in keys})
            by_key = {p.sku: p for p in await session.scalars(select(Product).where(Product.sku.in_(wanted)))}
        return by_id, by_key

    key_field = "sku"

    async def snapshot(self, session: AsyncSession, peer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        """The downstream products named, as `values` gives them, read without loading or locking them
        (a reconciliation compares many at once and must not hold up the partner's own changes)."""
        if not peer_ids:
            return {}
        columns = [getattr(Product, name) for name in self.target_fields]
        rows = await session.execute(select(Product.id, *columns).where(Product.id.in_(sorted(set(peer_ids)))))
        out: dict[uuid.UUID, dict[str, Any]] = {}
        for row in rows:
            values = dict(zip(self.target_fields, row[1:], strict=True))
            price = values.get("cost_price")
            values["cost_price"] = None if price is None else str(price)
            out[row[0]] = values
        return out

    def new_row(self, tenant_id: uuid.UUID) -> Product:
        """A new product, written once by sync (never added to a session): its values go straight into the
        instance's state, without the ORM's attribute events (a backfill makes thousands)."""
        product: Product = Product._sa_class_manager.new_instance()
        product.__dict__.update(
            id=uuid7(), tenant_id=tenant_id, sku="", name="", unit="pcs", pack_size=1, min_order_quantity=1
        )
        return product

    def assign(self, product: Product, values: Mapping[str, Any]) -> None:
        """Set the mapped fields of a downstream product (a sync brings a withdrawn one back)."""
        for name, value in values.items():
            setattr(product, name, _column_value(name, value))
        product.listed = True

    def values(self, product: Product) -> dict[str, Any]:
        return _fields(product)

    def changed_at(self, product: Product) -> Any:
        return product.updated_at

    def withdraw(self, product: Product) -> bool:
        """Out of the downstream catalog (its orders keep it); whether it was in it."""
        was = bool(product.listed)
        product.listed = False
        return was


def _fields(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "unit": product.unit,
        "pack_size": product.pack_size,
        "min_order_quantity": product.min_order_quantity,
        "description": product.description,
        "image_url": product.image_url,
        "cost_price": None if product.cost_price is None else str(product.cost_price),
    }


def _column_value(name: str, value: Any) -> Any:
    """A mapped value as the product's column takes it; what the column cannot hold is left at its
    default (a pack size below 1, a price that is not a number)."""
    if name in _TEXT_LIMITS:
        text = None if value is None else str(value)[: _TEXT_LIMITS[name]]
        if name in ("sku", "name", "unit") and not text:
            return {"unit": "pcs"}.get(name, text or "?")
        return text
    if name in ("pack_size", "min_order_quantity"):
        return value if isinstance(value, int) and value >= 1 else 1
    if name == "cost_price":
        return None if value is None else Decimal(str(value))
    raise KeyError(name)


PRODUCTS = ProductSync()


def product_changed(session: AsyncSession, product_id: uuid.UUID) -> None:
    """Tell whoever follows the catalog (sync) that a product changed, in the change's own transaction."""
    publish(session, PRODUCT_CHANGED, "ordering.product", product_id, {"id": str(product_id)})


def prices_changed(session: AsyncSession, list_id: uuid.UUID, product_ids: Sequence[uuid.UUID]) -> None:
    """A price list changed (made, renamed, its items replaced, deleted): the products it prices (before and
    after the change) may cost otherwise."""
    publish(session, PRICES_CHANGED, "ordering.price_list", list_id, {"products": sorted(str(p) for p in product_ids)})
