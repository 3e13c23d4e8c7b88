"""Records the app itself applies on the other side (sync.crosstenant.objects.HandedObject): a purchase
order of the peer becomes a sales order of the upstream ("up"), and the sales order's progress comes back
to the purchase order ("down").

An event is applied under each active rule of its object, one transaction per rule, in the rule owner's
context (where the rule, the mapping table and the applied events are kept):
- the record's applications under the rule are serialised (a second worker waits), then the event is
  looked up in `sync_applied`: a second delivery or a replay changes nothing;
- the mapping table names the record's counterpart; an event older than the change it last applied is
  skipped (per-object order);
- the record is read as it is now in its own tenant, mapped by the rule, and handed to the app in the
  target's tenant; what the app did is given back to the source record in its tenant;
- the mapping table learns the counterpart, and both sides' audit logs get an entry (rule, event,
  outcome)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import record_action
from portal.db.context import SYSTEM, tenant_context
from portal.db.tenancy import within
from portal.outbox import Event
from sync.crosstenant.apply import (
    CHANNEL,
    already_applied,
    link_allows,
    mark_applied,
    peer_context,
    serialise,
)
from sync.crosstenant.mapping import apply_mapping, passes
from sync.crosstenant.models import SyncMapping, SyncRule, flowing_here
from sync.crosstenant.objects import HandedObject, Handled, Handover, Pair

if TYPE_CHECKING:
    from portal.services import Services


def pair_of(rule: SyncRule) -> Pair:
    return Pair(rule.link_id, rule.tenant_id, rule.peer_tenant_id)


@asynccontextmanager
async def on_peer(session: AsyncSession, rule: SyncRule, peer: bool) -> AsyncIterator[AsyncSession]:
    """The block in the peer's context when `peer`, else where the session is (the rule owner's)."""
    if peer:
        async with within(session, peer_context(rule)) as inside:
            yield inside
    else:
        yield session


async def deliver(services: Services, obj: HandedObject, event: Event) -> None:
    """An event of the object under every active rule of it: for an "up" object the event is the peer's
    and the rules naming it as their peer are found in the system context (never another's)."""
    if obj.direction == "up":
        async with services.db.session(SYSTEM) as session:
            query = (
                select(SyncRule.tenant_id, SyncRule.id)
                .where(
                    SyncRule.peer_tenant_id == event.tenant_id,
                    SyncRule.object == obj.name,
                    flowing_here(),
                )
                .order_by(SyncRule.id)
            )
            found: list[tuple[uuid.UUID, uuid.UUID | None]] = [(t, r) for t, r in (await session.execute(query)).all()]
    else:
        found = [(event.tenant_id, None)]
    ids = sorted(set(obj.changed_ids(event.event_type, event.aggregate_id, event.payload)))
    for owner, rule_id in found:
        async with services.db.session(tenant_context(owner, channel=CHANNEL)) as session:
            query = select(SyncRule).where(SyncRule.object == obj.name, flowing_here())
            if rule_id is not None:
                query = query.where(SyncRule.id == rule_id)
            for rule in await session.scalars(query.order_by(SyncRule.id)):
                await serialise(session, rule.id, ids)
                if await already_applied(session, rule, event.id):
                    continue
                if not await link_allows(session, rule):
                    mark_applied(session, rule, event.id, "skipped")
                    continue
                done = await hand_over(
                    session, services, obj, rule, ids, event_id=event.id, occurred_at=event.occurred_at
                )
                mark_applied(session, rule, event.id, "applied" if set(done) - {"skipped", "stale"} else "skipped")


async def hand_over(
    session: AsyncSession,
    services: Services,
    obj: HandedObject,
    rule: SyncRule,
    ids: Sequence[uuid.UUID],
    *,
    event_id: uuid.UUID | None,
    occurred_at: datetime,
) -> list[str]:
    """Apply the source records named under the rule (the caller has serialised them); `session` is in
    the rule owner's context and stays there. The outcome of each, in id order."""
    up = obj.direction == "up"
    pair = pair_of(rule)
    key = SyncMapping.peer_id if up else SyncMapping.local_id
    mappings = {
        (m.peer_id if up else m.local_id): m
        for m in await session.scalars(
            select(SyncMapping).where(SyncMapping.rule_id == rule.id, key.in_(list(ids))).with_for_update()
        )
    }
    async with on_peer(session, rule, up):
        records = {i: (v, p) for i, v, p in await obj.read(session, pair, ids, None, len(ids))}

    async def translate(
        object_name: str, peer_ids: Sequence[uuid.UUID], back: bool = False
    ) -> dict[uuid.UUID, uuid.UUID]:
        if back:
            return await peer_ids_of(session, rule, object_name, peer_ids)
        return await upstream_ids(session, rule, object_name, peer_ids)

    outcomes: list[str] = []
    for source_id in sorted(ids):
        mapping = mappings.get(source_id)
        if mapping is not None and occurred_at < mapping.version:
            outcomes.append("stale")
            continue
        values, present = records.get(source_id, ({}, False))
        if not present or not passes(rule.filter, values):
            outcomes.append("skipped")
            continue
        mapped = apply_mapping(rule.mapping, values, obj.target_fields)
        target_id = None if mapping is None else (mapping.local_id if up else mapping.peer_id)
        handover = Handover(pair, source_id, values, mapped, target_id, translate)
        details: dict[str, Any] = {"rule": rule.id, "event": event_id, "source": source_id}
        async with on_peer(session, rule, not up):
            done = await obj.apply(session, services, handover)
            details.update(target=done.target_id, outcome=done.outcome, answer=done.answer)
            if done.target_row is not None and done.outcome != "unchanged":
                record_action(session, done.target_row, "sync.applied", details)
        async with on_peer(session, rule, up):
            source_row = await obj.answer(session, source_id, done)
            if source_row is not None and done.outcome != "unchanged":
                record_action(session, source_row, "sync.answered", details)
        if done.target_id is not None:
            _remember(session, rule, mapping, up, source_id, done, mapped, event_id, occurred_at)
        if done.outcome != "unchanged":
            record_action(session, rule, "sync.applied", details)
        outcomes.append(done.outcome)
    await session.flush()
    return outcomes


def _remember(
    session: AsyncSession,
    rule: SyncRule,
    mapping: SyncMapping | None,
    up: bool,
    source_id: uuid.UUID,
    done: Handled,
    mapped: dict[str, Any],
    event_id: uuid.UUID | None,
    occurred_at: datetime,
) -> None:
    assert done.target_id is not None
    local_id, peer_id = (done.target_id, source_id) if up else (source_id, done.target_id)
    if mapping is None:
        session.add(
            SyncMapping(
                rule_id=rule.id,
                object=rule.object,
                local_id=local_id,
                peer_tenant_id=rule.peer_tenant_id,
                peer_id=peer_id,
                version=occurred_at,
                sent=mapped,
                written=mapped,
                last_event_id=event_id,
            )
        )
        return
    mapping.local_id, mapping.peer_id, mapping.sent, mapping.written = local_id, peer_id, mapped, mapped
    mapping.version, mapping.last_event_id = max(mapping.version, occurred_at), event_id


async def upstream_ids(
    session: AsyncSession, rule: SyncRule, object_name: str, peer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The upstream's records the peer's (of `object_name`) were made from, by the mapping table of the
    same link's rules; withdrawn ones are left out."""
    if not peer_ids:
        return {}
    rows = await session.execute(
        select(SyncMapping.peer_id, SyncMapping.local_id)
        .join(SyncRule, SyncRule.id == SyncMapping.rule_id)
        .where(
            SyncRule.link_id == rule.link_id,
            SyncMapping.object == object_name,
            SyncMapping.peer_tenant_id == rule.peer_tenant_id,
            SyncMapping.peer_id.in_(sorted(set(peer_ids))),
            SyncMapping.withdrawn.is_(False),
        )
    )
    return {peer_id: local_id for peer_id, local_id in rows}


async def peer_ids_of(
    session: AsyncSession, rule: SyncRule, object_name: str, local_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The other way (`translate(..., back=True)`): the peer's records of `object_name` made from the
    upstream's, withdrawn ones included (a sales order keeps a product withdrawn since)."""
    if not local_ids:
        return {}
    rows = await session.execute(
        select(SyncMapping.local_id, SyncMapping.peer_id)
        .join(SyncRule, SyncRule.id == SyncMapping.rule_id)
        .where(
            SyncRule.link_id == rule.link_id,
            SyncMapping.object == object_name,
            SyncMapping.peer_tenant_id == rule.peer_tenant_id,
            SyncMapping.local_id.in_(sorted(set(local_ids))),
        )
    )
    return {local_id: peer_id for local_id, peer_id in rows}


async def backfill_batch(
    session: AsyncSession,
    services: Services,
    obj: HandedObject,
    rule: SyncRule,
    after: uuid.UUID | None,
    limit: int,
    occurred_at: datetime,
) -> tuple[list[uuid.UUID], list[str]]:
    """The next source records after `after` (those waiting for the rule), applied; their ids and outcomes."""
    async with on_peer(session, rule, obj.direction == "up"):
        ids = [i for i, _v, _p in await obj.read(session, pair_of(rule), None, after, limit)]
    if not ids:
        return [], []
    await serialise(session, rule.id, ids)
    return ids, await hand_over(session, services, obj, rule, ids, event_id=None, occurred_at=occurred_at)
