"""The dashboards' figures, each one grouped statement over the tickets the viewer may reach (their data
scope, as the ticket list): open tickets by status and by partner; per partner, the share of tickets that
met their service-level targets, week by week; the mean time to respond (dispatch to acceptance) and to
resolve (opening to resolution); the customers' ratings. Tickets opened in the period are counted, except
the open ones (counted whenever opened) and cancelled ones (never)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service import lifecycle
from apps.service.tickets import Tickets
from interconnect.models import EnterpriseLink
from portal import timezones

PERIODS = (28, 91, 364)  # days: four weeks, a quarter, a year
TOP_PARTNERS = 8  # partners shown by name in the per-partner figures (the busiest)
DAY = 86400.0


@dataclass(frozen=True, slots=True)
class Period:
    days: int
    start: date  # the first day, where the workspace is
    end: date  # today
    since: datetime  # the moment the first day began (UTC)
    bucket_days: int  # the compliance chart's bars: a week, or four for a year

    @property
    def buckets(self) -> int:
        return -(-self.days // self.bucket_days)

    def bucket(self, index: int) -> tuple[date, date]:
        first = self.start + timedelta(days=index * self.bucket_days)
        return first, min(self.end, first + timedelta(days=self.bucket_days - 1))


def period_of(days: int, zone: str) -> Period:
    days = days if days in PERIODS else PERIODS[1]
    end = timezones.today(zone)
    start = end - timedelta(days=days - 1)
    return Period(days, start, end, timezones.start_of_day(start, zone), 28 if days > 91 else 7)


def seconds(session: AsyncSession, column: Any) -> ColumnElement[float]:
    """A timestamp as seconds since 1970, so differences are counted in SQL on both databases."""
    if session.bind.dialect.name == "postgresql":
        return func.extract("epoch", column)
    return (func.julianday(column) - 2440587.5) * DAY


@dataclass(slots=True)
class Figures:
    period: Period
    open_by_status: dict[str, int]
    open_by_partner: list[tuple[uuid.UUID | None, str | None, int]]  # (partner, name, count), busiest first
    partners: list[tuple[uuid.UUID, str]]  # the busiest in the period, whose figures are shown
    compliance: dict[uuid.UUID, list[tuple[int, int]]]  # partner -> per bucket (tickets, breached)
    respond_hours: dict[uuid.UUID, float]
    resolve_hours: dict[uuid.UUID, float]
    ratings: dict[int, int]


async def figures(tickets: Tickets, days: int) -> Figures:
    session = tickets.session
    period = period_of(days, tickets.actor.time_zone)
    scoped = (await tickets.query()).subquery()
    t = scoped.c
    is_open = t.status.in_(lifecycle.OPEN)

    open_by_status = dict(
        (s, n) for s, n in await session.execute(select(t.status, func.count()).where(is_open).group_by(t.status))
    )
    by_partner = list(
        await session.execute(
            select(t.enterprise_id, func.count())
            .where(is_open)
            .group_by(t.enterprise_id)
            .order_by(func.count().desc())
            .limit(TOP_PARTNERS + 1)
        )
    )

    in_period = [t.created_at >= period.since, t.status != "cancelled", t.enterprise_id.is_not(None)]
    busiest = [
        key
        for key, _n in await session.execute(
            select(t.enterprise_id, func.count())
            .where(*in_period)
            .group_by(t.enterprise_id)
            .order_by(func.count().desc(), t.enterprise_id)
            .limit(TOP_PARTNERS)
        )
    ]
    names = await _names(session, {*busiest, *(key for key, _n in by_partner if key is not None)})

    compliance: dict[uuid.UUID, list[tuple[int, int]]] = {key: [(0, 0)] * period.buckets for key in busiest}
    if busiest:
        bucket = func.floor((seconds(session, t.created_at) - period.since.timestamp()) / (period.bucket_days * DAY))
        breached = or_(t.response_breached, t.resolution_breached)
        rows = await session.execute(
            select(t.enterprise_id, bucket, func.count(), func.sum(case((breached, 1), else_=0)))
            .where(*in_period, t.enterprise_id.in_(busiest))
            .group_by(t.enterprise_id, bucket)
        )
        for key, index, count, missed in rows:
            if 0 <= int(index) < period.buckets:
                compliance[key][int(index)] = (int(count), int(missed or 0))

    respond_hours: dict[uuid.UUID, float] = {}
    resolve_hours: dict[uuid.UUID, float] = {}
    if busiest:
        respond = seconds(session, t.accepted_at) - seconds(session, t.dispatched_at)
        resolve = seconds(session, t.resolved_at) - seconds(session, t.created_at)
        rows = await session.execute(
            select(
                t.enterprise_id,
                func.avg(case((t.accepted_at >= t.dispatched_at, respond))),
                func.avg(resolve),
            )
            .where(*in_period, t.enterprise_id.in_(busiest))
            .group_by(t.enterprise_id)
        )
        for key, mean_respond, mean_resolve in rows:
            if mean_respond is not None:
                respond_hours[key] = float(mean_respond) / 3600
            if mean_resolve is not None:
                resolve_hours[key] = float(mean_resolve) / 3600

    ratings = dict(
        (int(r), n)
        for r, n in await session.execute(
            select(t.rating, func.count()).where(t.created_at >= period.since, t.rating.is_not(None)).group_by(t.rating)
        )
    )
    return Figures(
        period=period,
        open_by_status=open_by_status,
        open_by_partner=[(key, names.get(key) if key else None, n) for key, n in by_partner],
        partners=[(key, names.get(key, "")) for key in busiest],
        compliance=compliance,
        respond_hours=respond_hours,
        resolve_hours=resolve_hours,
        ratings=ratings,
    )


async def _names(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(sorted(ids)))
    )
    return {key: name for key, name in rows}
