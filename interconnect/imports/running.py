"""Running a job: every row validated, then written in one transaction ("all_or_nothing") or one per row
("valid_rows"), with progress committed as it goes and the result recorded on the job."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect import quotas
from interconnect.imports.errors import _error, _errors_of
from interconnect.imports.jobs import get_job
from interconnect.imports.reading import Row
from interconnect.imports.validation import _check_file, _check_quota, _Lookups, _Plan
from interconnect.links import NewEnterprise
from interconnect.models import ImportJob
from interconnect.people import CreatedEnterprise, People, create_enterprise
from portal.actor import Actor, Channel
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.errors import Conflict, DomainError, ValidationFailed
from portal.i18n import N_
from portal.services import Services

log = logging.getLogger("interconnect.imports")

MAX_REPORTED_ERRORS = 1000
PROGRESS_BATCH = 25  # rows between progress commits
PROGRESS_SECONDS = 1.0  # ... or this long, whichever comes first
# A running job's lease: extended with every progress commit; a job past it was left by a stopped worker.
LEASE = timedelta(minutes=10)


@dataclass
class ImportResult:
    job: ImportJob
    # (row, admin sign-in, one-time set-password credential) for each first admin created
    setup_links: list[tuple[int, str, str]] = field(default_factory=list)


Progress = Callable[[int, int], None]


async def run_job(
    services: Services,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    rows: list[Row],
    progress: Progress | None = None,
    *,
    channel: Channel = "api",
) -> ImportResult:
    """Validate and write every row; the job ends "done" (with any row errors) or "failed" (it could
    not run at all). `progress(processed, total)` is called as rows are processed."""
    db = services.db
    ctx = tenant_context(tenant_id, channel=channel)
    async with db.session(ctx) as session:
        job = await get_job(session, job_id)
        claimed = await session.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.status == "queued")
            .values(status="running", processed_rows=0, lease_until=utcnow() + LEASE)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            raise Conflict(N_("This import has already run"), code="import_already_run")
        mode, total, created_by = job.mode, job.total_rows, job.created_by
    actor = Actor(created_by, tenant_id, "internal", channel) if created_by is not None else None
    run = _Run(services, tenant_id, job_id, mode, total, actor, channel, progress)
    try:
        return await run.execute(rows)
    except asyncio.CancelledError:  # the process is stopping: say so rather than stay "running"
        message = N_("The import was interrupted; run it again (rows already imported are skipped)")
        with contextlib.suppress(Exception):
            await run.finish("failed", [_error(None, "file", message, "interrupted")], created=run.created, skipped=0)
        raise
    except Exception:
        log.exception("import job %s failed", job_id)
        message = N_(
            "The import stopped because of an error on our side; run it again (rows already imported are skipped)"
        )
        errors = [_error(None, "file", message, "internal_error")]
        return await run.finish("failed", errors, created=run.created, skipped=0)


class _Rollback(Exception):
    """Leaves an all-or-nothing transaction without writing anything."""


class _Run:
    def __init__(
        self,
        services: Services,
        tenant_id: uuid.UUID,
        job_id: uuid.UUID,
        mode: str,
        total: int,
        actor: Actor | None,
        channel: Channel,
        callback: Progress | None,
    ) -> None:
        self.services, self.db, self.job_id, self.mode, self.total = services, services.db, job_id, mode, total
        self.actor = actor
        self.ctx = tenant_context(tenant_id, actor=actor, channel=channel)
        self.callback = callback
        self.processed = self.committed = 0
        self.created = 0  # rows committed so far (valid_rows; all_or_nothing commits them all at once)
        self.last_commit = time.monotonic()
        # SQLite lets one transaction write at a time: while the all-or-nothing transaction is open, progress
        # cannot be committed beside it (it is committed with the result instead).
        self.commit_progress = True

    async def step(self) -> None:
        self.processed += 1
        if self.callback is not None:
            self.callback(self.processed, self.total)
        due = (
            self.processed - self.committed >= PROGRESS_BATCH or time.monotonic() - self.last_commit > PROGRESS_SECONDS
        )
        if self.commit_progress and due:
            async with self.db.session(self.ctx) as session:
                await session.execute(
                    update(ImportJob)
                    .where(ImportJob.id == self.job_id)
                    .values(processed_rows=self.processed, lease_until=utcnow() + LEASE)
                    .execution_options(synchronize_session=False)
                )
            self.committed, self.last_commit = self.processed, time.monotonic()

    async def execute(self, rows: list[Row]) -> ImportResult:
        errors: list[dict[str, Any]] = []
        async with self.db.session(self.ctx) as session:
            lookups = await _Lookups.load(session, rows)
            plans = _check_file(rows, lookups, errors)
            if self.mode == "all_or_nothing":
                _check_quota(plans, await quotas.usage(session), errors)
        skipped = sum(1 for p in plans if p.action == "skip")
        if self.mode == "all_or_nothing":
            if errors:
                self.processed = len(plans)
                if self.callback is not None:
                    self.callback(self.processed, self.total)
                return await self.finish("done", errors, created=0, skipped=skipped)
            return await self._all_or_nothing(plans, skipped)
        return await self._each_row(plans, errors, skipped)

    async def _create(self, session: AsyncSession, plan: _Plan, created: dict[str, uuid.UUID]) -> CreatedEnterprise:
        parent_id = plan.parent_id
        if plan.parent_code and parent_id is None:
            parent_id = created.get(plan.parent_code)
            if parent_id is None:
                raise ValidationFailed.single("parent_code", N_("refers to an enterprise that was not imported"))
        assert plan.partner_type_id is not None
        data = NewEnterprise(
            plan.name,
            plan.partner_type_id,
            plan.tier_id,
            plan.region_id,
            parent_id,
            plan.code,
            plan.contact_phone,
        )
        made = await create_enterprise(session, self.actor, self.services.passwords, data, plan.admin)
        if made.admin is not None and made.setup_credential:
            # the first admin's link goes to them when email or SMS reaches them; else it is listed to pass on
            identity = await People(session, self.services.passwords).identity_of(made.admin)
            handover = await self.services.extensions["interconnect"].hand_over(
                session, made.admin, identity, made.setup_credential
            )
            if handover.sent_to is not None:
                made = replace(made, setup_credential=None)
        return made

    async def _all_or_nothing(self, plans: list[_Plan], skipped: int) -> ImportResult:
        errors: list[dict[str, Any]] = []
        links: list[tuple[int, str, str]] = []
        created: dict[str, uuid.UUID] = {}
        count = 0
        self.commit_progress = self.db.dialect != "sqlite"
        try:
            async with self.db.session(self.ctx) as session:
                for plan in plans:
                    if plan.action == "create":
                        try:
                            async with session.begin_nested():
                                made = await self._create(session, plan, created)
                        except (DomainError, IntegrityError) as exc:
                            errors.extend(_errors_of(plan.number, exc, bool(plan.admin and plan.admin.email)))
                        else:
                            count += 1
                            if plan.code:
                                created[plan.code] = made.link.id
                            if made.setup_credential:
                                links.append((plan.number, plan.login, made.setup_credential))
                    await self.step()
                if errors:
                    raise _Rollback
                job = await self._record(session, "done", [], created=count, skipped=skipped)
        except _Rollback:
            self.commit_progress = True
            return await self.finish("done", errors, created=0, skipped=skipped)
        return ImportResult(job, links)

    async def _each_row(self, plans: list[_Plan], errors: list[dict[str, Any]], skipped: int) -> ImportResult:
        links: list[tuple[int, str, str]] = []
        created: dict[str, uuid.UUID] = {}
        for plan in plans:
            if plan.action == "create":
                try:
                    async with self.db.session(self.ctx) as session:
                        made = await self._create(session, plan, created)
                except (DomainError, IntegrityError) as exc:
                    errors.extend(_errors_of(plan.number, exc, bool(plan.admin and plan.admin.email)))
                else:
                    self.created += 1  # committed
                    if plan.code:
                        created[plan.code] = made.link.id
                    if made.setup_credential:
                        links.append((plan.number, plan.login, made.setup_credential))
            await self.step()
        result = await self.finish("done", errors, created=self.created, skipped=skipped)
        result.setup_links = links
        return result

    async def _record(
        self, session: AsyncSession, status: str, errors: list[dict[str, Any]], *, created: int, skipped: int
    ) -> ImportJob:
        job = await get_job(session, self.job_id)
        ordered = sorted(errors, key=lambda e: (e["row"] is not None, e["row"] or 0))
        if len(ordered) > MAX_REPORTED_ERRORS:
            more = len(ordered) - MAX_REPORTED_ERRORS
            ordered = [
                *ordered[:MAX_REPORTED_ERRORS],
                _error(None, "file", N_("... and %(count)s more errors"), "truncated", {"count": more}),
            ]
        job.status = status
        job.errors = ordered
        job.created_count, job.skipped_count = created, skipped
        job.processed_rows = self.processed if status == "failed" else self.total
        job.total_rows = self.total
        job.finished_at = utcnow()
        job.rows, job.lease_until = None, None  # the file's rows (names, emails) are kept no longer than needed
        await session.flush()
        return job

    async def finish(self, status: str, errors: list[dict[str, Any]], *, created: int, skipped: int) -> ImportResult:
        async with self.db.session(self.ctx) as session:
            job = await self._record(session, status, errors, created=created, skipped=skipped)
        return ImportResult(job)
