"""The scheduled job `agent.follow_up_reminders`, every hour: the author of each follow-up whose next
step's date has come (in the tenant's time zone) is reminded once, while the lead is still being worked
(held by a partner). Follow-ups with nothing due cost nothing (an index range on `remind_on`); rows are
taken FOR UPDATE SKIP LOCKED, and `remind_on` is cleared with the reminder it caused, so two runs at once
or a run repeated after a failure remind nobody twice."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.leads.models import Lead, LeadFollowUp
from apps.agent.leads.notices import FOLLOW_UP_DUE
from interconnect.models import ExternalIdentity, Membership
from interconnect.notices import recipient
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.identity.models import InternalUser, Tenant
from portal.notifications.service import Recipient
from portal.schedules import ScheduledJob, for_each_tenant
from portal.services import Services

BATCH = 500


async def remind_tenant(services: Services, tenant_id: uuid.UUID, now: datetime) -> int:
    done = 0
    while True:
        async with services.db.session(tenant_context(tenant_id, channel="system")) as session:
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
            try:
                today = now.astimezone(ZoneInfo(tenant.time_zone)).date()
            except Exception:  # an unknown zone name: the UTC day
                today = now.date()
            rows = list(
                await session.execute(
                    select(LeadFollowUp, Lead)
                    .join(Lead, Lead.id == LeadFollowUp.lead_id)
                    .where(LeadFollowUp.remind_on.is_not(None), LeadFollowUp.remind_on <= today)
                    .order_by(LeadFollowUp.remind_on)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True, of=LeadFollowUp)
                )
            )
            sends: list[tuple[Recipient, dict[str, str]]] = []
            for entry, lead in rows:
                entry.remind_on = None
                if lead.status != "assigned":
                    continue  # given back, recycled or converted since: nothing left to remind of
                person = await _author(session, entry, tenant)
                if person is not None:
                    params = {
                        "name": person.name,
                        "workspace": tenant.name,
                        "company": lead.company_name,
                        "next_step": entry.next_step or "",
                        "next_date": entry.next_date.isoformat() if entry.next_date else "",
                    }
                    sends.append((person, params))
                done += 1
            await session.flush()
            for person, params in sends:
                await services.notifications.notify(session, person, FOLLOW_UP_DUE, params)
        if len(rows) < BATCH:
            return done


async def _author(session: AsyncSession, entry: LeadFollowUp, tenant: Tenant) -> Recipient | None:
    if entry.author_kind == "external":
        found = (
            await session.execute(
                select(Membership, ExternalIdentity)
                .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
                .where(Membership.id == entry.author_id, Membership.status == "active")
            )
        ).first()
        return recipient(found[0], found[1], tenant.default_locale) if found else None
    user = await session.scalar(
        select(InternalUser).where(InternalUser.id == entry.author_id, InternalUser.status == "active")
    )
    if user is None:
        return None
    return Recipient("internal", user.id, user.display_name, user.email, None, user.locale or tenant.default_locale)


async def follow_up_reminders(services: Services, now: datetime | None = None) -> int:
    """One pass over every tenant: how many follow-ups it handled."""
    moment = now or utcnow()
    return await for_each_tenant(services, lambda tenant_id: remind_tenant(services, tenant_id, moment))


FOLLOW_UP_REMINDERS = ScheduledJob("agent.follow_up_reminders", follow_up_reminders, every=timedelta(hours=1))
