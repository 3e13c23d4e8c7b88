"""partner type presets give each first admin what its type is for

Revision ID: 0010_partner_type_presets
Revises: 0009_tenant_time_zone
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

revision = "0010_partner_type_presets"
down_revision = "0009_tenant_time_zone"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
