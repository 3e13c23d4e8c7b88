"""Why may this person do this, see this field, see or change this record: the rules that grant it.

Function permissions name the roles that grant each action; field rules give each field's access; data
access lists every reason the record is visible or writable (owner, external team, enterprise level,
public level, sharing rule, staff scope), computed by the same plain-Python predicate the SQL compiler
is tested against.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import EnterpriseLink, Membership
from portal.errors import NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.models import InternalUser
from roles.policy import RolePolicy
from roles.scopes import Reason, Viewer, facts_for, reasons
from roles.snapshot import TenantPolicy


@dataclass
class Explanation:
    user_id: uuid.UUID
    kind: str
    display_name: str
    roles: list[str]
    object: str
    actions: dict[str, list[str]]  # action -> roles granting it (empty: refused)
    apps_open: bool
    fields: dict[str, str]  # field -> read_write | read_only | hidden
    read: list[Reason] = field(default_factory=list)
    write: list[Reason] = field(default_factory=list)


async def viewer_for(
    session: AsyncSession, policy: RolePolicy, tenant_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Viewer, str]:
    roles = (await policy.roles_of(session, [user_id]))[user_id]
    staff = await session.scalar(select(InternalUser).where(InternalUser.id == user_id))
    if staff is not None:
        return Viewer("internal", tenant_id, user_id, roles=roles), staff.display_name
    found = (
        await session.execute(
            select(Membership, EnterpriseLink)
            .outerjoin(EnterpriseLink, EnterpriseLink.id == Membership.link_id)
            .where(Membership.id == user_id)
        )
    ).one_or_none()
    if found is None:
        raise NotFound(N_("No such user"))
    member, link = found
    return (
        Viewer(
            "external",
            tenant_id,
            user_id,
            enterprise_id=member.link_id,
            partner_type_id=None if link is None else link.partner_type_id,
            tier_id=None if link is None else link.tier_id,
            roles=roles,
        ),
        member.display_name,
    )


async def explain(
    session: AsyncSession,
    policy: RolePolicy,
    compiled: TenantPolicy,
    user_id: uuid.UUID,
    obj: str,
    record_id: uuid.UUID | None = None,
) -> Explanation:
    described = policy.objects.get(obj)
    if described is None:
        raise ValidationFailed.single("object", N_("%(key)s is not an object"), key=obj)
    viewer, name = await viewer_for(session, policy, compiled.tenant_id, user_id)
    roles = frozenset(r for r in viewer.roles if r in compiled.roles and compiled.roles[r].kind == viewer.kind)
    if described.audience != viewer.kind:
        raise ValidationFailed.single("object", N_("%(key)s is not for this kind of user"), key=obj)
    actions = {a: compiled.granting_roles(roles, (obj, a)) for a in described.actions}
    rules = compiled.field_access(roles, obj)
    result = Explanation(
        user_id=user_id,
        kind=viewer.kind,
        display_name=name,
        roles=sorted(roles),
        object=obj,
        actions=actions,
        apps_open=described.app is None or described.app in compiled.apps(roles),
        fields={f: rules.get(f, "read_write") for f, _label in described.fields},
    )
    if record_id is not None:
        if described.model is None:
            raise ValidationFailed.single("record_id", N_("this object has no records"), "invalid")
        model = described.model
        record = await session.scalar(select(model).where(model.id == record_id))
        if record is None:
            raise NotFound(N_("No such record"))
        values: dict[str, Any] = {c.key: getattr(record, c.key) for c in model.__mapper__.column_attrs}
        scoped_viewer = replace(viewer, roles=roles)
        facts = await facts_for(session, scoped_viewer, obj, [record_id])
        object_rules = compiled.rules_for(obj)
        result.read = reasons(obj, object_rules, scoped_viewer, "read", values, facts)
        result.write = reasons(obj, object_rules, scoped_viewer, "write", values, facts)
    return result
