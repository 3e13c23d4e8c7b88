"""sync reconciliation: comparisons of a rule's mapped records on both sides and the drift they found;
a partner's pause of a rule feeding its workspace; purchase orders revised and cancelled through sync

Revision ID: 0048_sync_reconciliation
Revises: 0043_deal_registration
Create Date: 2026-12-05 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0048_sync_reconciliation"
down_revision = "0047_approvals"
branch_labels = None
depends_on = None

RUNNING = "status IN ('queued', 'running')"


def upgrade() -> None:
    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("peer_paused_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("ordering_purchase_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("cancel_requested_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ordering_purchase_orders", schema=None) as batch_op:
        batch_op.alter_column("revision", server_default=None)
    with op.batch_alter_table("ordering_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purchase_order_revision", sa.Integer(), nullable=True))

    op.create_table(
        "sync_reconciliations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("peer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("trigger", sa.String(length=12), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("phase", sa.String(length=12), nullable=False),
        sa.Column("cursor", sa.Uuid(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("compared", sa.Integer(), nullable=False),
        sa.Column("missing", sa.Integer(), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.Column("different", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("repair_requested_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("repaired", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("phase IN ('source', 'mappings')", name=op.f("ck_sync_reconciliations_phase")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_sync_reconciliations_status")
        ),
        sa.ForeignKeyConstraint(
            ["peer_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_reconciliations_peer_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["sync_rules.tenant_id", "sync_rules.id"],
            name=op.f("fk_sync_reconciliations_tenant_id_rule_id_sync_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_reconciliations_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_reconciliations")),
    )
    with op.batch_alter_table("sync_reconciliations", schema=None) as batch_op:
        batch_op.create_index("ix_sync_reconciliations_rule", ["tenant_id", "rule_id", "created_at"], unique=False)
        batch_op.create_index(
            "uq_sync_reconciliations_running",
            ["tenant_id", "rule_id"],
            unique=True,
            postgresql_where=sa.text(RUNNING),
            sqlite_where=sa.text(RUNNING),
        )

    op.create_table(
        "sync_drift",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("reconciliation_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("local_id", sa.Uuid(), nullable=False),
        sa.Column("peer_id", sa.Uuid(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("source_digest", sa.String(length=64), nullable=True),
        sa.Column("peer_digest", sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN ('missing', 'extra', 'different')", name=op.f("ck_sync_drift_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "reconciliation_id"],
            ["sync_reconciliations.tenant_id", "sync_reconciliations.id"],
            name=op.f("fk_sync_drift_tenant_id_reconciliation_id_sync_reconciliations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_drift_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_drift")),
    )
    with op.batch_alter_table("sync_drift", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sync_drift_report", ["tenant_id", "reconciliation_id", "kind", "local_id"], unique=False
        )

    for table in ("sync_reconciliations", "sync_drift"):
        rls.tenant_table(table)


def downgrade() -> None:
    with op.batch_alter_table("sync_drift", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_drift_report")
    op.drop_table("sync_drift")
    with op.batch_alter_table("sync_reconciliations", schema=None) as batch_op:
        batch_op.drop_index("uq_sync_reconciliations_running")
        batch_op.drop_index("ix_sync_reconciliations_rule")
    op.drop_table("sync_reconciliations")
    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.drop_column("peer_paused_at")
    with op.batch_alter_table("ordering_orders", schema=None) as batch_op:
        batch_op.drop_column("purchase_order_revision")
    with op.batch_alter_table("ordering_purchase_orders", schema=None) as batch_op:
        batch_op.drop_column("cancel_requested_at")
        batch_op.drop_column("revision")
