"""What the console and the API show of the schedule (each job, its last and next run, its runs) and
"run now", which records a queued run that a worker then claims like any other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.errors import NotFound
from portal.i18n import N_
from portal.ids import uuid7
from portal.schedules import ScheduledJob
from sync.scheduling.duty import MAX_ATTEMPTS, insert_ignoring_conflict
from sync.scheduling.models import JobRun
from sync.scheduling.timing import latest_due, next_due, period


@dataclass(frozen=True)
class JobView:
    job: ScheduledJob
    period: timedelta
    last: JobRun | None  # the latest attempt of any run
    next_due: datetime  # when a worker next runs it (in the past: it is due now, waiting for a worker)

    @property
    def name(self) -> str:
        return self.job.name


class Schedule:
    """The registered jobs and their runs, read in the caller's unit of work."""

    max_attempts = MAX_ATTEMPTS

    def __init__(self, session: AsyncSession, jobs: Sequence[ScheduledJob]) -> None:
        self.session = session
        self.jobs = {job.name: job for job in jobs}

    def job(self, name: str) -> ScheduledJob:
        job = self.jobs.get(name)
        if job is None:
            raise NotFound(N_("No such scheduled job"), code="job_not_found")
        return job

    async def overview(self, now: datetime) -> list[JobView]:
        latest = select(JobRun.job, func.max(JobRun.requested_at).label("at")).group_by(JobRun.job).subquery("latest")
        last = {
            run.job: run
            for run in await self.session.scalars(
                select(JobRun)
                .join(latest, (latest.c.job == JobRun.job) & (latest.c.at == JobRun.requested_at))
                .where(JobRun.job.in_(self.jobs))
            )
        }
        ran = dict(
            (
                await self.session.execute(
                    select(JobRun.job, func.max(JobRun.due_at))
                    .where(JobRun.job.in_(self.jobs), JobRun.manual.is_(False))
                    .group_by(JobRun.job)
                )
            ).all()
        )
        views = []
        for name, job in sorted(self.jobs.items()):
            due = latest_due(job, now)
            upcoming = next_due(job, now) if name in ran and ran[name] >= due else due
            views.append(JobView(job, period(job), last.get(name), upcoming))
        return views

    async def runs(self, name: str, *, offset: int = 0, limit: int = 20) -> tuple[list[JobRun], int]:
        self.job(name)
        total = await self.session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == name))
        rows = await self.session.scalars(
            select(JobRun)
            .where(JobRun.job == name)
            .order_by(JobRun.requested_at.desc(), JobRun.attempt.desc(), JobRun.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), int(total or 0)

    async def request_run(self, name: str, now: datetime) -> tuple[JobRun, bool]:
        """Queue a run now, once per job and minute whoever asks (a second request within the minute gets
        the same run); whether this request queued it. A worker claims it as it claims a due run."""
        self.job(name)
        due = now.replace(second=0, microsecond=0)
        values = {"id": uuid7(), "job": name, "due_at": due, "attempt": 1, "manual": True, "status": "queued",
                  "requested_at": now}  # fmt: skip
        created = await self.session.scalar(insert_ignoring_conflict(self.session, values))  # type: ignore[arg-type]
        run = await self.session.scalar(
            select(JobRun)
            .where(JobRun.job == name, JobRun.due_at == due)
            .order_by(JobRun.attempt.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )
        assert run is not None
        return run, created is not None
