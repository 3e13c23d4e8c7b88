"""service parts: spare-parts stock per service partner (catalog products on consignment), parts
requests with their lines

Existing tenants get the presets a new tenant does, frozen here as they are at this revision: the
service manager reads the stock and approves and ships requests, the staff dispatcher reads both, the
partner's service dispatcher reads its stock and requests parts, its engineers read the stock; service
providers see their enterprise's stock and requests.

Revision ID: 0037_service_parts
Revises: 0036_service_field
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0037_service_parts"
down_revision = "0036_service_field"
branch_labels = None
depends_on = None

TABLES = ("service_part_requests", "service_part_stock", "service_part_request_lines")
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
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "service_manager": (
        ("service.parts", "read"),
        ("service.part_request", "read"),
        ("service.part_request", "approve"),
        ("service.part_request", "ship"),
    ),
    "dispatcher": (("service.parts", "read"), ("service.part_request", "read")),
    "service_dispatcher": (
        ("partner.service.parts", "read"),
        ("partner.service.part_request", "read"),
        ("partner.service.part_request", "create"),
    ),
    "service_engineer": (("partner.service.parts", "read"),),
}
LEVELS = {"partner.service.parts": "enterprise_read", "partner.service.part_request": "enterprise_write"}


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
        bind.execute(DATA.delete().where(DATA.c.object.in_(tuple(LEVELS))))
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))
    with op.batch_alter_table("service_part_request_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_service_part_request_lines_request")

    op.drop_table("service_part_request_lines")
    with op.batch_alter_table("service_part_stock", schema=None) as batch_op:
        batch_op.drop_index("ix_service_part_stock_owner")
        batch_op.drop_index("ix_service_part_stock_created")

    op.drop_table("service_part_stock")
    with op.batch_alter_table("service_part_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_service_part_requests_owner")
        batch_op.drop_index("ix_service_part_requests_enterprise")
        batch_op.drop_index("ix_service_part_requests_created")

    op.drop_table("service_part_requests")


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
    type_id = bind.scalar(
        sa.select(TYPES.c.id).where(TYPES.c.tenant_id == tenant_id, TYPES.c.code == "service_provider")
    )
    if type_id is None:
        return
    for obj, level in LEVELS.items():
        ruled = bind.scalar(
            sa.select(sa.func.count())
            .select_from(DATA)
            .where(DATA.c.tenant_id == tenant_id, DATA.c.object == obj, DATA.c.partner_type_id == type_id)
        )
        if not ruled:
            bind.execute(
                DATA.insert().values(
                    tenant_id=tenant_id,
                    id=uuid.uuid4(),
                    object=obj,
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
        "service_part_requests",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("reject_reason", sa.String(length=1000), nullable=True),
        sa.Column("approved_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'shipped', 'rejected')", name=op.f("ck_service_part_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_service_part_requests_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_part_requests_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_part_requests")),
    )
    with op.batch_alter_table("service_part_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_part_requests_created", ["tenant_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_service_part_requests_enterprise",
            ["tenant_id", "enterprise_id", sa.literal_column("created_at DESC")],
            unique=False,
        )
        batch_op.create_index(
            "ix_service_part_requests_owner",
            ["tenant_id", "owner_id", sa.literal_column("created_at DESC")],
            unique=False,
        )

    op.create_table(
        "service_part_stock",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_service_part_stock_quantity")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_service_part_stock_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_service_part_stock_tenant_id_product_id_ordering_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_part_stock_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_part_stock")),
        sa.UniqueConstraint(
            "tenant_id",
            "enterprise_id",
            "product_id",
            name=op.f("uq_service_part_stock_tenant_id_enterprise_id_product_id"),
        ),
    )
    with op.batch_alter_table("service_part_stock", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_part_stock_created", ["tenant_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_service_part_stock_owner", ["tenant_id", "owner_id", sa.literal_column("created_at DESC")], unique=False
        )

    op.create_table(
        "service_part_request_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_service_part_request_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_service_part_request_lines_tenant_id_product_id_ordering_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "request_id"],
            ["service_part_requests.tenant_id", "service_part_requests.id"],
            name=op.f("fk_service_part_request_lines_tenant_id_request_id_service_part_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_service_part_request_lines_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_part_request_lines")),
    )
    with op.batch_alter_table("service_part_request_lines", schema=None) as batch_op:
        batch_op.create_index("ix_service_part_request_lines_request", ["tenant_id", "request_id"], unique=False)
