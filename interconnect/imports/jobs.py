"""Import jobs as stored: creating one (the file checked, the job queued, nothing written yet) and
reading one back."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.imports.reading import Row, parse_file
from interconnect.models import ImportJob
from portal.actor import Actor
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.outbox import publish

MODES = ("all_or_nothing", "valid_rows")


IMPORT_REQUESTED = "interconnect.import.requested"


async def create_job(
    session: AsyncSession,
    actor: Actor | None,
    filename: str,
    content: bytes,
    mode: str,
    *,
    queue: bool = True,
    channel: str = "api",
) -> tuple[ImportJob, list[Row]]:
    """Read the file once and store a queued job; refuses a bad file with field errors (nothing is
    stored). The rows read are what the run then imports: a file is never parsed twice.

    With `queue`, the rows are stored on the job and an `interconnect.import.requested` event is
    published in the same transaction, so a worker runs the job (interconnect.imports.worker) exactly
    when the job exists. Without, the caller runs it itself (the command line)."""
    errors: list[FieldError] = []
    if mode not in MODES:
        errors.append(FieldError("mode", N_("must be one of %(choices)s"), "invalid", {"choices": ", ".join(MODES)}))
    name = PurePath((filename or "").replace("\\", "/")).name.strip()
    rows: list[Row] = []
    try:
        rows = await asyncio.to_thread(parse_file, name, content)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    job = ImportJob(
        filename=name[:200],
        mode=mode,
        status="queued",
        total_rows=len(rows),
        created_by=actor.user_id if actor is not None else None,
        errors=[],
        rows=[[row.number, row.values] for row in rows] if queue else None,
    )
    session.add(job)
    await session.flush()
    if queue:
        publish(session, IMPORT_REQUESTED, "import_job", job.id, {"job_id": job.id, "channel": channel})
    return job, rows


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> ImportJob:
    job = await session.scalar(select(ImportJob).where(ImportJob.id == job_id))
    if job is None:
        raise NotFound(N_("No such import"))
    return job
