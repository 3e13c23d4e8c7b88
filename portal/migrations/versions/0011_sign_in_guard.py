"""sign-in attempts counted before verifying, and trusted devices

Revision ID: 0011_sign_in_guard
Revises: 0010_partner_type_presets
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

revision = "0011_sign_in_guard"
down_revision = "0010_partner_type_presets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
