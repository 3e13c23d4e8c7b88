"""Where a new lead goes: the first active assignment rule (in order) whose conditions it meets and that
finds a place for it. A rule names partners by type and tier (and its region) and picks one of them in
turn (round-robin: the rule's cursor, moved under the rule's row lock) or the one with most room under
its capacity; or it puts the lead in a pool. A lead no rule places stays new, for the upstream to place
by hand."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.leads import rules
from apps.agent.leads.models import AssignmentRule, Lead, LeadEvent, LeadPool
from interconnect.models import EnterpriseLink


def matches(rule: AssignmentRule, lead: Lead) -> bool:
    if rule.region_id is not None and rule.region_id != lead.region_id:
        return False
    if rule.product_line is not None:
        return (lead.product_line or "").strip().lower() == rule.product_line.strip().lower()
    return True


async def _candidates(session: AsyncSession, rule: AssignmentRule) -> list[uuid.UUID]:
    query = select(EnterpriseLink.id).where(EnterpriseLink.status == "active")
    if rule.partner_type_id is not None:
        query = query.where(EnterpriseLink.partner_type_id == rule.partner_type_id)
    if rule.tier_id is not None:
        query = query.where(EnterpriseLink.tier_id == rule.tier_id)
    if rule.region_id is not None:
        query = query.where(EnterpriseLink.region_id == rule.region_id)
    return list(await session.scalars(query.order_by(EnterpriseLink.id)))


async def _pick(session: AsyncSession, rule: AssignmentRule) -> uuid.UUID | None:
    candidates = await _candidates(session, rule)
    if not candidates:
        return None
    if rule.strategy == "round_robin":
        chosen = candidates[rule.cursor % len(candidates)]
        rule.cursor = (rule.cursor + 1) % 1_000_000
        return chosen
    held = dict(
        (
            await session.execute(
                select(Lead.enterprise_id, func.count())
                .where(Lead.enterprise_id.in_(candidates), Lead.status == "assigned")
                .group_by(Lead.enterprise_id)
            )
        ).all()
    )
    capacity = rule.capacity or 0
    room = [(capacity - held.get(c, 0), c) for c in candidates]
    best = max(room, key=lambda pair: (pair[0], -candidates.index(pair[1])))
    return best[1] if best[0] > 0 else None


async def distribute_new(session: AsyncSession, lead: Lead, by: uuid.UUID, now: datetime) -> None:
    """Place a new lead by the tenant's rules (the rules' rows locked, so two leads made at once move a
    round-robin cursor one step each)."""
    ordered = await session.scalars(
        select(AssignmentRule)
        .where(AssignmentRule.active.is_(True))
        .order_by(AssignmentRule.position, AssignmentRule.created_at)
        .with_for_update()
    )
    for rule in ordered:
        if not matches(rule, lead):
            continue
        pool = await session.scalar(select(LeadPool).where(LeadPool.id == rule.pool_id)) if rule.pool_id else None
        if rule.strategy == "pool":
            if pool is None or not pool.active:
                continue
            lead.status, lead.pool_id = "pooled", pool.id
            session.add(
                LeadEvent(lead_id=lead.id, action="pooled", actor_kind="system", actor_id=by, note=rule.name, at=now)
            )
            return
        chosen = await _pick(session, rule)
        if chosen is None:
            continue
        lead.status, lead.enterprise_id, lead.pool_id = "assigned", chosen, pool.id if pool else None
        lead.owner_id, lead.holder_id = by, None
        rules.start_clock(lead, pool, now)
        session.add(
            LeadEvent(
                lead_id=lead.id,
                action="assigned",
                actor_kind="system",
                actor_id=by,
                enterprise_id=chosen,
                note=rule.name,
                at=now,
            )
        )
        return
