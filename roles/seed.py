"""A new upstream's roles: the presets, their grants and data scopes, and the role templates of the
preset partner types. Runs inside the sign-up transaction, after the partner programme is seeded."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import PartnerType
from portal.ids import uuid7
from portal.permissions import ANY
from roles.casbin_model import ROLE_PREFIX
from roles.models import DataRule, FieldRule, InternalScope, PolicyRule, Role, RoleTemplate
from roles.presets import PRESET_ROLES, PRESET_TEMPLATES

# role key -> object -> field -> "hidden" or "read_only"
FieldPresets = Mapping[str, Mapping[str, Mapping[str, str]]]
# partner type code -> (data level, include sub-enterprises)
LevelPresets = Mapping[str, tuple[str, bool]]
# staff role key -> object -> data scope (own, team, region, all): where it differs from the role's scope
# on every object
ScopePresets = Mapping[str, Mapping[str, str]]


async def seed_app_presets(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    grants: Mapping[str, Iterable[tuple[str, str]]],
    fields: FieldPresets,
    levels: Mapping[str, LevelPresets],
    scopes: ScopePresets | None = None,
) -> None:
    """What an app gives the preset roles and partner types of a new upstream: grants, field rules, the
    data level of each partner type per data-scoped object, and staff roles' scopes on its objects. Roles
    or types the upstream does not have are passed over."""
    await session.flush()
    roles = {r.key: r.id for r in await session.scalars(select(Role).where(Role.tenant_id == tenant_id))}
    for key, pairs in grants.items():
        if key in roles:
            for obj, action in pairs:
                session.add(PolicyRule(tenant_id=tenant_id, ptype="p", v0=ROLE_PREFIX + key, v1=obj, v2=action))
    for key, objects in fields.items():
        if key in roles:
            for obj, names in objects.items():
                for name, access in names.items():
                    session.add(
                        FieldRule(tenant_id=tenant_id, role_id=roles[key], object=obj, field=name, access=access)
                    )
    for key, by_object in (scopes or {}).items():
        if key in roles:
            for obj, scope in by_object.items():
                session.add(InternalScope(tenant_id=tenant_id, role_id=roles[key], object=obj, scope=scope))
    types = {t.code: t.id for t in await session.scalars(select(PartnerType).where(PartnerType.tenant_id == tenant_id))}
    for obj, by_type in levels.items():
        for code, (level, subtree) in by_type.items():
            if code in types:
                session.add(
                    DataRule(
                        tenant_id=tenant_id,
                        object=obj,
                        partner_type_id=types[code],
                        level=level,
                        include_sub_enterprises=subtree,
                    )
                )


async def seed_roles(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await session.flush()  # the partner types seeded before this step
    role_ids: dict[str, uuid.UUID] = {}
    for preset in PRESET_ROLES:  # the roles first: rows below refer to them (the flush orders by table only
        # through relationships, which these tables do not declare)
        role = Role(
            id=uuid7(),
            tenant_id=tenant_id,
            key=preset.key,
            name=preset.name,
            kind=preset.kind,
            description=preset.description,
            apps=list(preset.apps),
            preset=True,
        )
        session.add(role)
        role_ids[preset.key] = role.id
    await session.flush()
    for preset in PRESET_ROLES:
        for obj, action in preset.grants:
            session.add(PolicyRule(tenant_id=tenant_id, ptype="p", v0=ROLE_PREFIX + preset.key, v1=obj, v2=action))
        if preset.scope is not None:
            session.add(
                InternalScope(tenant_id=tenant_id, role_id=role_ids[preset.key], object=ANY, scope=preset.scope)
            )
    types = {t.code: t.id for t in await session.scalars(select(PartnerType).where(PartnerType.tenant_id == tenant_id))}
    for code, rows in PRESET_TEMPLATES.items():
        if code not in types:
            continue
        for key, assignable, member_default, admin_default in rows:
            session.add(
                RoleTemplate(
                    tenant_id=tenant_id,
                    partner_type_id=types[code],
                    role_id=role_ids[key],
                    assignable=assignable,
                    member_default=member_default,
                    admin_default=admin_default,
                )
            )
    await session.flush()
