"""wechat: tenants' WeChat mini-programs (sealed secret, cached access token and its refresh lease) and the
WeChat accounts bound to partners' identities; token families of the channel "miniapp"

Revision ID: 0030_wechat
Revises: 0029_service_dispatch
Create Date: 2026-12-04 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0030_wechat"
down_revision = "0029_service_dispatch"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_auth_sessions_channel"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_auth_sessions_channel"), "channel IN ('web', 'api', 'mobile', 'oauth', 'miniapp')"
        )

    op.create_table(
        "wechat_mini_programs",
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
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_wechat_mini_programs_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_wechat_mini_programs_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_wechat_mini_programs")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_wechat_mini_programs_tenant_id")),
    )
    op.create_table(
        "wechat_bindings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("unionid", sa.String(length=64), nullable=True),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("bound_by", sa.String(length=16), nullable=False),
        sa.Column("last_sign_in_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("bound_by IN ('phone', 'password', 'unionid')", name=op.f("ck_wechat_bindings_bound_by")),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["external_identities.id"],
            name=op.f("fk_wechat_bindings_identity_id_external_identities"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_wechat_bindings_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_wechat_bindings")),
        sa.UniqueConstraint("tenant_id", "app_id", "openid", name=op.f("uq_wechat_bindings_tenant_id_app_id_openid")),
    )
    op.create_index("ix_wechat_bindings_tenant_identity", "wechat_bindings", ["tenant_id", "identity_id"])
    op.create_index("ix_wechat_bindings_tenant_unionid", "wechat_bindings", ["tenant_id", "unionid"])
    rls.tenant_table("wechat_mini_programs")
    rls.tenant_table("wechat_bindings")


def downgrade() -> None:
    op.drop_index("ix_wechat_bindings_tenant_unionid", table_name="wechat_bindings")
    op.drop_index("ix_wechat_bindings_tenant_identity", table_name="wechat_bindings")
    op.drop_table("wechat_bindings")
    op.drop_table("wechat_mini_programs")
    op.execute("DELETE FROM auth_sessions WHERE channel = 'miniapp'")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_auth_sessions_channel"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_auth_sessions_channel"), "channel IN ('web', 'api', 'mobile', 'oauth')"
        )
