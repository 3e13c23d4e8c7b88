"""Carts, orders with their lines and timeline, shipments, and the ordering settings of a
tenant."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from apps.ordering.models.catalog import same_tenant
from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow
from roles.records import ScopedRecord

ORDER_STATUSES = (
    "draft",
    "submitted",
    "approved",
    "rejected",
    "partially_shipped",
    "shipped",
    "received",
    "completed",
    "cancelled",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class OrderingSettings(TenantOwned, Timestamped, Audited, Base):
    """One per tenant. reserve_on: stock is reserved when an order is submitted or when it is approved;
    over_credit: an order over the enterprise's credit is refused, or goes to an extra approval step
    taken by credit_approver_role (after the steps of its approval flow: roles.approvals). The counters
    number orders and shipments per tenant."""

    __tablename__ = "ordering_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        same_tenant(["default_warehouse_id"], "ordering_warehouses"),
        CheckConstraint("reserve_on IN ('submit', 'approval')", name="reserve_on"),
        CheckConstraint("over_credit IN ('refuse', 'approval')", name="over_credit"),
    )

    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    reserve_on: Mapped[str] = mapped_column(String(12), default="approval")
    over_credit: Mapped[str] = mapped_column(String(12), default="refuse")
    credit_approver_role: Mapped[str] = mapped_column(String(64), default="admin")
    auto_receive_days: Mapped[int] = mapped_column(default=14)
    default_warehouse_id: Mapped[uuid.UUID | None]
    next_order_number: Mapped[int] = mapped_column(default=1)
    next_shipment_number: Mapped[int] = mapped_column(default=1)
    next_purchase_order_number: Mapped[int] = mapped_column(default=1, server_default="1")


class CartLine(TenantOwned, Timestamped, Base):
    """A product in a partner person's cart (membership_id): the cart is theirs, priced when shown."""

    __tablename__ = "ordering_cart_lines"
    __table_args__ = (
        same_tenant(["product_id"], "ordering_products", "CASCADE"),
        UniqueConstraint("tenant_id", "membership_id", "product_id"),
        CheckConstraint("quantity >= 1", name="quantity"),
    )

    membership_id: Mapped[uuid.UUID]
    product_id: Mapped[uuid.UUID]
    quantity: Mapped[int]


class Address(TenantOwned, Timestamped, Audited, Base):
    """A ship-to address in a partner enterprise's address book, kept by its people in the portal. An
    order copies it into its own ship_to, so editing or deleting it later changes no order. At most
    one address of an enterprise is its default (preselected at checkout)."""

    __tablename__ = "ordering_addresses"
    __table_args__ = (
        same_tenant(["enterprise_id"], "enterprise_links", "CASCADE"),
        Index("ix_ordering_addresses_enterprise", "tenant_id", "enterprise_id"),
        Index(
            "uq_ordering_addresses_default",
            "tenant_id",
            "enterprise_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    enterprise_id: Mapped[uuid.UUID]
    label: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(300))
    is_default: Mapped[bool] = mapped_column(default=False)


class Order(TenantOwned, ScopedRecord, Timestamped, Audited, Base):
    """owner_id is who placed it (a partner membership or a staff user); enterprise_id the dealer it is
    for, NULL for an order the upstream keeps to itself (partners never see it). Status moves only
    through apps.ordering.lifecycle. Money is in the order's currency; total = sum of the lines."""

    __tablename__ = "ordering_orders"
    __table_args__ = (
        same_tenant(["enterprise_id"], "enterprise_links"),
        same_tenant(["warehouse_id"], "ordering_warehouses"),
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "purchase_order_id"),
        Index("ix_ordering_orders_status", "tenant_id", "status", "created_at"),
        CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint("total >= 0 AND paid_amount >= 0", name="amounts"),
    )

    number: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    total: Mapped[Decimal] = mapped_column(default=Decimal(0))
    # What the lines cost the manufacturer; staff see the margin, partner roles have both hidden.
    cost_total: Mapped[Decimal | None]
    paid_amount: Mapped[Decimal] = mapped_column(default=Decimal(0))
    warehouse_id: Mapped[uuid.UUID | None]
    stock_reserved: Mapped[bool] = mapped_column(default=False)
    over_credit: Mapped[bool] = mapped_column(default=False)
    # A copy of the address it ships to (from the enterprise's address book, or typed for this order).
    ship_to: Mapped[str | None] = mapped_column(String(500))
    po_number: Mapped[str | None] = mapped_column(String(60))  # the buyer's own purchase order number
    # The purchase order (in the buyer's own workspace) this order was placed from, by cross-tenant sync:
    # at most one order per purchase order.
    purchase_order_id: Mapped[uuid.UUID | None]
    purchase_order_revision: Mapped[int | None]  # the purchase order's revision it was placed from
    requested_delivery_date: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(String(2000))
    placed_by_kind: Mapped[str] = mapped_column(String(12))  # internal | external
    created_by: Mapped[uuid.UUID]
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


# The three indexes roles.scopes.where() is planned against (see roles.records).
Index("ix_ordering_orders_enterprise", Order.tenant_id, Order.enterprise_id, Order.created_at.desc())
Index("ix_ordering_orders_owner", Order.tenant_id, Order.owner_id, Order.created_at.desc())
Index("ix_ordering_orders_created", Order.tenant_id, Order.created_at.desc())


class OrderLine(TenantOwned, Audited, Base):
    """A product on an order at the price it was placed at; sku, name and unit are copied so the order
    reads the same after the catalog changes."""

    __tablename__ = "ordering_order_lines"
    __table_args__ = (
        same_tenant(["order_id"], "ordering_orders", "CASCADE"),
        same_tenant(["product_id"], "ordering_products"),
        UniqueConstraint("tenant_id", "order_id", "line_no"),
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint("shipped_quantity >= 0 AND shipped_quantity <= quantity", name="shipped"),
    )

    order_id: Mapped[uuid.UUID]
    line_no: Mapped[int]
    product_id: Mapped[uuid.UUID]
    sku: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    line_total: Mapped[Decimal]
    unit_cost: Mapped[Decimal | None]
    price_source: Mapped[str] = mapped_column(String(12))  # base | tier | enterprise
    shipped_quantity: Mapped[int] = mapped_column(default=0)


class OrderEvent(TenantOwned, Base):
    """The order's timeline: every transition, who made it and why."""

    __tablename__ = "ordering_order_events"
    __table_args__ = (
        same_tenant(["order_id"], "ordering_orders", "CASCADE"),
        Index("ix_ordering_order_events_order", "tenant_id", "order_id", "at"),
    )

    order_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_kind: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    comment: Mapped[str | None] = mapped_column(String(1000))


class Shipment(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "ordering_shipments"
    __table_args__ = (
        same_tenant(["order_id"], "ordering_orders", "CASCADE"),
        same_tenant(["warehouse_id"], "ordering_warehouses"),
        UniqueConstraint("tenant_id", "number"),
        Index("ix_ordering_shipments_order", "tenant_id", "order_id"),
    )

    order_id: Mapped[uuid.UUID]
    number: Mapped[str] = mapped_column(String(30))
    warehouse_id: Mapped[uuid.UUID | None]
    carrier: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    # The manufacturer delivers itself: then no carrier and no tracking number are needed.
    own_delivery: Mapped[bool] = mapped_column(default=False, server_default=false())
    shipped_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID]


class ShipmentLine(TenantOwned, Base):
    __tablename__ = "ordering_shipment_lines"
    __table_args__ = (
        same_tenant(["shipment_id"], "ordering_shipments", "CASCADE"),
        same_tenant(["order_line_id"], "ordering_order_lines", "CASCADE"),
        CheckConstraint("quantity >= 1", name="quantity"),
    )

    shipment_id: Mapped[uuid.UUID]
    order_line_id: Mapped[uuid.UUID]
    quantity: Mapped[int]
