"""Reconciliation: every record a rule maps, compared on both sides by a digest of the mapped fields.

A run (`SyncReconciliation`) is asked for on demand (the console, `POST /api/sync/rules/{id}/reconcile`)
or by the daily job `sync.reconcile` for every active rule; the "sync" subscriber carries it out on the
workers in batches, each its own transaction that advances the run's cursor and counts (progress shows
as it goes; memory stays bounded whatever the number of records):

1. the upstream's records in id order (keyset) and the mapping table over the same id range: each
   record is mapped by the rule, and the digest of what the mapping gives is compared with the digest of
   the same fields of the partner's record the mapping table names. A record sent but not at the
   partner is **missing**; one whose digests differ is **different** (with each differing field, both
   values); one the partner has but the rule no longer sends (withdrawn upstream, filtered out) is
   **extra**. A field the rule lets the partner keep (policy "downstream")
   that the partner changed, and one held for a person, are the policy's outcome, not drift.
   A mapping entry in the range without its upstream record (gone altogether) is **extra** too.
2. the mapping table's entries beyond the last upstream record (gone too): **extra**.

Repair never writes a record: it publishes `sync.repair.requested` events (the records and, for
different ones, the fields) that the subscriber applies like any change, from the side the rule's
policy names (sync.crosstenant.apply, with those fields counted as changed upstream), exactly once per
event. A second run after the workers have applied them finds no drift.

The partner's side is read through `peer_values` only: the partner's rows as the object gives them, by
the ids the mapping table holds. A rule sending to a paired deployment is compared with that deployment
by the "peers" subscriber instead (sync.peers.reconcile), with the same runs, drift and repair."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db.context import SYSTEM, tenant_context
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Conflict
from portal.i18n import N_
from portal.ids import uuid7
from portal.outbox import publish
from portal.schedules import ScheduledJob
from sync.crosstenant.apply import CHANNEL, link_allows, peer_context
from sync.crosstenant.mapping import apply_mapping, normalise, passes
from sync.crosstenant.models import (
    SyncConflict,
    SyncDrift,
    SyncMapping,
    SyncReconciliation,
    SyncRule,
    flowing,
)
from sync.crosstenant.objects import SyncObject, handed, sync_objects
from sync.peers.models import SyncPeer

if TYPE_CHECKING:
    from portal.services import Services

RECONCILE_REQUESTED = "sync.reconcile.requested"
REPAIR_REQUESTED = "sync.repair.requested"
BATCH = 1000
REPAIR_BATCH = 200
KEEP_RUNS = 10  # a rule's latest runs kept with their drift; older ones go when a new one starts
DAILY_AT = dt.time(2, 30)
# why a run failed (`error_code`), as the page says it; `error` holds the details
ERROR_LABELS = {
    "peer_unreachable": N_("The partner's deployment did not answer"),
    "peer_refused": N_("The partner's deployment refused the comparison"),
    "not_paired": N_("The pairing is no longer active"),
    "not_comparable": N_("The rule's object cannot be compared, or its partner link is no longer active"),
}
# how long one delivery works on a run before it hands the rest to the next one (well under the timeout)
SLICE_SECONDS = 10.0


def digest(values: Mapping[str, Any]) -> str:
    """The mapped fields' values as canonical JSON (sorted keys), hashed: equal values, equal digests."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def reconcilable(obj: Any) -> bool:
    """Objects copied field by field (the partner's record holds the mapped fields); one the app applies
    itself (a purchase order placed as a sales order) has no such record to compare."""
    return obj is not None and not handed(obj)


async def start(
    session: AsyncSession,
    rule: SyncRule,
    *,
    trigger: str = "manual",
    requested_by: uuid.UUID | None = None,
) -> SyncReconciliation:
    """A queued run of the rule, announced to the workers; refused (409) while one is queued or running.
    The caller holds the rule's row lock, so two requests for one rule take turns here."""
    running = await session.scalar(
        select(SyncReconciliation.id).where(
            SyncReconciliation.rule_id == rule.id, SyncReconciliation.status.in_(("queued", "running"))
        )
    )
    if running is not None:
        raise Conflict(N_("A reconciliation of this rule is running already"), code="reconciliation_running")
    kept = select(SyncReconciliation.id).where(SyncReconciliation.rule_id == rule.id)
    old = list(
        await session.scalars(kept.order_by(SyncReconciliation.created_at.desc()).offset(KEEP_RUNS - 1).limit(1000))
    )
    if old:
        await session.execute(
            delete(SyncDrift).where(SyncDrift.reconciliation_id.in_(old)).execution_options(synchronize_session=False)
        )
        await session.execute(
            delete(SyncReconciliation)
            .where(SyncReconciliation.id.in_(old))
            .execution_options(synchronize_session=False)
        )
    run = SyncReconciliation(
        rule_id=rule.id,
        peer_tenant_id=rule.peer_tenant_id,
        pairing_id=rule.pairing_id,
        trigger=trigger,
        requested_by=requested_by,
    )
    session.add(run)
    await session.flush()
    publish(session, RECONCILE_REQUESTED, "sync.rule", rule.id, {"reconciliation": str(run.id)})
    return run


async def peer_values(
    session: AsyncSession, obj: SyncObject, rule: SyncRule, peer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The partner's records named (those that exist), each as its mapped target fields hold them: by the
    object's `snapshot(session, ids)` when it has one (values read without loading or locking a row),
    else by its `rows`."""
    if not peer_ids:
        return {}
    kinds = obj.target_fields
    snapshot = getattr(obj, "snapshot", None)  # optional: the values without loading or locking the rows
    async with within(session, peer_context(rule)):
        if snapshot is not None:
            found = await snapshot(session, peer_ids)
        else:
            by_id, _keys = await obj.rows(session, peer_ids, [])
            found = {peer_id: obj.values(row) for peer_id, row in by_id.items()}
        return {
            peer_id: {f: normalise(v, kinds[f]) for f, v in values.items() if f in kinds}
            for peer_id, values in found.items()
        }


def drift_row(
    run: SyncReconciliation,
    kind: str,
    local_id: uuid.UUID,
    peer_id: uuid.UUID | None,
    label: Any,
    fields: list[dict[str, Any]] | None = None,
    digests: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    return {
        "tenant_id": run.tenant_id,
        "id": uuid7(),
        "reconciliation_id": run.id,
        "rule_id": run.rule_id,
        "kind": kind,
        "local_id": local_id,
        "peer_id": peer_id,
        "label": None if label is None else str(label)[:200],
        "fields": fields or [],
        "source_digest": digests[0],
        "peer_digest": digests[1],
    }


async def held_fields(
    session: AsyncSession, rule: SyncRule, mapping_ids: Sequence[uuid.UUID]
) -> set[tuple[uuid.UUID, str]]:
    """The (mapping, field) pairs held for a person among the mappings named."""
    if not mapping_ids:
        return set()
    rows = await session.execute(
        select(SyncConflict.mapping_id, SyncConflict.field).where(
            SyncConflict.rule_id == rule.id,
            SyncConflict.status == "held",
            SyncConflict.mapping_id.in_(list(mapping_ids)),
        )
    )
    return {(m, f) for m, f in rows}


def _mapping_rows(rule: SyncRule) -> Any:
    return select(
        SyncMapping.id,
        SyncMapping.local_id,
        SyncMapping.peer_id,
        SyncMapping.withdrawn,
        SyncMapping.written,
        SyncMapping.sent,
    ).where(SyncMapping.rule_id == rule.id)


async def compare_source(
    session: AsyncSession,
    obj: SyncObject,
    rule: SyncRule,
    run: SyncReconciliation,
    records: Sequence[tuple[uuid.UUID, dict[str, Any], bool]],
    after: uuid.UUID | None,
) -> list[dict[str, Any]]:
    """Phase 1 on one batch of upstream records (the ids after `after`, in order): the drift rows found.
    The mapping table is read over the same id range, so an entry in it whose upstream record is gone
    (its id falls between two records of the batch) is found here too, without reading the upstream
    twice."""
    last = records[-1][0]
    query = _mapping_rows(rule).where(SyncMapping.local_id <= last)
    if after is not None:
        query = query.where(SyncMapping.local_id > after)
    mappings = {m.local_id: m for m in (await session.execute(query)).all()}
    live = [m for m in mappings.values() if not m.withdrawn]
    theirs = await peer_values(session, obj, rule, [m.peer_id for m in live])
    held = await held_fields(session, rule, [m.id for m in live])
    kinds = obj.target_fields
    found: list[dict[str, Any]] = []
    seen: set[uuid.UUID] = set()
    for local_id, values, present in records:
        seen.add(local_id)
        mapping = mappings.get(local_id)
        sent = mapping is not None and not mapping.withdrawn
        current = theirs.get(mapping.peer_id) if sent and mapping is not None else None
        label = values.get(obj.key_field) if obj.key_field in values else None
        if not (present and passes(rule.filter, values)):
            if current is not None and mapping is not None:
                found.append(drift_row(run, "extra", local_id, mapping.peer_id, label))
            continue
        expected = apply_mapping(rule.mapping, values, kinds)
        label = expected.get(obj.key_field, label)
        if current is None or mapping is None:
            found.append(drift_row(run, "missing", local_id, None, label, digests=(digest(expected), None)))
            continue
        run.compared += 1
        mine = {f: current.get(f) for f in expected}
        if digest(expected) == digest(mine):
            continue
        written = mapping.written or {}
        fields = [
            {"field": f, "expected": v, "actual": mine.get(f)}
            for f, v in expected.items()
            if v != mine.get(f)
            and (mapping.id, f) not in held
            and not (rule.policies.get(f) == "downstream" and mine.get(f) != written.get(f))
        ]
        if fields:
            found.append(
                drift_row(run, "different", local_id, mapping.peer_id, label, fields, (digest(expected), digest(mine)))
            )
    found += _gone(run, obj, [m for m in live if m.local_id not in seen], theirs)
    return found


def _gone(
    run: SyncReconciliation, obj: SyncObject, rows: Sequence[Any], theirs: Mapping[uuid.UUID, Any]
) -> list[dict[str, Any]]:
    """Mapping entries whose upstream record is gone altogether: extra where the partner's record is there."""
    return [
        drift_row(run, "extra", r.local_id, r.peer_id, (r.sent or {}).get(obj.key_field))
        for r in rows
        if r.peer_id in theirs
    ]


async def compare_gone(
    session: AsyncSession, obj: SyncObject, rule: SyncRule, run: SyncReconciliation, after: uuid.UUID | None
) -> tuple[uuid.UUID | None, int, list[dict[str, Any]]]:
    """Phase 2, once the upstream's records are all read: the next batch of mapping entries beyond the
    last of them, whose upstream records are therefore gone. (the last local id done or None at the end,
    how many, drift rows)"""
    query = _mapping_rows(rule).where(SyncMapping.withdrawn.is_(False)).order_by(SyncMapping.local_id).limit(BATCH)
    if after is not None:
        query = query.where(SyncMapping.local_id > after)
    rows = (await session.execute(query)).all()
    if not rows:
        return None, 0, []
    theirs = await peer_values(session, obj, rule, [r.peer_id for r in rows])
    return rows[-1].local_id, len(rows), _gone(run, obj, rows, theirs)


def count_drift(run: SyncReconciliation, rows: Sequence[Mapping[str, Any]]) -> None:
    for row in rows:
        setattr(run, row["kind"], getattr(run, row["kind"]) + 1)


async def carry_out(services: Services, tenant_id: uuid.UUID, run_id: uuid.UUID) -> None:
    """The run, batch after batch (each one transaction), from where its cursor stands. After SLICE_SECONDS
    the batch's transaction also asks for the rest (the same event again) and the delivery ends, so no
    delivery outlasts the workers' attempt timeout whatever the number of records."""
    ctx = tenant_context(tenant_id, channel=CHANNEL)
    began = time.monotonic()
    while True:
        async with services.db.session(ctx) as session:
            run = await session.scalar(
                select(SyncReconciliation).where(SyncReconciliation.id == run_id).with_for_update()
            )
            if run is None or run.status in ("done", "failed"):
                return
            rule = await session.scalar(select(SyncRule).where(SyncRule.id == run.rule_id))
            if rule is not None and rule.pairing_id is not None:
                return  # compared with the partner's deployment by the "peers" subscriber (sync.peers.reconcile)
            obj = sync_objects(services).get(rule.object) if rule is not None else None
            if rule is None or not reconcilable(obj) or not await link_allows(session, rule):
                run.status, run.finished_at = "failed", utcnow()
                run.error_code = "not_comparable"
                run.error = "The rule's object cannot be compared, or its link no longer names the partner's workspace"
                return
            assert obj is not None
            if run.status == "queued":
                run.status, run.started_at = "running", utcnow()
                run.total = await obj.count(session)
            if run.phase == "source":
                records = await obj.read(session, rule.link_id, None, run.cursor, BATCH)
                if not records:
                    run.phase = "mappings"  # from the cursor on: beyond the last upstream record
                    continue
                found = await compare_source(session, obj, rule, run, records, run.cursor)
                run.done += len(records)
                run.cursor = records[-1][0]
            else:
                last, done, found = await compare_gone(session, obj, rule, run, run.cursor)
                if last is None:
                    run.status, run.finished_at = "done", utcnow()
                    run.total = max(run.total, run.done)
                    return
                run.done += done
                run.total += done
                run.cursor = last
            if found:
                await session.execute(SyncDrift.__table__.insert(), found)
                count_drift(run, found)
            if time.monotonic() - began > SLICE_SECONDS:
                publish(session, RECONCILE_REQUESTED, "sync.rule", rule.id, {"reconciliation": str(run.id)})
                return


async def repair(session: AsyncSession, run: SyncReconciliation, kind: str | None = None) -> int:
    """Ask the workers to bring the run's drift (of one kind, or all) in step, by ordinary sync events
    of REPAIR_BATCH records each; how many records. Nothing is written to a record here."""
    if run.status != "done":
        raise Conflict(N_("The reconciliation has not finished"), code="reconciliation_running")
    query = (
        select(SyncDrift.id, SyncDrift.local_id, SyncDrift.kind, SyncDrift.fields)
        .where(SyncDrift.reconciliation_id == run.id)
        .order_by(SyncDrift.local_id)
        .limit(REPAIR_BATCH)
    )
    if kind is not None:
        query = query.where(SyncDrift.kind == kind)
    asked, after = 0, None
    while True:
        page = query if after is None else query.where(SyncDrift.local_id > after)
        rows = (await session.execute(page)).all()
        if not rows:
            break
        payload = {
            "rule": str(run.rule_id),
            "reconciliation": str(run.id),
            "ids": [str(r.local_id) for r in rows],
            "fields": {str(r.local_id): [f["field"] for f in r.fields] for r in rows if r.kind == "different"},
        }
        publish(session, REPAIR_REQUESTED, "sync.rule", run.rule_id, payload)
        asked += len(rows)
        after = rows[-1].local_id
    run.repair_requested_at, run.repaired = utcnow(), run.repaired + asked
    await session.flush()
    return asked


async def _daily(services: Services) -> int:
    """A run for every active rule of an object that can be compared, whose partner has not paused it, on
    this deployment or a paired one (each run is carried out on its own: one failing, a peer being down,
    holds back no other); a rule with a run going already is left to it. How many runs were asked for."""
    objects = sync_objects(services)
    names = [name for name, obj in objects.items() if reconcilable(obj)]
    if not names:
        return 0
    async with services.db.session(SYSTEM) as session:
        found = (
            await session.execute(
                select(SyncRule.tenant_id, SyncRule.id)
                .where(
                    flowing(),
                    SyncRule.link_id.is_not(None),
                    SyncRule.object.in_(names),
                    # a paired deployment's rule while its pairing is active (an unpaired one has no one to ask)
                    SyncRule.pairing_id.is_(None)
                    | SyncRule.pairing_id.in_(select(SyncPeer.id).where(SyncPeer.status == "active")),
                )
                .order_by(SyncRule.tenant_id, SyncRule.id)
            )
        ).all()
    asked = 0
    for tenant_id, rule_id in found:
        async with services.db.session(tenant_context(tenant_id, channel=CHANNEL)) as session:
            rule = await session.scalar(select(SyncRule).where(SyncRule.id == rule_id).with_for_update())
            if rule is None or rule.status != "active" or rule.peer_paused_at is not None:
                continue
            try:
                async with session.begin_nested():
                    await start(session, rule, trigger="scheduled")
            except Conflict:
                continue
            asked += 1
    return asked


RECONCILE_JOB = ScheduledJob("sync.reconcile", _daily, at=DAILY_AT)


def reconciliation_out(run: SyncReconciliation) -> dict[str, Any]:
    return {
        "id": run.id,
        "rule_id": run.rule_id,
        "trigger": run.trigger,
        "status": run.status,
        "phase": run.phase,
        "total": run.total,
        "done": run.done,
        "percent": 100 if run.status == "done" else (min(99, 100 * run.done // run.total) if run.total else 0),
        "compared": run.compared,
        "missing": run.missing,
        "extra": run.extra,
        "different": run.different,
        "drift": run.missing + run.extra + run.different,
        "error": run.error,
        "error_code": run.error_code,
        "repair_requested_at": run.repair_requested_at,
        "repaired": run.repaired,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def drift_out(row: SyncDrift) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "local_id": row.local_id,
        "peer_id": row.peer_id,
        "label": row.label,
        "fields": row.fields,
        "source_digest": row.source_digest,
        "peer_digest": row.peer_digest,
    }
