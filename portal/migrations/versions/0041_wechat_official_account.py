"""wechat official account: tenants' official accounts (sealed secret, cached access token and its refresh
lease); cookie sessions of the channel "official"; when each session was last used

Revision ID: 0041_wechat_official_account
Revises: 0040_purchase_orders
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0041_wechat_official_account"
down_revision = "0040_purchase_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_used_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_auth_sessions_channel"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_auth_sessions_channel"), "channel IN ('web', 'api', 'mobile', 'oauth', 'miniapp', 'official')"
        )
    # a session's last known use until its next request records one
    op.execute("UPDATE auth_sessions SET last_used_at = created_at")

    op.create_table(
        "wechat_official_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("secret_set_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("access_token_sealed", sa.Text(), nullable=True),
        sa.Column("access_token_expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refresh_lease_owner", sa.String(length=40), nullable=True),
        sa.Column("refresh_lease_until", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_wechat_official_accounts_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_wechat_official_accounts_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_wechat_official_accounts")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_wechat_official_accounts_tenant_id")),
    )
    rls.tenant_table("wechat_official_accounts")


def downgrade() -> None:
    op.drop_table("wechat_official_accounts")
    op.execute("DELETE FROM auth_sessions WHERE channel = 'official'")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_auth_sessions_channel"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_auth_sessions_channel"), "channel IN ('web', 'api', 'mobile', 'oauth', 'miniapp')"
        )
        batch_op.drop_column("last_used_at")
