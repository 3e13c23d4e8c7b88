"""a time zone per tenant

Revision ID: 0009_tenant_time_zone
Revises: 0008_order_addresses
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

revision = "0009_tenant_time_zone"
down_revision = "0008_order_addresses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
