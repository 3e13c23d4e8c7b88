"""The delivery API's shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec


class DeliveryOut(msgspec.Struct):
    id: uuid.UUID
    event_id: uuid.UUID
    subscriber: str
    event_type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    status: str  # pending, delivered or dead
    state: str  # pending, retrying, delivered or dead
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(msgspec.Struct):
    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int


class AttemptOut(msgspec.Struct):
    number: int
    outcome: str  # delivered, failed, dead, lost or late
    worker: str
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    error: str | None


class EventOut(msgspec.Struct):
    id: uuid.UUID
    event_type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    occurred_at: datetime
    payload: dict[str, Any]


class DeliveryDetailOut(msgspec.Struct):
    delivery: DeliveryOut
    event: EventOut
    attempts: list[AttemptOut]


class SubscriberFiguresOut(msgspec.Struct):
    subscriber: str
    pending: int
    retrying: int
    dead: int
    delivered: int


class HourOut(msgspec.Struct):
    start: datetime
    delivered: int
    failed: int


class OverviewOut(msgspec.Struct):
    subscribers: list[SubscriberFiguresOut]
    hours: list[HourOut]
