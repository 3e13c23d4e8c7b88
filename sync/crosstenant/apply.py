"""Applying upstream changes to the peer tenant, exactly once in effect.

Each upstream change reaches the "sync" subscriber as an outbox event, at least once and in order per
record (the delivery workers). Under each active rule of the record's object, one transaction:
- finds the event in `sync_applied` (a second delivery or a replay changes nothing) or records it;
- reads the record as it is now upstream (so events of one record applied late or twice converge);
- skips it when the mapping table has applied a later change already (per-object order);
- maps it and writes the peer's record in the peer's context, field by field: a field changed on both
  sides since the last sync is a conflict, settled by the rule's policy for that field or held for a
  person (the peer keeps its value meanwhile, nothing is lost);
- updates the mapping table and writes an audit entry on both sides (rule, event, before, after).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import EnterpriseLink
from portal.audit import insert_once, record_action
from portal.db.context import tenant_context
from portal.db.tenancy import queue_insert, within
from portal.db.types import utcnow
from portal.ids import uuid7
from sync.crosstenant.mapping import apply_mapping, normalise, passes
from sync.crosstenant.models import SyncApplied, SyncConflict, SyncMapping, SyncRule
from sync.crosstenant.objects import SyncObject

CHANNEL = "sync"
_LOCK = text(
    "SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) WITH ORDINALITY AS t(k, n) ORDER BY n"
)


@dataclass
class Applied:
    """What one record's application did: `outcome` is created, updated, unchanged, withdrawn, skipped
    (filtered out, never mapped), stale (a later change was applied already) or clash (the partner has a
    record of its own with the same key, which is never taken over)."""

    outcome: str
    held: list[str] = field(default_factory=list)


def peer_context(rule: SyncRule) -> Any:
    return tenant_context(rule.peer_tenant_id, channel=CHANNEL)


async def link_allows(session: AsyncSession, rule: SyncRule) -> bool:
    """The link is active and still names the rule's peer tenant."""
    link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == rule.link_id))
    return link is not None and link.status == "active" and link.downstream_tenant_id == rule.peer_tenant_id


async def already_applied(session: AsyncSession, rule: SyncRule, event_id: uuid.UUID) -> bool:
    return event_id in await applied_events(session, rule, [event_id])


async def applied_events(session: AsyncSession, rule: SyncRule, event_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of the events the rule has applied already (or skipped), in one query."""
    found = await session.scalars(
        select(SyncApplied.event_id).where(SyncApplied.rule_id == rule.id, SyncApplied.event_id.in_(event_ids))
    )
    return set(found)


def mark_applied(session: AsyncSession, rule: SyncRule, event_id: uuid.UUID, outcome: str) -> None:
    """Written once, with the unit of work's next flush or its COMMIT (nothing refers to it)."""
    queue_insert(session, SyncApplied(rule_id=rule.id, event_id=event_id, outcome=outcome))


async def apply_records(
    session: AsyncSession,
    obj: SyncObject,
    rule: SyncRule,
    records: Sequence[tuple[uuid.UUID, tuple[dict[str, Any], bool] | None]],
    *,
    event_id: uuid.UUID | None,
    occurred_at: datetime,
    origins: Mapping[uuid.UUID, tuple[uuid.UUID, datetime]] | None = None,
    resend: Mapping[uuid.UUID, Sequence[str]] | None = None,
) -> list[Applied]:
    """Apply upstream records (`None`: it no longer exists), in id order, under the rule; `session` is
    in the upstream's context and stays there. A batch costs a few statements, not a few per record:
    the mappings are read at once, the peer's rows at once; the rows written once (the peer's new records,
    new mappings, audit entries) are queued (`queue_insert`), the peer's side written as the peer's block
    ends, the upstream's with the COMMIT.

    Each record is applied as of `event_id` at `occurred_at`, or, when several events' records are applied
    together, of the event `origins` names for it (local id -> event id, when it occurred). `resend` names,
    per record, fields a reconciliation found different: they count as changed upstream (the rule's policy
    still decides against a change the partner made)."""
    origins = origins or {}

    def event_of(local_id: uuid.UUID) -> uuid.UUID | None:
        return origins[local_id][0] if local_id in origins else event_id

    def time_of(local_id: uuid.UUID) -> datetime:
        return origins[local_id][1] if local_id in origins else occurred_at

    records = sorted(records, key=lambda r: r[0])
    ids = [local_id for local_id, _record in records]
    await serialise(session, rule.id, ids)
    mappings = {
        m.local_id: m
        for m in await session.scalars(
            select(SyncMapping).where(SyncMapping.rule_id == rule.id, SyncMapping.local_id.in_(ids)).with_for_update()
        )
    }
    kinds = obj.target_fields
    results: dict[uuid.UUID, Applied] = {}
    wanted: dict[uuid.UUID, dict[str, Any]] = {}  # local id -> mapped values, to write
    withdrawing: list[SyncMapping] = []
    for local_id, record in records:
        mapping = mappings.get(local_id)
        if mapping is not None and time_of(local_id) < mapping.version:
            results[local_id] = Applied("stale")
            continue
        values, present = record if record is not None else ({}, False)
        if present and passes(rule.filter, values):
            wanted[local_id] = apply_mapping(rule.mapping, values, kinds)
        elif mapping is None or mapping.withdrawn:
            results[local_id] = Applied("skipped")
        else:
            withdrawing.append(mapping)
    peer_ids = [m.peer_id for m in mappings.values()]
    keys = [str(v.get(obj.key_field) or "") for lid, v in wanted.items() if lid not in mappings]
    outcomes: dict[uuid.UUID, tuple[str, uuid.UUID, dict[str, Any], dict[str, Any], dict[str, Any]]] = {}
    held: dict[uuid.UUID, list[tuple[str, Any, Any]]] = {}
    clashes: list[dict[str, Any]] = []
    async with within(session, peer_context(rule)):
        by_id, by_key = await obj.rows(session, peer_ids, [k for k in keys if k])
        for mapping in withdrawing:
            row = by_id.get(mapping.peer_id)
            if row is not None and obj.withdraw(row):
                record_action(
                    session,
                    row,
                    "sync.withdrawn",
                    {"rule": rule.id, "event": event_of(mapping.local_id), "local": mapping.local_id},
                )
        for local_id, new in wanted.items():
            mapping = mappings.get(local_id)
            row = by_id.get(mapping.peer_id) if mapping is not None else None
            if row is None:
                key = str(new.get(obj.key_field) or "")
                if key and key in by_key:
                    # the partner has its own record with this key (or another rule's): it is never taken
                    # over; the clash is recorded on both sides and the record waits for a person to rename
                    # or remove one of the two
                    clash = {"rule": rule.id, "event": event_of(local_id), "local": local_id, "key": key}
                    record_action(session, by_key[key], "sync.key_clash", clash)
                    results[local_id] = Applied("clash")
                    clashes.append(clash)
                    continue
                row = obj.new_row(rule.peer_tenant_id)
                before: dict[str, Any] = {}
                changes = dict(new)
                obj.assign(row, changes)
                # written once, complete, with the block's last flush (one INSERT for the batch) and its
                # ordinary "create" audit entry, rather than through the unit of work's bookkeeping
                insert_once(session, [row])
                if key:
                    by_key[key] = row
                outcome = "created"
            else:
                current = {f: normalise(v, kinds[f]) for f, v in obj.values(row).items()}
                found: list[tuple[str, Any, Any]] = []
                again = set((resend or {}).get(local_id, ()))
                changes = _changes(rule, mapping, new, current, obj.changed_at(row), time_of(local_id), found, again)  # type: ignore[arg-type]
                held[local_id] = found
                before = {f: current.get(f) for f in changes}
                outcome = "unchanged"
                if changes or mapping.withdrawn:  # type: ignore[union-attr]
                    obj.assign(row, changes)
                    outcome = "updated"
            written = {f: normalise(v, kinds[f]) for f, v in obj.values(row).items() if f in new}
            if outcome != "unchanged":
                details = {"rule": rule.id, "event": event_of(local_id), "local": local_id}
                record_action(session, row, "sync.applied", {**details, "before": before, "after": changes})
            outcomes[local_id] = (outcome, row.id, written, before, changes)
    for clash in clashes:
        record_action(session, rule, "sync.key_clash", clash)
    for mapping in withdrawing:
        local_id = mapping.local_id
        mapping.withdrawn, mapping.version, mapping.last_event_id = True, time_of(local_id), event_of(local_id)
        record_action(
            session, rule, "sync.withdrawn", {"event": event_of(local_id), "local": local_id, "peer": mapping.peer_id}
        )
        results[mapping.local_id] = Applied("withdrawn")
    now = utcnow()
    for local_id, (outcome, peer_id, written, before, changes) in outcomes.items():
        new = wanted[local_id]
        mapping = mappings.get(local_id)
        if mapping is None:
            # a new mapping: written once (nothing in the batch refers to it), so built as a plain row, its
            # values straight into the instance's state (the ORM's attribute events cost more than its INSERT)
            mapping = SyncMapping._sa_class_manager.new_instance()
            mapping.__dict__.update(
                id=uuid7(),
                tenant_id=rule.tenant_id,
                rule_id=rule.id,
                object=rule.object,
                local_id=local_id,
                peer_tenant_id=rule.peer_tenant_id,
                peer_id=peer_id,
                version=time_of(local_id),
                sent=new,
                written=written,
                last_event_id=event_of(local_id),
                withdrawn=False,
                updated_at=now,
            )
            queue_insert(session, mapping)
        else:
            mapping.sent, mapping.written = dict(new), dict(written)
            mapping.peer_id, mapping.version, mapping.last_event_id = peer_id, time_of(local_id), event_of(local_id)
            mapping.withdrawn = False
        found = held.get(local_id, [])
        if found:
            await session.flush()  # the conflict names the mapping
        for name, upstream_value, downstream_value in found:
            await _hold(session, rule, mapping, name, upstream_value, downstream_value, event_of(local_id))
        if outcome != "unchanged" or found:
            details = {"event": event_of(local_id), "local": local_id, "peer": peer_id, "before": before}
            record_action(session, rule, "sync.applied", {**details, "after": changes, "held": [h[0] for h in found]})
        results[local_id] = Applied(outcome, [h[0] for h in found])
    # no flush here: the new mappings and the rule's audit entries are queued, so they go with the COMMIT
    # (in one statement each), or with the flush before the transaction's next query
    return [results[local_id] for local_id in ids]


async def serialise(session: AsyncSession, rule_id: uuid.UUID, local_ids: Sequence[uuid.UUID]) -> None:
    """One application of a record under a rule at a time: a backfill's batch and a change's event are
    different lines of the workers and may run side by side; without this, both would find no mapping
    yet and make the partner's record twice (on PostgreSQL; SQLite has one writer). The lock is the
    transaction's, taken in id order in one statement, so two batches never cross."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql" and local_ids:
        keys = [
            int.from_bytes(hashlib.blake2b(rule_id.bytes + i.bytes, digest_size=8).digest(), "big", signed=True)
            for i in local_ids
        ]
        await connection.execute(_LOCK, {"keys": keys})


def _changes(
    rule: SyncRule,
    mapping: SyncMapping,
    new: Mapping[str, Any],
    current: Mapping[str, Any],
    changed_at: datetime,
    occurred_at: datetime,
    held: list[tuple[str, Any, Any]],
    again: set[str] | frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The fields to write to the peer's record. A field the upstream did not change since the last sync
    is left as the peer has it; one changed upstream only is written; one changed on both sides (to
    different values) goes by the rule's policy for it."""
    out: dict[str, Any] = {}
    for name, value in new.items():
        if name in mapping.sent and mapping.sent[name] == value and name not in again:
            continue  # not changed upstream
        mine = current.get(name)
        if value == mine:
            continue
        if mine == mapping.written.get(name):
            out[name] = value  # changed upstream only
            continue
        policy = rule.policies.get(name, "upstream")
        if policy == "upstream" or (policy == "newer" and occurred_at >= changed_at):
            out[name] = value
        elif policy == "hold":
            held.append((name, value, mine))
    return out


async def _hold(
    session: AsyncSession,
    rule: SyncRule,
    mapping: SyncMapping,
    name: str,
    upstream_value: Any,
    downstream_value: Any,
    event_id: uuid.UUID | None,
) -> None:
    """Queue the conflict for a person; a conflict already held on the field takes the latest values."""
    conflict = await session.scalar(
        select(SyncConflict).where(
            SyncConflict.mapping_id == mapping.id, SyncConflict.field == name, SyncConflict.status == "held"
        )
    )
    if conflict is None:
        conflict = SyncConflict(
            rule_id=rule.id,
            mapping_id=mapping.id,
            peer_tenant_id=rule.peer_tenant_id,
            local_id=mapping.local_id,
            peer_id=mapping.peer_id,
            field=name,
        )
        session.add(conflict)
    conflict.upstream_value, conflict.downstream_value, conflict.event_id = upstream_value, downstream_value, event_id
    conflict.created_at = utcnow()


async def settle(
    session: AsyncSession, obj: SyncObject, rule: SyncRule, conflict: SyncConflict, resolution: str
) -> None:
    """A person chose a held conflict's side: the upstream's value is written to the peer, or the
    peer's kept; either way the mapping table learns it, and both sides' audit logs say who chose."""
    mapping = await session.scalar(select(SyncMapping).where(SyncMapping.id == conflict.mapping_id).with_for_update())
    if mapping is not None and resolution == "upstream":
        value = conflict.upstream_value
        async with within(session, peer_context(rule)):
            row = (await obj.rows(session, [mapping.peer_id], []))[0].get(mapping.peer_id)
            if row is not None:
                obj.assign(row, {conflict.field: value})
                details = {"rule": rule.id, "conflict": conflict.id, "field": conflict.field, "after": value}
                record_action(session, row, "sync.resolved", {**details, "before": conflict.downstream_value})
        mapping.written = {**mapping.written, conflict.field: value}
    conflict.status, conflict.resolution, conflict.resolved_at = "resolved", resolution, utcnow()
    record_action(
        session,
        rule,
        "sync.resolved",
        {"conflict": conflict.id, "field": conflict.field, "resolution": resolution, "local": conflict.local_id},
    )
