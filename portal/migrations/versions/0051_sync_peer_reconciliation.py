"""sync peer reconciliation: a reconciliation run of a rule that sends to a paired deployment names the
pairing instead of a partner workspace of this deployment, and a failed run says why as a label

Revision ID: 0051_sync_peer_reconciliation
Revises: 0050_erp_connector
Create Date: 2026-12-05 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0051_sync_peer_reconciliation"
down_revision = "0050_erp_connector"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_reconciliations", schema=None) as batch_op:
        batch_op.alter_column("peer_tenant_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(sa.Column("pairing_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("error_code", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.execute(
        "DELETE FROM sync_drift WHERE reconciliation_id IN (SELECT id FROM sync_reconciliations WHERE peer_tenant_id IS NULL)"
    )
    op.execute("DELETE FROM sync_reconciliations WHERE peer_tenant_id IS NULL")
    with op.batch_alter_table("sync_reconciliations", schema=None) as batch_op:
        batch_op.drop_column("error_code")
        batch_op.drop_column("pairing_id")
        batch_op.alter_column("peer_tenant_id", existing_type=sa.Uuid(), nullable=False)
