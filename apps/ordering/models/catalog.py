"""The catalog: categories, products and who may see them, price lists with quantity breaks, and stock
per warehouse."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped

PRICE_LIST_KINDS = ("base", "tier", "enterprise")


def same_tenant(columns: list[str], table: str, ondelete: str = "RESTRICT") -> ForeignKeyConstraint:
    """A same-tenant reference: the composite key makes a cross-tenant link impossible in the schema."""
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


class Category(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "ordering_categories"
    __table_args__ = (same_tenant(["parent_id"], "ordering_categories"), UniqueConstraint("tenant_id", "code"))

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[uuid.UUID | None]
    sort_order: Mapped[int] = mapped_column(default=0)


class Product(TenantOwned, Timestamped, Audited, Base):
    """A product as the manufacturer sells it. Quantities are whole units; an order line's quantity is a
    multiple of the pack size and at least the minimum order quantity. cost_price is the manufacturer's
    own: partner roles have it hidden by a field rule."""

    __tablename__ = "ordering_products"
    __table_args__ = (
        same_tenant(["category_id"], "ordering_categories"),
        UniqueConstraint("tenant_id", "sku"),
        Index("ix_ordering_products_listed_name", "tenant_id", "listed", "name"),
        Index("ix_ordering_products_category", "tenant_id", "category_id"),
        CheckConstraint("pack_size >= 1", name="pack_size"),
        CheckConstraint("min_order_quantity >= 1", name="min_order_quantity"),
    )

    sku: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    category_id: Mapped[uuid.UUID | None]
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    pack_size: Mapped[int] = mapped_column(default=1)
    min_order_quantity: Mapped[int] = mapped_column(default=1)
    description: Mapped[str | None] = mapped_column(Text())
    image_url: Mapped[str | None] = mapped_column(String(500))
    cost_price: Mapped[Decimal | None]
    listed: Mapped[bool] = mapped_column(default=True)
    # False: only the partner types and tiers of the product's visibility rows see it.
    visible_to_all: Mapped[bool] = mapped_column(default=True)


class ProductVisibility(TenantOwned, Base):
    """One audience of a product that is not visible to all: a partner type, a tier, or a type at a tier
    (both set); at least one is set."""

    __tablename__ = "ordering_product_visibility"
    __table_args__ = (
        same_tenant(["product_id"], "ordering_products", "CASCADE"),
        same_tenant(["partner_type_id"], "partner_types", "CASCADE"),
        same_tenant(["tier_id"], "partner_tiers", "CASCADE"),
        Index("ix_ordering_product_visibility_product", "tenant_id", "product_id"),
        CheckConstraint("partner_type_id IS NOT NULL OR tier_id IS NOT NULL", name="audience"),
    )

    product_id: Mapped[uuid.UUID]
    partner_type_id: Mapped[uuid.UUID | None]
    tier_id: Mapped[uuid.UUID | None]


class PriceList(TenantOwned, Timestamped, Audited, Base):
    """Prices of some products: the base list (everyone), a tier's, or one enterprise's, each valid from
    and to a date (inclusive; open when unset). The most specific valid list that prices a product at
    the quantity asked wins (see apps.ordering.pricing)."""

    __tablename__ = "ordering_price_lists"
    __table_args__ = (
        same_tenant(["tier_id"], "partner_tiers"),
        same_tenant(["enterprise_id"], "enterprise_links"),
        Index("ix_ordering_price_lists_kind", "tenant_id", "kind"),
        CheckConstraint("kind IN ('base', 'tier', 'enterprise')", name="kind"),
        CheckConstraint(
            "(kind = 'base' AND tier_id IS NULL AND enterprise_id IS NULL)"
            " OR (kind = 'tier' AND tier_id IS NOT NULL AND enterprise_id IS NULL)"
            " OR (kind = 'enterprise' AND enterprise_id IS NOT NULL AND tier_id IS NULL)",
            name="target",
        ),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_from <= valid_to", name="validity"),
    )

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(12))
    tier_id: Mapped[uuid.UUID | None]
    enterprise_id: Mapped[uuid.UUID | None]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    valid_from: Mapped[date | None] = mapped_column(Date())
    valid_to: Mapped[date | None] = mapped_column(Date())
    active: Mapped[bool] = mapped_column(default=True)


class PriceListItem(TenantOwned, Audited, Base):
    """A product's unit price on a list from a quantity on (1 is the plain price; higher ones are
    quantity breaks)."""

    __tablename__ = "ordering_price_list_items"
    __table_args__ = (
        same_tenant(["price_list_id"], "ordering_price_lists", "CASCADE"),
        same_tenant(["product_id"], "ordering_products", "CASCADE"),
        UniqueConstraint("tenant_id", "price_list_id", "product_id", "min_quantity"),
        Index("ix_ordering_price_list_items_product", "tenant_id", "product_id"),
        CheckConstraint("min_quantity >= 1", name="min_quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
    )

    price_list_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    min_quantity: Mapped[int] = mapped_column(default=1)
    unit_price: Mapped[Decimal]


class Warehouse(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "ordering_warehouses"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)


class StockLevel(TenantOwned, Timestamped, Audited, Base):
    """A product's stock in a warehouse. Both numbers change only by conditional UPDATE (see
    apps.ordering.stock), and the checks make overselling impossible even for a faulty caller."""

    __tablename__ = "ordering_stock"
    __table_args__ = (
        same_tenant(["warehouse_id"], "ordering_warehouses"),
        same_tenant(["product_id"], "ordering_products", "CASCADE"),
        UniqueConstraint("tenant_id", "warehouse_id", "product_id"),
        Index("ix_ordering_stock_product", "tenant_id", "product_id"),
        CheckConstraint("on_hand >= 0", name="on_hand"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved"),
    )

    warehouse_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
