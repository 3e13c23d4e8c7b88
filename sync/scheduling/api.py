"""The schedule's JSON API: the jobs, a job's runs, and "run now"."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db.types import utcnow
from portal.http.inputs import Limit, Offset
from portal.permissions import requires
from portal.services import Services
from sync.objects import JOB
from sync.scheduling.duty import registered_jobs
from sync.scheduling.models import JobRun
from sync.scheduling.runs import JobView, Schedule
from sync.scheduling.shown import shown_error


def provide_schedule(request: Request[Any, Any, Any], db: NamedDependency[AsyncSession]) -> Schedule:
    services: Services = request.app.state.services
    return Schedule(db, registered_jobs(services))


DEPENDENCIES = {"schedule": Provide(provide_schedule, sync_to_thread=False)}
ScheduleDep = NamedDependency[Schedule]


class JobRunOut(msgspec.Struct):
    id: uuid.UUID
    job: str
    due_at: datetime  # the due time this run is for (a manual run: the minute it was asked for)
    attempt: int  # 1, then one more for each retry or takeover of the same due time
    manual: bool  # asked for with "run now"
    status: str  # queued | running | ok | failed
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    retry_at: datetime | None  # a failed attempt that will be tried again, and when
    error: str | None  # the kind of error (see docs/architecture.md, "Scheduled jobs")

    @classmethod
    def of(cls, run: JobRun) -> JobRunOut:
        return cls(
            run.id,
            run.job,
            run.due_at,
            run.attempt,
            run.manual,
            run.status,
            run.requested_at,
            run.started_at,
            run.finished_at,
            run.retry_at,
            shown_error(run.error),
        )


class JobOut(msgspec.Struct):
    name: str
    every_seconds: int  # the period: 86400 for a daily job
    daily_at: str | None  # "HH:MM" UTC for a job run once a day at a set time
    next_due_at: datetime  # in the past: due now, waiting for a worker
    last_run: JobRunOut | None

    @classmethod
    def of(cls, view: JobView) -> JobOut:
        at = view.job.at
        return cls(
            view.name,
            int(view.period.total_seconds()),
            at.strftime("%H:%M") if at is not None else None,
            view.next_due,
            JobRunOut.of(view.last) if view.last is not None else None,
        )


class JobRunsOut(msgspec.Struct):
    job: str
    runs: list[JobRunOut]
    total: int
    limit: int
    offset: int


class ScheduledJobsController(Controller):
    path = "/api/delivery/jobs"
    tags = ["delivery"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires(JOB, "read"))
    async def list_jobs(self, schedule: ScheduleDep) -> list[JobOut]:
        """Every scheduled job the installed components register, with its period, next due time and
        latest run. Jobs pass over every tenant: the list is the same for every workspace."""
        return [JobOut.of(view) for view in await schedule.overview(utcnow())]

    @get("/{job_name:str}/runs", opt=requires(JOB, "read"))
    async def list_runs(
        self, job_name: FromPath[str], schedule: ScheduleDep, limit: Limit = 50, offset: Offset = 0
    ) -> JobRunsOut:
        """A job's runs, newest first: each attempt is a run of its own (a retry or a takeover of the same
        due time has the next `attempt`). Paged by `limit` and `offset`, as every list of the API."""
        runs, total = await schedule.runs(job_name, offset=offset, limit=limit)
        return JobRunsOut(job_name, [JobRunOut.of(run) for run in runs], total, limit, offset)


CONTROLLERS: list[type] = [ScheduledJobsController]
