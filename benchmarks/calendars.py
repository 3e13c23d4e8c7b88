"""Business time arithmetic (portal/calendars/arithmetic.py), in process, no database:

    .venv/bin/python -m benchmarks.calendars [--repeat 2000]

Prints the median and p99 of: a 30-day target (`add`) on a fresh calendar (nothing worked out yet), the
same on a calendar kept across calls, `between` over a month, and the time left of 100,000 open tickets
(one `between` each, due times spread over the next 30 days) on one kept calendar, as a scheduled job
would make it. The calendar is Monday to Friday 09:00-12:00 and 13:00-18:00 with China's 2026 holidays,
in Asia/Shanghai."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from portal.calendars.arithmetic import BusinessCalendar, CalendarRules
from portal.calendars.demo import CHINA_2026

WEEK = (((540, 720), (780, 1080)),) * 5 + ((), ())
START = datetime(2026, 9, 1, 1, 30, tzinfo=UTC)


def rules() -> CalendarRules:
    holidays = frozenset(date.fromisoformat(d.day) for d in CHINA_2026 if d.kind == "holiday")
    workdays = {date.fromisoformat(d.day): WEEK[0] for d in CHINA_2026 if d.kind == "workday"}
    return CalendarRules(WEEK, holidays, workdays)


def timed(repeat: int, call: Callable[[int], object]) -> tuple[float, float]:
    samples = []
    for n in range(repeat):
        began = time.perf_counter()
        call(n)
        samples.append((time.perf_counter() - began) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    repeat = parser.parse_args().repeat
    kept = BusinessCalendar(rules(), "Asia/Shanghai")
    month = timedelta(days=30)
    rows = {
        "add 30 days, fresh calendar": timed(
            repeat // 10, lambda n: BusinessCalendar(rules(), "Asia/Shanghai").add(START, month)
        ),
        "add 30 days, kept calendar": timed(repeat, lambda n: kept.add(START + timedelta(minutes=n), month)),
        "between over a month, kept": timed(
            repeat, lambda n: kept.between(START, START + month + timedelta(minutes=n))
        ),
    }
    for name, (median, p99) in rows.items():
        print(f"{name:<32} median {median:8.1f} µs   p99 {p99:8.1f} µs")
    now = START
    dues = [now + timedelta(seconds=random.randrange(30 * 24 * 3600)) for _ in range(100_000)]
    began = time.perf_counter()
    job = BusinessCalendar(rules(), "Asia/Shanghai")
    for due in dues:
        job.between(now, due)
    print(f"{'time left of 100,000 tickets':<32} {time.perf_counter() - began:8.3f} s (one calendar for the pass)")


if __name__ == "__main__":
    main()
