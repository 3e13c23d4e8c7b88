"""service: devices, tickets with their timeline, the service settings, staff teams' regions

The service app's tables, and what existing tenants need to use it as a new tenant starts: the service
dispatcher (partner) and service manager (staff) roles, grants for the dispatcher and service engineer
roles that had none, the field rules hiding a customer's phone and address from a partner until it
accepts a ticket, the service providers' data levels, the staff dispatcher's "region" scope on tickets and
devices (a new data scope: the regions of the holder's staff teams), the service provider template giving
its first admin the dispatcher role and its later people the engineer role (only where it is still the
preset of 0010; the admins of such service providers get the dispatcher role, as they would on joining),
and the tenant's service settings. What an upstream already set itself is left as it is. The rows are
frozen here as they are at this revision, not read from the presets.

Downgrading removes it all again (the tables, the two roles with everything naming them, the grants,
rules, levels and scopes on service objects, every "region" scope, and the template correction).

Revision ID: 0021_service
Revises: 0020_withhold_stored_secrets
Create Date: 2026-12-04 15:42:08
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0021_service"
down_revision = "0020_withhold_stored_secrets"
branch_labels = None
depends_on = None

TABLES = ("service_settings", "staff_team_regions", "service_devices", "service_tickets", "service_ticket_events")
OLD_SCOPES = ("own", "team", "all")
NEW_SCOPES = ("own", "team", "region", "all")

PARTNER_TICKET, PARTNER_JOB = "partner.service.ticket", "partner.service.job"
PARTNER_OFFER, PARTNER_DEVICE = "partner.service.offer", "partner.service.device"
TICKET, DEVICE = "service.ticket", "service.device"
SERVICE_OBJECTS = (PARTNER_TICKET, PARTNER_JOB, PARTNER_OFFER, PARTNER_DEVICE, TICKET, DEVICE)

NEW_ROLES = {
    "service_manager": {
        "name": "Service manager",
        "kind": "internal",
        "description": "Runs the service app: tickets, dispatch and devices in every region",
        "apps": [],
        "grants": (("console", "read"), ("interconnect.enterprises", "read")),
        "scope": "all",
    },
    "service_dispatcher": {
        "name": "Service dispatcher",
        "kind": "external",
        "description": "Takes on the service tickets dispatched to the enterprise and assigns its engineers",
        "apps": ["service"],
        "grants": (("partner.profile", "read"),),
        "scope": None,
    },
}
STAFF_GRANTS = (
    *((TICKET, action) for action in ("read", "create", "update", "dispatch", "cancel", "close", "export")),
    *((DEVICE, action) for action in ("read", "create", "update", "import", "export")),
)
ENGINEER_GRANTS = (
    (PARTNER_JOB, "read"),
    (PARTNER_JOB, "accept"),
    (PARTNER_JOB, "work"),
    (PARTNER_OFFER, "read"),
    (PARTNER_DEVICE, "read"),
)
GRANTS = {
    "service_manager": STAFF_GRANTS,
    "dispatcher": STAFF_GRANTS,
    "service_dispatcher": (
        *((PARTNER_TICKET, action) for action in ("read", "accept", "reject", "assign", "work", "export")),
        *ENGINEER_GRANTS,
    ),
    "service_engineer": ENGINEER_GRANTS,
}
HIDDEN_BEFORE_ACCEPTANCE = ("contact_phone", "address")
LEVELS = {
    PARTNER_TICKET: ("enterprise_write", False),
    PARTNER_JOB: ("private", False),
    PARTNER_DEVICE: ("enterprise_read", False),
}
DISPATCHER_SCOPES = {TICKET: "region", DEVICE: "region"}
REOPEN_DAYS = 14
# (assignable, member default, admin default) per role key: the service provider template as 0010 left it,
# and as this revision makes it
OLD_SERVICE = {
    "enterprise_admin": (True, False, True),
    "member": (True, True, True),
    "service_engineer": (True, False, False),
}
NEW_SERVICE = {**OLD_SERVICE, "service_engineer": (True, True, False), "service_dispatcher": (True, False, True)}


def _table(table_name: str, /, **columns: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(column, kind) for column, kind in columns.items()))


KEY, TEXT, FLAG, NUMBER = sa.Uuid(), sa.String(), sa.Boolean(), sa.Integer()
STAMP = portal.db.types.UTCDateTime()
TENANTS = _table("tenants", id=KEY)
ROLES = _table(
    "roles",
    tenant_id=KEY,
    id=KEY,
    key=TEXT,
    name=TEXT,
    kind=TEXT,
    description=TEXT,
    apps=sa.JSON(),
    preset=FLAG,
    created_at=STAMP,
    updated_at=STAMP,
)
RULES = _table("policy_rules", tenant_id=KEY, id=KEY, ptype=TEXT, v0=TEXT, v1=TEXT, v2=TEXT)
FIELDS = _table("field_rules", tenant_id=KEY, id=KEY, role_id=KEY, object=TEXT, field=TEXT, access=TEXT)
SCOPES = _table("internal_scopes", tenant_id=KEY, id=KEY, role_id=KEY, object=TEXT, scope=TEXT)
TEMPLATES = _table(
    "role_templates",
    tenant_id=KEY,
    id=KEY,
    partner_type_id=KEY,
    role_id=KEY,
    assignable=FLAG,
    member_default=FLAG,
    admin_default=FLAG,
)
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
TYPES = _table("partner_types", tenant_id=KEY, id=KEY, code=TEXT)
LINKS = _table("enterprise_links", tenant_id=KEY, id=KEY, partner_type_id=KEY)
MEMBERSHIPS = _table("memberships", tenant_id=KEY, id=KEY, link_id=KEY, is_enterprise_admin=FLAG)
SETTINGS = _table(
    "service_settings",
    tenant_id=KEY,
    id=KEY,
    next_ticket_number=NUMBER,
    reopen_days=NUMBER,
    created_at=STAMP,
    updated_at=STAMP,
)


def upgrade() -> None:
    _tables()
    for table in TABLES:
        rls.tenant_table(table)
    _scope_check(NEW_SCOPES)
    bind = op.get_bind()
    with rls.as_system_role():
        for tenant_id in bind.scalars(sa.select(TENANTS.c.id)).all():
            _presets(bind, tenant_id)
        # every process recompiles the tenants' policies on their next request
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))


def downgrade() -> None:
    bind = op.get_bind()
    with rls.as_system_role():
        for tenant_id in bind.scalars(sa.select(TENANTS.c.id)).all():
            _remove_presets(bind, tenant_id)
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))
    _scope_check(OLD_SCOPES)
    _drop_tables()


def _scope_check(scopes: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{s}'" for s in scopes)
    with op.batch_alter_table("internal_scopes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_internal_scopes_scope"), type_="check")
        batch_op.create_check_constraint(op.f("ck_internal_scopes_scope"), sa.text(f"scope IN ({listed})"))


def _roles(bind: sa.Connection, tenant_id: uuid.UUID) -> dict[str, uuid.UUID]:
    rows = bind.execute(sa.select(ROLES.c.key, ROLES.c.id).where(ROLES.c.tenant_id == tenant_id))
    return dict(rows.all())


def _grant(bind: sa.Connection, tenant_id: uuid.UUID, key: str, pairs: Any) -> None:
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
                RULES.insert().values(tenant_id=tenant_id, id=uuid.uuid4(), ptype="p", v0="r:" + key, v1=obj, v2=action)
            )


def _template(bind: sa.Connection, tenant_id: uuid.UUID, type_id: uuid.UUID) -> dict[str, tuple[bool, bool, bool]]:
    rows = bind.execute(
        sa.select(ROLES.c.key, TEMPLATES.c.assignable, TEMPLATES.c.member_default, TEMPLATES.c.admin_default)
        .join(TEMPLATES, (TEMPLATES.c.tenant_id == ROLES.c.tenant_id) & (TEMPLATES.c.role_id == ROLES.c.id))
        .where(TEMPLATES.c.tenant_id == tenant_id, TEMPLATES.c.partner_type_id == type_id)
    )
    return {key: (bool(a), bool(m), bool(d)) for key, a, m, d in rows}


def _presets(bind: sa.Connection, tenant_id: uuid.UUID) -> None:
    now = portal.db.types.utcnow()
    roles = _roles(bind, tenant_id)
    for key, spec in NEW_ROLES.items():
        if key in roles:
            continue
        role_id = roles[key] = uuid.uuid4()
        bind.execute(
            ROLES.insert().values(
                tenant_id=tenant_id,
                id=role_id,
                key=key,
                name=spec["name"],
                kind=spec["kind"],
                description=spec["description"],
                apps=spec["apps"],
                preset=True,
                created_at=now,
                updated_at=now,
            )
        )
        _grant(bind, tenant_id, key, spec["grants"])
        if spec["scope"] is not None:
            bind.execute(
                SCOPES.insert().values(
                    tenant_id=tenant_id, id=uuid.uuid4(), role_id=role_id, object="*", scope=spec["scope"]
                )
            )
    for key, pairs in GRANTS.items():
        if key in roles:
            _grant(bind, tenant_id, key, pairs)
    engineer = roles.get("service_engineer")
    if engineer is not None:  # the service engineer opened no app until the app existed
        apps = bind.scalar(sa.select(ROLES.c.apps).where(ROLES.c.tenant_id == tenant_id, ROLES.c.id == engineer))
        if "service" not in (apps or []):
            bind.execute(
                ROLES.update()
                .where(ROLES.c.tenant_id == tenant_id, ROLES.c.id == engineer)
                .values(apps=[*(apps or []), "service"])
            )
    for key in ("service_dispatcher", "service_engineer"):
        role_id = roles.get(key)
        ruled = role_id is not None and bind.scalar(
            sa.select(sa.func.count())
            .select_from(FIELDS)
            .where(FIELDS.c.tenant_id == tenant_id, FIELDS.c.role_id == role_id, FIELDS.c.object == PARTNER_OFFER)
        )
        if role_id is not None and not ruled:
            for name in HIDDEN_BEFORE_ACCEPTANCE:
                bind.execute(
                    FIELDS.insert().values(
                        tenant_id=tenant_id,
                        id=uuid.uuid4(),
                        role_id=role_id,
                        object=PARTNER_OFFER,
                        field=name,
                        access="hidden",
                    )
                )
    dispatcher = roles.get("dispatcher")
    if dispatcher is not None:
        for obj, scope in DISPATCHER_SCOPES.items():
            scoped = bind.scalar(
                sa.select(sa.func.count())
                .select_from(SCOPES)
                .where(SCOPES.c.tenant_id == tenant_id, SCOPES.c.role_id == dispatcher, SCOPES.c.object == obj)
            )
            if not scoped:
                bind.execute(
                    SCOPES.insert().values(
                        tenant_id=tenant_id, id=uuid.uuid4(), role_id=dispatcher, object=obj, scope=scope
                    )
                )
    types = dict(bind.execute(sa.select(TYPES.c.code, TYPES.c.id).where(TYPES.c.tenant_id == tenant_id)).all())
    provider = types.get("service_provider")
    if provider is not None:
        _levels(bind, tenant_id, provider)
        _service_template(bind, tenant_id, provider, roles)
    if bind.scalar(sa.select(SETTINGS.c.id).where(SETTINGS.c.tenant_id == tenant_id)) is None:
        bind.execute(
            SETTINGS.insert().values(
                tenant_id=tenant_id,
                id=uuid.uuid4(),
                next_ticket_number=1,
                reopen_days=REOPEN_DAYS,
                created_at=now,
                updated_at=now,
            )
        )


def _levels(bind: sa.Connection, tenant_id: uuid.UUID, type_id: uuid.UUID) -> None:
    now = portal.db.types.utcnow()
    for obj, (level, subtree) in LEVELS.items():
        levelled = bind.scalar(
            sa.select(sa.func.count())
            .select_from(DATA)
            .where(DATA.c.tenant_id == tenant_id, DATA.c.object == obj, DATA.c.partner_type_id == type_id)
        )
        if not levelled:
            bind.execute(
                DATA.insert().values(
                    tenant_id=tenant_id,
                    id=uuid.uuid4(),
                    object=obj,
                    partner_type_id=type_id,
                    link_id=None,
                    level=level,
                    include_sub_enterprises=subtree,
                    created_at=now,
                    updated_at=now,
                )
            )


def _service_template(
    bind: sa.Connection, tenant_id: uuid.UUID, type_id: uuid.UUID, roles: dict[str, uuid.UUID]
) -> None:
    if _template(bind, tenant_id, type_id) != OLD_SERVICE:
        return
    bind.execute(
        TEMPLATES.update()
        .where(
            TEMPLATES.c.tenant_id == tenant_id,
            TEMPLATES.c.partner_type_id == type_id,
            TEMPLATES.c.role_id == roles["service_engineer"],
        )
        .values(member_default=True)
    )
    assignable, member_default, admin_default = NEW_SERVICE["service_dispatcher"]
    bind.execute(
        TEMPLATES.insert().values(
            tenant_id=tenant_id,
            id=uuid.uuid4(),
            partner_type_id=type_id,
            role_id=roles["service_dispatcher"],
            assignable=assignable,
            member_default=member_default,
            admin_default=admin_default,
        )
    )
    admins = bind.scalars(
        sa.select(MEMBERSHIPS.c.id)
        .join(LINKS, (LINKS.c.tenant_id == MEMBERSHIPS.c.tenant_id) & (LINKS.c.id == MEMBERSHIPS.c.link_id))
        .where(
            MEMBERSHIPS.c.tenant_id == tenant_id,
            MEMBERSHIPS.c.is_enterprise_admin.is_(True),
            LINKS.c.partner_type_id == type_id,
        )
    ).all()
    holders = set(
        bind.scalars(
            sa.select(RULES.c.v0).where(
                RULES.c.tenant_id == tenant_id, RULES.c.ptype == "g", RULES.c.v1 == "r:service_dispatcher"
            )
        )
    )
    for admin in admins:
        if f"u:{admin}" not in holders:
            bind.execute(
                RULES.insert().values(
                    tenant_id=tenant_id, id=uuid.uuid4(), ptype="g", v0=f"u:{admin}", v1="r:service_dispatcher", v2=""
                )
            )


def _remove_presets(bind: sa.Connection, tenant_id: uuid.UUID) -> None:
    roles = _roles(bind, tenant_id)
    types = dict(bind.execute(sa.select(TYPES.c.code, TYPES.c.id).where(TYPES.c.tenant_id == tenant_id)).all())
    provider = types.get("service_provider")
    if provider is not None and _template(bind, tenant_id, provider) == NEW_SERVICE:
        bind.execute(
            TEMPLATES.update()
            .where(
                TEMPLATES.c.tenant_id == tenant_id,
                TEMPLATES.c.partner_type_id == provider,
                TEMPLATES.c.role_id == roles["service_engineer"],
            )
            .values(member_default=False)
        )
    mine = RULES.c.tenant_id == tenant_id
    bind.execute(RULES.delete().where(mine, RULES.c.ptype == "p", RULES.c.v1.in_(SERVICE_OBJECTS)))
    for table in (FIELDS, SCOPES, DATA):
        bind.execute(table.delete().where(table.c.tenant_id == tenant_id, table.c.object.in_(SERVICE_OBJECTS)))
    bind.execute(SCOPES.delete().where(SCOPES.c.tenant_id == tenant_id, SCOPES.c.scope == "region"))
    for key in NEW_ROLES:
        role_id = roles.get(key)
        if role_id is None:
            continue
        subject = "r:" + key
        bind.execute(RULES.delete().where(mine, (RULES.c.v0 == subject) | (RULES.c.v1 == subject)))
        for table in (FIELDS, SCOPES, TEMPLATES):
            bind.execute(table.delete().where(table.c.tenant_id == tenant_id, table.c.role_id == role_id))
        bind.execute(ROLES.delete().where(ROLES.c.tenant_id == tenant_id, ROLES.c.id == role_id))
    engineer = roles.get("service_engineer")
    if engineer is not None:
        apps = bind.scalar(sa.select(ROLES.c.apps).where(ROLES.c.tenant_id == tenant_id, ROLES.c.id == engineer))
        bind.execute(
            ROLES.update()
            .where(ROLES.c.tenant_id == tenant_id, ROLES.c.id == engineer)
            .values(apps=[app for app in apps or [] if app != "service"])
        )


def _tables() -> None:
    op.create_table(
        "service_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("next_ticket_number", sa.Integer(), nullable=False),
        sa.Column("reopen_days", sa.Integer(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("reopen_days >= 0", name=op.f("ck_service_settings_reopen_days")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_settings_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_service_settings_tenant_id")),
    )
    op.create_table(
        "staff_team_regions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["regions.tenant_id", "regions.id"],
            name=op.f("fk_staff_team_regions_tenant_id_region_id_regions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["staff_teams.tenant_id", "staff_teams.id"],
            name=op.f("fk_staff_team_regions_tenant_id_team_id_staff_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_staff_team_regions_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_staff_team_regions")),
        sa.UniqueConstraint(
            "tenant_id", "team_id", "region_id", name=op.f("uq_staff_team_regions_tenant_id_team_id_region_id")
        ),
    )
    op.create_table(
        "service_devices",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("product_id", sa.Uuid(), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("serial_number", sa.String(length=80), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("site_address", sa.String(length=500), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("install_date", sa.Date(), nullable=True),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("dealer_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "dealer_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_service_devices_tenant_id_dealer_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_service_devices_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "product_id"],
            ["ordering_products.tenant_id", "ordering_products.id"],
            name=op.f("fk_service_devices_tenant_id_product_id_ordering_products"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["regions.tenant_id", "regions.id"],
            name=op.f("fk_service_devices_tenant_id_region_id_regions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_devices_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_devices")),
        sa.UniqueConstraint("tenant_id", "serial_number", name=op.f("uq_service_devices_tenant_id_serial_number")),
    )
    with op.batch_alter_table("service_devices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_devices_created", ["tenant_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_service_devices_enterprise",
            ["tenant_id", "enterprise_id", sa.literal_column("created_at DESC")],
            unique=False,
        )
        batch_op.create_index(
            "ix_service_devices_owner", ["tenant_id", "owner_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_service_devices_region", ["tenant_id", "region_id", sa.literal_column("created_at DESC")], unique=False
        )

    op.create_table(
        "service_tickets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=True),
        sa.Column("serial_number", sa.String(length=80), nullable=True),
        sa.Column("under_warranty", sa.Boolean(), nullable=True),
        sa.Column("symptoms", sa.String(length=2000), nullable=False),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("region_id", sa.Uuid(), nullable=True),
        sa.Column("engineer_id", sa.Uuid(), nullable=True),
        sa.Column("engineer_name", sa.String(length=200), nullable=True),
        sa.Column("opened_by", sa.Uuid(), nullable=False),
        sa.Column("opened_by_kind", sa.String(length=12), nullable=False),
        sa.Column("reject_reason", sa.String(length=1000), nullable=True),
        sa.Column("hold_reason", sa.String(length=1000), nullable=True),
        sa.Column("cancel_reason", sa.String(length=1000), nullable=True),
        sa.Column("reopen_reason", sa.String(length=1000), nullable=True),
        sa.Column("resolution", sa.String(length=2000), nullable=True),
        sa.Column("dispatched_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("on_the_way_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("on_site_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("held_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopened_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_service_tickets_priority")),
        sa.CheckConstraint(
            "status IN ('new', 'dispatched', 'accepted', 'on_the_way', 'on_site', 'on_hold', 'resolved', 'confirmed', 'closed', 'cancelled')",
            name=op.f("ck_service_tickets_status"),
        ),
        sa.CheckConstraint(
            "type IN ('installation', 'repair', 'maintenance', 'inspection')", name=op.f("ck_service_tickets_type")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "device_id"],
            ["service_devices.tenant_id", "service_devices.id"],
            name=op.f("fk_service_tickets_tenant_id_device_id_service_devices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "engineer_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_service_tickets_tenant_id_engineer_id_memberships"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "enterprise_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_service_tickets_tenant_id_enterprise_id_enterprise_links"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "region_id"],
            ["regions.tenant_id", "regions.id"],
            name=op.f("fk_service_tickets_tenant_id_region_id_regions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_tickets_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_tickets")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_service_tickets_tenant_id_number")),
    )
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_tickets_created", ["tenant_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index("ix_service_tickets_device", ["tenant_id", "device_id"], unique=False)
        batch_op.create_index(
            "ix_service_tickets_enterprise",
            ["tenant_id", "enterprise_id", sa.literal_column("created_at DESC")],
            unique=False,
        )
        batch_op.create_index(
            "ix_service_tickets_owner", ["tenant_id", "owner_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_service_tickets_region", ["tenant_id", "region_id", sa.literal_column("created_at DESC")], unique=False
        )
        batch_op.create_index(
            "ix_service_tickets_status", ["tenant_id", "status", sa.literal_column("created_at DESC")], unique=False
        )

    op.create_table(
        "service_ticket_events",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor_kind", sa.String(length=12), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("enterprise_id", sa.Uuid(), nullable=True),
        sa.Column("engineer_name", sa.String(length=200), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ticket_id"],
            ["service_tickets.tenant_id", "service_tickets.id"],
            name=op.f("fk_service_ticket_events_tenant_id_ticket_id_service_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_service_ticket_events_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_service_ticket_events")),
    )
    with op.batch_alter_table("service_ticket_events", schema=None) as batch_op:
        batch_op.create_index("ix_service_ticket_events_ticket", ["tenant_id", "ticket_id", "at"], unique=False)


def _drop_tables() -> None:
    with op.batch_alter_table("service_ticket_events", schema=None) as batch_op:
        batch_op.drop_index("ix_service_ticket_events_ticket")

    op.drop_table("service_ticket_events")
    with op.batch_alter_table("service_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_service_tickets_status")
        batch_op.drop_index("ix_service_tickets_region")
        batch_op.drop_index("ix_service_tickets_owner")
        batch_op.drop_index("ix_service_tickets_enterprise")
        batch_op.drop_index("ix_service_tickets_device")
        batch_op.drop_index("ix_service_tickets_created")

    op.drop_table("service_tickets")
    with op.batch_alter_table("service_devices", schema=None) as batch_op:
        batch_op.drop_index("ix_service_devices_region")
        batch_op.drop_index("ix_service_devices_owner")
        batch_op.drop_index("ix_service_devices_enterprise")
        batch_op.drop_index("ix_service_devices_created")

    op.drop_table("service_devices")
    op.drop_table("staff_team_regions")
    op.drop_table("service_settings")
