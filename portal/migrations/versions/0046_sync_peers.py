"""sync peers: pairings with other deployments, one-time pairing codes, signed requests taken; rules that
travel through a pairing; a purchase order's supplier no longer a tenant of this deployment necessarily

Revision ID: 0046_sync_peers
Revises: 0043_deal_registration
Create Date: 2026-12-04 23:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0046_sync_peers"
down_revision = "0045_agent_funnel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_peers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("peer_url", sa.String(length=500), nullable=False),
        sa.Column("peer_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("peer_tenant_name", sa.String(length=200), nullable=False),
        sa.Column("peer_pairing_id", sa.Uuid(), nullable=False),
        sa.Column("own_secret", sa.String(length=200), nullable=False),
        sa.Column("peer_secret", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("last_contact_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("unpaired_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('upstream', 'downstream')", name=op.f("ck_sync_peers_role")),
        sa.CheckConstraint("status IN ('active', 'unpaired')", name=op.f("ck_sync_peers_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "link_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_sync_peers_tenant_id_link_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_peers_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_peers")),
    )
    with op.batch_alter_table("sync_peers", schema=None) as batch_op:
        batch_op.create_index("ix_sync_peers_link", ["tenant_id", "link_id", "status"], unique=False)

    op.create_table(
        "sync_peer_codes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "link_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_sync_peer_codes_tenant_id_link_id_enterprise_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_peer_codes_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_peer_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_sync_peer_codes_code_hash")),
    )

    op.create_table(
        "sync_peer_inbound",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("peer_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("received_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "peer_id"],
            ["sync_peers.tenant_id", "sync_peers.id"],
            name=op.f("fk_sync_peer_inbound_tenant_id_peer_id_sync_peers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sync_peer_inbound_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sync_peer_inbound")),
        sa.UniqueConstraint(
            "tenant_id", "peer_id", "event_id", name=op.f("uq_sync_peer_inbound_tenant_id_peer_id_event_id")
        ),
    )

    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pairing_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("remote_rule_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("link_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.alter_column("peer_tenant_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_index("ix_sync_rules_pairing", ["tenant_id", "pairing_id", "remote_rule_id"], unique=False)

    # a purchase order's supplier may run on a paired deployment: its workspace is not a row here
    with op.batch_alter_table("ordering_purchase_orders", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ordering_purchase_orders_supplier_tenant_id_tenants", type_="foreignkey")

    for table in ("sync_peers", "sync_peer_codes", "sync_peer_inbound"):
        rls.tenant_table(table)


def downgrade() -> None:
    with rls.as_system_role():
        op.execute("DELETE FROM ordering_purchase_orders WHERE supplier_tenant_id NOT IN (SELECT id FROM tenants)")
        op.execute("DELETE FROM sync_rules WHERE pairing_id IS NOT NULL")
    with op.batch_alter_table("ordering_purchase_orders", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_ordering_purchase_orders_supplier_tenant_id_tenants",
            "tenants",
            ["supplier_tenant_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    with op.batch_alter_table("sync_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_rules_pairing")
        batch_op.alter_column("peer_tenant_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.alter_column("link_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("remote_rule_id")
        batch_op.drop_column("pairing_id")
    op.drop_table("sync_peer_inbound")
    op.drop_table("sync_peer_codes")
    with op.batch_alter_table("sync_peers", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_peers_link")
    op.drop_table("sync_peers")
