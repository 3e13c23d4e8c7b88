"""The record of every scheduled job run: one row per attempt at one due time of one job."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Base
from portal.db.types import utcnow
from portal.ids import uuid7

STATUSES = ("queued", "running", "ok", "failed")


class JobRun(Base):
    """Global, not tenant-owned: a job passes over every tenant in one run and belongs to none (as the
    tenant registry does). Rows name a job and a time; the error text is the platform's own.

    Exactly once per due time: a worker claims (job, due_at, attempt) by inserting the row; the unique key
    lets one insert through whatever the number of workers. A retry or a takeover claims the next attempt
    the same way."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "due_at", "attempt"),
        Index("ix_job_runs_job_requested", "job", "requested_at"),
        Index("ix_job_runs_status", "status"),
        CheckConstraint("status IN ('queued', 'running', 'ok', 'failed')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    job: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime]
    attempt: Mapped[int] = mapped_column(default=1)
    manual: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(12), default="running")
    worker: Mapped[str | None] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    retry_at: Mapped[datetime | None]  # a failed attempt that will be tried again, and when
    items: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(2000))
