"""interconnect: partner programme, links, quotas, invitations, identities, memberships

Revision ID: 0002_interconnect
Revises: 0001_kernel
Create Date: 2026-11-23 15:37:05.505826
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0002_interconnect"
down_revision = "0001_kernel"
branch_labels = None
depends_on = None


TENANT_TABLES = (
    "crm_accounts",
    "import_jobs",
    "interconnect_quotas",
    "partner_tiers",
    "partner_types",
    "regions",
    "enterprise_links",
    "enterprise_link_closure",
    "enterprise_link_status_changes",
    "invitations",
    "memberships",
    "setup_tokens",
)


def upgrade() -> None:
    op.create_table(
        "external_identities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("mobile", sa.String(length=32), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_identities")),
        sa.UniqueConstraint("email", name=op.f("uq_external_identities_email")),
        sa.UniqueConstraint("mobile", name=op.f("uq_external_identities_mobile")),
    )
    op.create_table(
        "crm_accounts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('customer', 'partner')", name=op.f("ck_crm_accounts_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_crm_accounts_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_crm_accounts")),
    )
    with op.batch_alter_table("crm_accounts", schema=None) as batch_op:
        batch_op.create_index("ix_crm_accounts_tenant_name", ["tenant_id", "name"], unique=False)

    op.create_table(
        "import_jobs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("skipped_count", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_import_jobs_status")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_import_jobs_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_import_jobs")),
    )
    op.create_table(
        "interconnect_quotas",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("max_enterprises", sa.Integer(), nullable=False),
        sa.Column("max_external_users", sa.Integer(), nullable=False),
        sa.Column("enterprises_used", sa.Integer(), nullable=False),
        sa.Column("external_users_used", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "enterprises_used <= max_enterprises", name=op.f("ck_interconnect_quotas_enterprises_within_quota")
        ),
        sa.CheckConstraint(
            "enterprises_used >= 0 AND external_users_used >= 0", name=op.f("ck_interconnect_quotas_non_negative")
        ),
        sa.CheckConstraint(
            "external_users_used <= max_external_users", name=op.f("ck_interconnect_quotas_users_within_quota")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_interconnect_quotas_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_interconnect_quotas")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_interconnect_quotas_tenant_id")),
    )
    op.create_table(
        "partner_tiers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_partner_tiers_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_partner_tiers")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_partner_tiers_tenant_id_code")),
    )
    op.create_table(
        "partner_types",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("preset", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_partner_types_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_partner_types")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_partner_types_tenant_id_code")),
    )
    op.create_table(
        "regions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_regions_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_regions")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_regions_tenant_id_code")),
    )
    op.create_table(
        "enterprise_links",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=True),
        sa.Column("partner_type_id", sa.Uuid(), nullable=False),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("downstream_tenant_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("activated_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("terminated_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('invited', 'active', 'suspended', 'terminated')", name=op.f("ck_enterprise_links_status")
        ),
        sa.ForeignKeyConstraint(
            ["downstream_tenant_id"],
            ["tenants.id"],
            name=op.f("fk_enterprise_links_downstream_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["crm_accounts.tenant_id", "crm_accounts.id"],
            name=op.f("fk_enterprise_links_tenant_id_account_id_crm_accounts"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_enterprise_links_tenant_id_parent_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_enterprise_links_tenant_id_partner_type_id_partner_types"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["regions.tenant_id", "regions.id"],
            name=op.f("fk_enterprise_links_tenant_id_region_id_regions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tier_id"],
            ["partner_tiers.tenant_id", "partner_tiers.id"],
            name=op.f("fk_enterprise_links_tenant_id_tier_id_partner_tiers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_enterprise_links_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_enterprise_links")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_enterprise_links_tenant_id_code")),
    )
    with op.batch_alter_table("enterprise_links", schema=None) as batch_op:
        batch_op.create_index("ix_enterprise_links_tenant_name", ["tenant_id", "name"], unique=False)
        batch_op.create_index("ix_enterprise_links_tenant_status", ["tenant_id", "status"], unique=False)
        batch_op.create_index("ix_enterprise_links_tenant_type", ["tenant_id", "partner_type_id"], unique=False)

    op.create_table(
        "enterprise_link_closure",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ancestor_id", sa.Uuid(), nullable=False),
        sa.Column("descendant_id", sa.Uuid(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ancestor_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_enterprise_link_closure_tenant_id_ancestor_id_enterprise_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "descendant_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_enterprise_link_closure_tenant_id_descendant_id_enterprise_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_enterprise_link_closure_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_enterprise_link_closure")),
        sa.UniqueConstraint(
            "tenant_id",
            "ancestor_id",
            "descendant_id",
            name=op.f("uq_enterprise_link_closure_tenant_id_ancestor_id_descendant_id"),
        ),
    )
    with op.batch_alter_table("enterprise_link_closure", schema=None) as batch_op:
        batch_op.create_index("ix_enterprise_link_closure_descendant", ["tenant_id", "descendant_id"], unique=False)

    op.create_table(
        "enterprise_link_status_changes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("changed_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "link_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_enterprise_link_status_changes_tenant_id_link_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_enterprise_link_status_changes_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_enterprise_link_status_changes")),
    )
    with op.batch_alter_table("enterprise_link_status_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_enterprise_link_status_changes_link", ["tenant_id", "link_id", "changed_at"], unique=False
        )

    op.create_table(
        "invitations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("partner_type_id", sa.Uuid(), nullable=False),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('link', 'code')", name=op.f("ck_invitations_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_invitations_tenant_id_parent_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_invitations_tenant_id_partner_type_id_partner_types"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tier_id"],
            ["partner_tiers.tenant_id", "partner_tiers.id"],
            name=op.f("fk_invitations_tenant_id_tier_id_partner_tiers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_invitations_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_invitations_tenant_id_code")),
    )
    op.create_table(
        "memberships",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=True),
        sa.Column("is_enterprise_admin", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("joined_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('invited', 'active', 'disabled')", name=op.f("ck_memberships_status")),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["external_identities.id"],
            name=op.f("fk_memberships_identity_id_external_identities"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "link_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_memberships_tenant_id_link_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_memberships_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_memberships")),
        sa.UniqueConstraint("tenant_id", "identity_id", name=op.f("uq_memberships_tenant_id_identity_id")),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index("ix_memberships_tenant_link", ["tenant_id", "link_id"], unique=False)

    op.create_table(
        "setup_tokens",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_setup_tokens_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_setup_tokens_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_setup_tokens")),
    )
    rls.grant_table("external_identities")
    for table in TENANT_TABLES:
        rls.tenant_table(table)


def downgrade() -> None:
    op.drop_table("setup_tokens")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index("ix_memberships_tenant_link")

    op.drop_table("memberships")
    op.drop_table("invitations")
    with op.batch_alter_table("enterprise_link_status_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_enterprise_link_status_changes_link")

    op.drop_table("enterprise_link_status_changes")
    with op.batch_alter_table("enterprise_link_closure", schema=None) as batch_op:
        batch_op.drop_index("ix_enterprise_link_closure_descendant")

    op.drop_table("enterprise_link_closure")
    with op.batch_alter_table("enterprise_links", schema=None) as batch_op:
        batch_op.drop_index("ix_enterprise_links_tenant_type")
        batch_op.drop_index("ix_enterprise_links_tenant_status")
        batch_op.drop_index("ix_enterprise_links_tenant_name")

    op.drop_table("enterprise_links")
    op.drop_table("regions")
    op.drop_table("partner_types")
    op.drop_table("partner_tiers")
    op.drop_table("interconnect_quotas")
    op.drop_table("import_jobs")
    with op.batch_alter_table("crm_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_accounts_tenant_name")

    op.drop_table("crm_accounts")
    op.drop_table("external_identities")
