"""a replayed delivery keeps counting its attempts: the attempts made before the replay

Revision ID: 0019_delivery_replay_count
Revises: 0018_calendars
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_delivery_replay_count"
down_revision = "0018_calendars"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Deliveries replayed before this had their attempts reset: their base is 0, as their count shows.
    with op.batch_alter_table("outbox_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt_base", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("outbox_deliveries", schema=None) as batch_op:
        batch_op.drop_column("attempt_base")
