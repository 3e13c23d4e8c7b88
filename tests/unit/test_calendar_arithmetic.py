"""Business time arithmetic: worked examples (weekends, holidays, make-up working days, midnight, clock
changes in Europe/Berlin, Asia/Shanghai without them) and invariants over random calendars and instants,
the brute-force count of working minutes as the reference."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.calendars.arithmetic import BusinessCalendar, CalendarRules, NoWorkingTime
from portal.calendars.service import DEFAULT_WEEK

BERLIN, SHANGHAI = ZoneInfo("Europe/Berlin"), ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
SPLIT_DAY = ((9 * 60, 12 * 60), (13 * 60, 18 * 60))  # 8 hours with a lunch break


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def office(zone: ZoneInfo, **kw: object) -> BusinessCalendar:
    return BusinessCalendar(CalendarRules(DEFAULT_WEEK, **kw), zone)  # type: ignore[arg-type]


def test_a_friday_afternoon_request_is_due_on_monday() -> None:
    calendar = office(SHANGHAI)
    due = calendar.add(at(SHANGHAI, 2026, 12, 4, 16), 4 * H)  # Friday 16:00 + 4 business hours
    assert due == at(SHANGHAI, 2026, 12, 7, 11)
    assert calendar.between(at(SHANGHAI, 2026, 12, 4, 16), due) == 4 * H
    assert due.tzinfo == UTC


def test_time_outside_working_hours_counts_from_the_next_opening() -> None:
    calendar = office(SHANGHAI)
    half_hour = timedelta(minutes=30)
    assert calendar.add(at(SHANGHAI, 2026, 12, 5, 23, 30), half_hour) == at(SHANGHAI, 2026, 12, 7, 9, 30)
    assert calendar.add(at(SHANGHAI, 2026, 12, 7, 6), H) == at(SHANGHAI, 2026, 12, 7, 10)
    assert calendar.between(at(SHANGHAI, 2026, 12, 5), at(SHANGHAI, 2026, 12, 6, 23, 59)) == timedelta(0)


def test_a_result_on_the_end_of_a_working_day_is_that_end() -> None:
    calendar = office(SHANGHAI)
    assert calendar.add(at(SHANGHAI, 2026, 12, 7, 9), 9 * H) == at(SHANGHAI, 2026, 12, 7, 18)
    assert calendar.add(at(SHANGHAI, 2026, 12, 7, 9), 9 * H + timedelta(seconds=1)) == at(
        SHANGHAI, 2026, 12, 8, 9, 0, 1
    )


def test_a_lunch_break_is_not_counted() -> None:
    calendar = BusinessCalendar(CalendarRules((SPLIT_DAY,) * 5 + ((), ())), SHANGHAI)
    assert calendar.add(at(SHANGHAI, 2026, 12, 7, 11), 2 * H) == at(SHANGHAI, 2026, 12, 7, 14)
    assert calendar.between(at(SHANGHAI, 2026, 12, 7, 8), at(SHANGHAI, 2026, 12, 7, 20)) == 8 * H
    assert not calendar.is_working(at(SHANGHAI, 2026, 12, 7, 12, 30))
    assert calendar.is_working(at(SHANGHAI, 2026, 12, 7, 13))


def test_holidays_are_skipped_and_a_make_up_saturday_is_worked() -> None:
    """China's National Day week of 2026: 1 to 7 October off, Saturday 10 October worked."""
    holidays = frozenset(date(2026, 10, d) for d in range(1, 8))
    calendar = office(SHANGHAI, holidays=holidays, workdays={date(2026, 10, 10): ((9 * 60, 18 * 60),)})
    assert calendar.add(at(SHANGHAI, 2026, 9, 30, 17), 2 * H) == at(SHANGHAI, 2026, 10, 8, 10)
    assert calendar.add(at(SHANGHAI, 2026, 10, 9, 17), 2 * H) == at(SHANGHAI, 2026, 10, 10, 10)
    week = calendar.between(at(SHANGHAI, 2026, 9, 28), at(SHANGHAI, 2026, 10, 12))
    assert week == (3 + 2 + 1) * 9 * H  # Mon-Wed, Thu-Fri of the next week, the make-up Saturday


def test_working_through_midnight() -> None:
    """A night shift written as 22:00-24:00 and 00:00-06:00 is one stretch of work."""
    night = ((0, 6 * 60), (22 * 60, 24 * 60))
    calendar = BusinessCalendar(CalendarRules((night,) * 7), SHANGHAI)
    assert calendar.add(at(SHANGHAI, 2026, 12, 7, 23), 2 * H) == at(SHANGHAI, 2026, 12, 8, 1)
    assert calendar.between(at(SHANGHAI, 2026, 12, 7, 21), at(SHANGHAI, 2026, 12, 8, 7)) == 8 * H


def test_clock_changes_in_berlin() -> None:
    calendar = office(BERLIN)
    # the weekend the clocks go forward (29 March 2026) and back (25 October 2026)
    assert calendar.between(at(BERLIN, 2026, 3, 27, 17), at(BERLIN, 2026, 3, 30, 10)) == 2 * H
    assert calendar.add(at(BERLIN, 2026, 3, 27, 17), 2 * H) == at(BERLIN, 2026, 3, 30, 10)
    assert calendar.add(at(BERLIN, 2026, 10, 23, 17), 2 * H) == at(BERLIN, 2026, 10, 26, 10)
    always = BusinessCalendar(CalendarRules((((0, 24 * 60),),) * 7), BERLIN)
    assert always.between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30)) == 23 * H
    assert always.between(at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26)) == 25 * H
    # a night shift over the skipped hour is an hour shorter, over the repeated hour an hour longer
    night = BusinessCalendar(CalendarRules((((60, 4 * 60),),) * 7), BERLIN)
    assert night.between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 29, 12)) == 2 * H
    assert night.between(at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 25, 12)) == 4 * H
    # an interval inside the skipped hour does not exist that day
    gap = BusinessCalendar(CalendarRules((((2 * 60 + 10, 2 * 60 + 50),),) * 7), BERLIN)
    assert gap.between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30)) == timedelta(0)
    assert gap.between(at(BERLIN, 2026, 3, 30), at(BERLIN, 2026, 3, 31)) == timedelta(minutes=40)


def test_going_back_and_pauses() -> None:
    calendar = office(SHANGHAI)
    assert calendar.add(at(SHANGHAI, 2026, 12, 7, 10), -2 * H) == at(SHANGHAI, 2026, 12, 4, 17)
    assert calendar.add(at(SHANGHAI, 2026, 12, 7, 10), timedelta(0)) == at(SHANGHAI, 2026, 12, 7, 10)
    ran = [
        (at(SHANGHAI, 2026, 12, 7, 9), at(SHANGHAI, 2026, 12, 7, 11)),  # 2 h, then on hold until Tuesday
        (at(SHANGHAI, 2026, 12, 8, 9), at(SHANGHAI, 2026, 12, 8, 10)),
        (at(SHANGHAI, 2026, 12, 8, 9, 30), at(SHANGHAI, 2026, 12, 8, 10, 30)),  # overlaps: counted once
    ]
    assert calendar.elapsed(ran) == 3.5 * H


def test_a_calendar_without_working_time_says_so() -> None:
    calendar = BusinessCalendar(CalendarRules(((),) * 7), SHANGHAI)
    with pytest.raises(NoWorkingTime):
        calendar.add(at(SHANGHAI, 2026, 12, 7), H)
    with pytest.raises(ValueError, match="naive"):
        office(SHANGHAI).add(datetime(2026, 12, 7), H)


def test_a_thirty_day_target_is_cheap() -> None:
    """Not a benchmark (see the report in docs/calendars.md): a guard against minute-by-minute loops."""
    start = at(SHANGHAI, 2026, 12, 4, 10)
    began = clock.perf_counter()
    for _ in range(20):
        office(SHANGHAI).add(start, timedelta(days=30))  # a fresh calendar each time: nothing remembered
    assert clock.perf_counter() - began < 2.0


# -- invariants --------------------------------------------------------------------------------------------
ZONES = st.sampled_from(
    [BERLIN, SHANGHAI, ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe"), ZoneInfo("UTC")]
)


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[int, int], ...]:
    """Up to three non-overlapping intervals on 15-minute marks (DST changes fall on them too)."""
    marks = sorted(draw(st.sets(st.integers(0, 96), max_size=6)))
    if len(marks) % 2:
        marks = marks[:-1]
    return tuple((marks[i] * 15, marks[i + 1] * 15) for i in range(0, len(marks), 2))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    week = tuple(draw(day_hours()) for _ in range(7))
    if sum(e - b for hours in week for b, e in hours) < 600:
        # at least 10 hours a week, so the longest duration drawn (40 days) fits in the five years `add` searches
        week = (((9 * 60, 19 * 60),), *week[1:])
    base = date(2026, 1, 1)
    days = st.builds(lambda n: base + timedelta(days=n), st.integers(0, 500))
    holidays = frozenset(draw(st.sets(days, max_size=20)))
    workdays = {d: draw(day_hours()) for d in draw(st.sets(days, max_size=8))}
    return BusinessCalendar(CalendarRules(week, holidays, workdays), draw(ZONES))


INSTANTS = st.datetimes(datetime(2026, 1, 1), datetime(2027, 6, 1), timezones=st.just(UTC))
DURATIONS = st.timedeltas(timedelta(0), timedelta(days=40))


@settings(max_examples=150, deadline=None)
@given(calendars(), INSTANTS, DURATIONS)
def test_between_a_start_and_start_plus_d_is_d(calendar: BusinessCalendar, start: datetime, d: timedelta) -> None:
    end = calendar.add(start, d)
    assert end >= start
    assert calendar.between(start, end) == d
    back = calendar.add(end, -d)
    assert back <= end and calendar.between(back, end) == d


@settings(max_examples=80, deadline=None)
@given(calendars(), INSTANTS, INSTANTS, INSTANTS)
def test_between_adds_up_and_never_exceeds_real_time(
    calendar: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)
    assert timedelta(0) <= calendar.between(a, c) <= c - a
    assert calendar.between(c, a) == -calendar.between(a, c)


@settings(max_examples=100, deadline=None)
@given(calendars(), INSTANTS, DURATIONS, DURATIONS)
def test_adding_more_never_ends_earlier_and_ends_in_working_time(
    calendar: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    small, large = sorted((d1, d2))
    assert calendar.add(start, small) <= calendar.add(start, large)
    if large > timedelta(0):
        assert calendar.is_working(calendar.add(start, large) - timedelta(microseconds=1))


@settings(max_examples=60, deadline=None)
@given(calendars(), st.datetimes(datetime(2026, 3, 20), datetime(2026, 11, 10), timezones=st.just(UTC)))
def test_between_matches_counting_minute_by_minute(calendar: BusinessCalendar, start: datetime) -> None:
    """The reference: each minute of three days, working when the wall clock shows a time inside one of
    that day's intervals. (Spans that begin inside a repeated hour are where the two readings differ,
    so the reference calendar's hours are kept off 02:00-03:00.)"""
    start = start.replace(second=0, microsecond=0)
    rules = calendar.rules
    clear = CalendarRules(
        tuple(tuple(i for i in hours if not (i[0] < 180 and i[1] > 120)) for hours in rules.week),
        rules.holidays,
        {d: tuple(i for i in h if not (i[0] < 180 and i[1] > 120)) for d, h in rules.workdays.items()},
    )
    if not any(clear.week):
        clear = CalendarRules(DEFAULT_WEEK, rules.holidays)
    reference = BusinessCalendar(clear, calendar.zone)
    minutes = 3 * 24 * 60
    working = 0
    for n in range(minutes):
        wall = (start + timedelta(minutes=n)).astimezone(calendar.zone)
        moment = wall.hour * 60 + wall.minute
        working += any(s <= moment < e for s, e in clear.hours_on(wall.date()))
    assert reference.between(start, start + timedelta(minutes=minutes)) == timedelta(minutes=working)
