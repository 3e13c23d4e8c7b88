"""A new upstream's deal-registration set-up (see apps.agent.presets), inside its sign-up transaction,
after the roles are seeded."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent import presets
from apps.agent.objects import PARTNER_OBJECT
from interconnect.models import PartnerType
from roles.casbin_model import ROLE_PREFIX
from roles.models import DataRule, FieldRule, PolicyRule, Role


async def seed_agent(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await session.flush()
    roles = {r.key: r.id for r in await session.scalars(select(Role).where(Role.tenant_id == tenant_id))}
    for key, grants in presets.GRANTS.items():
        if key in roles:
            for obj, action in grants:
                session.add(PolicyRule(tenant_id=tenant_id, ptype="p", v0=ROLE_PREFIX + key, v1=obj, v2=action))
    for key, objects in presets.READ_ONLY_FIELDS.items():
        if key in roles:
            for obj, names in objects.items():
                for name in names:
                    session.add(
                        FieldRule(tenant_id=tenant_id, role_id=roles[key], object=obj, field=name, access="read_only")
                    )
    types = {t.code: t.id for t in await session.scalars(select(PartnerType).where(PartnerType.tenant_id == tenant_id))}
    for code, (level, subtree) in presets.DEAL_LEVELS.items():
        if code in types:
            session.add(
                DataRule(
                    tenant_id=tenant_id,
                    object=PARTNER_OBJECT,
                    partner_type_id=types[code],
                    level=level,
                    include_sub_enterprises=subtree,
                )
            )
    await session.flush()
