"""service dispatch: each tenant's dispatch rules, the open pool, auto-dispatch and auto-close settings

Ordered dispatch rules per tenant (conditions on region, product line and ticket type, the partners each
may choose, how it chooses and a cap on their open tickets), the settings that dispatch new tickets by
them (off) and close unconfirmed resolved tickets after some days (7, for existing tenants as for a new
tenant), when a ticket entered the open pool or was left to staff by the rules, and the rule named on the
timeline.

Revision ID: 0029_service_dispatch
Revises: 0028_brand
Create Date: 2026-12-04 18:20:58
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0029_service_dispatch"
down_revision = "0028_brand"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_dispatch_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("ticket_type", sa.String(length=16), nullable=True),
        sa.Column("prefer", sa.String(length=8), nullable=False),
        sa.Column("max_open", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("prefer IN ('load', 'rating')", name=op.f("ck_service_dispatch_rules_prefer")),
        sa.CheckConstraint(
            "ticket_type IS NULL OR ticket_type IN ('installation', 'repair', 'maintenance', 'inspection')",
            name=op.f("ck_service_dispatch_rules_ticket_type"),
        ),
        sa.CheckConstraint("max_open IS NULL OR max_open > 0", name=op.f("ck_service_dispatch_rules_max_open")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "category_id"],
            ["ordering_categories.tenant_id", "ordering_categories.id"],
            name=op.f("fk_service_dispatch_rules_tenant_id_category_id_ordering_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["regions.tenant_id", "regions.id"],
            name=op.f("fk_service_dispatch_rules_tenant_id_region_id_regions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_dispatch_rules_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_dispatch_rules")),
    )
    with op.batch_alter_table("service_dispatch_rules", schema=None) as batch_op:
        batch_op.create_index("ix_service_dispatch_rules_position", ["tenant_id", "position"], unique=False)

    op.create_table(
        "service_dispatch_rule_partners",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_service_dispatch_rule_partners_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "rule_id"],
            ["service_dispatch_rules.tenant_id", "service_dispatch_rules.id"],
            name=op.f("fk_service_dispatch_rule_partners_tenant_id_rule_id_service_dispatch_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_service_dispatch_rule_partners_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_dispatch_rule_partners")),
        sa.UniqueConstraint(
            "tenant_id",
            "rule_id",
            "enterprise_id",
            name=op.f("uq_service_dispatch_rule_partners_tenant_id_rule_id_enterprise_id"),
        ),
    )
    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auto_dispatch", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("auto_close_days", sa.Integer(), nullable=True, server_default="7"))
    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.alter_column("auto_dispatch", server_default=None)
        batch_op.alter_column("auto_close_days", server_default=None)
        batch_op.create_check_constraint("auto_close_days", "auto_close_days IS NULL OR auto_close_days > 0")

    with op.batch_alter_table("service_ticket_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_name", sa.String(length=100), nullable=True))

    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pooled_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unmatched_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_service_tickets_pool",
            ["tenant_id", "region_id", "pooled_at"],
            unique=False,
            postgresql_where=sa.text("pooled_at IS NOT NULL"),
            sqlite_where=sa.text("pooled_at IS NOT NULL"),
        )

    for table in ("service_dispatch_rules", "service_dispatch_rule_partners"):
        rls.tenant_table(table)


def downgrade() -> None:
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_service_tickets_pool",
            postgresql_where=sa.text("pooled_at IS NOT NULL"),
            sqlite_where=sa.text("pooled_at IS NOT NULL"),
        )
        batch_op.drop_column("unmatched_at")
        batch_op.drop_column("pooled_at")

    with op.batch_alter_table("service_ticket_events", schema=None) as batch_op:
        batch_op.drop_column("rule_name")

    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_service_settings_auto_close_days"), type_="check")
        batch_op.drop_column("auto_close_days")
        batch_op.drop_column("auto_dispatch")

    op.drop_table("service_dispatch_rule_partners")
    with op.batch_alter_table("service_dispatch_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_service_dispatch_rules_position")

    op.drop_table("service_dispatch_rules")
