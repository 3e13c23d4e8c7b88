"""Purchase orders a downstream tenant places with its upstream (a supplier running this deployment too),
and their lines: the downstream's own products, at the quantities wanted.

A purchase order is "sent" until the supplier's sales order is placed (then it follows that order's
status) or refused (`refusal`: why, as message ids with their values, shown in the reader's language)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from apps.ordering.models.catalog import same_tenant
from apps.ordering.models.orders import ORDER_STATUSES
from portal.db.base import Audited, Base, TenantOwned, Timestamped

PURCHASE_STATUSES = ("sent", "refused", *(s for s in ORDER_STATUSES if s != "draft"))


class PurchaseOrder(TenantOwned, Timestamped, Audited, Base):
    """`supplier_tenant_id` is the upstream's workspace; `sales_order_number`, `total` and `currency` are
    the supplier's order as it placed it; `received_at` says the goods went into `warehouse_id`'s stock
    (once)."""

    __tablename__ = "ordering_purchase_orders"
    __table_args__ = (
        same_tenant(["warehouse_id"], "ordering_warehouses"),
        UniqueConstraint("tenant_id", "number"),
        Index("ix_ordering_purchase_orders_created", "tenant_id", "created_at"),
        Index("ix_ordering_purchase_orders_supplier", "tenant_id", "supplier_tenant_id", "id"),
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in PURCHASE_STATUSES)})", name="status"),
    )

    number: Mapped[str] = mapped_column(String(30))
    # a workspace of this deployment, or of a deployment this one is paired with (sync.peers): no foreign key
    supplier_tenant_id: Mapped[uuid.UUID]
    supplier_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="sent")
    warehouse_id: Mapped[uuid.UUID | None]
    ship_to: Mapped[str] = mapped_column(String(500))
    requested_delivery_date: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(String(2000))
    sales_order_number: Mapped[str | None] = mapped_column(String(30))
    total: Mapped[Decimal | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    refusal: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[uuid.UUID]
    # the goods arrived: said here, then recorded on the supplier's order, whose status comes back
    receipt_requested_at: Mapped[datetime | None]
    received_at: Mapped[datetime | None]
    # revised (corrected after a refusal, or edited while awaiting approval) and sent again: the number
    # of times; the supplier's order is placed anew from the latest revision
    revision: Mapped[int] = mapped_column(default=0)
    # the partner asked the supplier to cancel it; the supplier's answer clears it (a refusal says why)
    cancel_requested_at: Mapped[datetime | None]


class PurchaseOrderLine(TenantOwned, Base):
    """One of the downstream's products; `shipped_quantity` as the supplier shipped it."""

    __tablename__ = "ordering_purchase_order_lines"
    __table_args__ = (
        same_tenant(["purchase_order_id"], "ordering_purchase_orders", "CASCADE"),
        same_tenant(["product_id"], "ordering_products"),
        UniqueConstraint("tenant_id", "purchase_order_id", "line_no"),
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint("shipped_quantity >= 0 AND shipped_quantity <= quantity", name="shipped"),
    )

    purchase_order_id: Mapped[uuid.UUID]
    line_no: Mapped[int]
    product_id: Mapped[uuid.UUID]
    sku: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    shipped_quantity: Mapped[int] = mapped_column(default=0)
