"""service settlement: each tenant's fee schedule, settlements of a partner's closed tickets and their
lines, the settlement counter, settlements on the partner's account

A line's ticket is unique: a ticket is settled once. The account's entries take the kind "settlement"
(an approved settlement, credited to the partner). Existing tenants get the presets as a new tenant
does, frozen here as they are at this revision: the service manager runs, answers, approves and exports
settlements, the staff dispatcher reads them, the service dispatcher (partner) reads, disputes and
exports its enterprise's, and the service provider partner type sees its enterprise's settlements.

Revision ID: 0038_service_settlement
Revises: 0037_service_parts
Create Date: 2026-12-04 20:45:35
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0038_service_settlement"
down_revision = "0037_service_parts"
branch_labels = None
depends_on = None

TABLES = ("service_fees", "service_settlements", "service_settlement_lines")
KEY, TEXT, FLAG = sa.Uuid(), sa.String(), sa.Boolean()
STAMP = portal.db.types.UTCDateTime()
MONEY = portal.db.types.Money(precision=18, scale=4)


def _table(table_name: str, /, **columns: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(column, kind) for column, kind in columns.items()))


TENANTS = _table("tenants", id=KEY)
RULES = _table("policy_rules", tenant_id=KEY, id=KEY, ptype=TEXT, v0=TEXT, v1=TEXT, v2=TEXT)
TYPES = _table("partner_types", tenant_id=KEY, id=KEY, code=TEXT)
DATA = _table(
    "data_rules",
    tenant_id=KEY,
    id=KEY,
    object=TEXT,
    partner_type_id=KEY,
    link_id=KEY,
    level=TEXT,
    include_sub_enterprises=FLAG,
    created_at=STAMP,
    updated_at=STAMP,
)
PARTNER_SETTLEMENT = "partner.service.settlement"
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "service_manager": tuple(("service.settlement", a) for a in ("read", "create", "update", "approve", "export")),
    "dispatcher": (("service.settlement", "read"),),
    "service_dispatcher": tuple((PARTNER_SETTLEMENT, a) for a in ("read", "dispute", "export")),
}
LEVELS = {"service_provider": "enterprise_write"}
KINDS_BEFORE = "kind IN ('order', 'payment', 'reversal')"
KINDS_AFTER = "kind IN ('order', 'payment', 'reversal', 'settlement')"


def upgrade() -> None:
    _tables()
    for table in TABLES:
        rls.tenant_table(table)
    _kinds(KINDS_AFTER)
    bind = op.get_bind()
    with rls.as_system_role():
        for tenant_id in bind.scalars(sa.select(TENANTS.c.id)).all():
            _presets(bind, tenant_id)
        # every process recompiles the tenants' policies on their next request
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))


def downgrade() -> None:
    bind = op.get_bind()
    with rls.as_system_role():
        for key, pairs in GRANTS.items():
            for obj, action in pairs:
                bind.execute(
                    RULES.delete().where(
                        RULES.c.ptype == "p", RULES.c.v0 == "r:" + key, RULES.c.v1 == obj, RULES.c.v2 == action
                    )
                )
        bind.execute(DATA.delete().where(DATA.c.object == PARTNER_SETTLEMENT))
        bind.execute(sa.text("DELETE FROM ordering_account_entries WHERE kind = 'settlement'"))
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))
    _kinds(KINDS_BEFORE)
    _drop_tables()


def _kinds(condition: str) -> None:
    with op.batch_alter_table("ordering_account_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ordering_account_entries_kind"), type_="check")
        batch_op.create_check_constraint("kind", condition)


def _presets(bind: sa.Connection, tenant_id: uuid.UUID) -> None:
    for key, pairs in GRANTS.items():
        held = set(
            bind.execute(
                sa.select(RULES.c.v1, RULES.c.v2).where(
                    RULES.c.tenant_id == tenant_id, RULES.c.ptype == "p", RULES.c.v0 == "r:" + key
                )
            ).all()
        )
        for obj, action in pairs:
            if (obj, action) not in held:
                bind.execute(
                    RULES.insert().values(
                        tenant_id=tenant_id, id=uuid.uuid4(), ptype="p", v0="r:" + key, v1=obj, v2=action
                    )
                )
    now = portal.db.types.utcnow()
    types = dict(bind.execute(sa.select(TYPES.c.code, TYPES.c.id).where(TYPES.c.tenant_id == tenant_id)).all())
    for code, level in LEVELS.items():
        type_id = types.get(code)
        ruled = type_id is not None and bind.scalar(
            sa.select(sa.func.count())
            .select_from(DATA)
            .where(
                DATA.c.tenant_id == tenant_id, DATA.c.object == PARTNER_SETTLEMENT, DATA.c.partner_type_id == type_id
            )
        )
        if type_id is not None and not ruled:
            bind.execute(
                DATA.insert().values(
                    tenant_id=tenant_id,
                    id=uuid.uuid4(),
                    object=PARTNER_SETTLEMENT,
                    partner_type_id=type_id,
                    link_id=None,
                    level=level,
                    include_sub_enterprises=False,
                    created_at=now,
                    updated_at=now,
                )
            )


def _tables() -> None:
    op.create_table(
        "service_fees",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_type", sa.String(length=16), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("labour", MONEY, nullable=False),
        sa.Column("travel", MONEY, nullable=False),
        sa.Column("parts", MONEY, nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ticket_type IN ('installation', 'repair', 'maintenance', 'inspection')",
            name=op.f("ck_service_fees_ticket_type"),
        ),
        sa.CheckConstraint("labour >= 0 AND travel >= 0 AND parts >= 0", name=op.f("ck_service_fees_amounts")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["regions.tenant_id", "regions.id"],
            name=op.f("fk_service_fees_tenant_id_region_id_regions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_fees_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_fees")),
        sa.UniqueConstraint(
            "tenant_id", "ticket_type", "region_id", name=op.f("uq_service_fees_tenant_id_ticket_type_region_id")
        ),
    )
    op.create_table(
        "service_settlements",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", MONEY, nullable=False),
        sa.Column("approved_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('review', 'approved')", name=op.f("ck_service_settlements_status")),
        sa.CheckConstraint("period_start <= period_end", name=op.f("ck_service_settlements_period")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_service_settlements_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_settlements_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_settlements")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_service_settlements_tenant_id_number")),
    )
    with op.batch_alter_table("service_settlements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_settlements_created", ["tenant_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_service_settlements_enterprise",
            ["tenant_id", "enterprise_id", sa.literal_column("created_at DESC")],
            unique=False,
        )
        batch_op.create_index(
            "ix_service_settlements_owner",
            ["tenant_id", "owner_id", sa.literal_column("created_at DESC")],
            unique=False,
        )
    op.create_table(
        "service_settlement_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("settlement_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_number", sa.String(length=20), nullable=False),
        sa.Column("ticket_type", sa.String(length=16), nullable=False),
        sa.Column("under_warranty", sa.Boolean(), nullable=True),
        sa.Column("closed_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("labour", MONEY, nullable=False),
        sa.Column("travel", MONEY, nullable=False),
        sa.Column("parts", MONEY, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("dispute", sa.String(length=10), nullable=False),
        sa.Column("dispute_reason", sa.String(length=1000), nullable=True),
        sa.Column("disputed_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.String(length=1000), nullable=True),
        sa.Column("answered_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "dispute IN ('none', 'open', 'adjusted', 'rejected')", name=op.f("ck_service_settlement_lines_dispute")
        ),
        sa.CheckConstraint(
            "labour >= 0 AND travel >= 0 AND parts >= 0", name=op.f("ck_service_settlement_lines_amounts")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "settlement_id"],
            ["service_settlements.tenant_id", "service_settlements.id"],
            name=op.f("fk_service_settlement_lines_tenant_id_settlement_id_service_settlements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ticket_id"],
            ["service_tickets.tenant_id", "service_tickets.id"],
            name=op.f("fk_service_settlement_lines_tenant_id_ticket_id_service_tickets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_service_settlement_lines_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_settlement_lines")),
        sa.UniqueConstraint("tenant_id", "ticket_id", name=op.f("uq_service_settlement_lines_tenant_id_ticket_id")),
    )
    with op.batch_alter_table("service_settlement_lines", schema=None) as batch_op:
        batch_op.create_index("ix_service_settlement_lines_settlement", ["tenant_id", "settlement_id"], unique=False)

    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_settlement_number", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.alter_column("next_settlement_number", server_default=None)


def _drop_tables() -> None:
    with op.batch_alter_table("service_settings", schema=None) as batch_op:
        batch_op.drop_column("next_settlement_number")
    with op.batch_alter_table("service_settlement_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_service_settlement_lines_settlement")
    op.drop_table("service_settlement_lines")
    with op.batch_alter_table("service_settlements", schema=None) as batch_op:
        batch_op.drop_index("ix_service_settlements_owner")
        batch_op.drop_index("ix_service_settlements_enterprise")
        batch_op.drop_index("ix_service_settlements_created")
    op.drop_table("service_settlements")
    op.drop_table("service_fees")
