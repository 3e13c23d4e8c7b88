"""agent leads: pools and their rules, assignment rules, leads with their events, follow-ups and
extension requests

A follow-up's next step reminds its author on its date (remind_on, indexed while set). Existing tenants
get the presets as a new tenant does, frozen here as they are at this revision: the deal
registrar works leads (read, claim, update, return), the channel manager makes, imports and distributes
them and sets up pools and assignment rules, and the agent partner type sees its enterprise's leads.

Revision ID: 0034_agent_leads
Revises: 0033_service_partner_load
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0034_agent_leads"
down_revision = "0033_service_partner_load"
branch_labels = None
depends_on = None

TABLES = (
    "agent_lead_pools",
    "agent_lead_rules",
    "agent_leads",
    "agent_lead_events",
    "agent_lead_extensions",
    "agent_lead_follow_ups",
)
KEY, TEXT, FLAG = sa.Uuid(), sa.String(), sa.Boolean()
STAMP = portal.db.types.UTCDateTime()


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
PARTNER_LEAD = "partner.agent.lead"
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "deal_registrar": tuple((PARTNER_LEAD, a) for a in ("read", "claim", "update", "return")),
    "channel_manager": (
        *(
            ("agent.lead", a)
            for a in ("read", "create", "update", "distribute", "claim", "import", "export", "approve")
        ),
        ("agent.lead_setup", "read"),
        ("agent.lead_setup", "update"),
    ),
}
LEVELS = {"agent": "enterprise_write"}


def upgrade() -> None:
    _tables()
    for table in TABLES:
        rls.tenant_table(table)
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
        bind.execute(DATA.delete().where(DATA.c.object == PARTNER_LEAD))
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))
    _drop_tables()


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
            .where(DATA.c.tenant_id == tenant_id, DATA.c.object == PARTNER_LEAD, DATA.c.partner_type_id == type_id)
        )
        if type_id is not None and not ruled:
            bind.execute(
                DATA.insert().values(
                    tenant_id=tenant_id,
                    id=uuid.uuid4(),
                    object=PARTNER_LEAD,
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
        "agent_lead_pools",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("partner_type_id", sa.Uuid(), nullable=True),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("enterprise_limit", sa.Integer(), nullable=True),
        sa.Column("person_limit", sa.Integer(), nullable=True),
        sa.Column("daily_claim_limit", sa.Integer(), nullable=True),
        sa.Column("visible_fields", sa.JSON(), nullable=False),
        sa.Column("cooldown_days", sa.Integer(), nullable=False),
        sa.Column("follow_up_days", sa.Integer(), nullable=True),
        sa.Column("convert_days", sa.Integer(), nullable=True),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "coalesce(enterprise_limit, 1) > 0 AND coalesce(person_limit, 1) > 0 AND coalesce(daily_claim_limit, 1) > 0",
            name=op.f("ck_agent_lead_pools_limits"),
        ),
        sa.CheckConstraint(
            "cooldown_days >= 0 AND notice_days >= 0 AND coalesce(follow_up_days, 1) > 0 AND coalesce(convert_days, 1) > 0",
            name=op.f("ck_agent_lead_pools_days"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_lead_pools_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_lead_pools")),
    )
    op.create_table(
        "agent_lead_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("product_line", sa.String(length=80), nullable=True),
        sa.Column("partner_type_id", sa.Uuid(), nullable=True),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("pool_id", sa.Uuid(), nullable=True),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("strategy <> 'pool' OR pool_id IS NOT NULL", name=op.f("ck_agent_lead_rules_pool_target")),
        sa.CheckConstraint(
            "strategy IN ('round_robin', 'capacity', 'pool')", name=op.f("ck_agent_lead_rules_strategy")
        ),
        sa.CheckConstraint("coalesce(capacity, 1) > 0", name=op.f("ck_agent_lead_rules_capacity")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_lead_rules_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_lead_rules")),
    )
    with op.batch_alter_table("agent_lead_rules", schema=None) as batch_op:
        batch_op.create_index("ix_agent_lead_rules_position", ["tenant_id", "position"], unique=False)

    op.create_table(
        "agent_leads",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("product_line", sa.String(length=80), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pool_id", sa.Uuid(), nullable=True),
        sa.Column("holder_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_follow_up_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("follow_up_due", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("convert_due", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("noticed", sa.Boolean(), nullable=False),
        sa.Column("next_check_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("converted_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'assigned' OR enterprise_id IS NOT NULL OR holder_id IS NOT NULL",
            name=op.f("ck_agent_leads_held"),
        ),
        sa.CheckConstraint("status <> 'pooled' OR pool_id IS NOT NULL", name=op.f("ck_agent_leads_pooled_in_pool")),
        sa.CheckConstraint(
            "status IN ('new', 'pooled', 'assigned', 'converted', 'closed')", name=op.f("ck_agent_leads_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_agent_leads_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "pool_id"],
            ["agent_lead_pools.tenant_id", "agent_lead_pools.id"],
            name=op.f("fk_agent_leads_tenant_id_pool_id_agent_lead_pools"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_leads_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_leads")),
    )
    with op.batch_alter_table("agent_leads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_leads_created", ["tenant_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_agent_leads_enterprise",
            ["tenant_id", "enterprise_id", sa.literal_column("created_at DESC")],
            unique=False,
        )
        batch_op.create_index(
            "ix_agent_leads_next_check",
            ["tenant_id", "next_check_at"],
            unique=False,
            postgresql_where=sa.text("next_check_at IS NOT NULL"),
            sqlite_where=sa.text("next_check_at IS NOT NULL"),
        )
        batch_op.create_index(
            "ix_agent_leads_owner", ["tenant_id", "owner_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index("ix_agent_leads_pool", ["tenant_id", "pool_id", "status"], unique=False)

    op.create_table(
        "agent_lead_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "lead_id"],
            ["agent_leads.tenant_id", "agent_leads.id"],
            name=op.f("fk_agent_lead_events_tenant_id_lead_id_agent_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_lead_events_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_lead_events")),
    )
    with op.batch_alter_table("agent_lead_events", schema=None) as batch_op:
        batch_op.create_index("ix_agent_lead_events_actor", ["tenant_id", "actor_id", "action", "at"], unique=False)
        batch_op.create_index("ix_agent_lead_events_lead", ["tenant_id", "lead_id", "at"], unique=False)

    op.create_table(
        "agent_lead_extensions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_agent_lead_extensions_status")
        ),
        sa.CheckConstraint("days > 0", name=op.f("ck_agent_lead_extensions_days")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "lead_id"],
            ["agent_leads.tenant_id", "agent_leads.id"],
            name=op.f("fk_agent_lead_extensions_tenant_id_lead_id_agent_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_lead_extensions_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_lead_extensions")),
    )
    with op.batch_alter_table("agent_lead_extensions", schema=None) as batch_op:
        batch_op.create_index("ix_agent_lead_extensions_status", ["tenant_id", "status", "created_at"], unique=False)

    op.create_table(
        "agent_lead_follow_ups",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("next_step", sa.String(length=200), nullable=True),
        sa.Column("next_date", sa.Date(), nullable=True),
        sa.Column("remind_on", sa.Date(), nullable=True),
        sa.Column("author_kind", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('call', 'visit', 'message')", name=op.f("ck_agent_lead_follow_ups_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "lead_id"],
            ["agent_leads.tenant_id", "agent_leads.id"],
            name=op.f("fk_agent_lead_follow_ups_tenant_id_lead_id_agent_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_lead_follow_ups_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_lead_follow_ups")),
    )
    with op.batch_alter_table("agent_lead_follow_ups", schema=None) as batch_op:
        batch_op.create_index("ix_agent_lead_follow_ups_lead", ["tenant_id", "lead_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_agent_lead_follow_ups_remind",
            ["tenant_id", "remind_on"],
            unique=False,
            postgresql_where=sa.text("remind_on IS NOT NULL"),
            sqlite_where=sa.text("remind_on IS NOT NULL"),
        )


def _drop_tables() -> None:
    with op.batch_alter_table("agent_lead_follow_ups", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_lead_follow_ups_lead")
        batch_op.drop_index(
            "ix_agent_lead_follow_ups_remind",
            postgresql_where=sa.text("remind_on IS NOT NULL"),
            sqlite_where=sa.text("remind_on IS NOT NULL"),
        )

    op.drop_table("agent_lead_follow_ups")
    with op.batch_alter_table("agent_lead_extensions", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_lead_extensions_status")

    op.drop_table("agent_lead_extensions")
    with op.batch_alter_table("agent_lead_events", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_lead_events_lead")
        batch_op.drop_index("ix_agent_lead_events_actor")

    op.drop_table("agent_lead_events")
    with op.batch_alter_table("agent_leads", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_leads_pool")
        batch_op.drop_index("ix_agent_leads_owner")
        batch_op.drop_index(
            "ix_agent_leads_next_check",
            postgresql_where=sa.text("next_check_at IS NOT NULL"),
            sqlite_where=sa.text("next_check_at IS NOT NULL"),
        )
        batch_op.drop_index("ix_agent_leads_enterprise")
        batch_op.drop_index("ix_agent_leads_created")

    op.drop_table("agent_leads")
    with op.batch_alter_table("agent_lead_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_lead_rules_position")

    op.drop_table("agent_lead_rules")
    op.drop_table("agent_lead_pools")
