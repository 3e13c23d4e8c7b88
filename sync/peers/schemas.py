"""Request and response bodies of the pairing API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from portal.identity.schemas import Strict


class CodeIn(Strict):
    link_id: uuid.UUID


class CodeOut(msgspec.Struct):
    link_id: uuid.UUID
    expires_at: datetime
    # shown this once: the deployment keeps only its hash
    code: str


class PairIn(Strict):
    upstream_url: str
    code: str


class PeerOut(msgspec.Struct):
    id: uuid.UUID
    role: str
    link_id: uuid.UUID | None
    link_name: str | None
    peer_url: str
    peer_tenant_id: uuid.UUID
    peer_tenant_name: str
    status: str
    last_contact_at: datetime | None
    last_error: str | None
    failures: int
    created_at: datetime
    unpaired_at: datetime | None


class PairingIn(msgspec.Struct):
    """What the partner's deployment sends the upstream's to pair (the code is the credential)."""

    code: str
    url: str
    tenant_id: uuid.UUID
    tenant_name: str
    pairing_id: uuid.UUID
    secret: str


class PairingOut(msgspec.Struct):
    pairing_id: uuid.UUID
    tenant_id: uuid.UUID
    tenant_name: str
    secret: str


class HandledOut(msgspec.Struct):
    """What the app did with a record it applies itself: created, updated, unchanged, refused or skipped;
    the record it made or changed; `answer`, what the sender's record is told, as the app words it (a
    purchase order: the sales order's progress, or the refusal with its reason)."""

    outcome: str
    target_id: uuid.UUID | None = None
    answer: dict[str, Any] = msgspec.field(default_factory=dict)


class BatchItemOut(msgspec.Struct, omit_defaults=True):
    """What came of one event of a batch: its status (200 when taken) with its answer (an InboundOut), or
    the problem (code, detail) that made it fail, for the sender to retry that one."""

    status: int
    # the event's own answer, as a request of its own would have had it
    answer: dict[str, Any] | None = None
    code: str | None = None
    detail: str | None = None


class InboundOut(msgspec.Struct, omit_defaults=True):
    """Per record sent, what applying it did (created, updated, unchanged, withdrawn, skipped, stale,
    clash); `duplicate` when the event was taken before (the first answer, nothing applied again)."""

    outcomes: dict[str, str] = msgspec.field(default_factory=dict)
    # a record the app applied here (a purchase order placed, a sales order's progress followed): its
    # outcome, the record it made or changed, and what the sender's record is told
    handled: HandledOut | None = None
    # a batch (several events in one request): each event's result by its id, its status (200 when taken)
    # with its answer, or the problem (code, detail) that made it fail, for the sender to retry that one
    results: dict[str, BatchItemOut] = msgspec.field(default_factory=dict)
    # a catch-up asked for (sync.peers.catchup): how many records wait to be sent
    total: int | None = None
    duplicate: bool = False


class DigestOut(msgspec.Struct, omit_defaults=True):
    """A mapped record as the partner holds it, named by the manufacturer's id: its digest (`kind:
    digests`), or its mapped fields' values, what the last write left in them and the fields held for a
    person (`kind: values`)."""

    id: str
    peer: str | None = None
    digest: str | None = None
    key: str | None = None
    values: dict[str, Any] | None = None
    written: dict[str, Any] | None = None
    held: list[str] | None = None


class DigestsOut(msgspec.Struct):
    """A page of the standing rule's mapped records; `next` is where the following page starts."""

    entries: list[DigestOut] = msgspec.field(default_factory=list)
    next: str | None = None
