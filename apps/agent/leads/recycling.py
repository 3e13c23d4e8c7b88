"""The scheduled job `agent.lead_recycling`: for each lead whose `next_check_at` has come (an indexed
range: leads with nothing due cost nothing), either warn its holder once that it goes back soon, or take
it back (into its pool, or to the upstream without one) and tell the holder. Rows are taken FOR UPDATE
SKIP LOCKED in batches, each batch its own transaction, so two runs at once never handle a lead twice,
and a claim or follow-up in flight is not overtaken."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.leads import rules
from apps.agent.leads.models import Lead, LeadEvent, LeadPool
from apps.agent.leads.notices import RECYCLE_NOTICE, RECYCLED
from apps.agent.leads.service import release
from interconnect.models import ExternalIdentity, Membership
from interconnect.notices import recipient
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.identity.models import InternalUser, Tenant
from portal.notifications.service import Recipient
from portal.schedules import ScheduledJob, for_each_tenant
from portal.services import Services

BATCH = 500


class _People:
    """Who hears about a batch's leads, read before any of them changes (three statements a batch, none
    per lead): the person who claimed each (a partner, or one of the upstream's staff), else the holding
    enterprise's active admins."""

    def __init__(self) -> None:
        self.staff: dict[uuid.UUID, Recipient] = {}
        self.partners: dict[uuid.UUID, Recipient] = {}
        self.admins: dict[uuid.UUID, list[Recipient]] = {}

    @classmethod
    async def of(cls, session: AsyncSession, leads: list[Lead], tenant: Tenant) -> _People:
        people = cls()
        locale = tenant.default_locale
        held = [lead for lead in leads if lead.status == "assigned"]
        staff_ids = {lead.holder_id for lead in held if lead.enterprise_id is None and lead.holder_id}
        partner_ids = {lead.holder_id for lead in held if lead.enterprise_id is not None and lead.holder_id}
        link_ids = {lead.enterprise_id for lead in held if lead.enterprise_id is not None and not lead.holder_id}
        if staff_ids:
            for user in await session.scalars(
                select(InternalUser).where(InternalUser.id.in_(staff_ids), InternalUser.status == "active")
            ):
                people.staff[user.id] = Recipient(
                    "internal", user.id, user.display_name, user.email, None, user.locale or locale
                )
        if partner_ids or link_ids:
            query = (
                select(Membership, ExternalIdentity)
                .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
                .where(Membership.status == "active")
            )
            wanted = []
            if partner_ids:
                wanted.append(Membership.id.in_(partner_ids))
            if link_ids:
                wanted.append(Membership.link_id.in_(link_ids) & Membership.is_enterprise_admin.is_(True))
            for membership, identity in await session.execute(query.where(or_(*wanted))):
                person = recipient(membership, identity, locale)
                if membership.id in partner_ids:
                    people.partners[membership.id] = person
                if membership.link_id in link_ids and membership.is_enterprise_admin:
                    people.admins.setdefault(membership.link_id, []).append(person)
        return people

    def of_lead(self, lead: Lead) -> list[Recipient]:
        if lead.holder_id is not None:
            found = (self.staff if lead.enterprise_id is None else self.partners).get(lead.holder_id)
            return [found] if found else []
        return self.admins.get(lead.enterprise_id, []) if lead.enterprise_id else []


def due_batch(now: datetime) -> Select[tuple[Lead]]:
    """The next batch of leads whose `next_check_at` has come, locked, skipping those another run or a
    claim in flight holds: a range of the index `ix_agent_leads_next_check`."""
    return (
        select(Lead)
        .where(Lead.next_check_at.is_not(None), Lead.next_check_at <= now)
        .order_by(Lead.next_check_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )


async def check_tenant(services: Services, tenant_id: uuid.UUID, now: datetime) -> int:
    done = 0
    while True:
        async with services.db.session(tenant_context(tenant_id, channel="system")) as session:
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
            leads = list(await session.scalars(due_batch(now)))
            pool_ids = {lead.pool_id for lead in leads if lead.pool_id}
            pools = {p.id: p for p in await session.scalars(select(LeadPool).where(LeadPool.id.in_(pool_ids)))}
            everyone = await _People.of(session, leads, tenant)
            notices: list[tuple[Recipient, str, dict[str, Any]]] = []
            for lead in leads:
                pool = pools.get(lead.pool_id) if lead.pool_id else None
                due = rules.recycle_at(lead)
                params = {"workspace": tenant.name, "company": lead.company_name}
                if lead.status != "assigned" or due is None:
                    lead.next_check_at = None
                    continue
                people = everyone.of_lead(lead)
                if due <= now:
                    former = lead.enterprise_id
                    # a staff member who lost it is named, as the one whose cooldown starts
                    lost_by = lead.holder_id if former is None else None
                    reason = rules.recycle_reason(lead)
                    release(lead)
                    session.add(
                        LeadEvent(
                            lead_id=lead.id,
                            action="recycled",
                            actor_kind="system",
                            actor_id=lost_by,
                            enterprise_id=former,
                            note=reason,
                            at=now,
                        )
                    )
                    notices += [(p, RECYCLED, {**params, "name": p.name}) for p in people]
                elif not lead.noticed:
                    lead.noticed = True
                    session.add(
                        LeadEvent(
                            lead_id=lead.id,
                            action="noticed",
                            actor_kind="system",
                            enterprise_id=lead.enterprise_id,
                            at=now,
                        )
                    )
                    notices += [
                        (p, RECYCLE_NOTICE, {**params, "name": p.name, "due_at": due.isoformat()}) for p in people
                    ]
                    rules.reschedule(lead, pool)
                else:
                    rules.reschedule(lead, pool)
                done += 1
            await session.flush()
            read: dict[Any, Any] = {}  # each person's channels for a kind, read once a batch
            for person, kind, params in notices:
                await services.notifications.notify(session, person, kind, params, read=read)
        if len(leads) < BATCH:
            return done


async def lead_recycling(services: Services, now: datetime | None = None) -> int:
    """One pass over every tenant: how many notices and recyclings it made."""
    moment = now or utcnow()
    return await for_each_tenant(services, lambda tenant_id: check_tenant(services, tenant_id, moment))


LEAD_RECYCLING = ScheduledJob("agent.lead_recycling", lead_recycling, every=timedelta(minutes=5))
