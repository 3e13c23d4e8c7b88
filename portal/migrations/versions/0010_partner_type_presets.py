"""partner type presets give each first admin what its type is for

Existing tenants get the deal registrar role (deals to register, update and export; stage and commission
rate read-only, the manufacturer's to set), the agent type's template giving it to new admins and members
and its data level (enterprise write), and a service provider template that gives nobody the service
engineer role by default. Templates and levels an upstream already changed are left as they are: a
template is only corrected while it is exactly the old preset, a level only added where there is none.
The admins of agent enterprises under a corrected template get the role they would have got on joining.
The rows are frozen here as they were at this revision, not read from the presets.

Revision ID: 0010_partner_type_presets
Revises: 0009_tenant_time_zone
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0010_partner_type_presets"
down_revision = "0009_tenant_time_zone"
branch_labels = None
depends_on = None

REGISTRAR = "deal_registrar"
DEALS = "partner.agent.deal"
ROLE = {
    "key": REGISTRAR,
    "name": "Deal registrar",
    "kind": "external",
    "description": "Registers deals and follows them up; the manufacturer sets their stage and commission",
    "apps": ["agent", "notices", "academy"],
    "preset": True,
}
GRANTS = (("partner.profile", "read"), (DEALS, "read"), (DEALS, "create"), (DEALS, "update"), (DEALS, "export"))
READ_ONLY = ("stage", "commission_rate")
AGENT_LEVEL = ("enterprise_write", False)
# (assignable, member default, admin default) per role key: the templates as the presets made them before
OLD_AGENT = {"enterprise_admin": (True, False, True), "member": (True, True, True)}
OLD_SERVICE = {**OLD_AGENT, "service_engineer": (True, True, False)}
AGENT_ROW = (True, True, True)


def _table(table_name: str, /, **columns: sa.types.TypeEngine[Any]) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(column, kind) for column, kind in columns.items()))


KEY, TEXT, FLAG = sa.Uuid(), sa.String(), sa.Boolean()
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


def _template(bind: sa.Connection, tenant_id: uuid.UUID, type_id: uuid.UUID) -> dict[str, tuple[bool, bool, bool]]:
    rows = bind.execute(
        sa.select(ROLES.c.key, TEMPLATES.c.assignable, TEMPLATES.c.member_default, TEMPLATES.c.admin_default)
        .join(TEMPLATES, (TEMPLATES.c.tenant_id == ROLES.c.tenant_id) & (TEMPLATES.c.role_id == ROLES.c.id))
        .where(TEMPLATES.c.tenant_id == tenant_id, TEMPLATES.c.partner_type_id == type_id)
    )
    return {key: (bool(a), bool(m), bool(d)) for key, a, m, d in rows}


def _registrar(bind: sa.Connection, tenant_id: uuid.UUID) -> uuid.UUID:
    """The tenant's deal registrar role: made with its grants, or an existing one (the demo's) kept as it
    is but for the read-only fields, which it gets when it has no field rules on deals at all."""
    now = portal.db.types.utcnow()
    role_id = bind.scalar(sa.select(ROLES.c.id).where(ROLES.c.tenant_id == tenant_id, ROLES.c.key == REGISTRAR))
    if role_id is None:
        role_id = uuid.uuid4()
        bind.execute(ROLES.insert().values(tenant_id=tenant_id, id=role_id, created_at=now, updated_at=now, **ROLE))
        for obj, action in GRANTS:
            bind.execute(
                RULES.insert().values(
                    tenant_id=tenant_id, id=uuid.uuid4(), ptype="p", v0="r:" + REGISTRAR, v1=obj, v2=action
                )
            )
    ruled = bind.scalar(
        sa.select(sa.func.count())
        .select_from(FIELDS)
        .where(FIELDS.c.tenant_id == tenant_id, FIELDS.c.role_id == role_id, FIELDS.c.object == DEALS)
    )
    if not ruled:
        for name in READ_ONLY:
            bind.execute(
                FIELDS.insert().values(
                    tenant_id=tenant_id, id=uuid.uuid4(), role_id=role_id, object=DEALS, field=name, access="read_only"
                )
            )
    return role_id


def _agents(bind: sa.Connection, tenant_id: uuid.UUID, type_id: uuid.UUID, role_id: uuid.UUID) -> None:
    now = portal.db.types.utcnow()
    if _template(bind, tenant_id, type_id) == OLD_AGENT:
        assignable, member_default, admin_default = AGENT_ROW
        bind.execute(
            TEMPLATES.insert().values(
                tenant_id=tenant_id,
                id=uuid.uuid4(),
                partner_type_id=type_id,
                role_id=role_id,
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
                    RULES.c.tenant_id == tenant_id, RULES.c.ptype == "g", RULES.c.v1 == "r:" + REGISTRAR
                )
            )
        )
        for admin in admins:
            if f"u:{admin}" not in holders:
                bind.execute(
                    RULES.insert().values(
                        tenant_id=tenant_id, id=uuid.uuid4(), ptype="g", v0=f"u:{admin}", v1="r:" + REGISTRAR, v2=""
                    )
                )
    levelled = bind.scalar(
        sa.select(sa.func.count())
        .select_from(DATA)
        .where(DATA.c.tenant_id == tenant_id, DATA.c.object == DEALS, DATA.c.partner_type_id == type_id)
    )
    if not levelled:
        level, subtree = AGENT_LEVEL
        bind.execute(
            DATA.insert().values(
                tenant_id=tenant_id,
                id=uuid.uuid4(),
                object=DEALS,
                partner_type_id=type_id,
                link_id=None,
                level=level,
                include_sub_enterprises=subtree,
                created_at=now,
                updated_at=now,
            )
        )


def _service_providers(bind: sa.Connection, tenant_id: uuid.UUID, type_id: uuid.UUID) -> None:
    if _template(bind, tenant_id, type_id) != OLD_SERVICE:
        return
    engineer = bind.scalar(
        sa.select(ROLES.c.id).where(ROLES.c.tenant_id == tenant_id, ROLES.c.key == "service_engineer")
    )
    bind.execute(
        TEMPLATES.update()
        .where(
            TEMPLATES.c.tenant_id == tenant_id,
            TEMPLATES.c.partner_type_id == type_id,
            TEMPLATES.c.role_id == engineer,
        )
        .values(member_default=False)
    )


def upgrade() -> None:
    bind = op.get_bind()
    with rls.as_system_role():
        for tenant_id in bind.scalars(sa.select(TENANTS.c.id)).all():
            role_id = _registrar(bind, tenant_id)
            types = dict(bind.execute(sa.select(TYPES.c.code, TYPES.c.id).where(TYPES.c.tenant_id == tenant_id)).all())
            if "agent" in types:
                _agents(bind, tenant_id, types["agent"], role_id)
            if "service_provider" in types:
                _service_providers(bind, tenant_id, types["service_provider"])
        # every process recompiles the tenants' policies on their next request
        bind.execute(sa.text("UPDATE tenants SET policy_version = policy_version + 1"))


def downgrade() -> None:
    """The rows stay: the older code reads them as they are (a role, its grants, rules and templates)."""
