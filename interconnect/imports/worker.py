"""Import jobs on the workers: the upload stores the job with its rows and publishes
`interconnect.import.requested` in the same transaction; this subscriber runs it on a worker.

Delivery is at least once, so the subscriber is idempotent by job: a job that is done or failed is left
as it is; a queued one is claimed (a conditional update only one caller wins) and run; one found running
was claimed by a worker that either still runs it (its lease is fresh: the delivery is tried again later)
or stopped (the lease expired: the job is recorded failed with a reason that says to upload it again,
never left "running"). The scheduled job `interconnect.stale_imports` does the same for a running job
whose event is not delivered again."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import undefer

from interconnect.imports.errors import _error
from interconnect.imports.jobs import IMPORT_REQUESTED
from interconnect.imports.reading import Row
from interconnect.imports.running import run_job
from interconnect.models import ImportJob
from portal.actor import Channel
from portal.db.context import SYSTEM, tenant_context
from portal.db.types import utcnow
from portal.errors import Conflict
from portal.i18n import N_
from portal.outbox import Event, Subscriber
from portal.schedules import ScheduledJob
from portal.services import Services

log = logging.getLogger("interconnect.imports")

CHANNELS: tuple[Channel, ...] = ("web", "api", "cli", "system")
WORKER_STOPPED = N_("The worker stopped during the import; upload the file again (rows already imported are skipped)")


class StillRunning(Exception):
    """Another worker holds the job's lease: the delivery is tried again later, by when it has finished
    (nothing to do) or its lease has expired (the job is recorded failed)."""


def _stopped() -> dict[str, object]:
    return {
        "status": "failed",
        "errors": [_error(None, "file", WORKER_STOPPED, "worker_stopped")],
        "finished_at": utcnow(),
        "rows": None,
        "lease_until": None,
    }


async def run_stored_job(services: Services, tenant_id: uuid.UUID, job_id: uuid.UUID, channel: Channel) -> str:
    """Run a stored job once, whoever asks how often; what became of it: "ran", "finished" (done or failed
    before), "stopped" (its worker had died: now failed) or "missing"."""
    now = utcnow()
    async with services.db.session(tenant_context(tenant_id, channel=channel)) as session:
        job = await session.scalar(select(ImportJob).where(ImportJob.id == job_id).options(undefer(ImportJob.rows)))
        if job is None:
            return "missing"
        if job.status == "running":
            if job.lease_until is not None and job.lease_until > now:
                raise StillRunning(f"import job {job_id} is running on another worker until {job.lease_until}")
            await session.execute(
                update(ImportJob)
                .where(
                    ImportJob.id == job_id,
                    ImportJob.status == "running",
                    or_(ImportJob.lease_until.is_(None), ImportJob.lease_until <= now),
                )
                .values(**_stopped())
                .execution_options(synchronize_session=False)
            )
            return "stopped"
        if job.status != "queued":
            return "finished"
        if job.rows is None:  # nothing to run from (not stored): say so rather than wait forever
            job.status, job.errors, job.finished_at = "failed", _stopped()["errors"], now
            return "stopped"
        rows = [Row(int(number), {str(k): str(v) for k, v in values.items()}) for number, values in job.rows]
    try:
        await run_job(services, tenant_id, job_id, rows, channel=channel)
    except Conflict:  # another delivery claimed it between the look and the claim
        return "finished"
    return "ran"


async def deliver(services: Services, event: Event) -> None:
    channel = event.payload.get("channel")
    await run_stored_job(
        services,
        event.tenant_id,
        uuid.UUID(str(event.payload["job_id"])),
        channel if channel in CHANNELS else "system",
    )


SUBSCRIBER = Subscriber(
    "interconnect.imports", lambda event_type: event_type == IMPORT_REQUESTED, deliver, label=N_("Partner imports")
)


async def fail_stopped_jobs(services: Services) -> int:
    """Every tenant's running jobs whose lease expired are recorded failed; how many."""
    now = utcnow()
    async with services.db.session(SYSTEM) as session:
        result = await session.execute(
            update(ImportJob)
            .where(ImportJob.status == "running", or_(ImportJob.lease_until.is_(None), ImportJob.lease_until <= now))
            .values(**_stopped())
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


STALE_IMPORTS = ScheduledJob("interconnect.stale_imports", fail_stopped_jobs, every=timedelta(minutes=10))
