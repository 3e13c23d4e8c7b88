"""What a deal earns when it is won, and gives back when it leaves "won": called by deal registration
(apps.agent.deals) in the unit of work that changes the stage, so a line exists exactly when the change
does."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.amounts import CENT
from apps.agent.commissions.models import CommissionLine, CommissionRule, DealTerms
from apps.agent.models import Deal
from interconnect.models import EnterpriseLink
from portal.db.types import utcnow

WON = "won"


async def deal_stage_changed(session: AsyncSession, deal: Deal, previous: str | None) -> None:
    """`previous` is the stage before (None for a new deal). Becoming won earns, leaving won reverses;
    any other change earns nothing."""
    now_won, was_won = deal.stage == WON, previous == WON
    if now_won and not was_won:
        await earn(session, deal)
    elif was_won and not now_won:
        await reverse(session, deal.id)


async def rate_for(session: AsyncSession, deal: Deal) -> tuple[Decimal, uuid.UUID | None] | None:
    """The deal's own commission rate when the upstream set one, else the best matching rule's."""
    if deal.commission_rate is not None:
        return deal.commission_rate, None
    tier_id = await session.scalar(select(EnterpriseLink.tier_id).where(EnterpriseLink.id == deal.enterprise_id))
    terms = await session.scalar(select(DealTerms).where(DealTerms.deal_id == deal.id))
    line = (terms.product_line or "").strip().lower() if terms is not None else ""
    kind = terms.deal_type if terms is not None else None
    best: tuple[int, int, CommissionRule] | None = None
    for rule in await session.scalars(select(CommissionRule).where(CommissionRule.active.is_(True))):
        if rule.tier_id is not None and rule.tier_id != tier_id:
            continue
        if rule.product_line is not None and rule.product_line.strip().lower() != line:
            continue
        if rule.deal_type is not None and rule.deal_type != kind:
            continue
        conditions = sum(c is not None for c in (rule.tier_id, rule.product_line, rule.deal_type))
        rank = (-conditions, rule.position)
        if best is None or rank < best[:2]:
            best = (*rank, rule)
    return None if best is None else (best[2].rate, best[2].id)


async def earn(session: AsyncSession, deal: Deal) -> CommissionLine | None:
    """A line for a partner's won deal, unless it already has one standing (won twice without leaving)."""
    if deal.enterprise_id is None:
        return None  # the upstream's own deal: nobody to pay
    standing = await session.scalar(
        select(CommissionLine.id).where(
            CommissionLine.deal_id == deal.id, CommissionLine.kind == "earned", CommissionLine.reversed.is_(False)
        )
    )
    found = None if standing is not None else await rate_for(session, deal)
    if found is None:
        return None
    rate, rule_id = found
    amount = (deal.amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    line = CommissionLine(
        deal_id=deal.id,
        enterprise_id=deal.enterprise_id,
        kind="earned",
        customer_name=deal.customer_name,
        deal_amount=deal.amount,
        rate=rate,
        amount=amount,
        currency=deal.currency,
        rule_id=rule_id,
        earned_on=utcnow().date(),
    )
    session.add(line)
    await session.flush()
    return line


async def reverse(session: AsyncSession, deal_id: uuid.UUID) -> list[CommissionLine]:
    """A reversal of each line the deal earned and still stands, on the partner's next statement."""
    made = []
    for line in await session.scalars(
        select(CommissionLine)
        .where(CommissionLine.deal_id == deal_id, CommissionLine.kind == "earned", CommissionLine.reversed.is_(False))
        .with_for_update()
    ):
        line.reversed = True
        reversal = CommissionLine(
            deal_id=line.deal_id,
            enterprise_id=line.enterprise_id,
            kind="reversal",
            customer_name=line.customer_name,
            deal_amount=line.deal_amount,
            rate=line.rate,
            amount=-line.amount,
            currency=line.currency,
            rule_id=line.rule_id,
            reverses_id=line.id,
            earned_on=utcnow().date(),
        )
        session.add(reversal)
        made.append(reversal)
    await session.flush()
    return made
