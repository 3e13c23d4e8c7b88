"""Working hours as people write them ("09:00-12:00") and as the arithmetic reads them: intervals of
minutes from local midnight, [start, end), with 24:00 the end of the day."""

from __future__ import annotations

import re

Interval = tuple[int, int]
DAY_MINUTES = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"(\d{1,2}):(\d{2})")


def minute_of(text: str) -> int | None:
    """Minutes from midnight of "HH:MM" (00:00 to 24:00), or None when it is not such a time."""
    match = _TIME.fullmatch(text.strip())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def time_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def interval_text(interval: Interval) -> str:
    return f"{time_text(interval[0])}-{time_text(interval[1])}"
