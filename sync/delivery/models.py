"""Deliveries: one row per (outbox event, subscriber) with its status, attempts and lease, and the log of
every attempt. Tenant-owned like the events they deliver; the workers read and write them in the system
context, staff read and replay their own tenant's."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Base, TenantOwned
from portal.db.types import utcnow

STATUSES = ("pending", "delivered", "dead")
# What one attempt came to: delivered; failed (to be retried); dead (failed for good); lost (its worker
# stopped answering and the lease ran out); late (it finished after its lease was taken over: ignored).
OUTCOMES = ("delivered", "failed", "dead", "lost", "late")


class Delivery(TenantOwned, Base):
    """Pending with `lease_owner` set and `lease_expires_at` in the future: a worker is running an attempt.
    `attempts` counts the attempts begun (a claim adds one), so (lease_owner, attempts) names one attempt:
    a worker writes its result only while both still hold. A replay keeps counting (the attempt log reads
    on, 1, 2, 3 …) and sets `attempt_base` to the attempts made before it: the retry budget and the
    backoff count from there."""

    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "event_id"], ["outbox_events.tenant_id", "outbox_events.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("tenant_id", "event_id", "subscriber"),
        # the claim: due pending deliveries across tenants, and the head of each aggregate's line
        Index(
            "ix_outbox_deliveries_due",
            "next_attempt_at",
            postgresql_where="status = 'pending'",
            sqlite_where="status = 'pending'",
        ),
        Index(
            "ix_outbox_deliveries_line",
            "tenant_id",
            "subscriber",
            "aggregate_type",
            "aggregate_id",
            "sequence",
            postgresql_where="status = 'pending'",
            sqlite_where="status = 'pending'",
        ),
        Index("ix_outbox_deliveries_tenant_status", "tenant_id", "status", "subscriber"),
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
    )

    event_id: Mapped[uuid.UUID]
    subscriber: Mapped[str] = mapped_column(String(60))
    event_type: Mapped[str] = mapped_column(String(100))
    aggregate_type: Mapped[str] = mapped_column(String(60))
    aggregate_id: Mapped[uuid.UUID]
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    attempt_base: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryAttempt(TenantOwned, Base):
    __tablename__ = "outbox_delivery_attempts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "delivery_id"],
            ["outbox_deliveries.tenant_id", "outbox_deliveries.id"],
            ondelete="CASCADE",
        ),
        Index("ix_outbox_delivery_attempts_delivery", "tenant_id", "delivery_id", "number"),
        Index("ix_outbox_delivery_attempts_finished", "tenant_id", "finished_at"),
        CheckConstraint("outcome IN ('delivered', 'failed', 'dead', 'lost', 'late')", name="outcome"),
    )

    delivery_id: Mapped[uuid.UUID]
    number: Mapped[int]
    worker: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    duration_ms: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(12))
    error: Mapped[str | None] = mapped_column(String(2000))
