"""Roles and what they decide, per upstream tenant.

- `Role`: a named set of permissions for staff (internal) or partner people (external); for external
  roles, the partner apps it opens and the widgets of its people's home per channel.
- `PolicyRule`: the casbin policy itself, one row per line, the domain being the row's tenant:
  ("p", "r:<role key>", object, action) grants, ("g", "u:<user id>", "r:<role key>") assignments and
  ("g", "r:<role>", "r:<role>") inheritance. Loaded per tenant, never all tenants at once.
- `FieldRule`: a field a role may not see (hidden) or not change (read_only); read-write otherwise.
- `RoleTemplate`: per partner type, the roles an enterprise admin may hand out and the defaults new
  members and new enterprise admins get.
- `DataRule`: per object, the partners' data level, set per partner type and overridden per enterprise.
- `InternalScope`: per internal role and object, own / team / region / all.
- `SharingRule`: records matching a condition shared with enterprises, partner types, tiers or roles.
- `RecordTeamMember`: the external team of one record.
- `StaffTeam` / `StaffTeamMember`: the upstream's own teams, for the "team" scope.
- `StaffTeamRegion`: the regions a staff team covers, for the "region" scope.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped

ROLE_KINDS = ("internal", "external")
FIELD_ACCESS = ("hidden", "read_only")
DATA_LEVELS = ("none", "private", "enterprise_read", "enterprise_write", "public_read", "public_write")
INTERNAL_SCOPES = ("own", "team", "region", "all")
SHARING_TARGETS = ("enterprise", "partner_type", "tier", "role")
SHARING_OPERATORS = ("eq", "ne", "in", "lt", "le", "gt", "ge")
RECORD_ACCESS = ("read", "write")


def _fk(columns: list[str], table: str, ondelete: str = "CASCADE") -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete)


def _choice(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or column)


class Role(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("tenant_id", "key"), _choice("kind", ROLE_KINDS))

    key: Mapped[str] = mapped_column(String(40))  # the casbin subject is "r:<key>"; never changes
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(String(300))
    apps: Mapped[list[str]] = mapped_column(JSON, default=list)  # partner apps the role opens
    preset: Mapped[bool] = mapped_column(default=False)
    # external roles: the home's widget keys per channel ("web", "mobile"), in order; a channel left
    # out shows the default widgets (portal.home)
    home: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)


class PolicyRule(TenantOwned, Audited, Base):
    __tablename__ = "policy_rules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "ptype", "v0", "v1", "v2"),
        Index("ix_policy_rules_tenant_v1", "tenant_id", "v1"),
        _choice("ptype", ("p", "g")),
    )

    ptype: Mapped[str] = mapped_column(String(1))
    v0: Mapped[str] = mapped_column(String(80))
    v1: Mapped[str] = mapped_column(String(80))
    v2: Mapped[str] = mapped_column(String(40), default="")


class FieldRule(TenantOwned, Audited, Base):
    __tablename__ = "field_rules"
    __table_args__ = (
        _fk(["role_id"], "roles"),
        UniqueConstraint("tenant_id", "role_id", "object", "field"),
        _choice("access", FIELD_ACCESS),
    )

    role_id: Mapped[uuid.UUID]
    object: Mapped[str] = mapped_column(String(80))
    field: Mapped[str] = mapped_column(String(80))
    access: Mapped[str] = mapped_column(String(16))


class RoleTemplate(TenantOwned, Audited, Base):
    __tablename__ = "role_templates"
    __table_args__ = (
        _fk(["partner_type_id"], "partner_types"),
        _fk(["role_id"], "roles"),
        UniqueConstraint("tenant_id", "partner_type_id", "role_id"),
    )

    partner_type_id: Mapped[uuid.UUID]
    role_id: Mapped[uuid.UUID]
    assignable: Mapped[bool] = mapped_column(default=True)  # an enterprise admin may hand it out
    member_default: Mapped[bool] = mapped_column(default=False)  # a new member gets it
    admin_default: Mapped[bool] = mapped_column(default=False)  # a new enterprise admin gets it


class DataRule(TenantOwned, Timestamped, Audited, Base):
    """Exactly one of partner_type_id (the default for a type) or link_id (one enterprise's override)."""

    __tablename__ = "data_rules"
    __table_args__ = (
        _fk(["partner_type_id"], "partner_types"),
        _fk(["link_id"], "enterprise_links"),
        UniqueConstraint("tenant_id", "object", "partner_type_id"),
        UniqueConstraint("tenant_id", "object", "link_id"),
        CheckConstraint("(partner_type_id IS NULL) <> (link_id IS NULL)", name="one_subject"),
        _choice("level", DATA_LEVELS),
    )

    object: Mapped[str] = mapped_column(String(80))
    partner_type_id: Mapped[uuid.UUID | None]
    link_id: Mapped[uuid.UUID | None]
    level: Mapped[str] = mapped_column(String(20))
    include_sub_enterprises: Mapped[bool] = mapped_column(default=False)


class InternalScope(TenantOwned, Audited, Base):
    __tablename__ = "internal_scopes"
    __table_args__ = (
        _fk(["role_id"], "roles"),
        UniqueConstraint("tenant_id", "role_id", "object"),
        _choice("scope", INTERNAL_SCOPES),
    )

    role_id: Mapped[uuid.UUID]
    object: Mapped[str] = mapped_column(String(80))
    scope: Mapped[str] = mapped_column(String(8))


class SharingRule(TenantOwned, Timestamped, Audited, Base):
    """Records of `object` whose `field` compares (`operator`) to `value` are shared with the target
    (an enterprise id, partner type id, tier id or role key), for reading or also for writing."""

    __tablename__ = "sharing_rules"
    __table_args__ = (
        Index("ix_sharing_rules_tenant_object", "tenant_id", "object"),
        _choice("target_kind", SHARING_TARGETS),
        _choice("operator", SHARING_OPERATORS),
        _choice("access", RECORD_ACCESS),
    )

    name: Mapped[str] = mapped_column(String(100))
    object: Mapped[str] = mapped_column(String(80))
    field: Mapped[str] = mapped_column(String(80))
    operator: Mapped[str] = mapped_column(String(4))
    value: Mapped[Any] = mapped_column(JSON)
    target_kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(80))
    access: Mapped[str] = mapped_column(String(8), default="read")
    active: Mapped[bool] = mapped_column(default=True)


class RecordTeamMember(TenantOwned, Audited, Base):
    __tablename__ = "record_team_members"
    __table_args__ = (
        _fk(["membership_id"], "memberships"),
        UniqueConstraint("tenant_id", "object", "record_id", "membership_id"),
        Index("ix_record_team_members_member", "tenant_id", "membership_id", "object", "record_id"),
        _choice("access", RECORD_ACCESS),
    )

    object: Mapped[str] = mapped_column(String(80))
    record_id: Mapped[uuid.UUID]
    membership_id: Mapped[uuid.UUID]
    access: Mapped[str] = mapped_column(String(8), default="read")


class StaffTeam(TenantOwned, Timestamped, Audited, Base):
    __tablename__ = "staff_teams"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))


class StaffTeamMember(TenantOwned, Audited, Base):
    __tablename__ = "staff_team_members"
    __table_args__ = (
        _fk(["team_id"], "staff_teams"),
        _fk(["user_id"], "internal_users"),
        UniqueConstraint("tenant_id", "team_id", "user_id"),
        Index("ix_staff_team_members_user", "tenant_id", "user_id", "team_id"),
    )

    team_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]


class StaffTeamRegion(TenantOwned, Audited, Base):
    """A region a staff team covers: the "region" scope gives the team's members the records of its
    regions (of objects whose records have a region: service tickets and devices)."""

    __tablename__ = "staff_team_regions"
    __table_args__ = (
        _fk(["team_id"], "staff_teams"),
        _fk(["region_id"], "regions"),
        UniqueConstraint("tenant_id", "team_id", "region_id"),
    )

    team_id: Mapped[uuid.UUID]
    region_id: Mapped[uuid.UUID]
