"""The agent dashboard's figures, each a grouped statement over what the viewer may read (the leads and
deals of their data scope, as the lists behind the figures):

- the funnel, per partner: leads a partner took on in the period (claimed or handed to it: `assigned_at`,
  still the partner's or converted by it), the deals it registered in the period (`registration` set),
  and those of them won;
- recycling, per day or week: leads taken back from partners by the recycling job, by reason (no
  follow-up, no conversion), and extensions of a lead's time asked for and given.

A partner's view is the same statements over its own leads and deals. Periods are days where the tenant
is; a figure counts leads once per bucket (a lead taken back twice in a day is one lead taken back)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.deals import Deals
from apps.agent.leads.models import Lead, LeadEvent, LeadExtension
from apps.agent.leads.rules import RECYCLE_REASONS
from apps.agent.leads.service import Leads
from interconnect.models import EnterpriseLink, PartnerTier
from portal import timezones

PERIODS = (28, 91, 364)  # days: four weeks, a quarter, a year
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Period:
    days: int
    start: date  # the first day, where the workspace is
    end: date  # today
    since: datetime  # the moment the first day began (UTC)
    until: datetime  # the moment after today
    bucket_days: int  # a bar of the recycling charts: a day, a week, or four weeks over a year

    @property
    def buckets(self) -> int:
        return -(-self.days // self.bucket_days)

    def bucket(self, index: int) -> tuple[date, date]:
        first = self.start + timedelta(days=index * self.bucket_days)
        return first, min(self.end, first + timedelta(days=self.bucket_days - 1))


def period_of(days: int | None, zone: str) -> Period:
    days = days if days in PERIODS else PERIODS[0]
    end = timezones.today(zone)
    start = end - timedelta(days=days - 1)
    bucket = 1 if days <= 28 else 7 if days <= 91 else 28
    return Period(
        days, start, end, timezones.start_of_day(start, zone), timezones.start_of_day(end, zone, days=1), bucket
    )


def seconds(session: AsyncSession, column: Any) -> ColumnElement[float]:
    """A timestamp as seconds since 1970, so buckets are counted in SQL on both databases."""
    if session.bind.dialect.name == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * DAY


@dataclass(slots=True)
class Funnel:
    leads: int = 0
    registrations: int = 0
    won: int = 0

    def add(self, other: Funnel) -> None:
        self.leads += other.leads
        self.registrations += other.registrations
        self.won += other.won

    @property
    def empty(self) -> bool:
        return not (self.leads or self.registrations or self.won)


@dataclass(slots=True)
class Partner:
    id: uuid.UUID
    name: str
    tier_id: uuid.UUID | None
    funnel: Funnel = field(default_factory=Funnel)


@dataclass(slots=True)
class Figures:
    period: Period
    total: Funnel
    partners: list[Partner]  # those with a figure, busiest first
    tiers: list[tuple[uuid.UUID | None, str, Funnel]]  # by rank; None: partners of no tier
    recycled: dict[str, list[int]]  # reason -> leads per bucket
    recycled_total: dict[str, int]  # reason -> leads over the period
    extensions: dict[str, list[int]]  # "requested" | "granted" -> leads per bucket
    extensions_total: dict[str, int]


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose figures: a partner (the enterprise; a partner's own view always), a tier, or everyone."""

    enterprise_id: uuid.UUID | None = None
    tier_id: uuid.UUID | None = None


async def figures(leads: Leads, deals: Deals, days: int | None, scope: Scope) -> Figures:
    session = leads.session
    period = period_of(days, leads.actor.time_zone)
    links = select(EnterpriseLink.id, EnterpriseLink.name, EnterpriseLink.tier_id)
    if scope.enterprise_id is not None:
        links = links.where(EnterpriseLink.id == scope.enterprise_id)
    if scope.tier_id is not None:
        links = links.where(EnterpriseLink.tier_id == scope.tier_id)
    wanted = links.subquery()

    by_partner: dict[uuid.UUID, Funnel] = {}
    held = (await leads.query()).subquery()
    for key, count in await session.execute(
        select(held.c.enterprise_id, func.count())
        .where(
            held.c.enterprise_id.in_(select(wanted.c.id)),
            held.c.assigned_at >= period.since,
            held.c.assigned_at < period.until,
        )
        .group_by(held.c.enterprise_id)
    ):
        by_partner.setdefault(key, Funnel()).leads = int(count)
    registered = (await deals.query()).subquery()
    for key, count, won in await session.execute(
        select(registered.c.enterprise_id, func.count(), func.sum(case((registered.c.stage == "won", 1), else_=0)))
        .where(
            registered.c.enterprise_id.in_(select(wanted.c.id)),
            registered.c.registration.is_not(None),
            registered.c.created_at >= period.since,
            registered.c.created_at < period.until,
        )
        .group_by(registered.c.enterprise_id)
    ):
        funnel = by_partner.setdefault(key, Funnel())
        funnel.registrations, funnel.won = int(count), int(won or 0)

    partners: list[Partner] = []
    if by_partner:
        for key, name, tier_id in await session.execute(
            select(wanted.c.id, wanted.c.name, wanted.c.tier_id).where(wanted.c.id.in_(list(by_partner)))
        ):
            partners.append(Partner(key, name, tier_id, by_partner[key]))
    partners.sort(key=lambda p: (-p.funnel.leads, -p.funnel.registrations, -p.funnel.won, p.name))
    total = Funnel()
    for partner in partners:
        total.add(partner.funnel)

    tiers: list[tuple[uuid.UUID | None, str, Funnel]] = []
    if scope.enterprise_id is None:
        named = list(await session.execute(select(PartnerTier.id, PartnerTier.name).order_by(PartnerTier.rank.desc())))
        if scope.tier_id is not None:
            named = [(key, name) for key, name in named if key == scope.tier_id]
        for key, name in [*named, (None, "")]:
            funnel = Funnel()
            for partner in partners:
                if partner.tier_id == key:
                    funnel.add(partner.funnel)
            if key is not None or not funnel.empty:
                tiers.append((key, name, funnel))

    recycled, recycled_total = await _recycled(session, leads, period, scope, wanted)
    extensions, extensions_total = await _extensions(session, leads, period, scope, wanted)
    return Figures(period, total, partners, tiers, recycled, recycled_total, extensions, extensions_total)


def _partner_condition(column: Any, scope: Scope, wanted: Any) -> list[ColumnElement[bool]]:
    """Taken from (or asked by) the partners in scope; everyone's includes the upstream's own staff."""
    if scope.enterprise_id is None and scope.tier_id is None:
        return []
    return [column.in_(select(wanted.c.id))]


async def _per_bucket(
    session: AsyncSession, period: Period, moment: Any, lead: Any, conditions: list[ColumnElement[bool]]
) -> tuple[list[int], int]:
    bucket = func.floor((seconds(session, moment) - period.since.timestamp()) / (period.bucket_days * DAY))
    counts = [0] * period.buckets
    within = [moment >= period.since, moment < period.until, *conditions]
    for index, count in await session.execute(
        select(bucket, func.count(lead.distinct())).where(*within).group_by(bucket)
    ):
        if index is not None and 0 <= int(index) < period.buckets:
            counts[int(index)] = int(count)
    total = await session.scalar(select(func.count(lead.distinct())).where(*within)) or 0
    return counts, int(total)


async def _recycled(
    session: AsyncSession, leads: Leads, period: Period, scope: Scope, wanted: Any
) -> tuple[dict[str, list[int]], dict[str, int]]:
    readable = await _readable(leads, LeadEvent.lead_id)
    per: dict[str, list[int]] = {}
    totals: dict[str, int] = {}
    for reason in RECYCLE_REASONS:
        per[reason], totals[reason] = await _per_bucket(
            session,
            period,
            LeadEvent.at,
            LeadEvent.lead_id,
            [
                LeadEvent.action == "recycled",
                LeadEvent.note == reason,
                *readable,
                *_partner_condition(LeadEvent.enterprise_id, scope, wanted),
            ],
        )
    return per, totals


async def _extensions(
    session: AsyncSession, leads: Leads, period: Period, scope: Scope, wanted: Any
) -> tuple[dict[str, list[int]], dict[str, int]]:
    readable = await _readable(leads, LeadExtension.lead_id)
    common = [
        *readable,
        *_partner_condition(LeadExtension.enterprise_id, scope, wanted),
    ]
    per: dict[str, list[int]] = {}
    totals: dict[str, int] = {}
    per["requested"], totals["requested"] = await _per_bucket(
        session, period, LeadExtension.created_at, LeadExtension.lead_id, common
    )
    per["granted"], totals["granted"] = await _per_bucket(
        session, period, LeadExtension.decided_at, LeadExtension.lead_id, [*common, LeadExtension.status == "approved"]
    )
    return per, totals


async def _readable(leads: Leads, column: Any) -> list[ColumnElement[bool]]:
    """Staff count the leads their data scope reads; a partner its own enterprise's history (a lead taken
    back from it is no longer in its scope, yet it was taken back from it)."""
    if leads.actor.kind != "internal":
        return []
    readable = (await leads.query()).with_only_columns(Lead.id).subquery()
    return [column.in_(select(readable.c.id))]
