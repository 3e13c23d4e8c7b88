"""sign-in attempts are counted before verifying, so the throttle counts attempts, not failures

Revision ID: 0011_sign_in_guard
Revises: 0010_partner_type_presets
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types

revision = "0011_sign_in_guard"
down_revision = "0010_partner_type_presets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Counters live for one window at most: starting them afresh loses nothing worth keeping.
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.alter_column("failures", new_column_name="attempts")
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    op.execute("DELETE FROM login_throttle")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.alter_column("attempts", new_column_name="failures")
        batch_op.add_column(sa.Column("locked_until", portal.db.types.UTCDateTime(timezone=True), nullable=True))
