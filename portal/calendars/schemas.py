"""The calendar as the API reads and writes it."""

from __future__ import annotations

import msgspec

from portal.calendars.service import CalendarInput, DayEntry, StoredCalendar


class WeekHours(msgspec.Struct, forbid_unknown_fields=True):
    """Each weekday's working hours as "HH:MM-HH:MM" intervals (00:00 to 24:00), none overlapping;
    an empty list is a day off."""

    mon: list[str] = []
    tue: list[str] = []
    wed: list[str] = []
    thu: list[str] = []
    fri: list[str] = []
    sat: list[str] = []
    sun: list[str] = []


class CalendarDay(msgspec.Struct, forbid_unknown_fields=True):
    day: str  # YYYY-MM-DD, years 2000 to 2100
    kind: str  # holiday (no work) | workday (a make-up working day, e.g. a Saturday worked for a holiday)
    name: str = ""
    hours: list[str] | None = (
        None  # a workday's own hours; null: a regular working day's (the first weekday with hours)
    )


class CalendarIn(msgspec.Struct, forbid_unknown_fields=True):
    week: WeekHours
    days: list[CalendarDay] = []

    def to_input(self) -> CalendarInput:
        return CalendarInput(
            msgspec.structs.asdict(self.week), [DayEntry(d.day, d.kind, d.name, d.hours) for d in self.days]
        )


class CalendarOut(msgspec.Struct):
    time_zone: str  # the workspace's: every hour and date of the calendar is read in it
    week: WeekHours
    days: list[CalendarDay]

    @classmethod
    def of(cls, calendar: StoredCalendar) -> CalendarOut:
        return cls(
            calendar.time_zone,
            WeekHours(**calendar.week),
            [CalendarDay(d.day, d.kind, d.name, list(d.hours) if d.hours else None) for d in calendar.days],
        )
