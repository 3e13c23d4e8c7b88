"""Follow-ups on a deal (call, visit, message, with the next step and its date), and the deal's history:
its own follow-ups and, for a deal converted from a lead, the lead's events and follow-ups, so nothing
done before the conversion is lost from sight. Whoever may change the deal follows it up; whoever may
read it (the upstream's staff included) sees the history."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.deals import Deals
from apps.agent.follow_ups import follow_up_values
from apps.agent.leads.models import Lead, LeadEvent, LeadFollowUp
from apps.agent.registrations.models import DealFollowUp
from apps.agent.registrations.service import RegistrationState
from portal.db.types import utcnow
from portal.i18n import N_


@dataclass
class DealHistory:
    follow_ups: list[DealFollowUp]
    lead: Lead | None
    lead_events: list[LeadEvent]
    lead_follow_ups: list[LeadFollowUp]


class DealFollowUps:
    def __init__(self, session: AsyncSession, deals: Deals) -> None:
        self.session = session
        self.deals = deals

    async def add(self, deal_id: uuid.UUID, values: Mapping[str, Any]) -> DealFollowUp:
        deal = await self.deals.writable(deal_id)  # first: another's deal is not found, whatever was sent
        given = follow_up_values(values)
        if deal.stage in ("won", "lost") or deal.registration == "rejected":
            raise RegistrationState(N_("A won, lost or rejected deal is not followed up"))
        actor = self.deals.actor
        entry = DealFollowUp(
            deal_id=deal.id,
            **given,
            author_kind=actor.kind,
            author_id=actor.user_id,
            enterprise_id=actor.enterprise_id,
            created_at=utcnow(),
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def history(self, deal_id: uuid.UUID) -> DealHistory:
        deal = await self.deals.get(deal_id)
        follow_ups = list(
            await self.session.scalars(
                select(DealFollowUp).where(DealFollowUp.deal_id == deal.id).order_by(DealFollowUp.created_at.desc())
            )
        )
        if deal.lead_id is None:
            return DealHistory(follow_ups, None, [], [])
        lead = await self.session.scalar(select(Lead).where(Lead.id == deal.lead_id))
        events = await self.session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == deal.lead_id).order_by(LeadEvent.at, LeadEvent.id)
        )
        lead_follow_ups = await self.session.scalars(
            select(LeadFollowUp).where(LeadFollowUp.lead_id == deal.lead_id).order_by(LeadFollowUp.created_at.desc())
        )
        return DealHistory(follow_ups, lead, list(events), list(lead_follow_ups))
