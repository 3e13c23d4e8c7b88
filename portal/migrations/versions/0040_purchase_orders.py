"""purchase orders: a downstream tenant's orders to its upstream, placed there as sales orders by sync

Sync rules may travel up (the partner's records to the upstream); a sales order names the purchase
order it was placed from (at most one each); the ordering settings number purchase orders.

Revision ID: 0040_purchase_orders
Revises: 0039_partner_domains
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0040_purchase_orders"
down_revision = "0039_partner_domains"
branch_labels = None
depends_on = None

STATUSES = (
    "'sent', 'refused', 'submitted', 'approved', 'rejected', 'partially_shipped', 'shipped', 'received', "
    "'completed', 'cancelled'"
)


def upgrade() -> None:
    op.create_table(
        "ordering_purchase_orders",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("supplier_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("supplier_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("ship_to", sa.String(length=500), nullable=False),
        sa.Column("requested_delivery_date", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("sales_order_number", sa.String(length=30), nullable=True),
        sa.Column("total", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("refusal", sa.JSON(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("receipt_requested_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_ordering_purchase_orders_status")),
        sa.ForeignKeyConstraint(
            ["supplier_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_purchase_orders_supplier_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "warehouse_id"],
            ["ordering_warehouses.tenant_id", "ordering_warehouses.id"],
            name=op.f("fk_ordering_purchase_orders_tenant_id_warehouse_id_ordering_warehouses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_purchase_orders_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_purchase_orders")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_ordering_purchase_orders_tenant_id_number")),
    )
    with op.batch_alter_table("ordering_purchase_orders", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_purchase_orders_created", ["tenant_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_ordering_purchase_orders_supplier", ["tenant_id", "supplier_tenant_id", "id"], unique=False
        )
    rls.tenant_table("ordering_purchase_orders")

    op.create_table(
        "ordering_purchase_order_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purchase_order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("shipped_quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_ordering_purchase_order_lines_quantity")),
        sa.CheckConstraint(
            "shipped_quantity >= 0 AND shipped_quantity <= quantity",
            name=op.f("ck_ordering_purchase_order_lines_shipped"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_ordering_purchase_order_lines_tenant_id_product_id_ordering_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "purchase_order_id"],
            ["ordering_purchase_orders.tenant_id", "ordering_purchase_orders.id"],
            name=op.f("fk_ordering_purchase_order_lines_tenant_id_purchase_order_id_ordering_purchase_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_purchase_order_lines_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_purchase_order_lines")),
        sa.UniqueConstraint(
            "tenant_id",
            "purchase_order_id",
            "line_no",
            name=op.f("uq_ordering_purchase_order_lines_tenant_id_purchase_order_id_line_no"),
        ),
    )
    rls.tenant_table("ordering_purchase_order_lines")

    with op.batch_alter_table("ordering_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purchase_order_id", sa.Uuid(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_ordering_orders_tenant_id_purchase_order_id"), ["tenant_id", "purchase_order_id"]
        )
    with op.batch_alter_table("ordering_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_purchase_order_number", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_sync_rules_direction"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_sync_rules_direction"), "direction IN ('down', 'up')")


def downgrade() -> None:
    op.execute("DELETE FROM sync_rules WHERE direction = 'up'")
    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_sync_rules_direction"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_sync_rules_direction"), "direction IN ('down')")
    with op.batch_alter_table("ordering_settings", schema=None) as batch_op:
        batch_op.drop_column("next_purchase_order_number")
    with op.batch_alter_table("ordering_orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_ordering_orders_tenant_id_purchase_order_id"), type_="unique")
        batch_op.drop_column("purchase_order_id")
    op.drop_table("ordering_purchase_order_lines")
    op.drop_table("ordering_purchase_orders")
