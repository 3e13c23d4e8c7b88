"""ordering: catalog, price lists, stock, carts, orders, approvals, shipments, payments and accounts;
existing tenants get the ordering app's preset grants, field rules, data levels, warehouse and settings

Revision ID: 0006_ordering
Revises: 0005_agent_deals
Create Date: 2026-12-01 19:22:20
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

TABLES = (
    "ordering_categories",
    "ordering_warehouses",
    "ordering_approval_rules",
    "ordering_products",
    "ordering_settings",
    "ordering_cart_lines",
    "ordering_credit_limits",
    "ordering_orders",
    "ordering_payments",
    "ordering_price_lists",
    "ordering_product_visibility",
    "ordering_stock",
    "ordering_account_entries",
    "ordering_order_approvals",
    "ordering_order_events",
    "ordering_order_lines",
    "ordering_payment_allocations",
    "ordering_price_list_items",
    "ordering_shipments",
    "ordering_shipment_lines",
)
OBJECT_PREFIXES = ("ordering.", "partner.ordering.")

# The ordering presets as they were when this revision was written: a migration keeps the rows it
# inserts, whatever the presets of later versions say.
GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "dealer_admin": (
        ("partner.ordering.catalog", "read"),
        ("partner.ordering.order", "read"),
        ("partner.ordering.order", "create"),
        ("partner.ordering.order", "cancel"),
        ("partner.ordering.order", "receive"),
        ("partner.ordering.order", "export"),
        ("partner.ordering.account", "read"),
        ("partner.ordering.account", "create"),
        ("partner.ordering.account", "export"),
    ),
    "dealer_buyer": (
        ("partner.ordering.catalog", "read"),
        ("partner.ordering.order", "read"),
        ("partner.ordering.order", "create"),
        ("partner.ordering.order", "cancel"),
        ("partner.ordering.order", "receive"),
    ),
    "order_desk": (
        ("ordering.catalog", "read"),
        ("ordering.prices", "read"),
        ("ordering.stock", "read"),
        ("ordering.stock", "update"),
        ("ordering.order", "read"),
        ("ordering.order", "create"),
        ("ordering.order", "approve"),
        ("ordering.order", "ship"),
        ("ordering.order", "cancel"),
        ("ordering.order", "export"),
        ("ordering.payment", "read"),
        ("ordering.payment", "create"),
        ("ordering.payment", "approve"),
        ("ordering.credit", "read"),
        ("ordering.settings", "read"),
    ),
    "channel_manager": (
        ("ordering.catalog", "read"),
        ("ordering.prices", "read"),
        ("ordering.order", "read"),
        ("ordering.credit", "read"),
        ("ordering.credit", "update"),
    ),
}
HIDDEN_COSTS: dict[str, tuple[str, ...]] = {
    "dealer_admin": ("partner.ordering.catalog", "partner.ordering.order"),
    "dealer_buyer": ("partner.ordering.catalog", "partner.ordering.order"),
}
COST_FIELD_NAMES: tuple[str, ...] = ("cost_price", "margin")
ORDER_LEVELS: dict[str, tuple[str, bool]] = {
    "dealer": ("enterprise_write", False),
    "store": ("enterprise_write", False),
    "distributor": ("enterprise_write", True),
}
MAIN_WAREHOUSE = ("MAIN", "Main warehouse")
FIRST_APPROVAL = ("Order desk review", 1, "order_desk")
# PostgreSQL draws order and shipment numbers from sequences (apps.ordering.placing.next_number)
SEQUENCES = ("ordering_order_number_seq", "ordering_shipment_number_seq")


def _table(table_name: str, /, **columns: sa.types.TypeEngine) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(column, kind) for column, kind in columns.items()))


def _existing_tenants_get_presets() -> None:
    """Tenants made before the ordering app get what a new tenant gets (apps.ordering.seed)."""
    bind = op.get_bind()
    key, text, flag, number = sa.Uuid(), sa.String(), sa.Boolean(), sa.Integer()
    roles = _table("roles", tenant_id=key, id=key, key=text)
    rules = _table("policy_rules", tenant_id=key, id=key, ptype=text, v0=text, v1=text, v2=text)
    fields = _table("field_rules", tenant_id=key, id=key, role_id=key, object=text, field=text, access=text)
    data = _table(
        "data_rules",
        tenant_id=key,
        id=key,
        object=text,
        partner_type_id=key,
        link_id=key,
        level=text,
        include_sub_enterprises=flag,
        created_at=portal.db.types.UTCDateTime(),
        updated_at=portal.db.types.UTCDateTime(),
    )
    types_t = _table("partner_types", tenant_id=key, id=key, code=text)
    stamps = {"created_at": portal.db.types.UTCDateTime(), "updated_at": portal.db.types.UTCDateTime()}
    warehouses = _table("ordering_warehouses", tenant_id=key, id=key, code=text, name=text, active=flag, **stamps)
    settings = _table(
        "ordering_settings",
        tenant_id=key,
        id=key,
        currency=text,
        reserve_on=text,
        over_credit=text,
        credit_approver_role=text,
        auto_receive_days=number,
        default_warehouse_id=key,
        next_order_number=number,
        next_shipment_number=number,
        **stamps,
    )
    approval = _table(
        "ordering_approval_rules",
        tenant_id=key,
        id=key,
        name=text,
        step=number,
        role_key=text,
        min_amount=portal.db.types.Money(),
        active=flag,
        **stamps,
    )
    now = portal.db.types.utcnow()
    for (tenant_id,) in bind.execute(sa.select(sa.table("tenants", sa.column("id", key)).c.id)).all():
        held = dict(bind.execute(sa.select(roles.c.key, roles.c.id).where(roles.c.tenant_id == tenant_id)).all())
        for role, grants in GRANTS.items():
            if role in held:
                for obj, action in grants:
                    bind.execute(
                        rules.insert().values(
                            tenant_id=tenant_id, id=uuid.uuid4(), ptype="p", v0="r:" + role, v1=obj, v2=action
                        )
                    )
        for role, objects in HIDDEN_COSTS.items():
            if role in held:
                for obj in objects:
                    for name in COST_FIELD_NAMES:
                        bind.execute(
                            fields.insert().values(
                                tenant_id=tenant_id,
                                id=uuid.uuid4(),
                                role_id=held[role],
                                object=obj,
                                field=name,
                                access="hidden",
                            )
                        )
        types = dict(
            bind.execute(sa.select(types_t.c.code, types_t.c.id).where(types_t.c.tenant_id == tenant_id)).all()
        )
        for code, (level, subtree) in ORDER_LEVELS.items():
            if code in types:
                bind.execute(
                    data.insert().values(
                        tenant_id=tenant_id,
                        id=uuid.uuid4(),
                        object="partner.ordering.order",
                        partner_type_id=types[code],
                        link_id=None,
                        level=level,
                        include_sub_enterprises=subtree,
                        created_at=now,
                        updated_at=now,
                    )
                )
        warehouse_id = uuid.uuid4()
        code, name = MAIN_WAREHOUSE
        bind.execute(
            warehouses.insert().values(
                tenant_id=tenant_id, id=warehouse_id, code=code, name=name, active=True, created_at=now, updated_at=now
            )
        )
        bind.execute(
            settings.insert().values(
                tenant_id=tenant_id,
                id=uuid.uuid4(),
                currency="CNY",
                reserve_on="approval",
                over_credit="refuse",
                credit_approver_role="admin",
                auto_receive_days=14,
                default_warehouse_id=warehouse_id,
                next_order_number=1,
                next_shipment_number=1,
                created_at=now,
                updated_at=now,
            )
        )
        rule_name, step, role = FIRST_APPROVAL
        bind.execute(
            approval.insert().values(
                tenant_id=tenant_id,
                id=uuid.uuid4(),
                name=rule_name,
                step=step,
                role_key=role,
                min_amount=0,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
    # every process recompiles the tenants' policies on their next request
    bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))


def _forget_presets() -> None:
    bind = op.get_bind()
    for prefix in OBJECT_PREFIXES:
        bind.execute(sa.text("DELETE FROM policy_rules WHERE v1 LIKE :p"), {"p": prefix + "%"})
        bind.execute(sa.text("DELETE FROM field_rules WHERE object LIKE :p"), {"p": prefix + "%"})
        bind.execute(sa.text("DELETE FROM data_rules WHERE object LIKE :p"), {"p": prefix + "%"})
        bind.execute(sa.text("DELETE FROM sharing_rules WHERE object LIKE :p"), {"p": prefix + "%"})
        bind.execute(sa.text("DELETE FROM internal_scopes WHERE object LIKE :p"), {"p": prefix + "%"})
        bind.execute(sa.text("DELETE FROM record_team_members WHERE object LIKE :p"), {"p": prefix + "%"})
    bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))


revision = "0006_ordering"
down_revision = "0005_agent_deals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "ordering_categories",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["ordering_categories.tenant_id", "ordering_categories.id"],
            name=op.f("fk_ordering_categories_tenant_id_parent_id_ordering_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_categories_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_categories")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_ordering_categories_tenant_id_code")),
    )
    op.create_table(
        "ordering_warehouses",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_warehouses_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_warehouses")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_ordering_warehouses_tenant_id_code")),
    )
    op.create_table(
        "ordering_approval_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("role_key", sa.String(length=64), nullable=False),
        sa.Column("min_amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("partner_type_id", sa.Uuid(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("min_amount >= 0", name=op.f("ck_ordering_approval_rules_min_amount")),
        sa.CheckConstraint("step >= 1", name=op.f("ck_ordering_approval_rules_step")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_ordering_approval_rules_tenant_id_partner_type_id_partner_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_approval_rules_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_approval_rules")),
    )
    with op.batch_alter_table("ordering_approval_rules", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_approval_rules_step", ["tenant_id", "step"], unique=False)

    op.create_table(
        "ordering_products",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("min_order_quantity", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("image_url", sa.String(length=500), nullable=True),
        sa.Column("cost_price", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("visible_to_all", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("min_order_quantity >= 1", name=op.f("ck_ordering_products_min_order_quantity")),
        sa.CheckConstraint("pack_size >= 1", name=op.f("ck_ordering_products_pack_size")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "category_id"],
            ["ordering_categories.tenant_id", "ordering_categories.id"],
            name=op.f("fk_ordering_products_tenant_id_category_id_ordering_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_products_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_products")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_ordering_products_tenant_id_sku")),
    )
    with op.batch_alter_table("ordering_products", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_products_category", ["tenant_id", "category_id"], unique=False)
        batch_op.create_index("ix_ordering_products_listed_name", ["tenant_id", "listed", "name"], unique=False)

    op.create_table(
        "ordering_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reserve_on", sa.String(length=12), nullable=False),
        sa.Column("over_credit", sa.String(length=12), nullable=False),
        sa.Column("credit_approver_role", sa.String(length=64), nullable=False),
        sa.Column("auto_receive_days", sa.Integer(), nullable=False),
        sa.Column("default_warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("next_order_number", sa.Integer(), nullable=False),
        sa.Column("next_shipment_number", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("over_credit IN ('refuse', 'approval')", name=op.f("ck_ordering_settings_over_credit")),
        sa.CheckConstraint("reserve_on IN ('submit', 'approval')", name=op.f("ck_ordering_settings_reserve_on")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "default_warehouse_id"],
            ["ordering_warehouses.tenant_id", "ordering_warehouses.id"],
            name=op.f("fk_ordering_settings_tenant_id_default_warehouse_id_ordering_warehouses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_settings_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_ordering_settings_tenant_id")),
    )
    op.create_table(
        "ordering_cart_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_ordering_cart_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_ordering_cart_lines_tenant_id_product_id_ordering_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_cart_lines_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_cart_lines")),
        sa.UniqueConstraint(
            "tenant_id",
            "membership_id",
            "product_id",
            name=op.f("uq_ordering_cart_lines_tenant_id_membership_id_product_id"),
        ),
    )
    op.create_table(
        "ordering_credit_limits",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_ordering_credit_limits_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_ordering_credit_limits_tenant_id_enterprise_id_enterprise_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_credit_limits_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_credit_limits")),
        sa.UniqueConstraint(
            "tenant_id", "enterprise_id", name=op.f("uq_ordering_credit_limits_tenant_id_enterprise_id")
        ),
    )
    op.create_table(
        "ordering_orders",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("cost_total", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("paid_amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("stock_reserved", sa.Boolean(), nullable=False),
        sa.Column("over_credit", sa.Boolean(), nullable=False),
        sa.Column("ship_to", sa.String(length=500), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("placed_by_kind", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("submitted_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'approved', 'rejected', 'partially_shipped', 'shipped', 'received', 'completed', 'cancelled')",
            name=op.f("ck_ordering_orders_status"),
        ),
        sa.CheckConstraint("total >= 0 AND paid_amount >= 0", name=op.f("ck_ordering_orders_amounts")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_ordering_orders_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "warehouse_id"],
            ["ordering_warehouses.tenant_id", "ordering_warehouses.id"],
            name=op.f("fk_ordering_orders_tenant_id_warehouse_id_ordering_warehouses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_orders_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_orders")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_ordering_orders_tenant_id_number")),
    )
    with op.batch_alter_table("ordering_orders", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_orders_created", ["tenant_id", sa.text("created_at DESC")], unique=False)
        batch_op.create_index(
            "ix_ordering_orders_enterprise", ["tenant_id", "enterprise_id", sa.text("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_ordering_orders_owner", ["tenant_id", "owner_id", sa.text("created_at DESC")], unique=False
        )
        batch_op.create_index("ix_ordering_orders_status", ["tenant_id", "status", "created_at"], unique=False)

    op.create_table(
        "ordering_payments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("reported_by", sa.Uuid(), nullable=False),
        sa.Column("reported_by_kind", sa.String(length=12), nullable=False),
        sa.Column("confirmed_by", sa.Uuid(), nullable=True),
        sa.Column("confirmed_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('reported', 'confirmed', 'rejected')", name=op.f("ck_ordering_payments_status")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ordering_payments_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_ordering_payments_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_payments_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_payments")),
    )
    with op.batch_alter_table("ordering_payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ordering_payments_enterprise", ["tenant_id", "enterprise_id", "received_on"], unique=False
        )
        batch_op.create_index("ix_ordering_payments_status", ["tenant_id", "status"], unique=False)

    op.create_table(
        "ordering_price_lists",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'base' AND tier_id IS NULL AND enterprise_id IS NULL) OR (kind = 'tier' AND tier_id IS NOT NULL AND enterprise_id IS NULL) OR (kind = 'enterprise' AND enterprise_id IS NOT NULL AND tier_id IS NULL)",
            name=op.f("ck_ordering_price_lists_target"),
        ),
        sa.CheckConstraint("kind IN ('base', 'tier', 'enterprise')", name=op.f("ck_ordering_price_lists_kind")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_from IS NULL OR valid_from <= valid_to",
            name=op.f("ck_ordering_price_lists_validity"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_ordering_price_lists_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tier_id"],
            ["partner_tiers.tenant_id", "partner_tiers.id"],
            name=op.f("fk_ordering_price_lists_tenant_id_tier_id_partner_tiers"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_price_lists_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_price_lists")),
    )
    with op.batch_alter_table("ordering_price_lists", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_price_lists_kind", ["tenant_id", "kind"], unique=False)

    op.create_table(
        "ordering_product_visibility",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("partner_type_id", sa.Uuid(), nullable=True),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "partner_type_id IS NOT NULL OR tier_id IS NOT NULL", name=op.f("ck_ordering_product_visibility_audience")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_ordering_product_visibility_tenant_id_partner_type_id_partner_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_ordering_product_visibility_tenant_id_product_id_ordering_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tier_id"],
            ["partner_tiers.tenant_id", "partner_tiers.id"],
            name=op.f("fk_ordering_product_visibility_tenant_id_tier_id_partner_tiers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_product_visibility_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_product_visibility")),
    )
    with op.batch_alter_table("ordering_product_visibility", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_product_visibility_product", ["tenant_id", "product_id"], unique=False)

    op.create_table(
        "ordering_stock",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_ordering_stock_on_hand")),
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name=op.f("ck_ordering_stock_reserved")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_ordering_stock_tenant_id_product_id_ordering_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "warehouse_id"],
            ["ordering_warehouses.tenant_id", "ordering_warehouses.id"],
            name=op.f("fk_ordering_stock_tenant_id_warehouse_id_ordering_warehouses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_stock_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_stock")),
        sa.UniqueConstraint(
            "tenant_id", "warehouse_id", "product_id", name=op.f("uq_ordering_stock_tenant_id_warehouse_id_product_id")
        ),
    )
    with op.batch_alter_table("ordering_stock", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_stock_product", ["tenant_id", "product_id"], unique=False)

    op.create_table(
        "ordering_account_entries",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("debit", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("credit", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.CheckConstraint("kind IN ('order', 'payment', 'reversal')", name=op.f("ck_ordering_account_entries_kind")),
        sa.CheckConstraint("debit >= 0 AND credit >= 0", name=op.f("ck_ordering_account_entries_amounts")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_ordering_account_entries_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["ordering_orders.tenant_id", "ordering_orders.id"],
            name=op.f("fk_ordering_account_entries_tenant_id_order_id_ordering_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "payment_id"],
            ["ordering_payments.tenant_id", "ordering_payments.id"],
            name=op.f("fk_ordering_account_entries_tenant_id_payment_id_ordering_payments"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_account_entries_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_account_entries")),
    )
    with op.batch_alter_table("ordering_account_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ordering_account_entries_enterprise", ["tenant_id", "enterprise_id", "occurred_at"], unique=False
        )

    op.create_table(
        "ordering_order_approvals",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("role_key", sa.String(length=64), nullable=False),
        sa.Column("reason_code", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=200), nullable=True),
        sa.Column("decided_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_ordering_order_approvals_status")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["ordering_orders.tenant_id", "ordering_orders.id"],
            name=op.f("fk_ordering_order_approvals_tenant_id_order_id_ordering_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_order_approvals_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_order_approvals")),
        sa.UniqueConstraint(
            "tenant_id", "order_id", "step", name=op.f("uq_ordering_order_approvals_tenant_id_order_id_step")
        ),
    )
    op.create_table(
        "ordering_order_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_kind", sa.String(length=12), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["ordering_orders.tenant_id", "ordering_orders.id"],
            name=op.f("fk_ordering_order_events_tenant_id_order_id_ordering_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_order_events_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_order_events")),
    )
    with op.batch_alter_table("ordering_order_events", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_order_events_order", ["tenant_id", "order_id", "at"], unique=False)

    op.create_table(
        "ordering_order_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("line_total", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("unit_cost", portal.db.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("price_source", sa.String(length=12), nullable=False),
        sa.Column("shipped_quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_ordering_order_lines_quantity")),
        sa.CheckConstraint(
            "shipped_quantity >= 0 AND shipped_quantity <= quantity", name=op.f("ck_ordering_order_lines_shipped")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["ordering_orders.tenant_id", "ordering_orders.id"],
            name=op.f("fk_ordering_order_lines_tenant_id_order_id_ordering_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_ordering_order_lines_tenant_id_product_id_ordering_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_order_lines_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_order_lines")),
        sa.UniqueConstraint(
            "tenant_id", "order_id", "line_no", name=op.f("uq_ordering_order_lines_tenant_id_order_id_line_no")
        ),
    )
    op.create_table(
        "ordering_payment_allocations",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("amount", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ordering_payment_allocations_amount")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["ordering_orders.tenant_id", "ordering_orders.id"],
            name=op.f("fk_ordering_payment_allocations_tenant_id_order_id_ordering_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "payment_id"],
            ["ordering_payments.tenant_id", "ordering_payments.id"],
            name=op.f("fk_ordering_payment_allocations_tenant_id_payment_id_ordering_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_payment_allocations_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_payment_allocations")),
        sa.UniqueConstraint(
            "tenant_id",
            "payment_id",
            "order_id",
            name=op.f("uq_ordering_payment_allocations_tenant_id_payment_id_order_id"),
        ),
    )
    with op.batch_alter_table("ordering_payment_allocations", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_payment_allocations_order", ["tenant_id", "order_id"], unique=False)

    op.create_table(
        "ordering_price_list_items",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("price_list_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", portal.db.types.Money(precision=18, scale=4), nullable=False),
        sa.CheckConstraint("min_quantity >= 1", name=op.f("ck_ordering_price_list_items_min_quantity")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_ordering_price_list_items_unit_price")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "price_list_id"],
            ["ordering_price_lists.tenant_id", "ordering_price_lists.id"],
            name=op.f("fk_ordering_price_list_items_tenant_id_price_list_id_ordering_price_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_ordering_price_list_items_tenant_id_product_id_ordering_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_price_list_items_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_price_list_items")),
        sa.UniqueConstraint(
            "tenant_id",
            "price_list_id",
            "product_id",
            "min_quantity",
            name=op.f("uq_ordering_price_list_items_tenant_id_price_list_id_product_id_min_quantity"),
        ),
    )
    with op.batch_alter_table("ordering_price_list_items", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_price_list_items_product", ["tenant_id", "product_id"], unique=False)

    op.create_table(
        "ordering_shipments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("warehouse_id", sa.Uuid(), nullable=True),
        sa.Column("carrier", sa.String(length=100), nullable=True),
        sa.Column("tracking_number", sa.String(length=100), nullable=True),
        sa.Column("shipped_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_id"],
            ["ordering_orders.tenant_id", "ordering_orders.id"],
            name=op.f("fk_ordering_shipments_tenant_id_order_id_ordering_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "warehouse_id"],
            ["ordering_warehouses.tenant_id", "ordering_warehouses.id"],
            name=op.f("fk_ordering_shipments_tenant_id_warehouse_id_ordering_warehouses"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_ordering_shipments_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_shipments")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_ordering_shipments_tenant_id_number")),
    )
    with op.batch_alter_table("ordering_shipments", schema=None) as batch_op:
        batch_op.create_index("ix_ordering_shipments_order", ["tenant_id", "order_id"], unique=False)

    op.create_table(
        "ordering_shipment_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("shipment_id", sa.Uuid(), nullable=False),
        sa.Column("order_line_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_ordering_shipment_lines_quantity")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "order_line_id"],
            ["ordering_order_lines.tenant_id", "ordering_order_lines.id"],
            name=op.f("fk_ordering_shipment_lines_tenant_id_order_line_id_ordering_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "shipment_id"],
            ["ordering_shipments.tenant_id", "ordering_shipments.id"],
            name=op.f("fk_ordering_shipment_lines_tenant_id_shipment_id_ordering_shipments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_ordering_shipment_lines_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ordering_shipment_lines")),
    )
    # ### end Alembic commands ###
    for table in TABLES:
        rls.tenant_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for sequence in SEQUENCES:
            op.execute(f"CREATE SEQUENCE {sequence}")
            rls.grant_sequence(sequence)
    _existing_tenants_get_presets()


def downgrade() -> None:
    _forget_presets()
    if op.get_bind().dialect.name == "postgresql":
        for sequence in SEQUENCES:
            op.execute(f"DROP SEQUENCE IF EXISTS {sequence}")
    # ### commands auto generated by Alembic - please adjust! ###
    op.drop_table("ordering_shipment_lines")
    with op.batch_alter_table("ordering_shipments", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_shipments_order")

    op.drop_table("ordering_shipments")
    with op.batch_alter_table("ordering_price_list_items", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_price_list_items_product")

    op.drop_table("ordering_price_list_items")
    with op.batch_alter_table("ordering_payment_allocations", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_payment_allocations_order")

    op.drop_table("ordering_payment_allocations")
    op.drop_table("ordering_order_lines")
    with op.batch_alter_table("ordering_order_events", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_order_events_order")

    op.drop_table("ordering_order_events")
    op.drop_table("ordering_order_approvals")
    with op.batch_alter_table("ordering_account_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_account_entries_enterprise")

    op.drop_table("ordering_account_entries")
    with op.batch_alter_table("ordering_stock", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_stock_product")

    op.drop_table("ordering_stock")
    with op.batch_alter_table("ordering_product_visibility", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_product_visibility_product")

    op.drop_table("ordering_product_visibility")
    with op.batch_alter_table("ordering_price_lists", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_price_lists_kind")

    op.drop_table("ordering_price_lists")
    with op.batch_alter_table("ordering_payments", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_payments_status")
        batch_op.drop_index("ix_ordering_payments_enterprise")

    op.drop_table("ordering_payments")
    with op.batch_alter_table("ordering_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_orders_status")
        batch_op.drop_index("ix_ordering_orders_owner")
        batch_op.drop_index("ix_ordering_orders_enterprise")
        batch_op.drop_index("ix_ordering_orders_created")

    op.drop_table("ordering_orders")
    op.drop_table("ordering_credit_limits")
    op.drop_table("ordering_cart_lines")
    op.drop_table("ordering_settings")
    with op.batch_alter_table("ordering_products", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_products_listed_name")
        batch_op.drop_index("ix_ordering_products_category")

    op.drop_table("ordering_products")
    with op.batch_alter_table("ordering_approval_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_ordering_approval_rules_step")

    op.drop_table("ordering_approval_rules")
    op.drop_table("ordering_warehouses")
    op.drop_table("ordering_categories")
    # ### end Alembic commands ###
