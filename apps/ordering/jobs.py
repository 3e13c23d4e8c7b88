"""The ordering app's scheduled work: auto-receive, daily, over every tenant (the same pass the
`portal ordering auto-receive` command makes)."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select

from apps.ordering import workflow
from apps.ordering.system import upstream_orders
from portal.actor import Channel
from portal.db.context import PUBLIC, tenant_context
from portal.identity.models import Tenant
from portal.schedules import ScheduledJob
from portal.services import Services


async def receive_everywhere(
    services: Services, *, workspace: str | None = None, days: int | None = None, channel: Channel = "system"
) -> list[tuple[str, list[str]]]:
    """Each tenant's (or one workspace's) orders shipped long enough ago, received; per tenant, in a
    transaction of its own, the numbers received."""
    async with services.db.session(PUBLIC) as session:
        query = select(Tenant.id, Tenant.slug).order_by(Tenant.slug)
        if workspace:
            query = query.where(Tenant.slug == workspace)
        tenants = list(await session.execute(query))
    done = []
    for tenant_id, slug in tenants:
        async with services.db.session(tenant_context(tenant_id, channel=channel)) as session:
            orders = await upstream_orders(services, session, tenant_id)
            received = await workflow.auto_receive(orders, days)
            done.append((slug, [o.number for o in received]))
    return done


async def auto_receive(services: Services) -> int:
    return sum(len(numbers) for _slug, numbers in await receive_everywhere(services))


# 19:00 UTC: the small hours in China, where most tenants are; the days counted are whole days anyway.
AUTO_RECEIVE = ScheduledJob("ordering.auto_receive", auto_receive, at=time(19, 0))
