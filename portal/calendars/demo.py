"""Demo holidays for the demo tenants: Borealis Valves keeps China's 2026 public holidays with their
make-up working days (调休), Acme Pumps a few western ones. Added once: a calendar with days is left as
it is."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from portal.calendars import service
from portal.calendars.service import CalendarInput, DayEntry


def _holidays(first: str, last_day: int, name: str) -> list[DayEntry]:
    year_month = first[:8]
    return [DayEntry(f"{year_month}{day:02d}", "holiday", name) for day in range(int(first[8:]), last_day + 1)]


CHINA_2026 = [
    *_holidays("2026-01-01", 3, "元旦"),
    DayEntry("2026-01-04", "workday", "元旦调休上班"),
    DayEntry("2026-02-14", "workday", "春节调休上班"),
    *_holidays("2026-02-15", 23, "春节"),
    DayEntry("2026-02-28", "workday", "春节调休上班"),
    *_holidays("2026-04-04", 6, "清明节"),
    *_holidays("2026-05-01", 5, "劳动节"),
    DayEntry("2026-05-09", "workday", "劳动节调休上班"),
    *_holidays("2026-06-19", 21, "端午节"),
    DayEntry("2026-09-20", "workday", "国庆节调休上班"),
    *_holidays("2026-09-25", 27, "中秋节"),
    *_holidays("2026-10-01", 7, "国庆节"),
    DayEntry("2026-10-10", "workday", "国庆节调休上班"),
    DayEntry("2027-01-01", "holiday", "元旦"),
]
WESTERN = [
    DayEntry("2026-12-25", "holiday", "Christmas Day"),
    DayEntry("2027-01-01", "holiday", "New Year's Day"),
    DayEntry("2027-03-26", "holiday", "Good Friday"),
    DayEntry("2027-03-29", "holiday", "Easter Monday"),
]
DEMO_HOLIDAYS = {"borealis-valves": CHINA_2026, "acme-pumps": WESTERN}


async def add_demo_holidays(session: AsyncSession, slug: str) -> None:
    calendar = await service.stored(session)
    if calendar.days or slug not in DEMO_HOLIDAYS:
        return
    await service.replace(session, CalendarInput(calendar.week, DEMO_HOLIDAYS[slug]))
