"""One tenant's compiled policy at one version: what its roles may do (the permission index), which
fields they may not see or change, and its data rules per object. Built from the tables in one unit of
work, immutable afterwards, replaced as a whole when the tenant's policy version moves on."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.permissions import ANY, Permission, ProtectedObject
from roles.casbin_model import ROLE_PREFIX, PolicyLine
from roles.index import Grant, PermissionIndex
from roles.models import DataRule, FieldRule, InternalScope, PolicyRule, Role, SharingRule
from roles.scopes import LevelRule, ObjectRules, Sharing

FieldAccess = dict[str, str]  # field -> "hidden" | "read_only"; absent means read-write


@dataclass(frozen=True, slots=True)
class RoleInfo:
    id: uuid.UUID
    key: str
    name: str
    kind: str
    apps: frozenset[str]


@dataclass
class TenantPolicy:
    tenant_id: uuid.UUID
    version: int
    index: PermissionIndex
    roles: dict[str, RoleInfo]
    field_rules: dict[tuple[str, str], FieldAccess]  # (role key, object) -> rules
    object_rules: dict[str, ObjectRules]
    objects: Mapping[str, ProtectedObject]
    _grants: dict[frozenset[str], frozenset[Grant]] = field(default_factory=dict)
    _apps: dict[frozenset[str], frozenset[str]] = field(default_factory=dict)
    _fields: dict[tuple[frozenset[str], str], FieldAccess] = field(default_factory=dict)
    _hidden: dict[tuple[frozenset[str], str], frozenset[str]] = field(default_factory=dict)

    def grants(self, roles: frozenset[str]) -> frozenset[Grant]:
        """Everything a set of roles grants: one union, computed once per distinct set of roles."""
        found = self._grants.get(roles)
        if found is None:
            found = frozenset().union(*(self.index.grants(ROLE_PREFIX + key) for key in roles))
            self._grants[roles] = found
        return found

    def apps(self, roles: frozenset[str]) -> frozenset[str]:
        found = self._apps.get(roles)
        if found is None:
            found = frozenset().union(*(self.roles[k].apps for k in roles if k in self.roles))
            self._apps[roles] = found
        return found

    def allows(self, roles: frozenset[str], permission: Permission) -> bool:
        obj, action = permission
        granted = self.grants(roles)
        if not ((obj, action) in granted or (obj, ANY) in granted or (ANY, action) in granted or (ANY, ANY) in granted):
            return False
        described = self.objects.get(obj)
        return described is None or described.app is None or described.app in self.apps(roles)

    def granting_roles(self, roles: frozenset[str], permission: Permission) -> list[str]:
        """Which of these roles grant the permission (directly or through roles they include)."""
        return [key for key in sorted(roles) if self.allows(frozenset({key}), permission)]

    def field_access(self, roles: frozenset[str], obj: str) -> FieldAccess:
        """The most permissive rule over the roles that grant anything on the object: a field is hidden
        only if every such role hides it, read-only if none lets it be written."""
        key = (roles, obj)
        found = self._fields.get(key)
        if found is None:
            relevant = [r for r in roles if any(g[0] in (obj, ANY) for g in self.grants(frozenset({r})))]
            found = {}
            if relevant:
                per_role = [self.field_rules.get((r, obj), {}) for r in relevant]
                for name in set().union(*per_role):
                    levels = [rules.get(name) for rules in per_role]
                    if None not in levels:
                        found[name] = "hidden" if all(level == "hidden" for level in levels) else "read_only"
            self._fields[key] = found
        return found

    def hidden_fields(self, roles: frozenset[str], obj: str) -> frozenset[str]:
        """The fields `field_access()` hides, worked out once per set of roles and object."""
        key = (roles, obj)
        found = self._hidden.get(key)
        if found is None:
            found = self._hidden[key] = frozenset(k for k, v in self.field_access(roles, obj).items() if v == "hidden")
        return found

    def rules_for(self, obj: str) -> ObjectRules:
        return self.object_rules.get(obj, EMPTY_RULES)


EMPTY_RULES = ObjectRules()


def policy_lines(domain: str, rows: Iterable[PolicyRule]) -> list[PolicyLine]:
    lines: list[PolicyLine] = []
    for row in rows:
        if row.ptype == "p":
            lines.append(("p", row.v0, domain, row.v1, row.v2))
        else:
            lines.append(("g", row.v0, row.v1, domain))
    return lines


async def load(
    session: AsyncSession, tenant_id: uuid.UUID, version: int, objects: Mapping[str, ProtectedObject]
) -> TenantPolicy:
    """Users' own assignments stay out of the index: they are read with each request, so assigning a role
    needs no rebuild; the index holds what roles grant, which is small whatever the number of users."""
    roles = {
        r.key: RoleInfo(r.id, r.key, r.name, r.kind, frozenset(r.apps or ()))
        for r in await session.scalars(select(Role))
    }
    by_id = {info.id: info.key for info in roles.values()}
    rules = await session.scalars(select(PolicyRule).where(PolicyRule.v0.startswith(ROLE_PREFIX)))
    domain = str(tenant_id)
    index = PermissionIndex.build(domain, policy_lines(domain, rules), version)

    field_rules: dict[tuple[str, str], FieldAccess] = defaultdict(dict)
    for fr in await session.scalars(select(FieldRule)):
        if fr.role_id in by_id:
            field_rules[(by_id[fr.role_id], fr.object)][fr.field] = fr.access

    by_type: dict[str, dict[uuid.UUID, LevelRule]] = defaultdict(dict)
    by_link: dict[str, dict[uuid.UUID, LevelRule]] = defaultdict(dict)
    for dr in await session.scalars(select(DataRule)):
        level = LevelRule(dr.level, dr.include_sub_enterprises)
        if dr.link_id is not None:
            by_link[dr.object][dr.link_id] = level
        elif dr.partner_type_id is not None:
            by_type[dr.object][dr.partner_type_id] = level
    sharing: dict[str, list[Sharing]] = defaultdict(list)
    for sr in await session.scalars(select(SharingRule).where(SharingRule.active.is_(True))):
        sharing[sr.object].append(
            Sharing(sr.id, sr.name, sr.field, sr.operator, sr.value, sr.target_kind, sr.target, sr.access)
        )
    scopes: dict[str, dict[str, str]] = defaultdict(dict)  # object -> role -> scope ("*" = every object)
    for scope in await session.scalars(select(InternalScope)):
        if scope.role_id in by_id:
            scopes[scope.object][by_id[scope.role_id]] = scope.scope

    object_rules: dict[str, ObjectRules] = {}
    for name in {*by_type, *by_link, *sharing, *objects}:
        internal = dict(scopes.get(ANY, {}))
        internal.update(scopes.get(name, {}))
        object_rules[name] = ObjectRules(
            by_partner_type=dict(by_type.get(name, {})),
            by_enterprise=dict(by_link.get(name, {})),
            sharing=tuple(sharing.get(name, ())),
            internal=internal,
        )
    return TenantPolicy(tenant_id, version, index, roles, dict(field_rules), object_rules, objects)
