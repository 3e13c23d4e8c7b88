"""Running a job in the background of this process, once the request that created it has committed."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sqlalchemy import select

from interconnect.imports.reading import Row
from interconnect.imports.running import run_job
from interconnect.models import ImportJob
from portal.actor import Channel
from portal.db.context import tenant_context
from portal.services import Services

log = logging.getLogger("interconnect.imports")

TASKS_KEY = "interconnect.import_tasks"


def start_job(
    services: Services, tenant_id: uuid.UUID, job_id: uuid.UUID, rows: list[Row], *, channel: Channel = "api"
) -> None:
    """Run the job in the background of this process. Call it from the event loop; the task is kept
    referenced until it ends. It waits (briefly) for the job's own transaction to commit first."""
    tasks: set[asyncio.Task[Any]] = services.extensions.setdefault(TASKS_KEY, set())
    task = asyncio.get_running_loop().create_task(
        _run_in_background(services, tenant_id, job_id, rows, channel), name=f"import-job-{job_id}"
    )
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _run_in_background(
    services: Services, tenant_id: uuid.UUID, job_id: uuid.UUID, rows: list[Row], channel: Channel
) -> None:
    ctx = tenant_context(tenant_id, channel=channel)
    for _attempt in range(100):  # the request that created the job may not have committed yet
        async with services.db.session(ctx) as session:
            if await session.scalar(select(ImportJob.id).where(ImportJob.id == job_id)) is not None:
                break
        await asyncio.sleep(0.05)
    try:
        await run_job(services, tenant_id, job_id, rows, channel=channel)
    except Exception:
        log.exception("import job %s could not run", job_id)
