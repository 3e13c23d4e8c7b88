"""roles: role definitions, the casbin policy, field rules, data rules, sharing rules, teams, templates;
tenants carry a policy version; staff roles move from a column to the policy

Revision ID: 0004_roles
Revises: 0003_membership_contacts
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0004_roles"
down_revision = "0003_membership_contacts"
branch_labels = None
depends_on = None


class _PresetRole(NamedTuple):
    key: str
    name: str
    kind: str
    description: str
    apps: tuple[str, ...]
    grants: tuple[tuple[str, str], ...]
    scope: str | None


# The preset roles and role templates as they were when this revision was written: a migration keeps the
# rows it inserts, whatever the presets of later versions say.
PRESET_ROLES: tuple[_PresetRole, ...] = (
    _PresetRole(
        key="admin",
        name="Administrator",
        kind="internal",
        description="Everything, including roles",
        apps=(),
        grants=(("*", "*"),),
        scope="all",
    ),
    _PresetRole(
        key="staff",
        name="Staff member",
        kind="internal",
        description="Reads and exports everything",
        apps=(),
        grants=(("*", "read"), ("*", "export")),
        scope="all",
    ),
    _PresetRole(
        key="channel_manager",
        name="Channel manager",
        kind="internal",
        description="Runs the partner programme: enterprises, invitations and their people",
        apps=(),
        grants=(
            ("console", "read"),
            ("interconnect.programme", "*"),
            ("interconnect.enterprises", "*"),
            ("interconnect.invitations", "*"),
            ("interconnect.users", "*"),
            ("roles", "read"),
        ),
        scope="all",
    ),
    _PresetRole(
        key="order_desk",
        name="Order desk",
        kind="internal",
        description="Handles partners' orders",
        apps=(),
        grants=(("console", "read"), ("interconnect.enterprises", "read")),
        scope="all",
    ),
    _PresetRole(
        key="dispatcher",
        name="Dispatcher",
        kind="internal",
        description="Dispatches service work to service partners",
        apps=(),
        grants=(("console", "read"), ("interconnect.enterprises", "read")),
        scope="team",
    ),
    _PresetRole(
        key="enterprise_admin",
        name="Enterprise admin",
        kind="external",
        description="Manages the enterprise's own colleagues and their roles",
        apps=("agent", "ordering"),
        grants=(("partner.profile", "read"), ("partner.colleagues", "*")),
        scope=None,
    ),
    _PresetRole(
        key="member",
        name="Member",
        kind="external",
        description="Signs in and sees the portal",
        apps=(),
        grants=(("partner.profile", "read"),),
        scope=None,
    ),
    _PresetRole(
        key="dealer_admin",
        name="Dealer admin",
        kind="external",
        description="Runs the dealer's ordering",
        apps=("ordering",),
        grants=(("partner.profile", "read"),),
        scope=None,
    ),
    _PresetRole(
        key="dealer_buyer",
        name="Dealer buyer",
        kind="external",
        description="Places orders",
        apps=("ordering",),
        grants=(("partner.profile", "read"),),
        scope=None,
    ),
    _PresetRole(
        key="deal_registrar",
        name="Deal registrar",
        kind="external",
        description="Registers deals and follows them up; the manufacturer sets their stage and commission",
        apps=("agent", "notices", "academy"),
        grants=(("partner.profile", "read"),),
        scope=None,
    ),
    _PresetRole(
        key="service_engineer",
        name="Service engineer",
        kind="external",
        description="Works on service tickets",
        apps=(),
        grants=(("partner.profile", "read"),),
        scope=None,
    ),
)
PRESET_TEMPLATES: dict[str, tuple[tuple[str, bool, bool, bool], ...]] = {
    "distributor": (
        ("enterprise_admin", True, False, True),
        ("member", True, True, True),
        ("dealer_admin", True, False, True),
        ("dealer_buyer", True, True, False),
    ),
    "dealer": (
        ("enterprise_admin", True, False, True),
        ("member", True, True, True),
        ("dealer_admin", True, False, True),
        ("dealer_buyer", True, True, False),
    ),
    "store": (
        ("enterprise_admin", True, False, True),
        ("member", True, True, True),
        ("dealer_admin", True, False, True),
        ("dealer_buyer", True, True, False),
    ),
    "service_provider": (
        ("enterprise_admin", True, False, True),
        ("member", True, True, True),
        ("service_engineer", True, False, False),
    ),
    "agent": (
        ("enterprise_admin", True, False, True),
        ("member", True, True, True),
        ("deal_registrar", True, True, True),
    ),
    "subsidiary": (("enterprise_admin", True, False, True), ("member", True, True, True)),
}

TABLES = (
    "policy_rules",
    "roles",
    "sharing_rules",
    "staff_teams",
    "field_rules",
    "internal_scopes",
    "role_templates",
    "staff_team_members",
    "data_rules",
    "record_team_members",
)


def _table(table_name: str, /, **columns: sa.types.TypeEngine) -> sa.TableClause:
    return sa.table(table_name, *(sa.column(column, kind) for column, kind in columns.items()))


def _existing_tenants_get_presets() -> None:
    """Tenants created before roles existed get the preset roles and templates a new tenant gets, and
    their people the roles their old fixed role meant."""
    bind = op.get_bind()
    key, text, flag = sa.Uuid(), sa.String(), sa.Boolean()
    roles = _table(
        "roles",
        tenant_id=key,
        id=key,
        key=text,
        name=text,
        kind=text,
        description=text,
        apps=sa.JSON(),
        preset=flag,
        created_at=portal.db.types.UTCDateTime(),
        updated_at=portal.db.types.UTCDateTime(),
    )
    rules = _table("policy_rules", tenant_id=key, id=key, ptype=text, v0=text, v1=text, v2=text)
    scopes = _table("internal_scopes", tenant_id=key, id=key, role_id=key, object=text, scope=text)
    templates = _table(
        "role_templates",
        tenant_id=key,
        id=key,
        partner_type_id=key,
        role_id=key,
        assignable=flag,
        member_default=flag,
        admin_default=flag,
    )
    types_t = _table("partner_types", tenant_id=key, id=key, code=text)
    users_t = _table("internal_users", tenant_id=key, id=key, role=text)
    members_t = _table("memberships", tenant_id=key, id=key, link_id=key, is_enterprise_admin=flag)
    links_t = _table("enterprise_links", tenant_id=key, id=key, partner_type_id=key)
    tenants_t = _table("tenants", id=key)
    now = portal.db.types.utcnow()

    def grant(tenant_id: uuid.UUID, ptype: str, v0: str, v1: str, v2: str = "") -> None:
        bind.execute(rules.insert().values(tenant_id=tenant_id, id=uuid.uuid4(), ptype=ptype, v0=v0, v1=v1, v2=v2))

    for (tenant_id,) in bind.execute(sa.select(tenants_t.c.id)).all():
        ids: dict[str, uuid.UUID] = {}
        for preset in PRESET_ROLES:
            ids[preset.key] = uuid.uuid4()
            bind.execute(
                roles.insert().values(
                    tenant_id=tenant_id,
                    id=ids[preset.key],
                    key=preset.key,
                    name=preset.name,
                    kind=preset.kind,
                    description=preset.description,
                    apps=list(preset.apps),
                    preset=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            for obj, action in preset.grants:
                grant(tenant_id, "p", "r:" + preset.key, obj, action)
            if preset.scope:
                bind.execute(
                    scopes.insert().values(
                        tenant_id=tenant_id, id=uuid.uuid4(), role_id=ids[preset.key], object="*", scope=preset.scope
                    )
                )
        types = dict(
            bind.execute(sa.select(types_t.c.code, types_t.c.id).where(types_t.c.tenant_id == tenant_id)).all()
        )
        defaults: dict[tuple[uuid.UUID, bool], list[str]] = {}
        for code, rows in PRESET_TEMPLATES.items():
            if code not in types:
                continue
            for role_key, assignable, member_default, admin_default in rows:
                bind.execute(
                    templates.insert().values(
                        tenant_id=tenant_id,
                        id=uuid.uuid4(),
                        partner_type_id=types[code],
                        role_id=ids[role_key],
                        assignable=assignable,
                        member_default=member_default,
                        admin_default=admin_default,
                    )
                )
                for admin, wanted in ((False, member_default), (True, admin_default)):
                    if wanted:
                        defaults.setdefault((types[code], admin), []).append(role_key)
        for user_id, role in bind.execute(
            sa.select(users_t.c.id, users_t.c.role).where(users_t.c.tenant_id == tenant_id)
        ).all():
            grant(tenant_id, "g", f"u:{user_id}", "r:" + role)
        members = bind.execute(
            sa.select(members_t.c.id, members_t.c.is_enterprise_admin, links_t.c.partner_type_id)
            .select_from(
                members_t.outerjoin(
                    links_t, (links_t.c.tenant_id == members_t.c.tenant_id) & (links_t.c.id == members_t.c.link_id)
                )
            )
            .where(members_t.c.tenant_id == tenant_id)
        ).all()
        for member_id, admin, type_id in members:
            keys = ["member"] if type_id is None else defaults.get((type_id, bool(admin)), ["member"])
            for role_key in keys:
                grant(tenant_id, "g", f"u:{member_id}", "r:" + role_key)


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "policy_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ptype", sa.String(length=1), nullable=False),
        sa.Column("v0", sa.String(length=80), nullable=False),
        sa.Column("v1", sa.String(length=80), nullable=False),
        sa.Column("v2", sa.String(length=40), nullable=False),
        sa.CheckConstraint("ptype IN ('p', 'g')", name=op.f("ck_policy_rules_ptype")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_policy_rules_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_policy_rules")),
        sa.UniqueConstraint(
            "tenant_id", "ptype", "v0", "v1", "v2", name=op.f("uq_policy_rules_tenant_id_ptype_v0_v1_v2")
        ),
    )
    with op.batch_alter_table("policy_rules", schema=None) as batch_op:
        batch_op.create_index("ix_policy_rules_tenant_v1", ["tenant_id", "v1"], unique=False)

    op.create_table(
        "roles",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("apps", sa.JSON(), nullable=False),
        sa.Column("preset", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('internal', 'external')", name=op.f("ck_roles_kind")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_roles_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_roles")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_roles_tenant_id_key")),
    )
    op.create_table(
        "sharing_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("object", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=80), nullable=False),
        sa.Column("operator", sa.String(length=4), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("target_kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("access", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("access IN ('read', 'write')", name=op.f("ck_sharing_rules_access")),
        sa.CheckConstraint(
            "operator IN ('eq', 'ne', 'in', 'lt', 'le', 'gt', 'ge')", name=op.f("ck_sharing_rules_operator")
        ),
        sa.CheckConstraint(
            "target_kind IN ('enterprise', 'partner_type', 'tier', 'role')", name=op.f("ck_sharing_rules_target_kind")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sharing_rules_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sharing_rules")),
    )
    with op.batch_alter_table("sharing_rules", schema=None) as batch_op:
        batch_op.create_index("ix_sharing_rules_tenant_object", ["tenant_id", "object"], unique=False)

    op.create_table(
        "staff_teams",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_staff_teams_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_staff_teams")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_staff_teams_tenant_id_name")),
    )
    op.create_table(
        "field_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("object", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=80), nullable=False),
        sa.Column("access", sa.String(length=16), nullable=False),
        sa.CheckConstraint("access IN ('hidden', 'read_only')", name=op.f("ck_field_rules_access")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["roles.tenant_id", "roles.id"],
            name=op.f("fk_field_rules_tenant_id_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_field_rules_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_field_rules")),
        sa.UniqueConstraint(
            "tenant_id", "role_id", "object", "field", name=op.f("uq_field_rules_tenant_id_role_id_object_field")
        ),
    )
    op.create_table(
        "internal_scopes",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("object", sa.String(length=80), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.CheckConstraint("scope IN ('own', 'team', 'all')", name=op.f("ck_internal_scopes_scope")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["roles.tenant_id", "roles.id"],
            name=op.f("fk_internal_scopes_tenant_id_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_internal_scopes_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_internal_scopes")),
        sa.UniqueConstraint("tenant_id", "role_id", "object", name=op.f("uq_internal_scopes_tenant_id_role_id_object")),
    )
    op.create_table(
        "role_templates",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner_type_id", sa.Uuid(), nullable=False),
        sa.Column("role_id", sa.Uuid(), nullable=False),
        sa.Column("assignable", sa.Boolean(), nullable=False),
        sa.Column("member_default", sa.Boolean(), nullable=False),
        sa.Column("admin_default", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_role_templates_tenant_id_partner_type_id_partner_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["roles.tenant_id", "roles.id"],
            name=op.f("fk_role_templates_tenant_id_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_role_templates_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_role_templates")),
        sa.UniqueConstraint(
            "tenant_id", "partner_type_id", "role_id", name=op.f("uq_role_templates_tenant_id_partner_type_id_role_id")
        ),
    )
    op.create_table(
        "staff_team_members",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["staff_teams.tenant_id", "staff_teams.id"],
            name=op.f("fk_staff_team_members_tenant_id_team_id_staff_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["internal_users.tenant_id", "internal_users.id"],
            name=op.f("fk_staff_team_members_tenant_id_user_id_internal_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_staff_team_members_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_staff_team_members")),
        sa.UniqueConstraint(
            "tenant_id", "team_id", "user_id", name=op.f("uq_staff_team_members_tenant_id_team_id_user_id")
        ),
    )
    with op.batch_alter_table("staff_team_members", schema=None) as batch_op:
        batch_op.create_index("ix_staff_team_members_user", ["tenant_id", "user_id", "team_id"], unique=False)

    op.create_table(
        "data_rules",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("object", sa.String(length=80), nullable=False),
        sa.Column("partner_type_id", sa.Uuid(), nullable=True),
        sa.Column("link_id", sa.Uuid(), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("include_sub_enterprises", sa.Boolean(), nullable=False),
        sa.Column("created_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "level IN ('none', 'private', 'enterprise_read', 'enterprise_write', 'public_read', 'public_write')",
            name=op.f("ck_data_rules_level"),
        ),
        sa.CheckConstraint("(partner_type_id IS NULL) <> (link_id IS NULL)", name=op.f("ck_data_rules_one_subject")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "link_id"],
            ["enterprise_links.tenant_id", "enterprise_links.id"],
            name=op.f("fk_data_rules_tenant_id_link_id_enterprise_links"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "partner_type_id"],
            ["partner_types.tenant_id", "partner_types.id"],
            name=op.f("fk_data_rules_tenant_id_partner_type_id_partner_types"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_data_rules_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_data_rules")),
        sa.UniqueConstraint("tenant_id", "object", "link_id", name=op.f("uq_data_rules_tenant_id_object_link_id")),
        sa.UniqueConstraint(
            "tenant_id", "object", "partner_type_id", name=op.f("uq_data_rules_tenant_id_object_partner_type_id")
        ),
    )
    op.create_table(
        "record_team_members",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("object", sa.String(length=80), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("membership_id", sa.Uuid(), nullable=False),
        sa.Column("access", sa.String(length=8), nullable=False),
        sa.CheckConstraint("access IN ('read', 'write')", name=op.f("ck_record_team_members_access")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "membership_id"],
            ["memberships.tenant_id", "memberships.id"],
            name=op.f("fk_record_team_members_tenant_id_membership_id_memberships"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_record_team_members_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_record_team_members")),
        sa.UniqueConstraint(
            "tenant_id",
            "object",
            "record_id",
            "membership_id",
            name=op.f("uq_record_team_members_tenant_id_object_record_id_membership_id"),
        ),
    )
    with op.batch_alter_table("record_team_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_record_team_members_member", ["tenant_id", "membership_id", "object", "record_id"], unique=False
        )

    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preview_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("preview_role", sa.String(length=40), nullable=True))

    for table in TABLES:
        rls.tenant_table(table)
    _existing_tenants_get_presets()
    with op.batch_alter_table("internal_users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_internal_users_role"), type_="check")
        batch_op.drop_column("role")

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("policy_version", sa.Integer(), server_default="0", nullable=False))

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("policy_version")

    with op.batch_alter_table("internal_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role", sa.VARCHAR(length=16), nullable=False, server_default="staff"))
    # Subjects hold the id in its canonical text form, which SQLite's storage of the id does not match.
    bind = op.get_bind()
    rules = _table("policy_rules", ptype=sa.String(), v0=sa.String(), v1=sa.String())
    users = _table("internal_users", id=sa.Uuid(), role=sa.String())
    admins = bind.execute(sa.select(rules.c.v0).where(rules.c.ptype == "g", rules.c.v1 == "r:admin")).scalars()
    ids = [uuid.UUID(subject.removeprefix("u:")) for subject in admins]
    if ids:
        bind.execute(users.update().where(users.c.id.in_(ids)).values(role="admin"))
    with op.batch_alter_table("internal_users", schema=None) as batch_op:
        batch_op.create_check_constraint("role", "role IN ('admin', 'staff')")

    with op.batch_alter_table("auth_sessions", schema=None) as batch_op:
        batch_op.drop_column("preview_role")
        batch_op.drop_column("preview_by")

    with op.batch_alter_table("record_team_members", schema=None) as batch_op:
        batch_op.drop_index("ix_record_team_members_member")

    op.drop_table("record_team_members")
    op.drop_table("data_rules")
    with op.batch_alter_table("staff_team_members", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_team_members_user")

    op.drop_table("staff_team_members")
    op.drop_table("role_templates")
    op.drop_table("internal_scopes")
    op.drop_table("field_rules")
    op.drop_table("staff_teams")
    with op.batch_alter_table("sharing_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_rules_tenant_object")

    op.drop_table("sharing_rules")
    op.drop_table("roles")
    with op.batch_alter_table("policy_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_policy_rules_tenant_v1")

    op.drop_table("policy_rules")
    # ### end Alembic commands ###
