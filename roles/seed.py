"""A new upstream's roles: the presets, their grants and data scopes, and the role templates of the
preset partner types. Runs inside the sign-up transaction, after the partner programme is seeded."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import PartnerType
from portal.ids import uuid7
from portal.permissions import ANY
from roles.casbin_model import ROLE_PREFIX
from roles.models import InternalScope, PolicyRule, Role, RoleTemplate
from roles.presets import PRESET_ROLES, PRESET_TEMPLATES


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
