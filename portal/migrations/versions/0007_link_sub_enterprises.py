"""enterprise links know whether anything hangs under them

Revision ID: 0007_link_sub_enterprises
Revises: 0006_ordering
Create Date: 2026-12-01 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_link_sub_enterprises"
down_revision = "0006_ordering"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enterprise_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("has_sub_enterprises", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(
        "UPDATE enterprise_links SET has_sub_enterprises = EXISTS (SELECT 1 FROM enterprise_links AS child"
        " WHERE child.tenant_id = enterprise_links.tenant_id AND child.parent_id = enterprise_links.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("enterprise_links", schema=None) as batch_op:
        batch_op.drop_column("has_sub_enterprises")
