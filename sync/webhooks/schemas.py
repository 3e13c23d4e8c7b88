"""Request and response bodies of the webhook API."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from portal.http.inputs import Multiline
from portal.identity.schemas import Strict


class EndpointIn(Strict):
    url: str
    event_types: list[str]
    description: Multiline | None = None
    active: bool = True


class EndpointPatch(Strict):
    url: str | UnsetType = UNSET
    event_types: list[str] | UnsetType = UNSET
    description: Multiline | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class EndpointOut(msgspec.Struct):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    active: bool
    disabled_reason: str | None
    # after a rotation: until when the replaced secret still signs deliveries (null: no overlap)
    previous_secret_valid_until: datetime | None
    created_at: datetime
    updated_at: datetime


class EndpointCreated(msgspec.Struct):
    endpoint: EndpointOut
    # shown this once: the platform keeps it only to sign with
    secret: str


class SecretOut(msgspec.Struct):
    endpoint: EndpointOut
    secret: str


class EventTypeOut(msgspec.Struct):
    type: str
    description: str


class DeliveryOut(msgspec.Struct):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    trigger: str  # event, ping or replay
    attempt: int
    outcome: str  # succeeded, failed (retried) or refused (not retried)
    url: str
    response_status: int | None
    latency_ms: int | None
    error: str | None
    created_at: datetime


class DeliveryDetail(DeliveryOut):
    request_headers: dict[str, str]
    request_body: str
    response_excerpt: str | None


class DeliveryPage(msgspec.Struct):
    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int
