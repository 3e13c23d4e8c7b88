"""The "peers" subscriber: what the upstream's rules send to a partner on another deployment, delivered
by the delivery workers as signed HTTPS requests (sync.peers.wire) to the peer's inbound endpoint.

Its own delivery of an event opens one line per pairing the event concerns (sync.delivery.lines:
"peers:<pairing id>"), so the engine retries each with backoff, keeps a pairing's events in order per
record, kills a line after the maximum (a dead letter staff replay like any other) and never lets one
peer being down hold back another. A line's attempt (`deliver_to`) reads the records as they are now,
maps and filters them by the rule, and sends them under the event's id; the receiver applies each event
id once, so a retry after a lost answer changes nothing there.

- a change of an object a rule sends through the pairing: the changed records;
- a backfill the rule's activation asked for: every record, in batches, each sent under an id of its own
  (derived from the backfill and the batch's start), with the backfill's progress kept here;
- unpairing here: the peer is told, so it stops too.
A pairing that is no longer active takes nothing: its lines end without a request."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from portal.audit import record_action
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.i18n import N_
from portal.outbox import Event, PermanentFailure, Subscriber
from sync.crosstenant.mapping import apply_mapping, passes
from sync.crosstenant.models import SyncBackfill, SyncMapping, SyncRule
from sync.crosstenant.objects import HandedObject, Handled, Pair, SyncObject, direction_of, handed, sync_objects
from sync.crosstenant.reconcile import RECONCILE_REQUESTED, REPAIR_REQUESTED
from sync.crosstenant.subscriber import BACKFILL_REQUESTED, LINK_ESTABLISHED
from sync.crosstenant.subscriber import accepts as sync_accepts
from sync.delivery.lines import open_lines
from sync.peers import reconcile, wire
from sync.peers.models import SyncPeer
from sync.peers.service import CHANNEL, UNPAIRED, target_of

if TYPE_CHECKING:
    from portal.services import Services
    from sync.webhooks.sender import Result

NAME = "peers"
BATCH = 200
PRODUCTS = "ordering.product"


class PeerUnavailable(Exception):
    """The peer did not take the request; the worker retries the line."""


def accepts(event_type: str) -> bool:
    return event_type == UNPAIRED or (event_type != LINK_ESTABLISHED and sync_accepts(event_type))


async def _remote_rules(session: Any, object_name: str | None = None) -> list[SyncRule]:
    query = select(SyncRule).where(
        SyncRule.pairing_id.is_not(None), SyncRule.link_id.is_not(None), SyncRule.status == "active"
    )
    if object_name is not None:
        query = query.where(SyncRule.object == object_name)
    return list(await session.scalars(query.order_by(SyncRule.id)))


async def deliver(services: Services, event: Event) -> None:
    """Open a line for each pairing the event concerns."""
    async with services.db.session(tenant_context(event.tenant_id, channel=CHANNEL)) as session:
        keys: list[str] = []
        if event.event_type == UNPAIRED:
            keys = [str(event.aggregate_id)]
        elif event.event_type in (BACKFILL_REQUESTED, RECONCILE_REQUESTED, REPAIR_REQUESTED):
            rule = await session.scalar(select(SyncRule).where(SyncRule.id == event.aggregate_id))
            if rule is not None and rule.pairing_id is not None and rule.link_id is not None:
                keys = [str(rule.pairing_id)]
        else:
            objects = [o for o in sync_objects(services).values() if event.event_type in o.events]
            for name in sorted(o.name for o in objects if direction_of(o) == "down"):
                keys += [str(r.pairing_id) for r in await _remote_rules(session, name)]
            for obj in [o for o in objects if handed(o) and direction_of(o) == "up"]:
                keys += [str(p.id) for p in await _suppliers_of(session, obj, event)]
        if keys:
            await open_lines(session, event, NAME, keys)


async def deliver_to(services: Services, event: Event, key: str) -> None:
    ctx = tenant_context(event.tenant_id, channel=CHANNEL)
    pairing_id = uuid.UUID(key)
    async with services.db.session(ctx, write=False) as session:
        peer = await session.scalar(select(SyncPeer).where(SyncPeer.id == pairing_id))
        if peer is None:
            return
        target = target_of(services, peer)
        active = peer.status == "active"
    if event.event_type == UNPAIRED:
        result = await wire.send_signed(services, target, "unpaired", event.id, {})
        if result.outcome == "failed":
            await _contact(services, event.tenant_id, pairing_id, result)
            raise PeerUnavailable(f"{target.url}: {result.error}"[:1900])
        return  # taken, or refused because the peer no longer knows the pairing: either way it is over
    if event.event_type == RECONCILE_REQUESTED:
        # carried out even when the pairing is no longer active: the run then fails, saying so
        await reconcile.carry_out(services, event.tenant_id, uuid.UUID(str(event.payload["reconciliation"])), target)
        return
    if not active:
        return
    if event.event_type == BACKFILL_REQUESTED:
        await _backfill(services, event, target, uuid.UUID(str(event.payload["backfill"])))
        return
    if event.event_type == REPAIR_REQUESTED:
        await _repair(services, event, target)
        return
    found = [o for o in sync_objects(services).values() if event.event_type in o.events]
    for obj in [o for o in found if handed(o)]:
        await _hand_over(services, event, target, obj)  # type: ignore[arg-type]
    for obj in [o for o in found if not handed(o)]:
        async with services.db.session(ctx, write=False) as session:
            rules = [r for r in await _remote_rules(session, obj.name) if r.pairing_id == pairing_id]
            ids = sorted(set(obj.changed_ids(event.event_type, event.aggregate_id, event.payload)))
            documents = [await _document(session, obj, rule, ids, None, event) for rule in rules]
        for rule, document in zip(rules, documents, strict=True):
            await _send(
                services,
                event.tenant_id,
                target,
                event.id if len(rules) == 1 else _derived(event.id, rule.id),
                document,
            )


async def _repair(services: Services, event: Event, target: wire.PeerTarget) -> None:
    """A reconciliation's repair: the records named, as they are now, mapped and filtered by the rule, sent
    like any change under the event's id, with the fields found different (`resend`: they count as
    changed upstream there, and the rule's policy decides)."""
    ctx = tenant_context(event.tenant_id, channel=CHANNEL)
    ids = sorted({uuid.UUID(str(i)) for i in event.payload.get("ids", ())})
    resend = {str(k): list(v) for k, v in (event.payload.get("fields") or {}).items()}
    async with services.db.session(ctx, write=False) as session:
        rule = await session.scalar(select(SyncRule).where(SyncRule.id == event.aggregate_id))
        obj = sync_objects(services).get(rule.object) if rule is not None else None
        if rule is None or obj is None or handed(obj) or not ids or rule.pairing_id != target.id:
            return
        if rule.status != "active" or rule.peer_paused_at is not None:
            return  # repair is refused while the rule does not flow; one asked before it stopped is dropped
        document = await _document(session, obj, rule, ids, None, event)
    document["resend"] = resend
    await _send(services, event.tenant_id, target, event.id, document)


async def _suppliers_of(session: Any, obj: HandedObject, event: Event) -> list[SyncPeer]:
    """The pairings (this workspace being the partner) whose manufacturer the record is for: the object's
    own reading of it, with that manufacturer as the pair's upstream."""
    peers = await session.scalars(
        select(SyncPeer).where(SyncPeer.role == "downstream", SyncPeer.status == "active").order_by(SyncPeer.id)
    )
    ids = obj.changed_ids(event.event_type, event.aggregate_id, event.payload)
    return [
        peer
        for peer in list(peers)
        if await obj.read(session, Pair(peer.id, peer.peer_tenant_id, event.tenant_id), ids, None, len(ids))
    ]


async def _hand_over(services: Services, event: Event, target: wire.PeerTarget, obj: HandedObject) -> None:
    """A record the app applies on the other side: read here, sent, and the answer given back to it here.
    Upstream (the rule's owner) it is mapped by the rule before it leaves; from the partner, the rule's
    owner maps it on arrival, and the partner gives the ids of its products the manufacturer's ids, by the
    mapping table of what the manufacturer's product rule brought here."""
    ctx = tenant_context(event.tenant_id, channel=CHANNEL)
    ids = sorted(set(obj.changed_ids(event.event_type, event.aggregate_id, event.payload)))
    async with services.db.session(ctx, write=False) as session:
        peer = await session.scalar(select(SyncPeer).where(SyncPeer.id == target.id))
        if peer is None:
            return
        if peer.role == "upstream":
            rules = [r for r in await _remote_rules(session, obj.name) if r.pairing_id == peer.id]
            if not rules:
                return
            rule = rules[0]
            assert rule.link_id is not None
            pair = Pair(rule.link_id, rule.tenant_id, peer.peer_tenant_id)
        else:
            rule, pair = None, Pair(peer.id, peer.peer_tenant_id, event.tenant_id)
        records = await obj.read(session, pair, ids, None, len(ids))
        documents = []
        for source_id, values, present in records:
            mapped: dict[str, Any] = {}
            if rule is not None:
                if not present or not passes(rule.filter, values):
                    continue
                mapped = apply_mapping(rule.mapping, values, obj.target_fields)
            elif not present:
                continue
            documents.append(
                {
                    "object": obj.name,
                    "rule": str(rule.id) if rule is not None else None,
                    "occurred_at": event.occurred_at.isoformat(),
                    "source_id": str(source_id),
                    "values": values,
                    "mapped": mapped,
                    "translations": await _translations(session, peer, values) if rule is None else {},
                }
            )
    for document in documents:
        answer = await _send(services, event.tenant_id, target, event.id, document, kind="handover")
        handled = answer.get("handled") if isinstance(answer.get("handled"), dict) else None
        if handled is None:
            continue
        done = Handled(
            str(handled.get("outcome") or "unchanged"),
            uuid.UUID(str(handled["target_id"])) if handled.get("target_id") else None,
            None,
            handled.get("answer") if isinstance(handled.get("answer"), dict) else {},
        )
        async with services.db.session(ctx) as session:
            row = await obj.answer(session, uuid.UUID(document["source_id"]), done)
            if row is not None and done.outcome != "unchanged":
                details = {"peer": target.url, "event": event.id, "outcome": done.outcome, "answer": done.answer}
                record_action(session, row, "sync.answered", details)


async def _translations(session: Any, peer: SyncPeer, values: dict[str, Any]) -> dict[str, str]:
    """This workspace's products named in the record's lines, to the manufacturer's products they were
    made from (the mapping table of the rules standing for the manufacturer's here)."""
    wanted: set[uuid.UUID] = set()
    for line in values.get("lines") or ():
        try:
            wanted.add(uuid.UUID(str(line[0])))
        except (ValueError, IndexError, TypeError):
            continue
    if not wanted:
        return {}
    rows = await session.execute(
        select(SyncMapping.peer_id, SyncMapping.local_id)
        .join(SyncRule, SyncRule.id == SyncMapping.rule_id)
        .where(
            SyncRule.pairing_id == peer.id,
            SyncMapping.object == PRODUCTS,
            SyncMapping.withdrawn.is_(False),
            SyncMapping.peer_id.in_(sorted(wanted)),
        )
    )
    return {str(mine): str(theirs) for mine, theirs in rows}


def _derived(event_id: uuid.UUID, part: uuid.UUID | str) -> uuid.UUID:
    return uuid.uuid5(event_id, str(part))


async def _document(
    session: Any, obj: SyncObject, rule: SyncRule, ids: list[uuid.UUID] | None, after: uuid.UUID | None, event: Event
) -> dict[str, Any]:
    """The rule's records (named, or the next batch after `after`), mapped and filtered as the rule says."""
    assert rule.link_id is not None
    limit = len(ids) if ids is not None else BATCH
    found = {i: (v, p) for i, v, p in await obj.read(session, rule.link_id, ids, after, limit)}
    order = ids if ids is not None else sorted(found)
    records = []
    for local_id in order:
        values, present = found.get(local_id, ({}, False))
        keep = present and passes(rule.filter, values)
        mapped = apply_mapping(rule.mapping, values, obj.target_fields) if keep else {}
        records.append({"id": str(local_id), "present": keep, "values": mapped})
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "rule": {
            "id": str(rule.id),
            "name": rule.name,
            "object": rule.object,
            "fields": [e["target"] for e in rule.mapping],
            "policies": rule.policies,
        },
        "records": records,
    }


async def _send(
    services: Services,
    tenant_id: uuid.UUID,
    target: wire.PeerTarget,
    event_id: uuid.UUID,
    document: dict[str, Any],
    kind: str = "records",
) -> dict[str, Any]:
    result = await wire.send_signed(services, target, kind, event_id, document)
    await _contact(services, tenant_id, target.id, result)
    if result.outcome == "failed":
        raise PeerUnavailable(f"{target.url}: {result.error}"[:1900])
    if result.outcome == "refused":
        raise PermanentFailure(f"{target.url}: {result.error} {result.excerpt or ''}"[:1900])
    return wire.answer_of(result)


async def _contact(services: Services, tenant_id: uuid.UUID, pairing_id: uuid.UUID, result: Result) -> None:
    """The pairing's last contact, or its last error and how many requests failed in a row."""
    async with services.db.session(tenant_context(tenant_id, channel=CHANNEL)) as session:
        peer = await session.scalar(select(SyncPeer).where(SyncPeer.id == pairing_id).with_for_update())
        if peer is None:
            return
        if result.outcome == "succeeded":
            peer.last_contact_at, peer.failures, peer.last_error = utcnow(), 0, None
        else:
            peer.failures += 1
            peer.last_error = (result.error or f"HTTP {result.status}")[:1000]


async def _backfill(services: Services, event: Event, target: wire.PeerTarget, backfill_id: uuid.UUID) -> None:
    """Batch after batch, each its own request; the cursor advances once the peer took a batch, so a
    worker taking over goes on from there (a batch sent again is recognised by its id there)."""
    ctx = tenant_context(event.tenant_id, channel=CHANNEL)
    while True:
        async with services.db.session(ctx) as session:
            backfill = await session.scalar(
                select(SyncBackfill).where(SyncBackfill.id == backfill_id).with_for_update()
            )
            if backfill is None or backfill.status in ("done", "failed"):
                return
            rule = await session.scalar(select(SyncRule).where(SyncRule.id == backfill.rule_id))
            obj = sync_objects(services).get(rule.object) if rule is not None else None
            if rule is None or obj is None or rule.status != "active" or rule.pairing_id != target.id:
                backfill.status, backfill.finished_at = "failed", utcnow()
                backfill.error = "The rule is not active, or no longer sends through this pairing"
                return
            if handed(obj):
                # the records the app applies travel as they change (a purchase order sent before the rule
                # was active is retried until it is, or replayed from its dead letter)
                backfill.status, backfill.started_at, backfill.finished_at = "done", utcnow(), utcnow()
                return
            if backfill.status == "queued":
                backfill.status, backfill.started_at, backfill.total = "running", utcnow(), await obj.count(session)
            cursor = backfill.cursor
            document = await _document(session, obj, rule, None, cursor, event)
            document["occurred_at"] = backfill.created_at.isoformat()
        records = document["records"]
        if not records:
            async with services.db.session(ctx) as session:
                backfill = await session.scalar(select(SyncBackfill).where(SyncBackfill.id == backfill_id))
                if backfill is not None:
                    backfill.status, backfill.finished_at = "done", utcnow()
                    backfill.total = max(backfill.total, backfill.done)
            return
        answer = await _send(services, event.tenant_id, target, _derived(event.id, cursor or "start"), document)
        outcomes = answer.get("outcomes") if isinstance(answer.get("outcomes"), dict) else {}
        async with services.db.session(ctx) as session:
            backfill = await session.scalar(
                select(SyncBackfill).where(SyncBackfill.id == backfill_id).with_for_update()
            )
            if backfill is None or backfill.cursor != cursor:
                continue
            backfill.applied += sum(o in ("created", "updated", "withdrawn") for o in (outcomes or {}).values())
            backfill.done += len(records)
            backfill.cursor = uuid.UUID(records[-1]["id"])


SUBSCRIBER = Subscriber(
    name=NAME, accepts=accepts, deliver=deliver, label=N_("Paired deployments"), deliver_to=deliver_to
)
