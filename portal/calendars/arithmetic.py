"""Business time arithmetic: pure functions of a tenant's rules and time zone, no database.

Working hours are local wall-clock intervals; each is turned into the real instants its ends fall on,
and business time is the real time elapsed inside them. So a day of 09:00-18:00 is 9 hours also on the
days clocks change, and a round-the-clock day is 23 or 25 hours then. A wall time the clocks skip
(02:30 on a spring-forward night) falls on the instant of the jump, a wall time they repeat on its first
occurrence, so the mapping from wall time to instant never goes backwards.

The instants of each day's intervals and the business time before each day (a running sum) are
computed once per day and kept, as a timeline from the first day asked about to the last: adding time
or measuring between two instants is then a binary search and a walk through one day's intervals,
whatever the span. Instants are handled as whole microseconds since the epoch, so results are exact:
`between(start, add(start, d)) == d` for every d.

Pausing is the caller's: `elapsed` sums business time over the intervals the clock ran.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.calendars.hours import Interval

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MINUTE = 60_000_000  # in microseconds
CHUNK_DAYS = 64
# How far `add` looks for working time before deciding there is none (a calendar of holidays only)
SEARCH_DAYS = 5 * 366


class NoWorkingTime(ValueError):
    """The calendar has no working time where the arithmetic looked for it."""


@dataclass(frozen=True)
class CalendarRules:
    """A tenant's rules: the hours of each weekday (Monday first), holidays (no work at all) and
    make-up working days with their hours (China's 调休: a Saturday worked in exchange for a holiday)."""

    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = frozenset()
    workdays: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("a week has seven days")

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        if day in self.workdays:
            return self.workdays[day]
        if day in self.holidays:
            return ()
        return self.week[day.weekday()]


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime refused: use an aware one")
    return (moment - EPOCH) // MICROSECOND


def _moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


class BusinessCalendar:
    def __init__(self, rules: CalendarRules, zone: ZoneInfo | str) -> None:
        self.rules = rules
        self.zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        self._first: date | None = None  # the timeline's first day
        self._starts: list[int] = []  # local midnight of each day, and of the day after the last
        self._spans: list[list[tuple[int, int]]] = []  # each day's working intervals as instants
        self._before: list[int] = []  # business time before each day, and after the last

    # -- the questions -------------------------------------------------------------------------------
    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when `duration` of business time has passed since `start` (UTC). A result that
        falls on the end of a working interval is that end (18:00, not 09:00 the next morning). A
        negative duration goes back: the latest instant from which that much business time reaches
        `start`. Zero is `start` itself."""
        amount = duration // MICROSECOND
        if amount == 0:
            return start.astimezone(UTC)
        target = self._cumulative(_micros(start)) + amount
        if amount > 0:
            self._reach_forward(target, start)
            day = bisect_left(self._before, target) - 1
            left = target - self._before[day]
            for begin, end in self._spans[day]:
                if left <= end - begin:
                    return _moment(begin + left)
                left -= end - begin
        else:
            self._reach_back(target, start)
            day = bisect_right(self._before, target) - 1
            left = target - self._before[day]
            for begin, end in self._spans[day]:
                if left < end - begin:
                    return _moment(begin + left)
                left -= end - begin
        raise AssertionError("the running sum and the intervals disagree")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (negative when `end` is earlier)."""
        return timedelta(microseconds=self._cumulative(_micros(end)) - self._cumulative(_micros(start)))

    def elapsed(self, running: Iterable[tuple[datetime, datetime]]) -> timedelta:
        """Business time within the intervals a clock ran (overlaps counted once): a service level's
        clock with its pauses left out."""
        total = timedelta()
        current: tuple[datetime, datetime] | None = None
        for begin, end in sorted((b, e) for b, e in running if e > b):
            if current is not None and begin <= current[1]:
                current = (current[0], max(current[1], end))
                continue
            if current is not None:
                total += self.between(*current)
            current = (begin, end)
        if current is not None:
            total += self.between(*current)
        return total

    def is_working(self, moment: datetime) -> bool:
        at = _micros(moment)
        self._cover(at)
        day = bisect_right(self._starts, at) - 1
        return any(begin <= at < end for begin, end in self._spans[day])

    # -- the timeline ----------------------------------------------------------------------------------
    def _cumulative(self, at: int) -> int:
        """Business time before instant `at`, on the timeline's own scale."""
        self._cover(at)
        day = bisect_right(self._starts, at) - 1
        return self._before[day] + sum(min(end, at) - begin for begin, end in self._spans[day] if begin < at)

    def _cover(self, at: int) -> None:
        if self._first is None:
            self._first = _moment(at).astimezone(self.zone).date() - timedelta(days=1)
            self._starts = [self._midnight(self._first)]
            self._before = [0]
            self._append(CHUNK_DAYS)
        while at < self._starts[0]:
            self._prepend(CHUNK_DAYS)
        while at >= self._starts[-1]:
            self._append(CHUNK_DAYS)

    def _reach_forward(self, target: int, start: datetime) -> None:
        added = 0
        while self._before[-1] < target:
            if added > SEARCH_DAYS:
                raise NoWorkingTime(f"no working time within {SEARCH_DAYS} days after {start.isoformat()}")
            self._append(CHUNK_DAYS)
            added += CHUNK_DAYS

    def _reach_back(self, target: int, start: datetime) -> None:
        added = 0
        while self._before[0] > target:
            if added > SEARCH_DAYS:
                raise NoWorkingTime(f"no working time within {SEARCH_DAYS} days before {start.isoformat()}")
            self._prepend(CHUNK_DAYS)
            added += CHUNK_DAYS

    def _append(self, count: int) -> None:
        assert self._first is not None
        day = self._first + timedelta(days=len(self._spans))
        for _ in range(count):
            spans = self._day_spans(day)
            self._spans.append(spans)
            self._before.append(self._before[-1] + sum(end - begin for begin, end in spans))
            day += timedelta(days=1)
            self._starts.append(self._midnight(day))

    def _prepend(self, count: int) -> None:
        assert self._first is not None
        first = self._first - timedelta(days=count)
        days = [first + timedelta(days=n) for n in range(count)]
        spans = [self._day_spans(day) for day in days]
        before = [self._before[0]]
        for day_spans in reversed(spans):  # going back from the old first day: negative positions
            before.append(before[-1] - sum(end - begin for begin, end in day_spans))
        self._spans[:0] = spans
        self._before[:0] = list(reversed(before[1:]))
        self._starts[:0] = [self._midnight(day) for day in days]
        self._first = first

    def _day_spans(self, day: date) -> list[tuple[int, int]]:
        hours = sorted(self.rules.hours_on(day))
        if not hours:
            return []
        midnight = datetime.combine(day, time())
        offset = self.zone.utcoffset(midnight)
        if offset == self.zone.utcoffset(midnight + timedelta(days=1)):
            # no clock change that day (nearly every day): one offset for the whole day
            base = _micros(midnight.replace(tzinfo=UTC) - offset)  # type: ignore[operator]
            instants = [(base + b * MINUTE, base + e * MINUTE) for b, e in hours]
        else:
            instants = [(self._instant(day, b), self._instant(day, e)) for b, e in hours]
        spans: list[tuple[int, int]] = []
        for begin_at, end_at in instants:
            if end_at <= begin_at:
                continue  # an interval wholly inside the hour the clocks skip
            if spans and begin_at <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end_at))
            else:
                spans.append((begin_at, end_at))
        return spans

    def _midnight(self, day: date) -> int:
        return self._instant(day, 0)

    def _instant(self, day: date, minute: int) -> int:
        """The instant the wall clock of the zone reads `minute` on `day` (see the module's note)."""
        wall = datetime.combine(day, time()) + timedelta(minutes=minute)
        first = wall.replace(tzinfo=self.zone).astimezone(UTC)
        if first.astimezone(self.zone).replace(tzinfo=None) == wall:
            return _micros(first)
        # skipped: find the jump, the first second whose wall time is past `wall`
        low = int(wall.replace(tzinfo=self.zone, fold=1).astimezone(UTC).timestamp())
        high = int(first.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self.zone).replace(tzinfo=None) > wall:
                high = middle
            else:
                low = middle
        return high * 1_000_000
