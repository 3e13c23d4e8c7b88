"""A new upstream's ordering set-up (see apps.ordering.presets), inside its sign-up transaction, after
the roles are seeded."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import presets
from apps.ordering.models import ApprovalRule, OrderingSettings, Warehouse
from apps.ordering.objects import PARTNER_ORDER
from interconnect.models import PartnerType
from portal.ids import uuid7
from roles.casbin_model import ROLE_PREFIX
from roles.models import DataRule, FieldRule, PolicyRule, Role


async def seed_ordering(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    await session.flush()
    roles = {r.key: r.id for r in await session.scalars(select(Role).where(Role.tenant_id == tenant_id))}
    for key, grants in presets.GRANTS.items():
        if key in roles:
            for obj, action in grants:
                session.add(PolicyRule(tenant_id=tenant_id, ptype="p", v0=ROLE_PREFIX + key, v1=obj, v2=action))
    for key, objects in presets.HIDDEN_COSTS.items():
        if key in roles:
            for obj in objects:
                for name in presets.COST_FIELD_NAMES:
                    session.add(
                        FieldRule(tenant_id=tenant_id, role_id=roles[key], object=obj, field=name, access="hidden")
                    )
    types = {t.code: t.id for t in await session.scalars(select(PartnerType).where(PartnerType.tenant_id == tenant_id))}
    for code, (level, subtree) in presets.ORDER_LEVELS.items():
        if code in types:
            session.add(
                DataRule(
                    tenant_id=tenant_id,
                    object=PARTNER_ORDER,
                    partner_type_id=types[code],
                    level=level,
                    include_sub_enterprises=subtree,
                )
            )
    warehouse = Warehouse(
        id=uuid7(), tenant_id=tenant_id, code=presets.MAIN_WAREHOUSE[0], name=presets.MAIN_WAREHOUSE[1]
    )
    session.add(warehouse)
    await session.flush()
    session.add(OrderingSettings(tenant_id=tenant_id, default_warehouse_id=warehouse.id))
    name, step, role = presets.FIRST_APPROVAL
    session.add(ApprovalRule(tenant_id=tenant_id, name=name, step=step, role_key=role, min_amount=Decimal(0)))
    await session.flush()
