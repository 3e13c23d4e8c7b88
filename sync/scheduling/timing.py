"""When a job is due: daily at its `at` time (UTC), or at every multiple of `every` counted from the Unix
epoch, so that every worker computes the same due times without talking to the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from portal.schedules import ScheduledJob

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def period(job: ScheduledJob) -> timedelta:
    return DAY if job.at is not None else job.every


def latest_due(job: ScheduledJob, now: datetime) -> datetime:
    """The last due time at or before `now`: the one a worker that wakes now runs (missed earlier ones
    are not run again one by one: each job does all that is due whenever it runs)."""
    if job.at is not None:
        today = datetime.combine(now.astimezone(UTC).date(), job.at.replace(tzinfo=None), tzinfo=UTC)
        return today if today <= now else today - DAY
    seconds = job.every.total_seconds()
    if seconds <= 0:
        raise ValueError(f"scheduled job {job.name!r} has no positive period")
    return EPOCH + timedelta(seconds=((now - EPOCH).total_seconds() // seconds) * seconds)


def next_due(job: ScheduledJob, now: datetime) -> datetime:
    return latest_due(job, now) + period(job)
