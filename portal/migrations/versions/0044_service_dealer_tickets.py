"""service dealer tickets: tickets a dealer opened for the devices it sold (under the dealer's data
permissions, with the customer's details as the dealer entered them); settlements bill the parts each
ticket used (one row per part of a line) instead of the fee schedule's flat parts amount, which the
schedule loses (lines already run keep theirs); staff adjustments of a partner's spare-parts stock

Existing tenants get the presets a new tenant does, frozen here as they are at this revision: the dealer
roles open the service app and may open tickets and read those their enterprise opened (dealers and stores
their own enterprise's, distributors with their sub-enterprises'); the service manager adjusts stock.

Revision ID: 0044_service_dealer_tickets
Revises: 0043_deal_registration
Create Date: 2026-12-04 23:40:00
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0044_service_dealer_tickets"
down_revision = "0043_deal_registration"
branch_labels = None
depends_on = None

TABLES = ("service_stock_adjustments", "service_dealer_tickets", "service_settlement_parts")
KEY, TEXT, FLAG = sa.Uuid(), sa.String(), sa.Boolean()
STAMP = portal.db.types.UTCDateTime()


def _table(table_name: str, /, **columns: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(column, kind) for column, kind in columns.items()))


TENANTS = _table("tenants", id=KEY)
ROLES = _table("roles", tenant_id=KEY, id=KEY, key=TEXT, apps=sa.JSON())
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
DEALER_TICKET = "partner.service.dealer_ticket"
DEALER_ROLES = ("dealer_admin", "dealer_buyer")
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "dealer_admin": ((DEALER_TICKET, "read"), (DEALER_TICKET, "create")),
    "dealer_buyer": ((DEALER_TICKET, "read"), (DEALER_TICKET, "create")),
    "service_manager": (("service.parts", "adjust"),),
}
# partner type code -> (level, include sub-enterprises)
LEVELS = {
    "dealer": ("enterprise_read", False),
    "store": ("enterprise_read", False),
    "distributor": ("enterprise_read", True),
}


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
        bind.execute(DATA.delete().where(DATA.c.object == DEALER_TICKET))
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))
    with op.batch_alter_table("service_fees", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_service_fees_amounts"), type_="check")
        batch_op.add_column(
            sa.Column("parts", portal.db.types.Money(precision=18, scale=4), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint(op.f("ck_service_fees_amounts"), "labour >= 0 AND travel >= 0 AND parts >= 0")

    with op.batch_alter_table("service_settlement_parts", schema=None) as batch_op:
        batch_op.drop_index("ix_service_settlement_parts_line")

    op.drop_table("service_settlement_parts")
    with op.batch_alter_table("service_dealer_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_service_dealer_tickets_owner")
        batch_op.drop_index("ix_service_dealer_tickets_enterprise")
        batch_op.drop_index("ix_service_dealer_tickets_created")

    op.drop_table("service_dealer_tickets")
    with op.batch_alter_table("service_stock_adjustments", schema=None) as batch_op:
        batch_op.drop_index("ix_service_stock_adjustments_enterprise")

    op.drop_table("service_stock_adjustments")


def _presets(bind: sa.Connection, tenant_id: uuid.UUID) -> None:
    for role_id, apps in bind.execute(
        sa.select(ROLES.c.id, ROLES.c.apps).where(ROLES.c.tenant_id == tenant_id, ROLES.c.key.in_(DEALER_ROLES))
    ).all():
        if "service" not in (apps or []):
            bind.execute(
                ROLES.update()
                .where(ROLES.c.tenant_id == tenant_id, ROLES.c.id == role_id)
                .values(apps=sorted({*(apps or []), "service"}))
            )
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
    for code, (level, subtree) in LEVELS.items():
        type_id = bind.scalar(sa.select(TYPES.c.id).where(TYPES.c.tenant_id == tenant_id, TYPES.c.code == code))
        if type_id is None:
            continue
        ruled = bind.scalar(
            sa.select(sa.func.count())
            .select_from(DATA)
            .where(DATA.c.tenant_id == tenant_id, DATA.c.object == DEALER_TICKET, DATA.c.partner_type_id == type_id)
        )
        if not ruled:
            bind.execute(
                DATA.insert().values(
                    tenant_id=tenant_id,
                    id=uuid.uuid4(),
                    object=DEALER_TICKET,
                    partner_type_id=type_id,
                    link_id=None,
                    level=level,
                    include_sub_enterprises=subtree,
                    created_at=now,
                    updated_at=now,
                )
            )


def _tables() -> None:
    op.create_table(
        "service_stock_adjustments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("change", sa.Integer(), nullable=False),
        sa.Column("quantity_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.CheckConstraint("change <> 0", name=op.f("ck_service_stock_adjustments_change")),
        sa.CheckConstraint("quantity_after >= 0", name=op.f("ck_service_stock_adjustments_quantity_after")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_service_stock_adjustments_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_service_stock_adjustments_tenant_id_product_id_ordering_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_service_stock_adjustments_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_stock_adjustments")),
    )
    with op.batch_alter_table("service_stock_adjustments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_stock_adjustments_enterprise", ["tenant_id", "enterprise_id", "at"], unique=False
        )

    op.create_table(
        "service_dealer_tickets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_service_dealer_tickets_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ticket_id"],
            ["service_tickets.tenant_id", "service_tickets.id"],
            name=op.f("fk_service_dealer_tickets_tenant_id_ticket_id_service_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_dealer_tickets_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_dealer_tickets")),
        sa.UniqueConstraint("tenant_id", "ticket_id", name=op.f("uq_service_dealer_tickets_tenant_id_ticket_id")),
    )
    with op.batch_alter_table("service_dealer_tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_dealer_tickets_created", ["tenant_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_service_dealer_tickets_enterprise",
            ["tenant_id", "enterprise_id", sa.literal_column("created_at DESC")],
            unique=False,
        )
        batch_op.create_index(
            "ix_service_dealer_tickets_owner",
            ["tenant_id", "owner_id", sa.literal_column("created_at DESC")],
            unique=False,
        )

    op.create_table(
        "service_settlement_parts",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("line_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("sku", sa.String(length=60), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.CheckConstraint("quantity > 0 AND amount >= 0", name=op.f("ck_service_settlement_parts_amounts")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "line_id"],
            ["service_settlement_lines.tenant_id", "service_settlement_lines.id"],
            name=op.f("fk_service_settlement_parts_tenant_id_line_id_service_settlement_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_service_settlement_parts_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_settlement_parts")),
    )
    with op.batch_alter_table("service_settlement_parts", schema=None) as batch_op:
        batch_op.create_index("ix_service_settlement_parts_line", ["tenant_id", "line_id"], unique=False)

    # the fee schedule no longer prices parts: a settlement bills the parts each ticket used
    with op.batch_alter_table("service_fees", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_service_fees_amounts"), type_="check")
        batch_op.drop_column("parts")
        batch_op.create_check_constraint(op.f("ck_service_fees_amounts"), "labour >= 0 AND travel >= 0")
