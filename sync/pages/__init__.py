"""The console pages of sync/: deliveries (deliveries) and the scheduled jobs and their runs
(scheduled_jobs), each router naming its services' providers once."""

from __future__ import annotations

from typing import Any

from litestar import Router

from sync.dependencies import DEPENDENCIES as DELIVERY_DEPENDENCIES
from sync.pages.deliveries import DELIVERY_PAGES
from sync.pages.scheduled_jobs import job_page, jobs_page
from sync.scheduling.api import DEPENDENCIES as JOB_DEPENDENCIES

PAGES: list[Any] = [
    Router("/", route_handlers=DELIVERY_PAGES, dependencies=DELIVERY_DEPENDENCIES),
    Router("/", route_handlers=[jobs_page, job_page], dependencies=JOB_DEPENDENCIES),
]
