"""The dispatch decision: which rule matches a ticket and which of its partners it chooses.

Three statements whatever the number of rules and partners: the product line of the ticket's device, the
matching rules in order with their active partners (one indexed read, conditions in SQL), and the load and
rating of the first matching rule's partners (grouped over their tickets by the enterprise index). A rule
whose partners are all inactive or at their cap does not match: the next one is tried."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import Product
from apps.service.dispatch.models import DispatchRule, DispatchRulePartner
from apps.service.lifecycle import ACTIVE
from apps.service.models import Device, Ticket
from interconnect.models import EnterpriseLink


@dataclass(frozen=True, slots=True)
class Candidate:
    enterprise_id: uuid.UUID
    name: str
    open_tickets: int
    rating: float | None  # the mean customer rating, None before the first


@dataclass(frozen=True, slots=True)
class Decision:
    rule_id: uuid.UUID
    rule_name: str
    chosen: Candidate
    candidates: tuple[Candidate, ...]  # every eligible partner of the rule, best first


def ranked(prefer: str, candidates: list[Candidate]) -> list[Candidate]:
    """Best first: by load (fewest open tickets, then the better rating) or by rating (best mean rating,
    partners not yet rated last, then the fewer open tickets); the name, then the id, settle a tie."""

    def by_load(c: Candidate) -> tuple[int, float, str, str]:
        return (c.open_tickets, -(c.rating or 0.0), c.name, str(c.enterprise_id))

    def by_rating(c: Candidate) -> tuple[float, int, str, str]:
        return (-(c.rating or 0.0), c.open_tickets, c.name, str(c.enterprise_id))

    return sorted(candidates, key=by_rating if prefer == "rating" else by_load)


async def product_line(session: AsyncSession, ticket: Ticket) -> uuid.UUID | None:
    """The catalog category of the ticket's device's product (None: no device, or not from the catalog)."""
    if ticket.device_id is None:
        return None
    return await session.scalar(
        select(Product.category_id)
        .join(Device, (Device.tenant_id == Product.tenant_id) & (Device.product_id == Product.id))
        .where(Device.id == ticket.device_id)
    )


async def standing(session: AsyncSession, partners: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, float | None]]:
    """Each partner's open tickets (dispatched to it and not yet resolved) and mean customer rating."""
    if not partners:
        return {}
    rows = await session.execute(
        select(
            Ticket.enterprise_id,
            func.count().filter(Ticket.status.in_(ACTIVE)),
            func.avg(Ticket.rating),
        )
        .where(Ticket.enterprise_id.in_(partners))
        .group_by(Ticket.enterprise_id)
    )
    return {key: (int(load or 0), float(rating) if rating is not None else None) for key, load, rating in rows}


async def decide(session: AsyncSession, ticket: Ticket) -> Decision | None:
    """The first matching rule with an eligible partner, and the partner it chooses; None: no rule
    matches (the ticket waits for staff)."""
    line = await product_line(session, ticket)
    conditions = [
        DispatchRule.active,
        or_(DispatchRule.ticket_type.is_(None), DispatchRule.ticket_type == ticket.type),
        DispatchRule.region_id.is_(None)
        if ticket.region_id is None
        else or_(DispatchRule.region_id.is_(None), DispatchRule.region_id == ticket.region_id),
        DispatchRule.category_id.is_(None)
        if line is None
        else or_(DispatchRule.category_id.is_(None), DispatchRule.category_id == line),
    ]
    rows = await session.execute(
        select(
            DispatchRule.id,
            DispatchRule.name,
            DispatchRule.prefer,
            DispatchRule.max_open,
            EnterpriseLink.id,
            EnterpriseLink.name,
        )
        .join(
            DispatchRulePartner,
            (DispatchRulePartner.tenant_id == DispatchRule.tenant_id)
            & (DispatchRulePartner.rule_id == DispatchRule.id),
        )
        .join(
            EnterpriseLink,
            (EnterpriseLink.tenant_id == DispatchRulePartner.tenant_id)
            & (EnterpriseLink.id == DispatchRulePartner.enterprise_id),
        )
        .where(*conditions, EnterpriseLink.status == "active")
        .order_by(DispatchRule.position, DispatchRule.id)
    )
    rules: dict[uuid.UUID, tuple[str, str, int | None, list[tuple[uuid.UUID, str]]]] = {}
    for rule_id, name, prefer, cap, link_id, link_name in rows:
        rules.setdefault(rule_id, (name, prefer, cap, []))[3].append((link_id, link_name))
    for rule_id, (name, prefer, cap, partners) in rules.items():  # in the rules' order
        known = await standing(session, [key for key, _name in partners])
        candidates = [Candidate(key, partner, *known.get(key, (0, None))) for key, partner in partners]
        eligible = [c for c in candidates if cap is None or c.open_tickets < cap]
        if eligible:
            best = ranked(prefer, eligible)
            return Decision(rule_id, name, best[0], tuple(best))
    return None
