"""a time zone per tenant

Revision ID: 0009_tenant_time_zone
Revises: 0008_order_addresses
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_tenant_time_zone"
down_revision = "0008_order_addresses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False))
    # Tenants that exist keep showing UTC, as they did, until an admin picks their zone.


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
