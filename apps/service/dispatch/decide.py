"""The dispatch decision: which rule matches a ticket and which of its partners it chooses.

One statement whatever the number of rules and partners (see `decide`). A rule whose partners are all
inactive or at their cap does not match: the next one is tried."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
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


def _conditions(has_region: bool, has_device: bool) -> list[Any]:
    """What a rule must say to match the ticket (bound per ticket: its type, region and device)."""
    line = (
        select(Product.category_id)
        .join(Device, (Device.tenant_id == Product.tenant_id) & (Device.product_id == Product.id))
        .where(Device.id == bindparam("device_id"))
        .scalar_subquery()
    )
    conditions = [
        DispatchRule.active,
        or_(DispatchRule.ticket_type.is_(None), DispatchRule.ticket_type == bindparam("ticket_type")),
        or_(DispatchRule.region_id.is_(None), DispatchRule.region_id == bindparam("region_id"))
        if has_region
        else DispatchRule.region_id.is_(None),
        or_(DispatchRule.category_id.is_(None), DispatchRule.category_id == line)
        if has_device
        else DispatchRule.category_id.is_(None),
    ]
    return conditions


@cache
def _statement(has_region: bool, has_device: bool) -> Select[Any]:
    """The decision's one statement, built once per shape (with or without a region, a device) and bound
    per ticket, so SQLAlchemy compiles it once: the first matching rule from `offset`, its active partners,
    and each partner's open tickets and mean rating."""
    conditions = _conditions(has_region, has_device)
    matching = (
        select(DispatchRule.id, DispatchRule.name, DispatchRule.prefer, DispatchRule.max_open, DispatchRule.position)
        .where(*conditions)
        .order_by(DispatchRule.position, DispatchRule.id)
        .limit(1)
        .offset(bindparam("offset"))
        .subquery()
    )
    partners = (
        select(matching, EnterpriseLink.id.label("link_id"), EnterpriseLink.name.label("link_name"))
        .join(DispatchRulePartner, DispatchRulePartner.rule_id == matching.c.id)
        .join(
            EnterpriseLink,
            (EnterpriseLink.tenant_id == DispatchRulePartner.tenant_id)
            & (EnterpriseLink.id == DispatchRulePartner.enterprise_id),
        )
        .where(EnterpriseLink.status == "active")
        .subquery()
    )
    # each partner's load in two correlated subqueries read from the partner-load index (SQLite has no
    # LATERAL): no grouping and no sort of the partners' tickets
    own = Ticket.enterprise_id == partners.c.link_id
    open_tickets = select(func.count()).where(own, Ticket.status.in_(ACTIVE)).scalar_subquery()
    mean_rating = select(func.avg(Ticket.rating)).where(own).scalar_subquery()
    return (
        select(
            partners.c.id,
            partners.c.name,
            partners.c.prefer,
            partners.c.max_open,
            partners.c.link_id,
            partners.c.link_name,
            open_tickets,
            mean_rating,
        )
        .select_from(partners)
        .order_by(partners.c.position, partners.c.id)
    )


@cache
def _matching(has_region: bool, has_device: bool) -> Select[Any]:
    """How many rules match the ticket."""
    return select(func.count()).where(*_conditions(has_region, has_device))


async def decide(session: AsyncSession, ticket: Ticket) -> Decision | None:
    """The first matching rule with an eligible partner, and the partner it chooses; None: no rule
    matches (the ticket waits for staff). One statement for the first matching rule; the next one is read
    only when every partner of that one is inactive or at its cap."""
    shape = (ticket.region_id is not None, ticket.device_id is not None)
    values: dict[str, Any] = {"ticket_type": ticket.type}
    if ticket.region_id is not None:
        values["region_id"] = ticket.region_id
    if ticket.device_id is not None:
        values["device_id"] = ticket.device_id
    offset = 0
    while True:
        rows = (await session.execute(_statement(*shape), {**values, "offset": offset})).all()
        rules: dict[uuid.UUID, tuple[str, str, int | None, list[Candidate]]] = {}
        for rule_id, name, prefer, cap, link_id, link_name, open_tickets, mean in rows:
            candidate = Candidate(link_id, link_name, int(open_tickets or 0), float(mean) if mean is not None else None)
            rules.setdefault(rule_id, (name, prefer, cap, []))[3].append(candidate)
        for rule_id, (name, prefer, cap, candidates) in rules.items():  # in the rules' order
            eligible = [c for c in candidates if cap is None or c.open_tickets < cap]
            if eligible:
                best = ranked(prefer, eligible)
                return Decision(rule_id, name, best[0], tuple(best))
        offset += 1
        if offset >= (await session.scalar(_matching(*shape), values) or 0):
            return None  # no more matching rules
