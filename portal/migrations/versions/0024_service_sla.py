"""service SLAs: each tenant's response and resolution targets, each ticket's clocks and pauses

A target per priority and ticket type (business minutes on the tenant's calendar), the share of a target
after which the partner is warned (service settings), and on each ticket the targets it is held to, the
due and warning instants of its running clocks, whether each warning went and each target was missed,
the next instant the timer job must look at it (indexed), and the intervals its clock stood still.
Existing tenants get the default targets, frozen here as they are at this revision; tickets opened
before keep no targets.

Revision ID: 0024_service_sla
Revises: 0023_service_public
Create Date: 2026-12-04 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls
from portal.db.types import utcnow
from portal.ids import uuid7

revision = "0024_service_sla"
down_revision = "0023_service_public"
branch_labels = None
depends_on = None

KEY, TEXT, NUMBER = sa.Uuid(), sa.String(), sa.Integer()
STAMP = portal.db.types.UTCDateTime()
TENANTS = sa.table("tenants", sa.column("id", KEY))
TARGETS = sa.table(
    "service_sla_targets",
    *(sa.column(c, KEY) for c in ("tenant_id", "id")),
    *(sa.column(c, TEXT) for c in ("priority", "type")),
    *(sa.column(c, NUMBER) for c in ("response_minutes", "resolution_minutes")),
    *(sa.column(c, STAMP) for c in ("created_at", "updated_at")),
)
PRIORITIES = {"urgent": (60, 480), "high": (120, 960), "normal": (240, 1620), "low": (480, 2700)}
TYPES = ("installation", "repair", "maintenance", "inspection")
WHEN = portal.db.types.UTCDateTime(timezone=True)
TICKET_STAMPS = (
    "response_due_at",
    "response_warn_at",
    "resolution_due_at",
    "resolution_warn_at",
    "next_sla_check_at",
)
TICKET_FLAGS = ("response_warned", "resolution_warned", "response_breached", "resolution_breached")


def upgrade() -> None:
    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_warning_percent", sa.Integer(), nullable=False, server_default="80"))
    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.alter_column("sla_warning_percent", server_default=None)
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution_minutes", sa.Integer(), nullable=True))
        for name in TICKET_STAMPS:
            batch_op.add_column(sa.Column(name, WHEN, nullable=True))
        for name in TICKET_FLAGS:
            batch_op.add_column(sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        for name in TICKET_FLAGS:
            batch_op.alter_column(name, server_default=None)
        batch_op.create_index(
            "ix_service_tickets_next_sla_check",
            ["tenant_id", "next_sla_check_at"],
            unique=False,
            postgresql_where=sa.text("next_sla_check_at IS NOT NULL"),
            sqlite_where=sa.text("next_sla_check_at IS NOT NULL"),
        )
    op.create_table(
        "service_sla_targets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_service_sla_targets_priority")
        ),
        sa.CheckConstraint(
            "type IN ('installation', 'repair', 'maintenance', 'inspection')", name=op.f("ck_service_sla_targets_type")
        ),
        sa.CheckConstraint(
            "response_minutes > 0 AND resolution_minutes > 0", name=op.f("ck_service_sla_targets_minutes")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_sla_targets_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_sla_targets")),
        sa.UniqueConstraint(
            "tenant_id", "priority", "type", name=op.f("uq_service_sla_targets_tenant_id_priority_type")
        ),
    )
    op.create_table(
        "service_ticket_pauses",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ticket_id"],
            ["service_tickets.tenant_id", "service_tickets.id"],
            name=op.f("fk_service_ticket_pauses_tenant_id_ticket_id_service_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_ticket_pauses_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_ticket_pauses")),
    )
    with op.batch_alter_table("service_ticket_pauses", schema=None) as batch_op:
        batch_op.create_index("ix_service_ticket_pauses_ticket", ["tenant_id", "ticket_id"], unique=False)
    for table in ("service_sla_targets", "service_ticket_pauses"):
        rls.tenant_table(table)
    bind = op.get_bind()
    with rls.as_system_role():
        stamp = utcnow()
        for tenant_id in bind.scalars(sa.select(TENANTS.c.id)).all():
            bind.execute(
                TARGETS.insert(),
                [
                    {
                        "tenant_id": tenant_id,
                        "id": uuid7(),
                        "priority": priority,
                        "type": kind,
                        "response_minutes": response,
                        "resolution_minutes": resolution * (2 if kind == "installation" else 1),
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                    for priority, (response, resolution) in PRIORITIES.items()
                    for kind in TYPES
                ],
            )


def downgrade() -> None:
    with op.batch_alter_table("service_ticket_pauses", schema=None) as batch_op:
        batch_op.drop_index("ix_service_ticket_pauses_ticket")
    op.drop_table("service_ticket_pauses")
    op.drop_table("service_sla_targets")
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_service_tickets_next_sla_check")
        for name in (*TICKET_FLAGS, *TICKET_STAMPS, "resolution_minutes", "response_minutes"):
            batch_op.drop_column(name)
    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.drop_column("sla_warning_percent")
