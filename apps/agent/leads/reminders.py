"""The scheduled job `agent.follow_up_reminders`, every hour: the author of each follow-up whose next
step's date has come (in the tenant's time zone) is reminded once, while the lead is still being worked
(held by someone) or the deal still open (neither won, lost nor rejected). Follow-ups with nothing
due cost nothing (an index range on `remind_on`); rows are
taken FOR UPDATE SKIP LOCKED, and `remind_on` is cleared with the reminder it caused, so two runs at once
or a run repeated after a failure remind nobody twice."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.leads.models import Lead, LeadFollowUp
from apps.agent.leads.notices import FOLLOW_UP_DUE
from apps.agent.models import Deal
from apps.agent.registrations.models import DealFollowUp
from interconnect.models import ExternalIdentity, Membership
from interconnect.notices import recipient
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.identity.models import InternalUser, Tenant
from portal.notifications.service import Recipient
from portal.schedules import ScheduledJob, for_each_tenant
from portal.services import Services

BATCH = 500


@dataclass(frozen=True)
class Source:
    """Follow-ups of one kind of record: the table, the record's, and what makes a reminder worth sending."""

    follow_ups: Any
    records: Any
    record_key: Any
    worked: Callable[[Any], bool]
    company: Callable[[Any], str]


SOURCES = (
    Source(
        LeadFollowUp, Lead, LeadFollowUp.lead_id, lambda lead: lead.status == "assigned", lambda lead: lead.company_name
    ),
    Source(
        DealFollowUp,
        Deal,
        DealFollowUp.deal_id,
        lambda deal: deal.stage not in ("won", "lost") and deal.registration != "rejected",
        lambda d: d.customer_name,
    ),
)


async def remind_tenant(services: Services, tenant_id: uuid.UUID, now: datetime) -> int:
    done = 0
    for source in SOURCES:
        done += await _remind(services, tenant_id, now, source)
    return done


async def _remind(services: Services, tenant_id: uuid.UUID, now: datetime, source: Source) -> int:
    done = 0
    while True:
        async with services.db.session(tenant_context(tenant_id, channel="system")) as session:
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
            today = _today(now, tenant.time_zone)
            table = source.follow_ups
            rows = list(
                await session.execute(
                    select(table, source.records)
                    .join(source.records, source.records.id == source.record_key)
                    .where(table.remind_on.is_not(None), table.remind_on <= today)
                    .order_by(table.remind_on)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True, of=table)
                )
            )
            sends: list[tuple[Recipient, dict[str, str]]] = []
            for entry, record in rows:
                entry.remind_on = None
                if not source.worked(record):
                    continue  # given back, recycled, converted or closed since: nothing left to remind of
                person = await _author(session, entry, tenant)
                if person is not None:
                    params = {
                        "name": person.name,
                        "workspace": tenant.name,
                        "company": source.company(record),
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


def _today(now: datetime, zone: str) -> date:
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except Exception:  # an unknown zone name: the UTC day
        return now.date()


async def _author(session: AsyncSession, entry: LeadFollowUp | DealFollowUp, tenant: Tenant) -> Recipient | None:
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
