"""oauth: tenants' OAuth clients, authorization codes and consents; token families of OAuth clients

The kernel's sessions gain the OAuth client a token family was issued to and the scopes granted, and two
more channels: "mobile" and "oauth".

Revision ID: 0022_oauth
Revises: 0021_service
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0022_oauth"
down_revision = "0021_service"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("scope", sa.String(length=200), nullable=True))
        batch_op.drop_constraint(op.f("ck_auth_sessions_channel"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_auth_sessions_channel"), "channel IN ('web', 'api', 'mobile', 'oauth')"
        )
        batch_op.create_index("ix_auth_sessions_tenant_client", ["tenant_id", "client_id"], unique=False)

    op.create_table(
        "oauth_clients",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("secret_rotated_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('public', 'confidential')", name=op.f("ck_oauth_clients_kind")),
        sa.CheckConstraint("channel IN ('mobile', 'oauth')", name=op.f("ck_oauth_clients_channel")),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_oauth_clients_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_oauth_clients_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_oauth_clients")),
    )
    op.create_table(
        "oauth_codes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=True),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_challenge_method", sa.String(length=8), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["oauth_clients.tenant_id", "oauth_clients.id"],
            name=op.f("fk_oauth_codes_tenant_id_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_oauth_codes_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_oauth_codes")),
    )
    op.create_index("ix_oauth_codes_hash", "oauth_codes", ["tenant_id", "code_hash"], unique=True)
    op.create_table(
        "oauth_consents",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "client_id"],
            ["oauth_clients.tenant_id", "oauth_clients.id"],
            name=op.f("fk_oauth_consents_tenant_id_client_id_oauth_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_oauth_consents_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_oauth_consents")),
        sa.UniqueConstraint(
            "tenant_id", "client_id", "membership_id", name=op.f("uq_oauth_consents_tenant_id_client_id_membership_id")
        ),
    )
    rls.tenant_table("oauth_clients")
    rls.tenant_table("oauth_codes")
    rls.tenant_table("oauth_consents")


def downgrade() -> None:
    op.drop_table("oauth_consents")
    op.drop_index("ix_oauth_codes_hash", table_name="oauth_codes")
    op.drop_table("oauth_codes")
    op.drop_table("oauth_clients")
    op.execute("DELETE FROM auth_sessions WHERE channel IN ('mobile', 'oauth')")
    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_sessions_tenant_client")
        batch_op.drop_constraint(op.f("ck_auth_sessions_channel"), type_="check")
        batch_op.create_check_constraint(op.f("ck_auth_sessions_channel"), "channel IN ('web', 'api')")
        batch_op.drop_column("scope")
        batch_op.drop_column("client_id")
