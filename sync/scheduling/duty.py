"""The scheduler as a duty of the worker loop: each `step()` claims at most one run and carries it out.

What a step looks for, in order: a run someone asked for ("run now", queued), a run whose worker stopped
(running, its lease expired), a failed run whose retry is due, then each job's latest due time that has no
run yet. Every claim is a single statement that only one worker can win on every database: a new run or
attempt is an INSERT of (job, due_at, attempt) that the unique key lets through once (ON CONFLICT DO
NOTHING); a queued run is taken by an UPDATE conditional on it still being queued. No advisory lock and no
"whichever worker wakes first": two workers that wake together both try, one row results.

A running attempt holds a lease that a heartbeat extends while the job runs; a worker killed mid-run stops
extending it, and once it has expired another worker records that attempt failed ("the worker stopped")
and claims the next one. A failed attempt is retried after a backoff (1, 2, 4, 8 minutes) up to
MAX_ATTEMPTS, each attempt a row of its own with its error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db.context import SYSTEM
from portal.db.types import utcnow
from portal.i18n import N_
from portal.ids import uuid7
from portal.schedules import ScheduledJob
from portal.services import Services
from sync.scheduling.models import JobRun
from sync.scheduling.timing import latest_due

log = logging.getLogger("sync.scheduling")

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
WORKER_STOPPED = N_("The worker running it stopped before it finished (its lease expired)")
STOPPED_BY_SHUTDOWN = N_("The worker was shut down while running it")
Clock = Callable[[], datetime]


def backoff(attempt: int) -> timedelta:
    """How long after failed attempt `attempt` the next one starts: 1, 2, 4, 8 … minutes, at most an hour."""
    return min(timedelta(minutes=2 ** (attempt - 1)), timedelta(hours=1))


def registered_jobs(services: Services) -> list[ScheduledJob]:
    return [job for component in services.components for job in component.jobs]


def insert_ignoring_conflict(session: AsyncSession, values: dict[str, object]) -> object:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, in the dialect of the session's database."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(JobRun).values(**values).on_conflict_do_nothing().returning(JobRun.id)


@dataclass(frozen=True)
class Claim:
    run_id: object
    job: ScheduledJob
    attempt: int


class SchedulerDuty:
    """`owner` names this worker in the runs it records (host, process, a random part). A duty of the
    worker (sync/delivery/worker.py): it wakes on its poll, as due times are minutes apart."""

    name = "schedule"
    wakes_on: tuple[str, ...] = ()

    def __init__(
        self,
        services: Services,
        owner: str,
        *,
        jobs: Sequence[ScheduledJob] | None = None,
        clock: Clock = utcnow,
        lease: timedelta = LEASE,
    ) -> None:
        self.services, self.owner, self.clock, self.lease = services, owner[:120], clock, lease
        self.jobs = {job.name: job for job in (registered_jobs(services) if jobs is None else jobs)}

    async def step(self) -> bool:
        """Claim one run and carry it out; whether there was one."""
        if not self.jobs:
            return False
        claim = await self.claim()
        if claim is None:
            return False
        await self.carry_out(claim)
        return True

    # --- claiming --------------------------------------------------------------------------------------

    async def claim(self) -> Claim | None:
        now = self.clock()
        if not await self._anything_to_claim(now):
            return None  # the usual answer, found without a write transaction (SQLite's one write lock)
        async with self.services.db.session(SYSTEM) as session:
            for find in (self._queued, self._taken_over, self._retried, self._newly_due):
                claim = await find(session, now)
                if claim is not None:
                    return claim
        return None

    async def _anything_to_claim(self, now: datetime) -> bool:
        names = list(self.jobs)
        async with self.services.db.session(SYSTEM, write=False) as session:
            waiting = await session.scalar(
                select(JobRun.id)
                .where(
                    JobRun.job.in_(names),
                    or_(
                        JobRun.status == "queued",
                        and_(JobRun.status == "running", JobRun.lease_until < now),
                        and_(JobRun.status == "failed", JobRun.retry_at <= now),
                    ),
                )
                .limit(1)
            )
            if waiting is not None:
                return True
            last = dict(
                (
                    await session.execute(
                        select(JobRun.job, func.max(JobRun.due_at))
                        .where(JobRun.job.in_(names), JobRun.manual.is_(False))
                        .group_by(JobRun.job)
                    )
                ).all()
            )
        return any(name not in last or last[name] < latest_due(job, now) for name, job in self.jobs.items())

    def _running(self, now: datetime) -> dict[str, object]:
        return {"status": "running", "worker": self.owner, "started_at": now, "lease_until": now + self.lease}

    async def _insert(
        self, session: AsyncSession, job: ScheduledJob, due_at: datetime, attempt: int, now: datetime, manual: bool
    ) -> Claim | None:
        values = {
            "id": uuid7(),
            "job": job.name,
            "due_at": due_at,
            "attempt": attempt,
            "manual": manual,
            "requested_at": now,
            **self._running(now),
        }
        run_id = await session.scalar(insert_ignoring_conflict(session, values))  # type: ignore[arg-type]
        return Claim(run_id, job, attempt) if run_id is not None else None

    async def _queued(self, session: AsyncSession, now: datetime) -> Claim | None:
        rows = await session.execute(
            select(JobRun.id, JobRun.job, JobRun.attempt)
            .where(JobRun.status == "queued", JobRun.job.in_(self.jobs))
            .order_by(JobRun.requested_at)
            .limit(5)
        )
        for run_id, name, attempt in rows.all():
            taken = await session.execute(
                update(JobRun)
                .where(JobRun.id == run_id, JobRun.status == "queued")
                .values(**self._running(now))
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return Claim(run_id, self.jobs[name], attempt)
        return None

    async def _taken_over(self, session: AsyncSession, now: datetime) -> Claim | None:
        """A running attempt whose lease expired: record it failed and claim the next attempt."""
        stale = await session.execute(
            select(JobRun)
            .where(JobRun.status == "running", JobRun.lease_until < now, JobRun.job.in_(self.jobs))
            .order_by(JobRun.lease_until)
            .limit(5)
        )
        for run in stale.scalars().all():
            claim = None
            if run.attempt < MAX_ATTEMPTS:
                claim = await self._insert(session, self.jobs[run.job], run.due_at, run.attempt + 1, now, run.manual)
            await session.execute(
                update(JobRun)
                .where(JobRun.id == run.id, JobRun.status == "running", JobRun.lease_until < now)
                .values(status="failed", finished_at=now, lease_until=None, retry_at=None, error=WORKER_STOPPED)
                .execution_options(synchronize_session=False)
            )
            if claim is not None:
                return claim
        return None

    async def _retried(self, session: AsyncSession, now: datetime) -> Claim | None:
        failed = await session.execute(
            select(JobRun)
            .where(JobRun.status == "failed", JobRun.retry_at <= now, JobRun.job.in_(self.jobs))
            .order_by(JobRun.retry_at)
            .limit(5)
        )
        for run in failed.scalars().all():
            claim = await self._insert(session, self.jobs[run.job], run.due_at, run.attempt + 1, now, run.manual)
            # whoever claimed the next attempt (this worker or another), this one is no longer to retry
            await session.execute(
                update(JobRun)
                .where(JobRun.id == run.id)
                .values(retry_at=None)
                .execution_options(synchronize_session=False)
            )
            if claim is not None:
                return claim
        return None

    async def _newly_due(self, session: AsyncSession, now: datetime) -> Claim | None:
        last = dict(
            (
                await session.execute(
                    select(JobRun.job, func.max(JobRun.due_at))
                    .where(JobRun.job.in_(self.jobs), JobRun.manual.is_(False))
                    .group_by(JobRun.job)
                )
            ).all()
        )
        for name, job in sorted(self.jobs.items()):
            due = latest_due(job, now)
            if name in last and last[name] >= due:
                continue
            claim = await self._insert(session, job, due, 1, now, manual=False)
            if claim is not None:
                return claim
        return None

    # --- running ---------------------------------------------------------------------------------------

    async def carry_out(self, claim: Claim) -> None:
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(claim), name=f"lease-{claim.job.name}")
        try:
            items = await claim.job.run(self.services)
        except asyncio.CancelledError:  # this worker is stopping: the run may be retried at once
            with contextlib.suppress(Exception):
                await asyncio.shield(self._finish(claim, "failed", None, STOPPED_BY_SHUTDOWN, retry=True))
            raise
        except Exception as exc:
            log.exception("scheduled job %s failed (attempt %s)", claim.job.name, claim.attempt)
            await self._finish(claim, "failed", None, f"{type(exc).__name__}: {exc}"[:2000], retry=True)
        else:
            await self._finish(claim, "ok", int(items), None, retry=False)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, claim: Claim) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            now = self.clock()
            try:
                async with self.services.db.session(SYSTEM) as session:
                    await session.execute(
                        update(JobRun)
                        .where(JobRun.id == claim.run_id, JobRun.status == "running", JobRun.worker == self.owner)
                        .values(lease_until=now + self.lease)
                        .execution_options(synchronize_session=False)
                    )
            except Exception:  # a busy database: the next beat tries again, well within the lease
                log.warning("could not extend the lease of %s", claim.job.name, exc_info=True)

    async def _finish(self, claim: Claim, status: str, items: int | None, error: str | None, *, retry: bool) -> None:
        now = self.clock()
        retry_at = now + backoff(claim.attempt) if retry and claim.attempt < MAX_ATTEMPTS else None
        async with self.services.db.session(SYSTEM) as session:
            # Only while this worker still holds the run: one taken over after its lease expired was
            # recorded failed by the worker that took it over, and stays so.
            await session.execute(
                update(JobRun)
                .where(JobRun.id == claim.run_id, JobRun.status == "running", JobRun.worker == self.owner)
                .values(status=status, items=items, error=error, finished_at=now, lease_until=None, retry_at=retry_at)
                .execution_options(synchronize_session=False)
            )
