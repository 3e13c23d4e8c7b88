"""The ordering app acting on its own rules, outside any request (the demo, `portal ordering ...`): the
tenant's orders as its first administrator sees them, with the policy compiled as a request would."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.objects import ORDER
from apps.ordering.orders import Orders
from portal.actor import Actor
from portal.identity.models import InternalUser, Tenant
from portal.permissions import ADMIN_ROLE
from portal.services import Services
from roles.policy import RolePolicy


async def compiled_policy(services: Services, session: AsyncSession, tenant_id: uuid.UUID) -> RolePolicy:
    version = await session.scalar(select(Tenant.policy_version).where(Tenant.id == tenant_id)) or 0
    policy = RolePolicy(services.objects)
    await policy.compiled(session, tenant_id, version)
    return policy


async def upstream_orders(services: Services, session: AsyncSession, tenant_id: uuid.UUID) -> Orders:
    policy = await compiled_policy(services, session, tenant_id)
    first = await session.scalar(select(InternalUser).order_by(InternalUser.created_at, InternalUser.id).limit(1))
    if first is None:
        raise LookupError(f"tenant {tenant_id} has no staff")
    actor = Actor(first.id, tenant_id, "internal", "cli", first.display_name, roles=frozenset({ADMIN_ROLE}))
    return Orders(session, policy, actor, ORDER)
