"""agent deals: the deal-registration app's deals, the first data-scoped records

Revision ID: 0005_agent_deals
Revises: 0004_roles
Create Date: 2026-11-23 18:05:59
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0005_agent_deals"
down_revision = "0004_roles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_deals",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_contact", sa.String(length=200), nullable=True),
        sa.Column("amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("commission_rate", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stage IN ('registered', 'qualified', 'won', 'lost')", name=op.f("ck_agent_deals_stage")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_agent_deals_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_deals_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_deals")),
    )
    # The three indexes roles.scopes.where() is planned against (newest first within the tenant, the
    # enterprise and the owner), and the one sharing rules on the stage use.
    op.create_index(
        "ix_agent_deals_enterprise", "agent_deals", ["tenant_id", "enterprise_id", sa.text("created_at DESC")]
    )
    op.create_index("ix_agent_deals_owner", "agent_deals", ["tenant_id", "owner_id", sa.text("created_at DESC")])
    op.create_index("ix_agent_deals_created", "agent_deals", ["tenant_id", sa.text("created_at DESC")])
    op.create_index("ix_agent_deals_stage", "agent_deals", ["tenant_id", "stage"], unique=False)

    rls.tenant_table("agent_deals")


def downgrade() -> None:
    op.drop_index("ix_agent_deals_stage", table_name="agent_deals")
    op.drop_index("ix_agent_deals_created", table_name="agent_deals")
    op.drop_index("ix_agent_deals_owner", table_name="agent_deals")
    op.drop_index("ix_agent_deals_enterprise", table_name="agent_deals")
    op.drop_table("agent_deals")
