"""A tenant's calendar: read it (as rules for the arithmetic, or as text for a form), check and replace
it, and give a new tenant the default week.

Input arrives as people write it: each weekday a list of "HH:MM-HH:MM", each exception a date, a kind
(holiday or workday), a name and, for a workday, optional hours. Every mistake is refused at once with
the field it is in (`week.mon`, `days[3].day`), nothing half-saved."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.calendars.arithmetic import BusinessCalendar, CalendarRules
from portal.calendars.hours import WEEKDAYS, Interval, interval_text, minute_of
from portal.calendars.models import BusinessCalendarRow
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.timezones import zone

KINDS = ("holiday", "workday")
DEFAULT_WEEK: tuple[tuple[Interval, ...], ...] = (((9 * 60, 18 * 60),),) * 5 + ((), ())
# Dates a calendar may name: anything else is a typing mistake (20260 for 2026, 1926 for 2026)
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_DAYS = 1000
MAX_INTERVALS_A_DAY = 12
MAX_NAME = 100


@dataclass(frozen=True)
class DayEntry:
    day: str
    kind: str
    name: str = ""
    hours: Sequence[str] | None = None  # a workday's own hours; none: a regular working day's


@dataclass(frozen=True)
class CalendarInput:
    week: Mapping[str, Sequence[str]]  # "mon" … "sun" → ["09:00-12:00", "13:00-18:00"]
    days: Sequence[DayEntry] = field(default_factory=tuple)


@dataclass(frozen=True)
class StoredCalendar:
    """The calendar as a form or the API shows it: the same shape as `CalendarInput`, plus the zone."""

    time_zone: str
    week: dict[str, list[str]]
    days: list[DayEntry]


def rules_of(row: BusinessCalendarRow | None) -> CalendarRules:
    if row is None:  # every tenant gets one at sign-up (and migration 0018): only a bare test database lacks it
        return CalendarRules(DEFAULT_WEEK)
    week = tuple(tuple((s, e) for s, e in hours) for hours in row.week)
    standard = next((hours for hours in week if hours), ())
    holidays = frozenset(date.fromisoformat(d["day"]) for d in row.days if d["kind"] == "holiday")
    workdays = {
        date.fromisoformat(d["day"]): tuple((s, e) for s, e in d["hours"]) if d.get("hours") else standard
        for d in row.days
        if d["kind"] == "workday"
    }
    return CalendarRules(week, holidays, workdays)


async def _row(db: AsyncSession) -> BusinessCalendarRow | None:
    return await db.scalar(select(BusinessCalendarRow))


async def _time_zone(db: AsyncSession) -> str:
    return (await db.scalars(select(Tenant.time_zone).where(Tenant.id == db.info["ctx"].tenant_id))).one()


async def business_calendar(db: AsyncSession) -> BusinessCalendar:
    """The calendar of the session's tenant, ready for arithmetic. Keep it for a whole pass over many
    records: it remembers the days it has worked out."""
    return BusinessCalendar(rules_of(await _row(db)), zone(await _time_zone(db)))


async def stored(db: AsyncSession) -> StoredCalendar:
    row = await _row(db)
    week = [list(h) for h in DEFAULT_WEEK] if row is None else row.week
    days = [] if row is None else row.days
    return StoredCalendar(
        await _time_zone(db),
        {name: [interval_text((s, e)) for s, e in hours] for name, hours in zip(WEEKDAYS, week, strict=True)},
        [
            DayEntry(
                d["day"],
                d["kind"],
                d.get("name") or "",
                [interval_text((s, e)) for s, e in d["hours"]] if d.get("hours") else None,
            )
            for d in days
        ],
    )


async def replace(db: AsyncSession, data: CalendarInput) -> StoredCalendar:
    week, days = checked(data)
    row = await _row(db)
    if row is None:
        db.add(BusinessCalendarRow(week=week, days=days))
    else:
        row.week, row.days = week, days
    await db.flush()
    return await stored(db)


async def seed_calendar(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Tenant setup: a new tenant works Monday to Friday, 09:00 to 18:00, and has no holidays yet."""
    session.add(BusinessCalendarRow(tenant_id=tenant_id, week=[[list(i) for i in h] for h in DEFAULT_WEEK], days=[]))


# -- checking ---------------------------------------------------------------------------------------------
def checked(data: CalendarInput) -> tuple[list[list[list[int]]], list[dict[str, Any]]]:
    errors: list[FieldError] = []
    unknown = sorted(set(data.week) - set(WEEKDAYS))
    errors += [
        FieldError(f"week.{name}", N_("is not a weekday (mon, tue, … sun)"), "unknown_field") for name in unknown
    ]
    week = [_intervals(data.week.get(name, ()), f"week.{name}", errors) for name in WEEKDAYS]
    if not errors and not any(week):
        errors.append(
            FieldError("week", N_("has no working hours at all: give at least one weekday its hours"), "empty")
        )
    if len(data.days) > MAX_DAYS:
        errors.append(FieldError("days", N_("has more than %(max)s entries"), "too_many", {"max": MAX_DAYS}))
    days: dict[date, dict[str, Any]] = {}
    for index, entry in enumerate(data.days[:MAX_DAYS]):
        where = f"days[{index}]"
        day = _date(entry.day, f"{where}.day", errors)
        if entry.kind not in KINDS:
            errors.append(FieldError(f"{where}.kind", N_("must be holiday or workday"), "invalid"))
        name = entry.name.strip()
        if len(name) > MAX_NAME:
            errors.append(
                FieldError(f"{where}.name", N_("is longer than %(max)s characters"), "too_long", {"max": MAX_NAME})
            )
        hours: list[list[int]] | None = None
        if entry.hours:
            if entry.kind == "holiday":
                errors.append(
                    FieldError(f"{where}.hours", N_("must be empty: a holiday has no working hours"), "invalid")
                )
            else:
                hours = _intervals(entry.hours, f"{where}.hours", errors) or None
        if day is None:
            continue
        if day in days:
            errors.append(
                FieldError(f"{where}.day", N_("%(day)s is listed twice"), "duplicate", {"day": day.isoformat()})
            )
            continue
        days[day] = {"day": day.isoformat(), "kind": entry.kind, "name": name, "hours": hours}
    if errors:
        raise ValidationFailed(errors)
    return week, [days[d] for d in sorted(days)]


def _date(text: str, where: str, errors: list[FieldError]) -> date | None:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        errors.append(FieldError(where, N_("is not a date (YYYY-MM-DD)"), "invalid"))
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors.append(
            FieldError(
                where,
                N_("%(day)s is not a plausible date: years %(first)s to %(last)s"),
                "implausible",
                {"day": day.isoformat(), "first": FIRST_YEAR, "last": LAST_YEAR},
            )
        )
        return None
    return day


def _intervals(texts: Sequence[str], where: str, errors: list[FieldError]) -> list[list[int]]:
    parsed: list[tuple[int, int, str]] = []
    if len(texts) > MAX_INTERVALS_A_DAY:
        errors.append(
            FieldError(where, N_("has more than %(max)s intervals"), "too_many", {"max": MAX_INTERVALS_A_DAY})
        )
        return []
    for text in texts:
        start_text, dash, end_text = text.partition("-")
        start, end = minute_of(start_text), minute_of(end_text)
        if not dash or start is None or end is None:
            errors.append(
                FieldError(
                    where,
                    N_("%(text)s is not an interval such as 09:00-12:00 (00:00 to 24:00)"),
                    "invalid",
                    {"text": text},
                )
            )
            return []
        if end <= start:
            errors.append(
                FieldError(
                    where, N_("%(text)s ends before it starts (or when it starts)"), "end_before_start", {"text": text}
                )
            )
            return []
        parsed.append((start, end, text.strip()))
    parsed.sort()
    for (_, end, earlier), (start, _, later) in pairwise(parsed):
        if start < end:
            errors.append(
                FieldError(
                    where, N_("%(first)s and %(second)s overlap"), "overlap", {"first": earlier, "second": later}
                )
            )
            return []
    return [[start, end] for start, end, _ in parsed]
