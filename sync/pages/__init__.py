"""Console pages of sync/: the scheduled jobs and their runs (scheduled_jobs)."""

from __future__ import annotations

from typing import Any

from litestar import Router

from sync.pages.scheduled_jobs import job_page, jobs_page, run_job_now
from sync.scheduling.api import DEPENDENCIES

PAGES: list[Any] = [Router("/", route_handlers=[jobs_page, job_page, run_job_now], dependencies=DEPENDENCIES)]
