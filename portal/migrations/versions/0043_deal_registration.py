"""deal registration: CRM accounts keep their matching keys and gain contacts; deals link to their
account, contact and lead and carry their registration (conflict, approved until protected_until,
rejected) with one extension; the matches of a flagged registration, follow-ups on deals and the
programme's protection days

Existing accounts get their folded name. Existing tenants get the presets as a new tenant does, frozen
here as they are at this revision: the channel manager decides registrations and their extensions and
reads and moves deals across partners.

Revision ID: 0043_deal_registration
Revises: 0042_agent_commissions
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.crm.matching import name_key
from portal.db import rls

revision = "0043_deal_registration"
down_revision = "0042_agent_commissions"
branch_labels = None
depends_on = None

TABLES = ("crm_contacts", "agent_deal_matches", "agent_deal_follow_ups", "agent_registration_settings")
KEY, TEXT = sa.Uuid(), sa.String()
STAMP = portal.db.types.UTCDateTime(timezone=True)


def _table(table_name: str, /, **columns: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(column, kind) for column, kind in columns.items()))


TENANTS = _table("tenants", id=KEY)
ACCOUNTS = _table("crm_accounts", tenant_id=KEY, id=KEY, name=TEXT, name_key=TEXT)
RULES = _table("policy_rules", tenant_id=KEY, id=KEY, ptype=TEXT, v0=TEXT, v1=TEXT, v2=TEXT)
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "channel_manager": (
        *(("agent.registration", a) for a in ("read", "decide", "update")),
        *(("agent.deal", a) for a in ("read", "update", "export")),
    ),
}


def upgrade() -> None:
    _accounts()
    _deals()
    _tables()
    for table in TABLES:
        rls.tenant_table(table)
    bind = op.get_bind()
    with rls.as_system_role():
        for account_id, tenant_id, name in bind.execute(
            sa.select(ACCOUNTS.c.id, ACCOUNTS.c.tenant_id, ACCOUNTS.c.name)
        ):
            bind.execute(
                ACCOUNTS.update()
                .where(ACCOUNTS.c.tenant_id == tenant_id, ACCOUNTS.c.id == account_id)
                .values(name_key=name_key(name))
            )
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
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))
    for table in ("agent_registration_settings", "agent_deal_follow_ups", "agent_deal_matches", "crm_contacts"):
        op.drop_table(table)
    with op.batch_alter_table("agent_deals", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_deals_registration")
        batch_op.drop_index("ix_agent_deals_account")
        batch_op.drop_constraint("fk_agent_deals_tenant_id_account_id_crm_accounts", type_="foreignkey")
        batch_op.drop_constraint("ck_agent_deals_registration", type_="check")
        batch_op.drop_constraint("ck_agent_deals_extension", type_="check")
        for column in ("decided_at", "decided_by", "extension", "protected_until", "registration", "lead_id"):
            batch_op.drop_column(column)
        batch_op.drop_column("contact_id")
        batch_op.drop_column("account_id")
    with op.batch_alter_table("crm_accounts", schema=None) as batch_op:
        for index in (
            "ix_crm_accounts_email",
            "ix_crm_accounts_phone",
            "ix_crm_accounts_tax_id",
            "ix_crm_accounts_name_key",
        ):
            batch_op.drop_index(index)
        for column in ("lead_id", "enterprise_id", "email", "phone", "tax_id", "name_key"):
            batch_op.drop_column(column)


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


def _accounts() -> None:
    with op.batch_alter_table("crm_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("tax_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("enterprise_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("lead_id", sa.Uuid(), nullable=True))
        batch_op.create_index("ix_crm_accounts_name_key", ["tenant_id", "name_key"], unique=False)
        batch_op.create_index("ix_crm_accounts_tax_id", ["tenant_id", "tax_id"], unique=False)
        batch_op.create_index("ix_crm_accounts_phone", ["tenant_id", "phone"], unique=False)
        batch_op.create_index("ix_crm_accounts_email", ["tenant_id", "email"], unique=False)


def _deals() -> None:
    with op.batch_alter_table("agent_deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("contact_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("lead_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("registration", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("protected_until", STAMP, nullable=True))
        batch_op.add_column(sa.Column("extension", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("decided_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", STAMP, nullable=True))
        batch_op.create_foreign_key(
            "fk_agent_deals_tenant_id_account_id_crm_accounts",
            "crm_accounts",
            ["tenant_id", "account_id"],
            ["tenant_id", "id"],
            ondelete="RESTRICT",
        )
        batch_op.create_check_constraint(
            "ck_agent_deals_registration", "registration IN ('conflict', 'approved', 'rejected')"
        )
        batch_op.create_check_constraint("ck_agent_deals_extension", "extension IN ('pending', 'approved', 'rejected')")
        batch_op.create_index("ix_agent_deals_account", ["tenant_id", "account_id"], unique=False)
        batch_op.create_index("ix_agent_deals_registration", ["tenant_id", "registration", "created_at"], unique=False)


def _tenant(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="RESTRICT"
    )


def _to_deal(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column],
        ["agent_deals.tenant_id", "agent_deals.id"],
        name=op.f(f"fk_{table}_tenant_id_{column}_agent_deals"),
        ondelete="CASCADE",
    )


def _to_account(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "account_id"],
        ["crm_accounts.tenant_id", "crm_accounts.id"],
        name=op.f(f"fk_{table}_tenant_id_account_id_crm_accounts"),
        ondelete="CASCADE",
    )


def _tables() -> None:
    op.create_table(
        "crm_contacts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        _to_account("crm_contacts"),
        _tenant("crm_contacts"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_crm_contacts")),
    )
    with op.batch_alter_table("crm_contacts", schema=None) as batch_op:
        batch_op.create_index("ix_crm_contacts_account", ["tenant_id", "account_id"], unique=False)
    op.create_table(
        "agent_deal_matches",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("other_deal_id", sa.Uuid(), nullable=True),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.CheckConstraint("key IN ('name', 'tax_id', 'phone', 'email')", name=op.f("ck_agent_deal_matches_key")),
        _to_deal("agent_deal_matches", "deal_id"),
        _to_deal("agent_deal_matches", "other_deal_id"),
        _to_account("agent_deal_matches"),
        _tenant("agent_deal_matches"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_deal_matches")),
    )
    with op.batch_alter_table("agent_deal_matches", schema=None) as batch_op:
        batch_op.create_index("ix_agent_deal_matches_deal", ["tenant_id", "deal_id"], unique=False)
    op.create_table(
        "agent_deal_follow_ups",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deal_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("next_step", sa.String(length=200), nullable=True),
        sa.Column("next_date", sa.Date(), nullable=True),
        sa.Column("remind_on", sa.Date(), nullable=True),
        sa.Column("author_kind", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", STAMP, nullable=False),
        sa.CheckConstraint("kind IN ('call', 'visit', 'message')", name=op.f("ck_agent_deal_follow_ups_kind")),
        _to_deal("agent_deal_follow_ups", "deal_id"),
        _tenant("agent_deal_follow_ups"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_deal_follow_ups")),
    )
    with op.batch_alter_table("agent_deal_follow_ups", schema=None) as batch_op:
        batch_op.create_index("ix_agent_deal_follow_ups_deal", ["tenant_id", "deal_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_agent_deal_follow_ups_remind",
            ["tenant_id", "remind_on"],
            unique=False,
            postgresql_where=sa.text("remind_on IS NOT NULL"),
            sqlite_where=sa.text("remind_on IS NOT NULL"),
        )
    op.create_table(
        "agent_registration_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("protection_days", sa.Integer(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        sa.CheckConstraint(
            "protection_days BETWEEN 1 AND 3650 AND extension_days BETWEEN 1 AND 3650",
            name=op.f("ck_agent_registration_settings_days"),
        ),
        _tenant("agent_registration_settings"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_registration_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_agent_registration_settings_tenant_id")),
    )
