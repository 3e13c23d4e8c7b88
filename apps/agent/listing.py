"""What the agent app's list pages share: a period typed as two dates (from, to: days where the tenant is),
the orders a list offers (a "sort" select, newest first by default) and the query values a list keeps in
its links, its pages (portal.ui.paging) and its XLSX export (portal.ui.downloads)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement

from portal import timezones
from portal.i18n import N_

SEARCH_LIMIT = 80  # characters of a search kept
EXPORT_LIMIT = 10_000  # rows an export writes


@dataclass(frozen=True, slots=True)
class Span:
    """The days chosen (as typed, when they are dates) and the instants they bound (UTC)."""

    start: date | None = None
    end: date | None = None
    since: datetime | None = None
    until: datetime | None = None  # the moment after the last day

    @property
    def query(self) -> dict[str, str]:
        return {
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
        }

    def where(self, column: Any) -> list[ColumnElement[bool]]:
        conditions = []
        if self.since is not None:
            conditions.append(column >= self.since)
        if self.until is not None:
            conditions.append(column < self.until)
        return conditions


NO_SPAN = Span()


def day(text: str | None) -> date | None:
    """A date as a list's filter takes it (YYYY-MM-DD); anything else is no filter."""
    try:
        return date.fromisoformat((text or "").strip()[:10]) if text else None
    except ValueError:
        return None


def span(start: str | date | None, end: str | date | None, time_zone: str) -> Span:
    """From the first day's start to the last day's end, in the tenant's zone; either may be open."""
    first = start if isinstance(start, date) else day(start)
    last = end if isinstance(end, date) else day(end)
    return Span(
        first,
        last,
        timezones.start_of_day(first, time_zone) if first else None,
        timezones.start_of_day(last, time_zone, days=1) if last else None,
    )


def search(text: str | None) -> str:
    return (text or "").strip()[:SEARCH_LIMIT]


@dataclass(frozen=True, slots=True)
class Sorts:
    """A list's orders: key -> (label, columns to order by). The first is the default."""

    orders: Mapping[str, tuple[str, Sequence[Any]]]

    @property
    def default(self) -> str:
        return next(iter(self.orders))

    def chosen(self, value: str | None) -> str:
        return value if value in self.orders else self.default

    def by(self, value: str | None) -> Sequence[Any]:
        return self.orders[self.chosen(value)][1]

    def labels(self) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _columns) in self.orders.items()]


NEWEST = N_("Newest first")
OLDEST = N_("Oldest first")


def with_query(path: str, values: Mapping[str, Any]) -> str:
    """A link to a list with its filters (empty ones left out)."""
    kept = {k: str(v) for k, v in values.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}" if kept else path
