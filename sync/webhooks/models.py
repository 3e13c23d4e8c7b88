"""A tenant's webhook endpoints and the log of every request sent to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKeyConstraint, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow

OUTCOMES = ("succeeded", "failed", "refused")
TRIGGERS = ("event", "ping", "replay")


class WebhookEndpoint(TenantOwned, Timestamped, Audited, Base):
    """`secret` is sealed (sync.webhooks.secrets); after a rotation `previous_secret` still signs until
    `previous_secret_expires_at`. `disabled_reason` says why the platform turned it off (410 Gone)."""

    __tablename__ = "webhook_endpoints"
    __audit_redact__ = frozenset({"secret", "previous_secret"})

    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_expires_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]


class WebhookDelivery(TenantOwned, Base):
    """One request to one endpoint: an event's attempt, a ping or a replay. `outcome` is succeeded (2xx),
    failed (worth retrying: 5xx, 408, 429, timeouts, connection and TLS errors) or refused (retrying cannot
    help: another 4xx, a redirect, an address webhooks may not reach). The body is kept whole (events are
    small) so that a replay sends exactly what was sent, newly signed."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "endpoint_id"], ["webhook_endpoints.tenant_id", "webhook_endpoints.id"], ondelete="CASCADE"
        ),
        Index("ix_webhook_deliveries_event", "tenant_id", "event_id", "endpoint_id"),
        Index("ix_webhook_deliveries_endpoint", "tenant_id", "endpoint_id", "created_at"),
        Index("ix_webhook_deliveries_created", "tenant_id", "created_at"),
        CheckConstraint("outcome IN ('succeeded', 'failed', 'refused')", name="outcome"),
        CheckConstraint("trigger IN ('event', 'ping', 'replay')", name="trigger"),
    )

    endpoint_id: Mapped[uuid.UUID]
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(100))
    trigger: Mapped[str] = mapped_column(String(8))
    attempt: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(12))
    url: Mapped[str] = mapped_column(String(2000))
    request_headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_body: Mapped[str] = mapped_column(Text)
    response_status: Mapped[int | None]
    response_excerpt: Mapped[str | None] = mapped_column(String(2000))
    latency_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
