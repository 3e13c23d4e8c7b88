"""agent commissions and market development funds

Commission rules, each deal's commission terms, the lines won deals earn (and reversals), the statements
they gather into; fund budgets and requests. The ordering app's account entries gain the kind
"commission" (an approved statement posted to a partner's account). Existing tenants get the presets as
a new tenant does, frozen here as they are at this revision: the deal registrar reviews commission
statements and requests and claims funds (never setting the amounts it is paid: read-only fields), the
channel manager sets commission rules, approves statements, sets budgets and decides and pays requests.

Revision ID: 0042_agent_commissions
Revises: 0041_wechat_official_account
Create Date: 2026-12-04 21:30:00
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0042_agent_commissions"
down_revision = "0041_wechat_official_account"
branch_labels = None
depends_on = None

TABLES = (
    "agent_commission_rules",
    "agent_deal_terms",
    "agent_fund_budgets",
    "agent_commission_statements",
    "agent_fund_requests",
    "agent_commission_lines",
)
KEY, TEXT = sa.Uuid(), sa.String()


def _table(table_name: str, /, **columns: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(column, kind) for column, kind in columns.items()))


TENANTS = _table("tenants", id=KEY)
ROLES = _table("roles", tenant_id=KEY, id=KEY, key=TEXT)
RULES = _table("policy_rules", tenant_id=KEY, id=KEY, ptype=TEXT, v0=TEXT, v1=TEXT, v2=TEXT)
FIELDS = _table("field_rules", tenant_id=KEY, id=KEY, role_id=KEY, object=TEXT, field=TEXT, access=TEXT)
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "deal_registrar": (
        *(("partner.agent.commission", a) for a in ("read", "review")),
        *(("partner.agent.fund", a) for a in ("read", "request", "claim")),
    ),
    "channel_manager": (
        *(("agent.commission", a) for a in ("read", "setup", "approve", "export")),
        *(("agent.fund", a) for a in ("read", "budget", "approve", "pay")),
    ),
}
READ_ONLY = {
    "deal_registrar": (
        ("partner.agent.commission", "rate"),
        ("partner.agent.commission", "amount"),
        ("partner.agent.fund", "approved_amount"),
        ("partner.agent.fund", "paid_amount"),
    )
}
ENTRY_KINDS = "kind IN ('order', 'payment', 'reversal', 'settlement', 'commission')"
OLD_ENTRY_KINDS = "kind IN ('order', 'payment', 'reversal', 'settlement')"


def upgrade() -> None:
    _tables()
    for table in TABLES:
        rls.tenant_table(table)
    with op.batch_alter_table("ordering_account_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ordering_account_entries_kind"), type_="check")
        batch_op.create_check_constraint("kind", ENTRY_KINDS)
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
        bind.execute(FIELDS.delete().where(FIELDS.c.object.in_(("partner.agent.commission", "partner.agent.fund"))))
        bind.execute(sa.text("DELETE FROM ordering_account_entries WHERE kind = 'commission'"))
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))
    with op.batch_alter_table("ordering_account_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ordering_account_entries_kind"), type_="check")
        batch_op.create_check_constraint("kind", OLD_ENTRY_KINDS)
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
    for key, names in READ_ONLY.items():
        role_id = bind.scalar(sa.select(ROLES.c.id).where(ROLES.c.tenant_id == tenant_id, ROLES.c.key == key))
        if role_id is None:
            continue
        ruled = set(
            bind.execute(
                sa.select(FIELDS.c.object, FIELDS.c.field).where(
                    FIELDS.c.tenant_id == tenant_id, FIELDS.c.role_id == role_id
                )
            ).all()
        )
        for obj, field in names:
            if (obj, field) not in ruled:
                bind.execute(
                    FIELDS.insert().values(
                        tenant_id=tenant_id,
                        id=uuid.uuid4(),
                        role_id=role_id,
                        object=obj,
                        field=field,
                        access="read_only",
                    )
                )


def _tables() -> None:
    op.create_table(
        "agent_commission_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.Column("product_line", sa.String(length=80), nullable=True),
        sa.Column("deal_type", sa.String(length=16), nullable=True),
        sa.Column("rate", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "deal_type IS NULL OR deal_type IN ('new_business', 'renewal', 'expansion')",
            name=op.f("ck_agent_commission_rules_deal_type"),
        ),
        sa.CheckConstraint("rate >= 0", name=op.f("ck_agent_commission_rules_rate")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_commission_rules_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_commission_rules")),
    )
    with op.batch_alter_table("agent_commission_rules", schema=None) as batch_op:
        batch_op.create_index("ix_agent_commission_rules_position", ["tenant_id", "position"], unique=False)

    op.create_table(
        "agent_deal_terms",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("product_line", sa.String(length=80), nullable=True),
        sa.Column("deal_type", sa.String(length=16), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "deal_type IS NULL OR deal_type IN ('new_business', 'renewal', 'expansion')",
            name=op.f("ck_agent_deal_terms_deal_type"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_deal_terms_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_deal_terms")),
        sa.UniqueConstraint("tenant_id", "deal_id", name=op.f("uq_agent_deal_terms_tenant_id_deal_id")),
    )
    op.create_table(
        "agent_fund_budgets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.Column("amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reserved", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("paid", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0 AND reserved >= 0 AND paid >= 0", name=op.f("ck_agent_fund_budgets_amounts")),
        sa.CheckConstraint("reserved <= amount AND paid <= reserved", name=op.f("ck_agent_fund_budgets_within")),
        sa.CheckConstraint("starts_on <= ends_on", name=op.f("ck_agent_fund_budgets_period")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tier_id"],
            ["partner_tiers.tenant_id", "partner_tiers.id"],
            name=op.f("fk_agent_fund_budgets_tenant_id_tier_id_partner_tiers"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_fund_budgets_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_fund_budgets")),
    )
    with op.batch_alter_table("agent_fund_budgets", schema=None) as batch_op:
        batch_op.create_index("ix_agent_fund_budgets_period", ["tenant_id", "starts_on"], unique=False)

    op.create_table(
        "agent_commission_statements",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("lines_count", sa.Integer(), nullable=False),
        sa.Column("review_note", sa.String(length=1000), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("posted", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'disputed', 'approved', 'withdrawn')",
            name=op.f("ck_agent_commission_statements_status"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_agent_commission_statements_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_agent_commission_statements_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_commission_statements")),
        sa.UniqueConstraint(
            "tenant_id",
            "enterprise_id",
            "period",
            "currency",
            "round",
            name=op.f("uq_agent_commission_statements_tenant_id_enterprise_id_period_currency_round"),
        ),
    )
    with op.batch_alter_table("agent_commission_statements", schema=None) as batch_op:
        batch_op.create_index("ix_agent_commission_statements_status", ["tenant_id", "status"], unique=False)

    op.create_table(
        "agent_fund_requests",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("purpose", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=True),
        sa.Column("approved_amount", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_amount", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("claim_note", sa.String(length=2000), nullable=True),
        sa.Column("claimed_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paid_amount", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("paid_by", sa.Uuid(), nullable=True),
        sa.Column("paid_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'rejected', 'claimed', 'paid')",
            name=op.f("ck_agent_fund_requests_status"),
        ),
        sa.CheckConstraint(
            "amount > 0 AND coalesce(approved_amount, 0) >= 0 AND coalesce(claimed_amount, 0) >= 0 AND coalesce(paid_amount, 0) >= 0",
            name=op.f("ck_agent_fund_requests_amounts"),
        ),
        sa.CheckConstraint(
            "claimed_amount IS NULL OR claimed_amount <= approved_amount",
            name=op.f("ck_agent_fund_requests_claim_within_approval"),
        ),
        sa.CheckConstraint(
            "paid_amount IS NULL OR paid_amount <= claimed_amount",
            name=op.f("ck_agent_fund_requests_paid_within_claim"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "budget_id"],
            ["agent_fund_budgets.tenant_id", "agent_fund_budgets.id"],
            name=op.f("fk_agent_fund_requests_tenant_id_budget_id_agent_fund_budgets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_agent_fund_requests_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_fund_requests_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_fund_requests")),
    )
    with op.batch_alter_table("agent_fund_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agent_fund_requests_enterprise", ["tenant_id", "enterprise_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_agent_fund_requests_status", ["tenant_id", "status"], unique=False)

    op.create_table(
        "agent_commission_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("deal_amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("rate", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("reversed", sa.Boolean(), nullable=False),
        sa.Column("earned_on", sa.Date(), nullable=False),
        sa.Column("statement_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind = 'earned' OR amount <= 0", name=op.f("ck_agent_commission_lines_reversal_sign")),
        sa.CheckConstraint("kind = 'reversal' OR amount >= 0", name=op.f("ck_agent_commission_lines_earned_sign")),
        sa.CheckConstraint("kind IN ('earned', 'reversal')", name=op.f("ck_agent_commission_lines_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_agent_commission_lines_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "statement_id"],
            ["agent_commission_statements.tenant_id", "agent_commission_statements.id"],
            name=op.f("fk_agent_commission_lines_tenant_id_statement_id_agent_commission_statements"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_commission_lines_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_commission_lines")),
    )
    with op.batch_alter_table("agent_commission_lines", schema=None) as batch_op:
        batch_op.create_index("ix_agent_commission_lines_deal", ["tenant_id", "deal_id"], unique=False)
        batch_op.create_index(
            "ix_agent_commission_lines_open", ["tenant_id", "enterprise_id", "earned_on"], unique=False
        )
        batch_op.create_index("ix_agent_commission_lines_statement", ["tenant_id", "statement_id"], unique=False)


def _drop_tables() -> None:
    with op.batch_alter_table("agent_commission_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_commission_lines_statement")
        batch_op.drop_index("ix_agent_commission_lines_open")
        batch_op.drop_index("ix_agent_commission_lines_deal")

    op.drop_table("agent_commission_lines")
    with op.batch_alter_table("agent_fund_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_fund_requests_status")
        batch_op.drop_index("ix_agent_fund_requests_enterprise")

    op.drop_table("agent_fund_requests")
    with op.batch_alter_table("agent_commission_statements", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_commission_statements_status")

    op.drop_table("agent_commission_statements")
    with op.batch_alter_table("agent_fund_budgets", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_fund_budgets_period")

    op.drop_table("agent_fund_budgets")
    op.drop_table("agent_deal_terms")
    with op.batch_alter_table("agent_commission_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_commission_rules_position")

    op.drop_table("agent_commission_rules")
