"""The console's scheduled jobs: each job, its schedule, last run and next due time; a job's runs with
their outcome; "run now". The same service as the JSON API (sync.scheduling.api)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from portal.db.types import utcnow
from portal.i18n import gettext, ngettext
from portal.permissions import requires
from portal.schedules import ScheduledJob
from portal.ui.paging import page_number, paging
from sync.objects import JOB
from sync.scheduling.api import ScheduleDep
from sync.scheduling.duty import MAX_ATTEMPTS
from sync.scheduling.shown import OWN_MESSAGES, shown_error

PAGE_SIZE = 20


def schedule_text(job: ScheduledJob) -> str:
    if job.at is not None:
        return gettext("Daily at %(time)s UTC", time=job.at.strftime("%H:%M"))
    minutes = int(job.every / timedelta(minutes=1))
    if minutes and minutes % 1440 == 0:
        return ngettext("Every day", "Every %(num)s days", minutes // 1440)
    if minutes and minutes % 60 == 0:
        return ngettext("Every hour", "Every %(num)s hours", minutes // 60)
    return ngettext("Every minute", "Every %(num)s minutes", max(minutes, 1))


def error_text(error: str | None) -> str | None:
    shown = shown_error(error)
    return gettext(shown) if shown in OWN_MESSAGES else shown


def _context(**values: Any) -> dict[str, Any]:
    return {"schedule_text": schedule_text, "error_text": error_text, "max_attempts": MAX_ATTEMPTS, **values}


@get("/console/delivery/jobs", opt=requires(JOB, "read"), include_in_schema=False)
async def jobs_page(schedule: ScheduleDep) -> Template:
    now = utcnow()
    return Template("sync/jobs.html", context=_context(views=await schedule.overview(now), now=now))


@get("/console/delivery/jobs/{job_name:str}", opt=requires(JOB, "read"), include_in_schema=False)
async def job_page(
    job_name: FromPath[str],
    schedule: ScheduleDep,
    page: FromQuery[str | None] = None,
) -> Template:
    now = utcnow()
    job = schedule.job(job_name)
    number = page_number(page)
    runs, total = await schedule.runs(job_name, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    view = next(v for v in await schedule.overview(now) if v.name == job_name)
    path = f"/console/delivery/jobs/{job_name}"
    return Template(
        "sync/job.html",
        context=_context(
            job=job,
            view=view,
            runs=runs,
            total=total,
            now=now,
            paging=paging(path, {}, number, total, PAGE_SIZE, bare_first=True),
        ),
    )
