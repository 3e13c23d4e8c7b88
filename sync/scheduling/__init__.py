"""Scheduled jobs on the workers: the table of runs (models), when each job is due (timing), the scheduler
duty a worker loop runs (duty: `SchedulerDuty(services, owner).step()`), what the console and the API show
and "run now" (runs), the outbox purge job (purge), and their API (api)."""

from __future__ import annotations

from sync.scheduling.duty import LEASE, MAX_ATTEMPTS, SchedulerDuty, backoff, registered_jobs
from sync.scheduling.models import JobRun
from sync.scheduling.purge import purge_job, purge_outbox, purgeable
from sync.scheduling.runs import JobView, Schedule
from sync.scheduling.timing import latest_due, next_due

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "JobRun",
    "JobView",
    "Schedule",
    "SchedulerDuty",
    "backoff",
    "latest_due",
    "next_due",
    "purge_job",
    "purge_outbox",
    "purgeable",
    "registered_jobs",
]
