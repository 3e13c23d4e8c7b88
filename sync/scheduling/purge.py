"""Purging delivered outbox events after the retention period (PORTAL_OUTBOX_RETENTION_DAYS, default 30).

An event is purged when it was delivered longer ago than the retention and nothing still needs it. What
still needs it is said by `keeps`: conditions on `OutboxEvent` under which a row stays (the delivery
package adds "a delivery of it is pending" when it registers its tables), so the purge never deletes
what a worker is about to read. Dead events stay: they are what staff replay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, not_, or_, select

from portal.db.context import SYSTEM
from portal.db.types import utcnow
from portal.outbox import OutboxEvent
from portal.schedules import ScheduledJob
from portal.services import Services

BATCH = 1000
# A condition on OutboxEvent: rows matching it are kept whatever their age.
Keep = Callable[[], ColumnElement[bool]]


def purgeable(cutoff: datetime, keeps: Sequence[Keep] = ()) -> ColumnElement[bool]:
    condition = and_(OutboxEvent.status == "delivered", OutboxEvent.delivered_at < cutoff)
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
