"""wechat credential mark: a WeChat binding remembers which password its person had, so a new one ends it

Bindings made before have no mark: their people prove who they are once more at their next sign-in.

Revision ID: 0032_wechat_credential_mark
Revises: 0031_sync
Create Date: 2026-12-04 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_wechat_credential_mark"
down_revision = "0031_sync"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wechat_bindings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credential_mark", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wechat_bindings", schema=None) as batch_op:
        batch_op.drop_column("credential_mark")
