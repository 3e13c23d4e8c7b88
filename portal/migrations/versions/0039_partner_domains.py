"""partner domains: a tenant's claim to a host of its own for its partner portal (the TXT record's token,
until when it may be verified), and the verified host on the tenant registry, unique across tenants

Revision ID: 0039_partner_domains
Revises: 0038_service_settlement
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0039_partner_domains"
down_revision = "0038_service_settlement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partner_domain", sa.String(length=253), nullable=True))
        batch_op.create_unique_constraint(op.f("uq_tenants_partner_domain"), ["partner_domain"])

    op.create_table(
        "partner_domains",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("checked_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("problem", sa.String(length=32), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_partner_domains_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_partner_domains")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_partner_domains_tenant_id")),
    )
    rls.tenant_table("partner_domains")


def downgrade() -> None:
    op.drop_table("partner_domains")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_tenants_partner_domain"), type_="unique")
        batch_op.drop_column("partner_domain")
