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
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from interconnect.models import EnterpriseLink
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
from sync.peers import batches, catchup, reconcile, wire
from sync.peers.catchup import CATCH_UP_REQUESTED
from sync.peers.models import SyncPeer
from sync.peers.service import CHANNEL, UNPAIRED, target_of
from sync.webhooks.sender import RETRYABLE_4XX

if TYPE_CHECKING:
    from portal.services import Services
    from sync.webhooks.sender import Result

NAME = "peers"
BATCH = 200
PRODUCTS = "ordering.product"


class PeerUnavailable(Exception):
    """The peer did not take the request; the worker retries the line."""


def accepts(event_type: str) -> bool:
    return event_type in (UNPAIRED, CATCH_UP_REQUESTED) or (event_type != LINK_ESTABLISHED and sync_accepts(event_type))


async def _remote_rules(session: Any, object_name: str | None = None) -> list[SyncRule]:
    query = select(SyncRule).where(
        SyncRule.pairing_id.is_not(None), SyncRule.link_id.is_not(None), SyncRule.status == "active"
    )
    if object_name is not None:
        query = query.where(SyncRule.object == object_name)
    return list(await session.scalars(query.order_by(SyncRule.id)))


async def deliver(services: Services, event: Event) -> None:
    await deliver_many(services, [event])


async def deliver_many(services: Services, events: Sequence[Event]) -> None:
    """Open a line for each pairing each event concerns (events of one tenant, in one transaction)."""
    async with services.db.session(tenant_context(events[0].tenant_id, channel=CHANNEL)) as session:
        for event in events:
            keys = await _pairings_of(session, services, event)
            if keys:
                await open_lines(session, event, NAME, keys)


async def _pairings_of(session: Any, services: Services, event: Event) -> list[str]:
    if event.event_type == UNPAIRED:
        return [str(event.aggregate_id)]
    if event.event_type == CATCH_UP_REQUESTED:
        return [str(event.aggregate_id)]
    if event.event_type in (BACKFILL_REQUESTED, RECONCILE_REQUESTED, REPAIR_REQUESTED):
        rule = await session.scalar(select(SyncRule).where(SyncRule.id == event.aggregate_id))
        if rule is not None and rule.pairing_id is not None and rule.link_id is not None:
            return [str(rule.pairing_id)]
        return []
    keys: list[str] = []
    objects = [o for o in sync_objects(services).values() if event.event_type in o.events]
    for name in sorted(o.name for o in objects if direction_of(o) == "down"):
        keys += [str(r.pairing_id) for r in await _remote_rules(session, name)]
    for obj in [o for o in objects if handed(o) and direction_of(o) == "up"]:
        keys += [str(p.id) for p in await _suppliers_of(session, obj, event)]
    return keys


async def _target(
    services: Services, tenant_id: uuid.UUID, pairing_id: uuid.UUID
) -> tuple[wire.PeerTarget, bool] | None:
    async with services.db.session(tenant_context(tenant_id, channel=CHANNEL), write=False) as session:
        peer = await session.scalar(select(SyncPeer).where(SyncPeer.id == pairing_id))
        if peer is None:
            return None
        return target_of(services, peer), peer.status == "active"


def _alone(event: Event) -> bool:
    """What travels in requests of its own: unpairing, the backfills (batch after batch), and a
    reconciliation's questions and repairs."""
    return event.event_type in (
        UNPAIRED,
        BACKFILL_REQUESTED,
        CATCH_UP_REQUESTED,
        RECONCILE_REQUESTED,
        REPAIR_REQUESTED,
    )


async def deliver_many_to(services: Services, events: Sequence[Event], key: str) -> list[BaseException | None]:
    """The heads of a pairing's line that a worker claimed together: their changes in as few signed
    requests as the batch limits allow (sync.peers.batches), and what came of each event. A request that
    did not reach the peer fails each of its events (retried later, not one by one now); one the peer
    refused whole (a peer that takes no batches) raises, so each goes again on its own."""
    results: list[BaseException | None] = [None] * len(events)
    found = await _target(services, events[0].tenant_id, uuid.UUID(key))
    if found is None:
        return results
    target, active = found
    items: list[batches.Item] = []
    for index, event in enumerate(events):
        if _alone(event) or not active:
            continue
        try:
            for event_id, kind, document, _obj in await _items(services, event, target):
                size = len(wire.encode(document))
                items.append(batches.Item(index, event_id, kind, document, size))
        except Exception as exc:  # this event's records could not be read: its own retry
            results[index] = exc
    for chunk in batches.chunks(items, batches.MAX_ITEMS):
        for item, outcome in zip(chunk, await _send_batch(services, events[0].tenant_id, target, chunk), strict=True):
            if results[item.index] is not None:
                continue
            if isinstance(outcome, BaseException):
                results[item.index] = outcome
                continue
            obj = _handed_object(services, item)
            try:
                if obj is not None:
                    await _answered(services, events[item.index], target, obj, item.document, outcome)
            except Exception as exc:
                results[item.index] = exc
    for index, event in enumerate(events):
        if _alone(event) or not active:
            try:
                await deliver_to(services, event, key)
            except Exception as exc:
                results[index] = exc
    return results


async def _send_batch(
    services: Services, tenant_id: uuid.UUID, target: wire.PeerTarget, chunk: Sequence[batches.Item]
) -> list[dict[str, Any] | BaseException]:
    """One signed request carrying the items; each one's answer, or why it is to be sent again (or not).
    A peer that refused the request whole (one that takes no batches) raises PermanentFailure."""
    result = await wire.send_batch(
        services, target, [{"event": str(i.event_id), "kind": i.kind, **i.document} for i in chunk]
    )
    await _contact(services, tenant_id, target.id, result)
    if result.outcome == "refused":
        raise PermanentFailure(f"{target.url}: {result.error} {result.excerpt or ''}"[:1900])
    if result.outcome != "succeeded":
        return [PeerUnavailable(f"{target.url}: {result.error}"[:1900]) for _item in chunk]
    answer = wire.answer_of(result)
    outcomes: list[dict[str, Any] | BaseException] = []
    for item in chunk:
        status, found = batches.result_of(answer, item.event_id)
        try:
            _raise_for(target, status, found)
        except Exception as exc:
            outcomes.append(exc)
            continue
        got = found.get("answer")
        outcomes.append(got if isinstance(got, dict) else {})
    return outcomes


def _raise_for(target: wire.PeerTarget, status: int, found: dict[str, Any]) -> None:
    """An item's result as the delivery's: taken (or a replay: taken before), to retry, or refused."""
    if status == 200 or (status == 409 and found.get("code") == "replayed"):
        return
    said = f"{target.url}: answered {status} {found.get('code') or ''}: {found.get('detail') or ''}"[:1900]
    if 400 <= status < 500 and status not in RETRYABLE_4XX:
        raise PermanentFailure(said)
    raise PeerUnavailable(said)


def _handed_object(services: Services, item: batches.Item) -> HandedObject | None:
    if item.kind != "handover":
        return None
    obj = sync_objects(services).get(str(item.document.get("object")))
    return obj if obj is not None and handed(obj) else None  # type: ignore[return-value]


async def _items(
    services: Services, event: Event, target: wire.PeerTarget
) -> list[tuple[uuid.UUID, str, dict[str, Any], HandedObject | None]]:
    """What an event sends through the pairing: each document under its id, with its kind (and the
    object whose source record takes the answer, for a record the app applies on the other side)."""
    ctx = tenant_context(event.tenant_id, channel=CHANNEL)
    found = [o for o in sync_objects(services).values() if event.event_type in o.events]
    items: list[tuple[uuid.UUID, str, dict[str, Any], HandedObject | None]] = []
    for obj in [o for o in found if handed(o)]:
        documents, _last = await _handover_documents(services, event, target, obj)  # type: ignore[arg-type]
        for document in documents:
            event_id = event.id if len(documents) == 1 else _derived(event.id, document["source_id"])
            items.append((event_id, "handover", document, obj))  # type: ignore[arg-type]
    for obj in [o for o in found if not handed(o)]:
        async with services.db.session(ctx, write=False) as session:
            rules = [r for r in await _remote_rules(session, obj.name) if r.pairing_id == target.id]
            rules = [r for r in rules if await _link_active(session, r)]
            ids = sorted(set(obj.changed_ids(event.event_type, event.aggregate_id, event.payload)))
            documents = [await _document(session, obj, rule, ids, None, event) for rule in rules]
        for rule, document in zip(rules, documents, strict=True):
            event_id = event.id if len(rules) == 1 else _derived(event.id, rule.id)
            items.append((event_id, "records", document, None))
    return items


async def _link_active(session: Any, rule: SyncRule) -> bool:
    """A rule sends while its link is active: a change made while the partnership is suspended is not
    sent, and the link's re-establishment catches up (as within one deployment)."""
    status = await session.scalar(select(EnterpriseLink.status).where(EnterpriseLink.id == rule.link_id))
    return status == "active"


async def deliver_to(services: Services, event: Event, key: str) -> None:
    pairing_id = uuid.UUID(key)
    found = await _target(services, event.tenant_id, pairing_id)
    if found is None:
        return
    target, active = found
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
    if event.event_type == CATCH_UP_REQUESTED:
        await _catch_up(services, event, target)
        return
    for event_id, kind, document, obj in await _items(services, event, target):
        answer = await _send(services, event.tenant_id, target, event_id, document, kind=kind)
        if obj is not None:
            await _answered(services, event, target, obj, document, answer)


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


async def _handover_documents(
    services: Services, event: Event, target: wire.PeerTarget, obj: HandedObject, after: uuid.UUID | None = None
) -> tuple[list[dict[str, Any]], uuid.UUID | None]:
    """A record the app applies on the other side: read here, to be sent (the answer is given back to it
    here, `_answered`); with `after`, the next of those waiting for the other side (a catch-up).
    Upstream (the rule's owner) it is mapped by the rule before it leaves; from the partner, the rule's
    owner maps it on arrival, and the partner gives the ids of its products the manufacturer's ids, by the
    mapping table of what the manufacturer's product rule brought here."""
    ctx = tenant_context(event.tenant_id, channel=CHANNEL)
    ids: list[uuid.UUID] | None = None
    if event.event_type not in (BACKFILL_REQUESTED, CATCH_UP_REQUESTED):
        ids = sorted(set(obj.changed_ids(event.event_type, event.aggregate_id, event.payload)))
    async with services.db.session(ctx, write=False) as session:
        peer = await session.scalar(select(SyncPeer).where(SyncPeer.id == target.id))
        if peer is None:
            return [], None
        if peer.role == "upstream":
            rules = [r for r in await _remote_rules(session, obj.name) if r.pairing_id == peer.id]
            if not rules or not await _link_active(session, rules[0]):
                return [], None
            rule = rules[0]
            assert rule.link_id is not None
            pair = Pair(rule.link_id, rule.tenant_id, peer.peer_tenant_id)
        else:
            rule, pair = None, Pair(peer.id, peer.peer_tenant_id, event.tenant_id)
        records = await obj.read(session, pair, ids, after, len(ids) if ids is not None else BATCH)
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
    return documents, (records[-1][0] if records else None)


async def _answered(
    services: Services,
    event: Event,
    target: wire.PeerTarget,
    obj: HandedObject,
    document: dict[str, Any],
    answer: dict[str, Any],
) -> str | None:
    """What the other side did with a record, given back to the record here; its outcome."""
    handled = answer.get("handled") if isinstance(answer.get("handled"), dict) else None
    if handled is None:
        return None
    done = Handled(
        str(handled.get("outcome") or "unchanged"),
        uuid.UUID(str(handled["target_id"])) if handled.get("target_id") else None,
        None,
        handled.get("answer") if isinstance(handled.get("answer"), dict) else {},
    )
    async with services.db.session(tenant_context(event.tenant_id, channel=CHANNEL)) as session:
        row = await obj.answer(session, uuid.UUID(document["source_id"]), done)
        if row is not None and done.outcome != "unchanged":
            details = {"peer": target.url, "event": event.id, "outcome": done.outcome, "answer": done.answer}
            record_action(session, row, "sync.answered", details)
    return done.outcome


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
    worker taking over goes on from there (a batch sent again is recognised by its id there). The
    partner's purchase orders are not here: its deployment is asked for those waiting (`_ask`)."""
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
            if backfill.status == "queued":
                backfill.status, backfill.started_at = "running", utcnow()
                if not (handed(obj) and direction_of(obj) == "up"):
                    pair = Pair(rule.link_id, rule.tenant_id, None) if handed(obj) else None  # type: ignore[arg-type]
                    backfill.total = await (obj.count(session, pair) if handed(obj) else obj.count(session))  # type: ignore[call-arg]
            cursor = backfill.cursor
            created_at = backfill.created_at
            document: dict[str, Any] = {}
            if not handed(obj):
                document = await _document(session, obj, rule, None, cursor, event)
                document["occurred_at"] = created_at.isoformat()
        if handed(obj) and direction_of(obj) == "up":
            await _ask(services, event, target, obj.name, backfill_id)
            return
        if handed(obj):
            documents, last = await _handover_documents(services, event, target, obj, after=cursor)  # type: ignore[arg-type]
            for found in documents:
                found["occurred_at"] = created_at.isoformat()
            items = [
                batches.Item(0, _derived(event.id, d["source_id"]), "handover", d, len(wire.encode(d)))
                for d in documents
            ]
            outcomes = [
                (o.get("handled") or {}).get("outcome")
                for chunk in batches.chunks(items, batches.MAX_ITEMS)
                for o in await _sent_or_raise(services, event.tenant_id, target, chunk)
            ]
            read = len(documents) if last is not None else 0
            next_cursor = last
        else:
            if not document["records"]:
                last = None
            else:
                answer = await _send(services, event.tenant_id, target, _derived(event.id, cursor or "start"), document)
                found_outcomes = answer.get("outcomes") if isinstance(answer.get("outcomes"), dict) else {}
                outcomes = list((found_outcomes or {}).values())
                last = uuid.UUID(document["records"][-1]["id"])
            read = len(document["records"])
            next_cursor = last
        async with services.db.session(ctx) as session:
            backfill = await session.scalar(
                select(SyncBackfill).where(SyncBackfill.id == backfill_id).with_for_update()
            )
            if backfill is None or backfill.cursor != cursor or backfill.status != "running":
                continue
            if next_cursor is None:
                backfill.status, backfill.finished_at = "done", utcnow()
                backfill.total = max(backfill.total, backfill.done)
                return
            backfill.applied += sum(o in ("created", "updated", "withdrawn", "refused") for o in outcomes)
            backfill.done += read
            backfill.cursor = next_cursor


async def _sent_or_raise(
    services: Services, tenant_id: uuid.UUID, target: wire.PeerTarget, chunk: Sequence[batches.Item]
) -> list[dict[str, Any]]:
    """The items' answers; the first failure raised (the whole backfill batch is sent again, recognised
    there item by item)."""
    answers: list[dict[str, Any]] = []
    for outcome in await _send_batch(services, tenant_id, target, chunk):
        if isinstance(outcome, BaseException):
            raise outcome
        answers.append(outcome)
    return answers


async def _ask(
    services: Services, event: Event, target: wire.PeerTarget, object_name: str, backfill_id: uuid.UUID
) -> None:
    """The partner's deployment asked to send what waits of the object (sync.peers.catchup): its answer is
    the backfill's total, and the backfill ends when the partner says it is over (`caught_up`)."""
    document = {"object": object_name, "backfill": str(backfill_id)}
    answer = await _send(services, event.tenant_id, target, _derived(event.id, "catch-up"), document, kind=catchup.ASK)
    async with services.db.session(tenant_context(event.tenant_id, channel=CHANNEL)) as session:
        backfill = await session.scalar(select(SyncBackfill).where(SyncBackfill.id == backfill_id).with_for_update())
        if backfill is None or backfill.status != "running":
            return
        backfill.total = max(backfill.done, int(answer.get("total") or 0))


async def _catch_up(services: Services, event: Event, target: wire.PeerTarget) -> None:
    """The manufacturer asked for what waits here (its backfill): every purchase order waiting for it, sent
    as when it was sent, in batches, each under an id of this catch-up's (a worker taking over sends them
    again, and the manufacturer's deployment recognises each); then the end of it."""
    obj = sync_objects(services).get(str(event.payload.get("object")))
    if obj is None or not handed(obj):
        return
    cursor: uuid.UUID | None = None
    while True:
        documents, last = await _handover_documents(services, event, target, obj, after=cursor)  # type: ignore[arg-type]
        for document in documents:
            document["backfill"] = event.payload["backfill"]
        items = [
            batches.Item(0, _derived(event.id, d["source_id"]), "handover", d, len(wire.encode(d))) for d in documents
        ]
        for chunk in batches.chunks(items, batches.MAX_ITEMS):
            answers = await _sent_or_raise(services, event.tenant_id, target, chunk)
            for item, answer in zip(chunk, answers, strict=True):
                await _answered(services, event, target, obj, item.document, answer)  # type: ignore[arg-type]
        if last is None:
            break
        cursor = last
    await _send(
        services,
        event.tenant_id,
        target,
        _derived(event.id, "done"),
        {"backfill": event.payload["backfill"]},
        kind=catchup.DONE,
    )


SUBSCRIBER = Subscriber(
    name=NAME,
    accepts=accepts,
    deliver=deliver,
    label=N_("Paired deployments"),
    deliver_to=deliver_to,
    deliver_many=deliver_many,
    deliver_many_to=deliver_many_to,
)
