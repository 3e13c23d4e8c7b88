"""The access policy in use: roles stored per tenant, compiled per policy version, asked by the one guard.

Every request's session lookup reads the tenant's policy version and the user's role assignments (in its
one statement: `RolePolicy.held_roles`); the
tenant's compiled policy is rebuilt in this process only when the version moved on. So a role given or
taken away shows on the user's very next request, and a changed role definition in every process.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, String, and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from portal.actor import Actor
from portal.errors import Conflict, ValidationFailed
from portal.i18n import N_, Msgid
from portal.identity.models import InternalUser
from portal.permissions import ADMIN_ROLE, SIGNED_IN, Permission, ProtectedObject
from roles import snapshot
from roles.casbin_model import ROLE_PREFIX, USER_PREFIX
from roles.models import PolicyRule, Role, RoleTemplate
from roles.scopes import Access, Viewer, scope_condition
from roles.snapshot import FieldAccess, TenantPolicy

# What opening a preview takes, and keeps taking: a preview ends being useful once its staff member loses it.
PREVIEW_PERMISSION: Permission = ("roles", "read")


def user_subject(user_id: uuid.UUID) -> str:
    return f"{USER_PREFIX}{user_id}"


class user_subject_of(FunctionElement[str]):
    """`user_subject()` of a user id column, in SQL."""

    type = String()
    inherit_cache = True


@compiles(user_subject_of, "postgresql")
def _subject_postgresql(element: user_subject_of, compiler: SQLCompiler, **kw: Any) -> str:
    return f"'{USER_PREFIX}' || CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


@compiles(user_subject_of, "sqlite")
def _subject_sqlite(element: user_subject_of, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a UUID as 32 hex digits; the subject has the usual hyphens
    x = compiler.process(element.clauses, **kw)
    parts = " || '-' || ".join(f"substr({x}, {start}, {length})" for start, length in _UUID_GROUPS)
    return f"'{USER_PREFIX}' || lower({parts})"


_UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))


class role_list(FunctionElement[str]):
    """The values of a column joined by spaces: an aggregate."""

    type = String()
    inherit_cache = True


@compiles(role_list, "postgresql")
def _list_postgresql(element: role_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ' ')"


@compiles(role_list, "sqlite")
def _list_sqlite(element: role_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ' ')"


def viewer_of(actor: Actor) -> Viewer:
    return Viewer(
        kind="external" if actor.kind == "external" else "internal",
        tenant_id=actor.tenant_id,
        user_id=actor.user_id,
        enterprise_id=actor.enterprise_id,
        partner_type_id=actor.partner_type_id,
        tier_id=actor.tier_id,
        roles=actor.roles,
        sub_enterprises=actor.sub_enterprises,
    )


class RolePolicy:
    def __init__(self, objects: Mapping[str, ProtectedObject]) -> None:
        self.objects = objects
        self._compiled: dict[uuid.UUID, TenantPolicy] = {}

    async def compiled(self, session: AsyncSession, tenant_id: uuid.UUID, version: int) -> TenantPolicy:
        found = self._compiled.get(tenant_id)
        if found is None or found.version != version:
            found = await snapshot.load(session, tenant_id, version, self.objects)
            self._compiled[tenant_id] = found
        return found

    def forget(self) -> None:
        """Compiled policies are keyed by version; a database put back to an earlier state (the test
        suite does, between tests) could reach the same version with other roles, so start over."""
        self._compiled.clear()

    def current(self, tenant_id: uuid.UUID) -> TenantPolicy:
        """The tenant's policy as this request's session lookup prepared it."""
        return self._compiled[tenant_id]

    def held_roles(
        self, user_id: ColumnElement[uuid.UUID], tenant_id: ColumnElement[uuid.UUID]
    ) -> ColumnElement[str | None]:
        """The role keys the user holds, for the session lookup to read in its own statement: one string
        of "r:<key>" separated by spaces (keys have none), None when they hold no role."""
        rules = PolicyRule.__table__
        return (
            select(role_list(rules.c.v1))
            .where(rules.c.tenant_id == tenant_id, rules.c.ptype == "g", rules.c.v0 == user_subject_of(user_id))
            .scalar_subquery()
        )

    async def prepare(self, session: AsyncSession, actor: Actor, version: int, held_roles: str | None = None) -> Actor:
        policy = await self.compiled(session, actor.tenant_id, version)
        if actor.preview_role is not None:
            held: Iterable[str] = (actor.preview_role,)
        else:
            held = {role.removeprefix(ROLE_PREFIX) for role in (held_roles or "").split()}
        kind = "external" if actor.kind == "external" else "internal"
        roles = frozenset(k for k in held if k in policy.roles and policy.roles[k].kind == kind)
        actor = replace(actor, roles=roles)
        if actor.preview and actor.preview_by is not None:
            actor = replace(actor, previewer_roles=await self._previewer_roles(session, policy, actor.preview_by))
        return actor

    async def _previewer_roles(self, session: AsyncSession, policy: TenantPolicy, user_id: uuid.UUID) -> frozenset[str]:
        """The staff roles the previewing user holds now (none once they are disabled)."""
        if await session.scalar(select(InternalUser.status).where(InternalUser.id == user_id)) != "active":
            return frozenset()
        held = (await self.roles_of(session, [user_id]))[user_id]
        return frozenset(k for k in held if k in policy.roles and policy.roles[k].kind == "internal")

    def allows(self, actor: Actor, permission: Permission) -> bool:
        if permission == SIGNED_IN:
            return True
        policy = self._compiled.get(actor.tenant_id)
        if policy is None or not policy.allows(actor.roles, permission):
            return False
        return not actor.preview or self._previewer_may(policy, actor.previewer_roles, permission)

    def acts_for(self, actor: Actor, role_key: str) -> bool:
        """Whether the actor may take a step assigned to the role `role_key` (an approval step, say): they
        hold that role, or they are their workspace's administrator, who holds every staff permission."""
        return role_key in actor.roles or (actor.kind == "internal" and ADMIN_ROLE in actor.roles)

    def _previewer_may(self, policy: TenantPolicy, roles: frozenset[str], permission: Permission) -> bool:
        """A preview shows a partner object only when the previewer may read every staff object showing the
        same records (export when they export): otherwise it would be a way round their own role."""
        obj, action = permission
        described = self.objects.get(obj)
        if described is None or not described.staff_view or not policy.allows(roles, PREVIEW_PERMISSION):
            return False
        for view in described.staff_view:
            staff = self.objects.get(view)
            if staff is None or not policy.allows(roles, (view, action if action in staff.actions else "read")):
                return False
        return True

    def fields(self, actor: Actor, obj: str) -> FieldAccess:
        policy = self.current(actor.tenant_id)
        own = policy.field_access(actor.roles, obj)
        described = self.objects.get(obj)
        if not actor.preview or described is None:
            return own
        # in a preview, whatever the previewer may not see on the staff side stays hidden too
        merged = dict(own)
        for view in described.staff_view:
            for name, level in policy.field_access(actor.previewer_roles, view).items():
                if level == "hidden" or name not in merged:
                    merged[name] = level
        return merged

    def hidden(self, actor: Actor, obj: str) -> frozenset[str]:
        """The fields of `obj` the actor may not see: what `fields()` hides."""
        if not actor.preview:
            return self.current(actor.tenant_id).hidden_fields(actor.roles, obj)
        return frozenset(k for k, v in self.fields(actor, obj).items() if v == "hidden")

    async def scope(self, session: AsyncSession, actor: Actor, obj: str, access: Access) -> ColumnElement[bool]:
        """The data-scope condition of `obj` for this actor, to AND into a select of the object's model
        (see `roles.scopes.scope_condition()` for the lookup it may make first). A preview also keeps to
        the previewer's own staff scope on the same records."""
        policy = self.current(actor.tenant_id)
        described = self.objects[obj]
        condition = await scope_condition(
            session, described.model, obj, policy.rules_for(obj), viewer_of(actor), access
        )
        if not actor.preview or actor.preview_by is None:
            return condition
        previewer = Viewer(
            kind="internal", tenant_id=actor.tenant_id, user_id=actor.preview_by, roles=actor.previewer_roles
        )
        for view in described.staff_view:
            if view in self.objects and self.objects[view].model is described.model:
                staff = await scope_condition(session, described.model, view, policy.rules_for(view), previewer, "read")
                condition = and_(condition, staff)
        return condition

    async def roles_of(self, session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, frozenset[str]]:
        subjects = {user_subject(u): u for u in user_ids}
        found: dict[uuid.UUID, set[str]] = defaultdict(set)
        if subjects:
            rows = await session.execute(
                select(PolicyRule.v0, PolicyRule.v1).where(PolicyRule.ptype == "g", PolicyRule.v0.in_(subjects))
            )
            for subject, role in rows:
                found[subjects[subject]].add(role.removeprefix(ROLE_PREFIX))
        return {u: frozenset(found.get(u, ())) for u in user_ids}

    async def assign(
        self, session: AsyncSession, by: Actor | None, user_id: uuid.UUID, kind: str, role_keys: Iterable[str]
    ) -> frozenset[str]:
        """Replace the user's roles. Row by row through the ORM, so each change is in the audit log.

        An enterprise admin (`by` external) hands out only the roles their partner type's template lets
        them; roles the upstream gave that are outside it stay as they are."""
        wanted = frozenset(k.strip() for k in role_keys if k.strip())
        known = {r.key: r for r in await session.scalars(select(Role).where(Role.key.in_(wanted)))}
        for key in sorted(wanted):
            if key not in known or known[key].kind != kind:
                raise ValidationFailed.single("roles", N_("%(key)s is not a role for this kind of user"), key=key)
        subject = user_subject(user_id)
        current = {
            row.v1.removeprefix(ROLE_PREFIX): row
            for row in await session.scalars(
                select(PolicyRule).where(PolicyRule.ptype == "g", PolicyRule.v0 == subject)
            )
        }
        own = by is not None and by.kind == "internal" and user_id == by.user_id
        if own and ADMIN_ROLE in current and ADMIN_ROLE not in wanted:
            raise Conflict(N_("You cannot remove your own admin role"), code="own_admin_role")
        if by is not None and by.kind == "external":
            if user_id == by.user_id:
                raise Conflict(N_("You cannot change your own roles"), code="own_roles")
            allowed = await assignable_roles(session, by.partner_type_id)
            for key in sorted(wanted - allowed):
                if key not in current:
                    raise ValidationFailed.single(
                        "roles",
                        N_("You cannot give the role %(name)s"),
                        "not_assignable",
                        name=Msgid(known[key].name) if known[key].preset else known[key].name,
                    )
            wanted = wanted | (current.keys() - allowed)
        for key, row in current.items():
            if key not in wanted:
                await session.delete(row)
        for key in sorted(wanted - current.keys()):
            session.add(PolicyRule(ptype="g", v0=subject, v1=ROLE_PREFIX + key, v2=""))
        await session.flush()
        return wanted


async def assignable_roles(session: AsyncSession, partner_type_id: uuid.UUID | None) -> frozenset[str]:
    """The roles an enterprise admin of this partner type may hand out (the type's role template)."""
    if partner_type_id is None:
        return frozenset()
    found = await session.scalars(
        select(Role.key)
        .join(RoleTemplate, (RoleTemplate.tenant_id == Role.tenant_id) & (RoleTemplate.role_id == Role.id))
        .where(RoleTemplate.partner_type_id == partner_type_id, RoleTemplate.assignable.is_(True))
    )
    return frozenset(found)
