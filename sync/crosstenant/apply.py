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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import EnterpriseLink
from portal.audit import record_action
from portal.db.context import tenant_context
from portal.db.tenancy import within
from portal.db.types import utcnow
from sync.crosstenant.mapping import apply_mapping, normalise, passes
from sync.crosstenant.models import SyncApplied, SyncConflict, SyncMapping, SyncRule
from sync.crosstenant.objects import SyncObject

CHANNEL = "sync"
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


@dataclass
class Applied:
    """What one record's application did: `outcome` is created, updated, unchanged, withdrawn, skipped
    (filtered out, never mapped) or stale (a later change was applied already)."""

    outcome: str
    held: list[str] = field(default_factory=list)


def peer_context(rule: SyncRule) -> Any:
    return tenant_context(rule.peer_tenant_id, channel=CHANNEL)


async def link_allows(session: AsyncSession, rule: SyncRule) -> bool:
    """The link is active and still names the rule's peer tenant."""
    link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == rule.link_id))
    return link is not None and link.status == "active" and link.downstream_tenant_id == rule.peer_tenant_id


async def already_applied(session: AsyncSession, rule: SyncRule, event_id: uuid.UUID) -> bool:
    return (
        await session.scalar(
            select(SyncApplied.id).where(SyncApplied.rule_id == rule.id, SyncApplied.event_id == event_id)
        )
    ) is not None


def mark_applied(session: AsyncSession, rule: SyncRule, event_id: uuid.UUID, outcome: str) -> None:
    session.add(SyncApplied(rule_id=rule.id, event_id=event_id, outcome=outcome))


async def apply_record(
    session: AsyncSession,
    obj: SyncObject,
    rule: SyncRule,
    local_id: uuid.UUID,
    record: tuple[dict[str, Any], bool] | None,
    *,
    event_id: uuid.UUID | None,
    occurred_at: datetime,
) -> Applied:
    """Apply one upstream record (`None`: it no longer exists) under the rule; `session` is in the
    upstream's context and stays there."""
    await _serialise(session, rule.id, local_id)
    mapping = await session.scalar(
        select(SyncMapping).where(SyncMapping.rule_id == rule.id, SyncMapping.local_id == local_id).with_for_update()
    )
    if mapping is not None and occurred_at < mapping.version:
        return Applied("stale")
    values, present = record if record is not None else ({}, False)
    if not present or not passes(rule.filter, values):
        if mapping is None or mapping.withdrawn:
            return Applied("skipped")
        async with within(session, peer_context(rule)):
            row = await obj.withdraw(session, mapping.peer_id)
            if row is not None:
                record_action(session, row, "sync.withdrawn", {"rule": rule.id, "event": event_id, "local": local_id})
        mapping.withdrawn, mapping.version, mapping.last_event_id = True, occurred_at, event_id
        record_action(session, rule, "sync.withdrawn", {"event": event_id, "local": local_id, "peer": mapping.peer_id})
        return Applied("withdrawn")
    new = apply_mapping(rule.mapping, values, obj.target_fields)
    kinds = obj.target_fields
    held: list[tuple[str, Any, Any]] = []
    async with within(session, peer_context(rule)):
        found = await obj.current(session, mapping.peer_id) if mapping is not None else None
        if mapping is None or found is None:
            before: dict[str, Any] = {}
            changes = dict(new)
            row = await obj.write(session, None, changes)
            written = {
                f: normalise(v, kinds[f]) for f, v in (await obj.current(session, row.id) or ({}, None))[0].items()
            }
            outcome = "created"
        else:
            current = {f: normalise(v, kinds[f]) for f, v in found[0].items()}
            changes = _changes(rule, mapping, new, current, found[1], occurred_at, held)
            before = {f: current.get(f) for f in changes}
            row = None
            if changes or mapping.withdrawn:
                row = await obj.write(session, mapping.peer_id, changes)
            written = {**{f: current.get(f) for f in new}, **changes}
            outcome = "updated" if changes or mapping.withdrawn else "unchanged"
        if row is not None:
            details = {"rule": rule.id, "event": event_id, "local": local_id, "before": before, "after": changes}
            record_action(session, row, "sync.applied", details)
        peer_id = row.id if row is not None else mapping.peer_id  # type: ignore[union-attr]
    if mapping is None:
        mapping = SyncMapping(
            rule_id=rule.id,
            object=rule.object,
            local_id=local_id,
            peer_tenant_id=rule.peer_tenant_id,
            peer_id=peer_id,
            version=occurred_at,
            sent=new,
            written=written,
            last_event_id=event_id,
        )
        session.add(mapping)
        await session.flush()
    else:
        mapping.sent, mapping.written = dict(new), dict(written)
        mapping.peer_id, mapping.version, mapping.last_event_id, mapping.withdrawn = (
            peer_id,
            occurred_at,
            event_id,
            False,
        )
    for name, upstream_value, downstream_value in held:
        await _hold(session, rule, mapping, name, upstream_value, downstream_value, event_id)
    if outcome != "unchanged" or held:
        details = {"event": event_id, "local": local_id, "peer": peer_id, "before": before, "after": changes}
        record_action(session, rule, "sync.applied", {**details, "held": [h[0] for h in held]})
    return Applied(outcome, [h[0] for h in held])


async def _serialise(session: AsyncSession, rule_id: uuid.UUID, local_id: uuid.UUID) -> None:
    """One application of a record under a rule at a time: a backfill's batch and a change's event are
    different lines of the workers and may run side by side; without this, both would find no mapping
    yet and make the partner's record twice (on PostgreSQL; SQLite has one writer). The lock is the
    transaction's; callers take them in id order (a batch, an event's products), so they never cross."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        digest = hashlib.blake2b(rule_id.bytes + local_id.bytes, digest_size=8).digest()
        await connection.execute(_LOCK, {"key": int.from_bytes(digest, "big", signed=True)})


def _changes(
    rule: SyncRule,
    mapping: SyncMapping,
    new: Mapping[str, Any],
    current: Mapping[str, Any],
    changed_at: datetime,
    occurred_at: datetime,
    held: list[tuple[str, Any, Any]],
) -> dict[str, Any]:
    """The fields to write to the peer's record. A field the upstream did not change since the last sync
    is left as the peer has it; one changed upstream only is written; one changed on both sides (to
    different values) goes by the rule's policy for it."""
    out: dict[str, Any] = {}
    for name, value in new.items():
        if name in mapping.sent and mapping.sent[name] == value:
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
            row = await obj.write(session, mapping.peer_id, {conflict.field: value})
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
