"""Transactional outbox: a domain event is a row written in the same transaction as the change it
describes, so it exists exactly when the change does. Delivery (relay workers) lives in sync/."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, FetchedValue, Index, String, false
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from portal.db.base import Base, TenantOwned
from portal.db.tenancy import queue_insert, unwatched
from portal.db.types import utcnow
from portal.ids import uuid7
from portal.jsonable import jsonable

if TYPE_CHECKING:
    from portal.services import Services


class OutboxEvent(TenantOwned, Base):
    """`sequence` is drawn by the database when the row is inserted (a PostgreSQL sequence; on SQLite,
    whose writers queue for one lock, a trigger takes the next number): events of one aggregate are
    delivered in its order. `fanned_out` turns true once the workers have made one delivery per
    accepting subscriber (sync/delivery); each delivery then keeps its own status and attempts."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        # not led by tenant_id on purpose: the workers fan out across tenants, oldest first
        Index(
            "ix_outbox_events_unfanned",
            "sequence",
            postgresql_where="NOT fanned_out",
            sqlite_where="fanned_out = 0",
        ),
        # SQLite's sequence trigger takes the largest so far
        Index("ix_outbox_events_sequence", "sequence"),
    )

    event_type: Mapped[str] = mapped_column(String(100))
    aggregate_type: Mapped[str] = mapped_column(String(60))
    aggregate_id: Mapped[uuid.UUID]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    sequence: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())
    fanned_out: Mapped[bool] = mapped_column(default=False, server_default=false())


def publish(
    session: AsyncSession,
    event_type: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    payload: dict[str, Any],
) -> OutboxEvent:
    """Add the event to the current unit of work; it commits or rolls back with the change. It is
    written at the next flush or commit, in one INSERT with the unit of work's other events
    (`queue_insert`: through the ORM's unit of work the event cost a write half as much again as the
    change alone). The event returned has its id; the database draws its `sequence`."""
    event = unwatched(
        OutboxEvent,
        id=uuid7(),
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        payload=jsonable(payload),
        occurred_at=utcnow(),
        fanned_out=False,
    )
    queue_insert(session, event)
    # tells a worker in this process (the embedded default's) to look when the unit of work commits
    session.info["outbox_published"] = True
    return event


@dataclass(frozen=True)
class Event:
    """An outbox event as a subscriber receives it: plain values, detached from any session. `id` is the
    idempotency key: delivery is at least once, so a receiver that must not apply an event twice keeps it."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    event_type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    payload: dict[str, Any]
    occurred_at: datetime


class PermanentFailure(Exception):
    """Raised by a subscriber when retrying cannot help (a refused configuration, a 4xx answer): the
    delivery goes dead at once with this message instead of being retried."""


@dataclass(frozen=True)
class Subscriber:
    """A receiver of outbox events that a component registers (`Component.subscribers`); the workers in
    sync/ deliver each accepted event to it, per aggregate in the order written, retrying on any
    exception with backoff until a maximum, then recording it dead with the last error.

    `accepts` decides by event type alone, so deciding costs no query; `deliver` gets the application's
    services (the database, settings, catalogs) and opens whatever transaction it needs in the event's
    tenant context."""

    name: str
    accepts: Callable[[str], bool]
    deliver: Callable[[Services, Event], Awaitable[None]]
    # What people call it on the pages (a message to translate, N_()); the name when empty.
    label: str = ""
    # For a subscriber whose receivers are data rather than code (a tenant's webhook endpoints): its
    # `deliver` opens one line per receiver (sync.delivery.lines.open_lines), deliveries named
    # "<name>:<key>" that the workers retry, kill and keep in aggregate order each on its own, calling
    # `deliver_to(services, event, key)`; one receiver failing then holds back no other.
    deliver_to: Callable[[Services, Event, str], Awaitable[None]] | None = None
    # For a subscriber whose work per event is mostly per transaction (cross-tenant sync): the events of one
    # tenant that a worker claimed together, applied at once and all or nothing; when it raises, each event
    # is delivered again on its own through `deliver`, so one that fails holds back no other.
    deliver_many: Callable[[Services, Sequence[Event]], Awaitable[None]] | None = None
    # For a subscriber with lines whose receiver takes several events in one request (a paired deployment):
    # the heads of one line that a worker claimed together (several aggregates, each in its order), sent at
    # once; what came of each, in the order given (None: delivered; an exception: that event alone is
    # retried, or dead for a PermanentFailure). When it raises, each event goes again on its own through
    # `deliver_to`.
    deliver_many_to: Callable[[Services, Sequence[Event], str], Awaitable[Sequence[BaseException | None]]] | None = None


# Between a subscriber's name and the key of one of its lines, in a delivery's subscriber column.
LINE_SEPARATOR = ":"


def line_name(subscriber: str, key: str) -> str:
    return f"{subscriber}{LINE_SEPARATOR}{key}"


def split_line(name: str) -> tuple[str, str | None]:
    """A delivery's subscriber column as (subscriber, line key or None)."""
    subscriber, separator, key = name.partition(LINE_SEPARATOR)
    return subscriber, (key if separator else None)
