"""Several changes of one pairing in one signed request: what makes sync across deployments as fast as the
receiver can apply, instead of one request (and its round trip, signature and bookkeeping) per change.

The sender (sync.peers.subscriber, for the heads of a pairing's line the workers claimed together) puts
each change in the request as an item under its own event id, in the order given, up to the workers'
`line_batch` items or `MAX_BYTES` of them. The receiver takes the batch once, then each item as if it
came alone (sync.peers.inbound.take_in: once per event id, the first answer given back to a retry), in
one transaction with a savepoint per item, and answers with each item's result: a failure is that
item's only (its savepoint undone), and the sender retries that event alone.

Replays: the batch's own id is recorded first with the request's signature, so the same request sent again
is refused whole (409 `replayed`) and changes nothing; its items are recorded with that signature too, and
a later request carrying one of them again (the sender's retry, signed anew) gets the first answer."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db.context import tenant_context
from portal.errors import Conflict, DomainError, FieldError, ValidationFailed
from portal.i18n import N_
from sync.peers.models import SyncPeerInbound
from sync.peers.service import CHANNEL

if TYPE_CHECKING:
    from portal.services import Services

KIND = "batch"
# what a batch may carry: the changes (a pairing's unpairing and the backfills travel alone)
ITEM_KINDS = ("records", "handover")
MAX_ITEMS = 500
# how long the receiver applies a batch's items before answering the rest "later": well within the
# sender's read timeout (PORTAL_WEBHOOK_READ_TIMEOUT, 10 s by default)
TIME_BUDGET_SECONDS = 4.0
# the sender's budget per request, well within the receiver's MAX_BODY
MAX_BYTES = 1024 * 1024

log = logging.getLogger("portal.sync.peers")

Take = Callable[[AsyncSession, "Services", uuid.UUID, uuid.UUID, str, dict[str, Any]], Awaitable[dict[str, Any]]]


class Replayed(Conflict):
    code = "replayed"


@dataclass(frozen=True, slots=True)
class Item:
    """One change to send: which of the events given it belongs to, its id, kind and document."""

    index: int
    event_id: uuid.UUID
    kind: str
    document: dict[str, Any]
    size: int


def chunks(items: Sequence[Item], most: int) -> Iterator[list[Item]]:
    """The items in order, in requests of at most `most` items and `MAX_BYTES` (one larger item alone)."""
    chunk: list[Item] = []
    size = 0
    for item in items:
        if chunk and (len(chunk) >= most or size + item.size > MAX_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item.size
    if chunk:
        yield chunk


def _items(document: dict[str, Any]) -> list[tuple[uuid.UUID, dict[str, Any]]]:
    items = document.get("items")
    if not isinstance(items, list) or not items or len(items) > MAX_ITEMS:
        raise ValidationFailed([FieldError("items", N_("is not valid"), "invalid")])
    found: list[tuple[uuid.UUID, dict[str, Any]]] = []
    for item in items:
        if not isinstance(item, dict) or item.get("kind") not in ITEM_KINDS:
            raise ValidationFailed([FieldError("items", N_("is not valid"), "invalid")])
        try:
            found.append((uuid.UUID(str(item.get("event"))), item))
        except ValueError:
            raise ValidationFailed([FieldError("items", N_("is not valid"), "invalid")]) from None
    if len({event_id for event_id, _item in found}) != len(found):
        raise ValidationFailed([FieldError("items", N_("names an event twice"), "duplicate")])
    return found


async def receive(
    services: Services,
    tenant_id: uuid.UUID,
    pairing_id: uuid.UUID,
    batch_id: uuid.UUID,
    signature: str,
    document: dict[str, Any],
    take: Take,
) -> dict[str, Any]:
    """A verified batch: recorded once, then each item taken on its own (a savepoint each, in the batch's
    one transaction) while the time allows; the result of each. Items left when the time is up are
    answered "later" (retried by the sender), so the answer comes within the sender's timeout."""
    items = _items(document)
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    results: dict[str, dict[str, Any]] = {}
    async with services.db.session(tenant_context(tenant_id, channel=CHANNEL)) as session:
        seen = await session.scalar(
            select(SyncPeerInbound).where(SyncPeerInbound.peer_id == pairing_id, SyncPeerInbound.event_id == batch_id)
        )
        if seen is not None:
            if seen.signature == signature:
                raise Replayed(N_("This request was received already"))
            return {**seen.answer, "duplicate": True}
        row = SyncPeerInbound(peer_id=pairing_id, event_id=batch_id, kind=KIND, signature=signature, answer={})
        session.add(row)
        await session.flush()
        for event_id, item in items:
            if time.monotonic() > deadline:
                results[str(event_id)] = {"status": 503, "code": "later", "detail": "not applied yet; send it again"}
                continue
            try:
                async with session.begin_nested():
                    answer = await take(session, services, pairing_id, event_id, signature, item)
                results[str(event_id)] = {"status": 200, "answer": answer}
            except DomainError as error:
                results[str(event_id)] = {"status": error.status, "code": error.code, "detail": error.text[:500]}
            except SQLAlchemyError:
                # e.g. the same event taken meanwhile by another request: its savepoint undid it
                log.warning("a batch item from a paired deployment was not applied", exc_info=True)
                results[str(event_id)] = {"status": 503, "code": "retry", "detail": "not applied; send it again"}
        row.answer = {"results": results}
    return {"results": results}


def result_of(answer: dict[str, Any], event_id: uuid.UUID) -> tuple[int, dict[str, Any]]:
    """An item's status and its answer (or problem) in a batch's answer; 503 when it is missing."""
    results = answer.get("results")
    found = results.get(str(event_id)) if isinstance(results, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("status"), int):
        return 503, {"code": "missing", "detail": "no result for this event"}
    return int(found["status"]), found
