"""sync: cross-tenant sync rules, their backfills, the mapping table, the events applied, held conflicts

Revision ID: 0031_sync
Revises: 0030_wechat
Create Date: 2026-12-04 18:22:50.486617
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0031_sync"
down_revision = "0030_wechat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("peer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("object", sa.String(length=60), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("policies", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("activated_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("direction IN ('down')", name=op.f("ck_sync_rules_direction")),
        sa.CheckConstraint("status IN ('draft', 'active', 'paused')", name=op.f("ck_sync_rules_status")),
        sa.ForeignKeyConstraint(
            ["peer_tenant_id"], ["tenants.id"], name=op.f("fk_sync_rules_peer_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "link_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_sync_rules_tenant_id_link_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_rules_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_rules")),
        sa.UniqueConstraint("tenant_id", "link_id", "object", name=op.f("uq_sync_rules_tenant_id_link_id_object")),
    )
    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.create_index("ix_sync_rules_peer", ["peer_tenant_id", "status"], unique=False)

    op.create_table(
        "sync_applied",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("applied_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["sync_rules.tenant_id", "sync_rules.id"],
            name=op.f("fk_sync_applied_tenant_id_rule_id_sync_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_applied_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_applied")),
        sa.UniqueConstraint(
            "tenant_id", "rule_id", "event_id", name=op.f("uq_sync_applied_tenant_id_rule_id_event_id")
        ),
    )
    op.create_table(
        "sync_backfills",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Uuid(), nullable=True),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_sync_backfills_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["sync_rules.tenant_id", "sync_rules.id"],
            name=op.f("fk_sync_backfills_tenant_id_rule_id_sync_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_backfills_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_backfills")),
    )
    with op.batch_alter_table("sync_backfills", schema=None) as batch_op:
        batch_op.create_index("ix_sync_backfills_rule", ["tenant_id", "rule_id", "created_at"], unique=False)

    op.create_table(
        "sync_conflicts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("mapping_id", sa.Uuid(), nullable=False),
        sa.Column("peer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("local_id", sa.Uuid(), nullable=False),
        sa.Column("peer_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("upstream_value", sa.JSON(), nullable=True),
        sa.Column("downstream_value", sa.JSON(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("resolution", sa.String(length=12), nullable=True),
        sa.Column("resolved_by", sa.Uuid(), nullable=True),
        sa.Column("resolved_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('held', 'resolved')", name=op.f("ck_sync_conflicts_status")),
        sa.ForeignKeyConstraint(
            ["peer_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_conflicts_peer_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["sync_rules.tenant_id", "sync_rules.id"],
            name=op.f("fk_sync_conflicts_tenant_id_rule_id_sync_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_conflicts_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_conflicts")),
    )
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.create_index("ix_sync_conflicts_mapping", ["tenant_id", "mapping_id", "field"], unique=False)
        batch_op.create_index("ix_sync_conflicts_status", ["tenant_id", "status", "created_at"], unique=False)

    op.create_table(
        "sync_mappings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("object", sa.String(length=60), nullable=False),
        sa.Column("local_id", sa.Uuid(), nullable=False),
        sa.Column("peer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("peer_id", sa.Uuid(), nullable=False),
        sa.Column("version", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("written", sa.JSON(), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("last_event_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["peer_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sync_mappings_peer_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["sync_rules.tenant_id", "sync_rules.id"],
            name=op.f("fk_sync_mappings_tenant_id_rule_id_sync_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_mappings_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_mappings")),
        sa.UniqueConstraint(
            "tenant_id", "rule_id", "local_id", name=op.f("uq_sync_mappings_tenant_id_rule_id_local_id")
        ),
    )
    with op.batch_alter_table("sync_mappings", schema=None) as batch_op:
        batch_op.create_index("ix_sync_mappings_peer", ["peer_tenant_id", "object", "peer_id"], unique=False)

    for table in ("sync_rules", "sync_applied", "sync_backfills", "sync_conflicts", "sync_mappings"):
        rls.tenant_table(table)


def downgrade() -> None:
    with op.batch_alter_table("sync_mappings", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_mappings_peer")

    op.drop_table("sync_mappings")
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_conflicts_status")
        batch_op.drop_index("ix_sync_conflicts_mapping")

    op.drop_table("sync_conflicts")
    with op.batch_alter_table("sync_backfills", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_backfills_rule")

    op.drop_table("sync_backfills")
    op.drop_table("sync_applied")
    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_rules_peer")

    op.drop_table("sync_rules")
