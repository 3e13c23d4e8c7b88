"""address book per enterprise; ship-to details on orders

Revision ID: 0008_order_addresses
Revises: 0007_link_sub_enterprises
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0008_order_addresses"
down_revision = "0007_link_sub_enterprises"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ordering_addresses",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_ordering_addresses_tenant_id_enterprise_id_enterprise_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_addresses_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_addresses")),
    )
    with op.batch_alter_table("ordering_addresses", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_addresses_enterprise", ["tenant_id", "enterprise_id"], unique=False)
        batch_op.create_index(
            "uq_ordering_addresses_default",
            ["tenant_id", "enterprise_id"],
            unique=True,
            sqlite_where=sa.text("is_default"),
            postgresql_where=sa.text("is_default"),
        )
    rls.tenant_table("ordering_addresses")

    with op.batch_alter_table("ordering_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("po_number", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("requested_delivery_date", sa.Date(), nullable=True))
    with op.batch_alter_table("ordering_shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("own_delivery", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("ordering_shipments", schema=None) as batch_op:
        batch_op.drop_column("own_delivery")
    with op.batch_alter_table("ordering_orders", schema=None) as batch_op:
        batch_op.drop_column("requested_delivery_date")
        batch_op.drop_column("po_number")
    with op.batch_alter_table("ordering_addresses", schema=None) as batch_op:
        batch_op.drop_index("uq_ordering_addresses_default")
        batch_op.drop_index("ix_ordering_addresses_enterprise")
    op.drop_table("ordering_addresses")
