"""Purging delivered outbox events after the retention period (PORTAL_OUTBOX_RETENTION_DAYS, default 30).

An event is purged when it occurred longer ago than the retention, was fanned out, and every delivery of
it was delivered longer ago than the retention (its deliveries and their attempts go with it, by the
foreign keys' cascade). A pending delivery keeps its event, so the purge never deletes what a worker is
about to read; a dead one keeps it too: it is what staff replay. `keeps` adds conditions on
`OutboxEvent` under which a row stays whatever its age.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, not_, or_, select, true

from portal.db.context import SYSTEM
from portal.db.types import utcnow
from portal.outbox import OutboxEvent
from portal.schedules import ScheduledJob
from portal.services import Services
from sync.delivery.models import Delivery

BATCH = 1000
# A condition on OutboxEvent: rows matching it are kept whatever their age.
Keep = Callable[[], ColumnElement[bool]]


def purgeable(cutoff: datetime, keeps: Sequence[Keep] = ()) -> ColumnElement[bool]:
    still_needed = exists().where(
        Delivery.tenant_id == OutboxEvent.tenant_id,
        Delivery.event_id == OutboxEvent.id,
        or_(Delivery.status != "delivered", Delivery.delivered_at >= cutoff),
    )
    condition = and_(OutboxEvent.fanned_out == true(), OutboxEvent.occurred_at < cutoff, ~still_needed)
    kept = [keep() for keep in keeps]
    return and_(condition, not_(or_(*kept))) if kept else condition


async def purge_outbox(services: Services, keeps: Sequence[Keep] = (), *, now: datetime | None = None) -> int:
    """Delete purgeable events of every tenant, a batch per transaction; how many."""
    cutoff = (now or utcnow()) - timedelta(days=services.settings.outbox_retention_days)
    purged = 0
    while True:
        async with services.db.session(SYSTEM) as session:
            batch = select(OutboxEvent.id).where(purgeable(cutoff, keeps)).limit(BATCH)
            ids = list(await session.scalars(batch))
            if ids:
                await session.execute(
                    delete(OutboxEvent)
                    .where(OutboxEvent.id.in_(ids), purgeable(cutoff, keeps))
                    .execution_options(synchronize_session=False)
                )
        purged += len(ids)
        if len(ids) < BATCH:
            return purged


def purge_job(keeps: Sequence[Keep] = ()) -> ScheduledJob:
    async def run(services: Services) -> int:
        return await purge_outbox(services, keeps)

    return ScheduledJob("sync.outbox_purge", run, every=timedelta(hours=1))
