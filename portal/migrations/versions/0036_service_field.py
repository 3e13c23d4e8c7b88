"""service field work: the field record of a ticket (check-ins with the location the browser gave,
work notes, parts used, photos and the customer's signature, whose bytes are attachments) and the
tenant's setting that resolving needs the customer's signature (off for every tenant)

Revision ID: 0036_service_field
Revises: 0035_announcement_audiences
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0036_service_field"
down_revision = "0035_announcement_audiences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_field_entries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("accuracy_m", sa.Integer(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("sku", sa.String(length=60), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("attachment_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('check_in', 'note', 'part', 'photo', 'signature')", name=op.f("ck_service_field_entries_kind")
        ),
        sa.CheckConstraint(
            "latitude IS NULL OR latitude BETWEEN -90 AND 90", name=op.f("ck_service_field_entries_latitude")
        ),
        sa.CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180", name=op.f("ck_service_field_entries_longitude")
        ),
        sa.CheckConstraint("quantity IS NULL OR quantity > 0", name=op.f("ck_service_field_entries_quantity")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ticket_id"],
            ["service_tickets.tenant_id", "service_tickets.id"],
            name=op.f("fk_service_field_entries_tenant_id_ticket_id_service_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_field_entries_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_field_entries")),
    )
    with op.batch_alter_table("service_field_entries", schema=None) as batch_op:
        batch_op.create_index("ix_service_field_entries_ticket", ["tenant_id", "ticket_id", "at"], unique=False)

    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature_required", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.alter_column("signature_required", server_default=None)
    rls.tenant_table("service_field_entries")


def downgrade() -> None:
    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.drop_column("signature_required")

    with op.batch_alter_table("service_field_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_service_field_entries_ticket")

    op.drop_table("service_field_entries")
