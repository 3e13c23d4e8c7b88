"""Forgetting which events a rule applied, once no delivery can bring them again.

`sync_applied` makes a second delivery of an event change nothing; it is needed for as long as the event
exists, since only an existing event is delivered or replayed. The outbox purge (sync.scheduling.purge)
deletes an event once the retention has passed since every delivery of it; a row here then goes when it
is older than the retention and its event is gone. Without this the table grows by one row per applied
event for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, exists, select

from portal.db.context import SYSTEM
from portal.db.types import utcnow
from portal.outbox import OutboxEvent
from portal.schedules import ScheduledJob
from portal.services import Services
from sync.crosstenant.models import SyncApplied

BATCH = 1000


def _forgettable(cutoff: datetime) -> ColumnElement[bool]:
    event_kept = exists().where(OutboxEvent.tenant_id == SyncApplied.tenant_id, OutboxEvent.id == SyncApplied.event_id)
    return (SyncApplied.applied_at < cutoff) & ~event_kept


async def forget_applied(services: Services, *, now: datetime | None = None) -> int:
    """Delete forgettable rows of every tenant, a batch per transaction; how many."""
    cutoff = (now or utcnow()) - timedelta(days=services.settings.outbox_retention_days)
    forgotten = 0
    while True:
        async with services.db.session(SYSTEM) as session:
            ids = list(await session.scalars(select(SyncApplied.id).where(_forgettable(cutoff)).limit(BATCH)))
            if ids:
                await session.execute(
                    delete(SyncApplied)
                    .where(SyncApplied.id.in_(ids), _forgettable(cutoff))
                    .execution_options(synchronize_session=False)
                )
        forgotten += len(ids)
        if len(ids) < BATCH:
            return forgotten


async def _run(services: Services) -> int:
    return await forget_applied(services)


FORGET_APPLIED_JOB = ScheduledJob("sync.applied_purge", _run, every=timedelta(days=1))
