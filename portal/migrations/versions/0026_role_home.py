"""role home: each external role's home widgets per channel

Revision ID: 0026_role_home
Revises: 0025_delivery_speed
Create Date: 2026-12-04 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_role_home"
down_revision = "0025_delivery_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home", sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade() -> None:
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_column("home")
