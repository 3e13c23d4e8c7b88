"""announcements: what a manufacturer tells its partners, to all or to chosen partner types

Revision ID: 0027_announcements
Revises: 0026_role_home
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0027_announcements"
down_revision = "0026_role_home"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.String(length=4000), nullable=False),
        sa.Column("partner_type_ids", sa.JSON(), nullable=False),
        sa.Column("published_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_announcements_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_announcements")),
    )
    op.create_index("ix_announcements_tenant_published", "announcements", ["tenant_id", "published_at"], unique=False)
    rls.tenant_table("announcements")


def downgrade() -> None:
    op.drop_index("ix_announcements_tenant_published", table_name="announcements")
    op.drop_table("announcements")
