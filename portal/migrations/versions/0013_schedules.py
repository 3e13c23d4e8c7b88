"""scheduled job runs; import jobs carry their rows to the workers; expiry marked on links

Revision ID: 0013_schedules
Revises: 0012_delivery
Create Date: 2026-12-04 12:45:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import portal.db.types
from portal.db import rls

revision = "0013_schedules"
down_revision = "0012_delivery"
branch_labels = None
depends_on = None

# What a job that can no longer run says (as interconnect.imports.running words it).
STOPPED = "The worker stopped during the import; upload the file again (rows already imported are skipped)"


def upgrade() -> None:
    # Global: a run passes over every tenant and belongs to none (like `tenants`), so no RLS.
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("due_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("requested_at", portal.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_until", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retry_at", portal.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("items", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'ok', 'failed')", name=op.f("ck_job_runs_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "due_at", "attempt", name=op.f("uq_job_runs_job_due_at_attempt")),
    )
    op.create_index("ix_job_runs_job_requested", "job_runs", ["job", "requested_at"], unique=False)
    op.create_index("ix_job_runs_status", "job_runs", ["status"], unique=False)
    rls.grant_table("job_runs")

    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rows", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("lease_until", portal.db.types.UTCDateTime(timezone=True), nullable=True))
    # Jobs queued or running before this revision ran in a web process that is gone, and their rows were
    # never stored: none of them can finish, so they say so instead of staying "running".
    jobs = sa.table(
        "import_jobs",
        sa.column("status", sa.String()),
        sa.column("errors", sa.JSON()),
        sa.column("finished_at", portal.db.types.UTCDateTime(timezone=True)),
    )
    error = {"row": None, "field": "file", "code": "worker_stopped", "message": STOPPED, "msgid": STOPPED, "params": {}}
    op.execute(
        jobs.update()
        .where(jobs.c.status.in_(("queued", "running")))
        .values(status="failed", errors=[error], finished_at=datetime.now(UTC))
    )

    for table in ("invitations", "setup_tokens"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("expired_at", portal.db.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ("setup_tokens", "invitations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("expired_at")
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("rows")
    op.drop_index("ix_job_runs_status", table_name="job_runs")
    op.drop_index("ix_job_runs_job_requested", table_name="job_runs")
    op.drop_table("job_runs")
