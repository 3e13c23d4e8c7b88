"""Catching up across deployments what a rule's backfill brings within one deployment, for the records the
app applies itself (purchasing) whose source is on the partner's deployment.

A backfill of the manufacturer's `ordering.purchase_order` rule (its activation, the link re-established)
cannot read the partner's purchase orders: it asks the partner's deployment (`catch_up`, with the object
and the backfill's id), which counts those waiting (sent, or asked to be cancelled), answers with the
count (the backfill's total) and publishes `sync.peer.catch_up.requested`. The partner's workers then send
each waiting purchase order as when it was sent (sync.peers.subscriber, in batches, each under an id of
the catch-up's own, so a retry is recognised), each placed once by its own reference to the purchase
order; every one taken counts as done on the manufacturer's backfill, and `caught_up` ends it."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import record_action
from portal.db.types import utcnow
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_
from portal.outbox import publish
from sync.crosstenant.models import SyncBackfill, SyncRule
from sync.crosstenant.objects import Pair, direction_of, handed, sync_objects
from sync.peers.models import SyncPeer

if TYPE_CHECKING:
    from portal.services import Services

ASK = "catch_up"
DONE = "caught_up"
KINDS = (ASK, DONE)
CATCH_UP_REQUESTED = "sync.peer.catch_up.requested"
# outcomes of a record the app applied that count as brought over
APPLIED = ("created", "updated", "refused", "cancelled", "kept")


def _backfill_id(document: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(document.get("backfill")))
    except ValueError:
        raise ValidationFailed([FieldError("backfill", N_("is not valid"), "invalid")]) from None


async def take(
    session: AsyncSession, services: Services, peer: SyncPeer, event_id: uuid.UUID, kind: str, document: dict[str, Any]
) -> dict[str, Any]:
    """`catch_up` on the partner's side (the answer: how many records wait), `caught_up` on the
    manufacturer's (its backfill done)."""
    backfill_id = _backfill_id(document)
    if kind == ASK:
        obj: Any = sync_objects(services).get(str(document.get("object", "")))
        if peer.role != "downstream" or obj is None or not handed(obj) or direction_of(obj) != "up":
            raise ValidationFailed([FieldError("object", N_("No such object"), "unknown")])
        total = await obj.count(session, Pair(peer.id, peer.peer_tenant_id, peer.tenant_id))
        payload = {"object": obj.name, "backfill": str(backfill_id)}
        publish(session, CATCH_UP_REQUESTED, "sync.peer", peer.id, payload)
        record_action(session, peer, "sync.catch_up", {"peer": peer.peer_tenant_name, "event": event_id, **payload})
        return {"total": total}
    if peer.role != "upstream":
        raise ValidationFailed(
            [FieldError("kind", N_("This deployment's side of the pairing takes no records"), "side")]
        )
    backfill = await _backfill(session, peer, backfill_id)
    if backfill is not None and backfill.status not in ("done", "failed"):
        backfill.status, backfill.finished_at = "done", utcnow()
        backfill.total = max(backfill.total, backfill.done)
    return {}


async def _backfill(session: AsyncSession, peer: SyncPeer, backfill_id: uuid.UUID) -> SyncBackfill | None:
    """The backfill, when it is one of a rule sending through this pairing (never another's)."""
    return await session.scalar(
        select(SyncBackfill)
        .join(SyncRule, SyncRule.id == SyncBackfill.rule_id)
        .where(SyncBackfill.id == backfill_id, SyncRule.pairing_id == peer.id)
        .with_for_update()
    )


async def progressed(session: AsyncSession, peer: SyncPeer, document: dict[str, Any], outcome: str) -> None:
    """A record the partner sent for a catch-up was taken here: one more done on that backfill."""
    if document.get("backfill") is None:
        return
    backfill = await _backfill(session, peer, _backfill_id(document))
    if backfill is None or backfill.status in ("done", "failed"):
        return
    backfill.done += 1
    backfill.applied += outcome in APPLIED
