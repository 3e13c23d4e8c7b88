"""Integration keys, the ERP's ids of the records it sent, the change feed and the log of key requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Audited, Base, TenantOwned, Timestamped
from portal.db.types import utcnow


class IntegrationKey(TenantOwned, Timestamped, Audited, Base):
    """An API key: `secret_hash` is the HMAC-SHA256 of its secret under the deployment's secret key (the
    secret itself is shown once and kept nowhere). `hint` is the secret's first characters, which the
    console shows so a person can tell keys apart. A key works while not revoked, before `expires_at` and,
    after it was rotated, before `retires_at` (the overlap); `replaced_by` names its successor."""

    __tablename__ = "integration_keys"
    __audit_redact__ = frozenset({"secret_hash"})
    __audit_ignore__ = frozenset({"last_used_at"})

    name: Mapped[str] = mapped_column(String(100))
    hint: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    retires_at: Mapped[datetime | None]
    replaced_by: Mapped[uuid.UUID | None]
    last_used_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]


class ExternalId(TenantOwned, Base):
    """The ERP's id of a record it sent, per object (products, price_lists, customers): one record per
    external id and one external id per record."""

    __tablename__ = "integration_external_ids"
    __table_args__ = (
        UniqueConstraint("tenant_id", "object", "external_id", name="uq_integration_external_ids_key"),
        UniqueConstraint("tenant_id", "object", "record_id", name="uq_integration_external_ids_record"),
    )

    object: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(200))
    record_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedHead(TenantOwned, Base):
    """The last position the tenant's change feed gave (one row per tenant): a new change takes the next
    position while its transaction holds this row locked, so positions follow commit order."""

    __tablename__ = "integration_feed_heads"

    position: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedChange(TenantOwned, Base):
    """One change of one record in the feed, at `position`: the record as it stood when the change was
    recorded (`data`; None when it no longer exists), from the outbox event `event_id`."""

    __tablename__ = "integration_changes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "position", name="uq_integration_changes_position"),
        UniqueConstraint("tenant_id", "event_id", "record_id", name="uq_integration_changes_event"),
    )

    position: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(100))
    object: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[uuid.UUID]
    external_id: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(8))
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class KeyRequest(TenantOwned, Base):
    """A request made with a key: what it asked, how it was answered (the problem's code when refused)."""

    __tablename__ = "integration_requests"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "key_id"], ["integration_keys.tenant_id", "integration_keys.id"], ondelete="CASCADE"
        ),
        Index("ix_integration_requests_time", "tenant_id", "at"),
        Index("ix_integration_requests_key", "tenant_id", "key_id", "at"),
    )

    key_id: Mapped[uuid.UUID]
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(200))
    status: Mapped[int]
    problem: Mapped[str | None] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(default=utcnow)
