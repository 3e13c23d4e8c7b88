"""The "sync" subscriber: upstream changes of every object an app lets travel, and the backfills that
activating a rule asks for, applied by the delivery workers (sync/delivery) at least once each; the
application (sync.crosstenant.apply) makes that exactly once in effect.

An event is applied in one transaction under every active rule of its object (all or nothing: a failure
leaves the delivery to be retried, and nothing half-written). A backfill of a copied object (products) is
cut into batches by id range when it starts: each batch is an event of its own (`sync.backfill.batch`),
dealt into a few lanes (outbox lines), so the workers take batches side by side; each batch is one
transaction that applies its range, records its event as applied (a second delivery changes nothing) and
adds to the backfill's counts, so its progress shows as it goes and a batch lost with a killed worker is
delivered again, whole. A handed object's backfill (purchase orders) goes batch after batch from a
cursor, each batch its own transaction advancing it, so a worker that takes over goes on where the last
batch ended."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.i18n import N_
from portal.ids import uuid7
from portal.outbox import Event, Subscriber, publish
from sync.crosstenant import handover, reconcile
from sync.crosstenant.apply import (
    CHANNEL,
    already_applied,
    applied_events,
    apply_records,
    link_allows,
    mark_applied,
)
from sync.crosstenant.models import SyncBackfill, SyncRule, flowing, flowing_here, is_flowing
from sync.crosstenant.objects import RangedObject, SyncObject, direction_of, handed, sync_objects
from sync.crosstenant.reconcile import RECONCILE_REQUESTED, REPAIR_REQUESTED, SLICE_SECONDS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.services import Services

NAME = "sync"
BACKFILL_REQUESTED = "sync.backfill.requested"
BACKFILL_BATCH = "sync.backfill.batch"
BATCH = 200  # records handed over (a purchase order becomes a sales order) per batch of a backfill
# records copied per batch: a batch costs a dozen statements whatever its size, a record a few rows queued;
# a batch is one delivery, kept to a second or two so a worker's attempt never runs out of time in one
COPY_BATCH = 500
# a backfill's batches go in this many lanes (outbox lines): at most this many run at once, whatever the
# number of workers and their claims, so a busy machine slows a batch down but never past its attempt's time
LANES = 4

_known: set[str] = set()


# A partnership (re)established: what its rules skipped while the link did not allow them (a purchase order
# sent, a product changed while it was suspended) catches up, by a backfill of each active rule.
LINK_ESTABLISHED = "link.established"


_OWN = frozenset({BACKFILL_REQUESTED, BACKFILL_BATCH, LINK_ESTABLISHED, RECONCILE_REQUESTED, REPAIR_REQUESTED})


def accepts(event_type: str) -> bool:
    return event_type in _OWN or event_type in _known


def learn_events(services: Services) -> None:
    """The event types of the installed apps' objects (read once, when the services are built)."""
    for obj in sync_objects(services).values():
        _known.update(obj.events)


async def deliver(services: Services, event: Event) -> None:
    await deliver_many(services, [event])


async def deliver_many(services: Services, events: Sequence[Event]) -> None:
    """Events of one tenant claimed together. The upstream changes among them are applied in one
    transaction (all or nothing); a backfill, a catch-up or a handed record (a purchase order) is each
    its own work, as when it comes alone."""
    changes: list[Event] = []
    batches = [e for e in events if e.event_type == BACKFILL_BATCH]
    if batches:
        # a claim takes at most the head of each lane: the batches run side by side, each its own
        # transaction; all end before a failure is reported, so none is retried while it still runs
        # (on SQLite, the one writer, one after the other)
        if services.db.engine.dialect.name == "sqlite":
            for event in batches:
                await backfill_batch(services, event)
        ended = await asyncio.gather(
            *(backfill_batch(services, e) for e in batches if services.db.engine.dialect.name != "sqlite"),
            return_exceptions=True,
        )
        for outcome in ended:
            if isinstance(outcome, BaseException):
                raise outcome
    for event in events:
        if event.event_type == BACKFILL_BATCH:
            continue
        if event.event_type == BACKFILL_REQUESTED:
            await start_backfill(services, event)
        elif event.event_type == LINK_ESTABLISHED:
            await catch_up(services, event.tenant_id, event.aggregate_id)
        elif event.event_type == RECONCILE_REQUESTED:
            await reconcile.carry_out(services, event.tenant_id, uuid.UUID(str(event.payload["reconciliation"])))
        elif event.event_type == REPAIR_REQUESTED:
            await repair_records(services, event)
        else:
            objects = [o for o in sync_objects(services).values() if event.event_type in o.events]
            for obj in [o for o in objects if handed(o)]:
                await handover.deliver(services, obj, event)  # type: ignore[arg-type]
            if any(not handed(o) for o in objects):
                changes.append(event)
    if changes:
        await _apply_changes(services, changes)


async def _apply_changes(services: Services, events: Sequence[Event]) -> None:
    """Under each active rule of their objects, the records the events name, read as they are now and
    applied together; each record as of the latest event that names it. Each event is then recorded as
    applied (or skipped) under the rule, so a second delivery changes nothing."""
    types = {e.event_type for e in events}
    objects = [o for o in sync_objects(services).values() if not handed(o) and o.events & types]
    async with services.db.session(tenant_context(events[0].tenant_id, channel=CHANNEL)) as session:
        rules = await session.scalars(
            select(SyncRule)
            .where(
                SyncRule.object.in_([o.name for o in objects]),
                flowing_here(),
            )
            .order_by(SyncRule.id)
        )
        by_object: dict[str, list[SyncRule]] = {}
        for rule in rules:
            by_object.setdefault(rule.object, []).append(rule)
        for obj in objects:
            for rule in by_object.get(obj.name, []):
                await _apply_under(session, obj, rule, [e for e in events if e.event_type in obj.events])


async def _apply_under(session: AsyncSession, obj: SyncObject, rule: SyncRule, events: Sequence[Event]) -> None:
    done_before = await applied_events(session, rule, [e.id for e in events])
    events = [e for e in events if e.id not in done_before]
    if not events:
        return
    if not await link_allows(session, rule):
        for event in events:
            mark_applied(session, rule, event.id, "skipped")
        return
    origins: dict[uuid.UUID, tuple[uuid.UUID, datetime]] = {}
    named: dict[uuid.UUID, list[uuid.UUID]] = {}
    for event in sorted(events, key=lambda e: e.occurred_at):
        named[event.id] = sorted(set(obj.changed_ids(event.event_type, event.aggregate_id, event.payload)))
        for local_id in named[event.id]:
            origins[local_id] = (event.id, event.occurred_at)
    ids = sorted(origins)
    records = {i: (v, p) for i, v, p in await obj.read(session, rule.link_id, ids, None, len(ids))}
    done = await apply_records(
        session,
        obj,
        rule,
        [(i, records.get(i)) for i in ids],
        event_id=None,
        occurred_at=max(e.occurred_at for e in events),
        origins=origins,
    )
    outcomes = dict(zip(ids, (d.outcome for d in done), strict=True))
    for event in events:
        moved = {outcomes[i] for i in named[event.id]} - {"skipped", "stale"}
        mark_applied(session, rule, event.id, "applied" if moved else "skipped")


async def repair_records(services: Services, event: Event) -> None:
    """A reconciliation's repair: the records named applied again under their rule (the fields found
    different counting as changed upstream), once per event, like any change."""
    rule_id = uuid.UUID(str(event.payload["rule"]))
    ids = sorted({uuid.UUID(str(i)) for i in event.payload.get("ids", ())})
    resend = {uuid.UUID(str(k)): list(v) for k, v in (event.payload.get("fields") or {}).items()}
    async with services.db.session(tenant_context(event.tenant_id, channel=CHANNEL)) as session:
        # a paired deployment's rule is repaired there, by the "peers" subscriber
        rule = await session.scalar(select(SyncRule).where(SyncRule.id == rule_id, flowing_here()))
        obj = sync_objects(services).get(rule.object) if rule is not None else None
        if rule is None or obj is None or handed(obj) or not ids:
            return
        if await already_applied(session, rule, event.id):
            return
        if not await link_allows(session, rule):
            mark_applied(session, rule, event.id, "skipped")
            return
        records = {i: (v, p) for i, v, p in await obj.read(session, rule.link_id, ids, None, len(ids))}
        done = await apply_records(
            session,
            obj,
            rule,
            [(i, records.get(i)) for i in ids],
            event_id=event.id,
            occurred_at=event.occurred_at,
            resend=resend,
        )
        outcomes = {d.outcome for d in done}
        mark_applied(session, rule, event.id, "applied" if outcomes - {"skipped", "stale"} else "skipped")


async def catch_up(services: Services, tenant_id: uuid.UUID, link_id: uuid.UUID) -> None:
    """A backfill of every active rule of the link, as activating the rule asks for (none: a new link)."""
    async with services.db.session(tenant_context(tenant_id, channel=CHANNEL)) as session:
        rules = await session.scalars(
            select(SyncRule.id).where(SyncRule.link_id == link_id, flowing()).order_by(SyncRule.id)
        )
        for rule_id in list(rules):
            backfill = SyncBackfill(rule_id=rule_id)
            session.add(backfill)
            await session.flush()
            publish(session, BACKFILL_REQUESTED, "sync.rule", rule_id, {"backfill": str(backfill.id)})


async def start_backfill(services: Services, event: Event) -> None:
    """A backfill asked for. A copied object's is cut into batches by id range, each published as an event
    of its own (`sync.backfill.batch`), in one transaction that also starts the backfill and records the
    request as applied (a second delivery plans nothing twice); what has no ranges (a handed object) runs
    batch after batch here (`run_backfill`)."""
    backfill_id = uuid.UUID(str(event.payload["backfill"]))
    async with services.db.session(tenant_context(event.tenant_id, channel=CHANNEL)) as session:
        backfill = await session.scalar(select(SyncBackfill).where(SyncBackfill.id == backfill_id).with_for_update())
        found = await _usable(session, services, backfill)
        if found is None:
            return
        rule, obj = found
        if handed(obj) or getattr(obj, "cuts", None) is None:
            ranged = False
        else:
            ranged = True
            if await already_applied(session, rule, event.id):
                return
            mark_applied(session, rule, event.id, "applied")
            await _plan(session, obj, rule, backfill)  # type: ignore[arg-type]
    if not ranged:
        await run_backfill(services, event.tenant_id, backfill_id)


async def _usable(
    session: AsyncSession, services: Services, backfill: SyncBackfill | None
) -> tuple[SyncRule, SyncObject] | None:
    """The backfill's rule and object while it has work to do here (locked by the caller when it may fail
    it): None when it is over, sent to a paired deployment, or failed now because its rule stopped."""
    if backfill is None or backfill.status in ("done", "failed"):
        return None
    rule = await session.scalar(select(SyncRule).where(SyncRule.id == backfill.rule_id))
    if rule is not None and rule.pairing_id is not None:
        return None  # sent to the partner's deployment by the "peers" subscriber (sync.peers)
    obj: SyncObject | None = sync_objects(services).get(rule.object) if rule is not None else None
    if rule is None or obj is None or not is_flowing(rule) or not await link_allows(session, rule):
        backfill.status, backfill.finished_at = "failed", utcnow()
        backfill.error = (
            "The rule is not active (or its partner paused it), or its link no longer names the partner's workspace"
        )
        return None
    return rule, obj


async def _plan(session: AsyncSession, obj: RangedObject, rule: SyncRule, backfill: SyncBackfill) -> None:
    """The records after the backfill's cursor cut into ranges of COPY_BATCH, one event each, dealt into
    LANES lines (the workers take the lanes' heads side by side); the last range is open, so a record added
    meanwhile with a later id is not missed. `total` counts the records found; each batch adds its range's count to
    `done`, and the batch that brings `done` to `total` ends the backfill."""
    cuts = await obj.cuts(session, backfill.cursor, COPY_BATCH)
    if backfill.status == "queued":
        backfill.status, backfill.started_at = "running", utcnow()
    backfill.total = backfill.done + (cuts[-1][1] if cuts else 0)
    if not cuts:
        backfill.status, backfill.finished_at = "done", utcnow()
        return
    lanes = [uuid7() for _ in range(LANES)]
    after, position = backfill.cursor, 0
    for number, (cut, at) in enumerate(cuts):
        last = number == len(cuts) - 1
        payload = {
            "backfill": str(backfill.id),
            "after": None if after is None else str(after),
            "upto": None if last else str(cut),
            "count": at - position,
        }
        publish(session, BACKFILL_BATCH, "sync.backfill", lanes[number % LANES], payload)
        after, position = cut, at


async def backfill_batch(services: Services, event: Event) -> None:
    """One range of a backfill applied, in one transaction: its records read (with their prices) and applied
    together, the event recorded as applied under the rule, and the range's count added to the backfill's
    (one UPDATE, last, so batches running side by side wait for each other only for their COMMITs)."""
    backfill_id = uuid.UUID(str(event.payload["backfill"]))
    after, upto = (uuid.UUID(str(v)) if v else None for v in (event.payload.get("after"), event.payload.get("upto")))
    count = int(event.payload.get("count") or 0)
    async with services.db.session(tenant_context(event.tenant_id, channel=CHANNEL)) as session:
        backfill = await session.scalar(select(SyncBackfill).where(SyncBackfill.id == backfill_id))
        if backfill is None or backfill.status != "running":
            return
        rule = await session.scalar(select(SyncRule).where(SyncRule.id == backfill.rule_id))
        obj = sync_objects(services).get(rule.object) if rule is not None else None
        if rule is None or obj is None or not is_flowing(rule) or not await link_allows(session, rule):
            backfill = await session.scalar(
                select(SyncBackfill).where(SyncBackfill.id == backfill_id).with_for_update()
            )
            await _usable(session, services, backfill)
            return
        if await already_applied(session, rule, event.id):
            return
        records = await _between(session, obj, rule, after, upto, count)
        done = await apply_records(
            session,
            obj,
            rule,
            [(i, (values, present)) for i, values, present in records],
            event_id=None,
            occurred_at=backfill.created_at,
        )
        mark_applied(session, rule, event.id, "applied" if records else "skipped")
        applied = sum(d.outcome in ("created", "updated", "withdrawn") for d in done)
        counts = (
            await session.execute(
                update(SyncBackfill)
                .where(SyncBackfill.id == backfill_id)
                .values(done=SyncBackfill.done + count, applied=SyncBackfill.applied + applied)
                .returning(SyncBackfill.done, SyncBackfill.total)
                .execution_options(synchronize_session=False)
            )
        ).one()
        if counts.done >= counts.total:
            await session.execute(
                update(SyncBackfill)
                .where(SyncBackfill.id == backfill_id, SyncBackfill.status == "running")
                .values(status="done", finished_at=utcnow())
                .execution_options(synchronize_session=False)
            )


async def _between(
    session: AsyncSession,
    obj: SyncObject,
    rule: SyncRule,
    after: uuid.UUID | None,
    upto: uuid.UUID | None,
    count: int,
) -> list[tuple[uuid.UUID, dict[str, Any], bool]]:
    """The records after `after` up to `upto` (to the end: None), read `count` and one more at a time (a
    range holds `count` records unless some were added since it was cut)."""
    found: list[tuple[uuid.UUID, dict[str, Any], bool]] = []
    while True:
        chunk = await obj.read(session, rule.link_id, None, after, max(count, 1) + 1)
        inside = [r for r in chunk if upto is None or r[0] <= upto]
        found += inside
        if len(inside) < len(chunk) or len(chunk) <= max(count, 1):
            return found
        after = chunk[-1][0]


async def run_backfill(services: Services, tenant_id: uuid.UUID, backfill_id: uuid.UUID) -> None:
    """Batch after batch from the cursor; after SLICE_SECONDS a batch's transaction also asks for the
    rest (the same event again) and the delivery ends, so none outlasts the workers' attempt timeout."""
    ctx = tenant_context(tenant_id, channel=CHANNEL)
    began = time.monotonic()
    while True:
        async with services.db.session(ctx) as session:
            backfill = await session.scalar(
                select(SyncBackfill).where(SyncBackfill.id == backfill_id).with_for_update()
            )
            found = await _usable(session, services, backfill)
            if found is None:
                return
            assert backfill is not None
            rule, obj = found
            if handed(obj):
                if backfill.status == "queued":
                    async with handover.on_peer(session, rule, direction_of(obj) == "up"):
                        total = await obj.count(session, handover.pair_of(rule))  # type: ignore[call-arg]
                    backfill.status, backfill.started_at, backfill.total = "running", utcnow(), total
                ids, outcomes = await handover.backfill_batch(
                    session,
                    services,
                    obj,
                    rule,
                    backfill.cursor,
                    BATCH,
                    backfill.created_at,  # type: ignore[arg-type]
                )
                if not ids:
                    backfill.status, backfill.finished_at = "done", utcnow()
                    backfill.total = max(backfill.total, backfill.done)
                    return
                backfill.applied += sum(o in ("created", "updated", "refused") for o in outcomes)
                backfill.done += len(ids)
                backfill.cursor = ids[-1]
                if _sliced(session, began, backfill):
                    return
                continue
            if backfill.status == "queued":
                backfill.status, backfill.started_at, backfill.total = "running", utcnow(), await obj.count(session)
            records = await obj.read(session, rule.link_id, None, backfill.cursor, COPY_BATCH)
            if not records:
                backfill.status, backfill.finished_at = "done", utcnow()
                backfill.total = max(backfill.total, backfill.done)
                return
            done = await apply_records(
                session,
                obj,
                rule,
                [(i, (values, present)) for i, values, present in records],
                event_id=None,
                occurred_at=backfill.created_at,
            )
            backfill.applied += sum(d.outcome in ("created", "updated", "withdrawn") for d in done)
            backfill.done += len(records)
            backfill.cursor = records[-1][0]
            if _sliced(session, began, backfill):
                return


def _sliced(session: AsyncSession, began: float, backfill: SyncBackfill) -> bool:
    """Past the slice: the rest is asked for in the batch's own transaction."""
    if time.monotonic() - began <= SLICE_SECONDS:
        return False
    publish(session, BACKFILL_REQUESTED, "sync.rule", backfill.rule_id, {"backfill": str(backfill.id)})
    return True


SUBSCRIBER = Subscriber(
    name=NAME, accepts=accepts, deliver=deliver, label=N_("Cross-tenant sync"), deliver_many=deliver_many
)
