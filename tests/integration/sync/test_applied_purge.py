"""Which events a sync rule applied is remembered while the event exists, and forgotten once it is purged
and the retention has passed (the daily job `sync.applied_purge`)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from litestar.testing import TestClient
from sqlalchemy import select

from portal.db.context import SYSTEM, tenant_context
from portal.db.types import utcnow
from portal.outbox import publish
from portal.services import Services
from sync.crosstenant.forgetting import forget_applied
from sync.crosstenant.models import SyncApplied
from tests.integration.sync.test_schedules import with_services
from tests.world import World


def test_a_rule_forgets_an_applied_event_only_once_the_event_is_gone_and_old(client: TestClient, world: World) -> None:
    settings = client.app.state.services.settings
    rule_id = uuid.UUID(world.ids["sync_rule"])
    tenant = uuid.UUID(world.a.tenant_id)
    long_ago = utcnow() - timedelta(days=settings.outbox_retention_days + 1)

    async def work(services: Services) -> tuple[int, set[str]]:
        async with services.db.session(tenant_context(tenant, channel="system")) as session:
            kept_event = publish(session, "ordering.product.changed", "product", uuid.uuid4(), {})
            rows = {
                "old_and_gone": SyncApplied(
                    rule_id=rule_id, event_id=uuid.uuid4(), outcome="applied", applied_at=long_ago
                ),
                "old_but_kept": SyncApplied(
                    rule_id=rule_id, event_id=kept_event.id, outcome="applied", applied_at=long_ago
                ),
                "recent": SyncApplied(rule_id=rule_id, event_id=uuid.uuid4(), outcome="skipped", applied_at=utcnow()),
            }
            session.add_all(rows.values())
            await session.flush()
            names = {row.id: name for name, row in rows.items()}
        forgotten = await forget_applied(services)
        async with services.db.session(SYSTEM) as session:
            left = set(await session.scalars(select(SyncApplied.id).where(SyncApplied.id.in_(names))))
        return forgotten, {names[i] for i in left}

    forgotten, left = with_services(settings, work)
    assert forgotten == 1 and left == {"old_but_kept", "recent"}
