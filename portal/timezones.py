"""Tenants' time zones: which names are accepted, and how a moment or a day is shown in one.

Timestamps are stored in UTC; pages show them in the tenant's zone, with the zone named, through the
`when` and `day` template filters (one place for every template of the console and the portal)."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from jinja2 import pass_context
from markupsafe import Markup, escape

from portal.errors import ValidationFailed
from portal.i18n import N_

DEFAULT_TIME_ZONE = "UTC"
# The zone a new tenant starts with when it names none: where most people of its language work.
LOCALE_TIME_ZONES = {"zh_CN": "Asia/Shanghai"}


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """IANA names a tenant may choose (the old aliases such as "PRC" or "US/Pacific" left out)."""
    regional = sorted(n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "US/")))
    return (*regional, "UTC")


def check_time_zone(name: str | None, locale: str | None = None, field: str = "time_zone") -> str:
    if name is None or not name.strip():
        return LOCALE_TIME_ZONES.get(locale or "", DEFAULT_TIME_ZONE)
    name = name.strip()
    if name not in time_zone_names():
        raise ValidationFailed.single(field, N_("is not a known time zone, e.g. Asia/Shanghai or UTC"), "invalid")
    return name


@functools.cache
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def local(moment: datetime, name: str) -> datetime:
    """A stored moment in the zone; a naive one (SQLite gives some back) is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(name))


def zone_label(moment: datetime) -> str:
    """The zone's abbreviation where it has one (CST, CET, UTC), else its name (Asia/Dubai, not "+04")."""
    abbreviation = moment.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    return str(moment.tzinfo)


def time_zone_of(context: Any) -> str:
    """The zone of the tenant whose pages these are: the signed-in person's tenant (staff or partner)."""
    request = context.get("request")
    actor = request.scope.get("user") if request is not None else None
    return getattr(actor, "time_zone", None) or DEFAULT_TIME_ZONE


@pass_context
def when(context: Any, moment: datetime | None, seconds: bool = False) -> Markup | str:
    """A moment as "2026-12-04 09:58 CST", the zone's full name on hover."""
    if moment is None:
        return ""
    name = time_zone_of(context)
    shown = local(moment, name)
    text = shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return Markup('<time datetime="{}" title="{}">{} {}</time>').format(
        shown.isoformat(), name, text, escape(zone_label(shown))
    )


@pass_context
def day(context: Any, value: datetime | date | None) -> str:
    """The tenant's local date of a moment (an order placed at 01:00 UTC is the 4th in Shanghai)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, time_zone_of(context)).date()
    return value.isoformat()


def moment_text(moment: datetime, name: str) -> str:
    """A moment as plain text in the zone, the zone named: "2026-12-04 09:58 CST" (exports, mails)."""
    shown = local(moment, name)
    return f"{shown:%Y-%m-%d %H:%M} {zone_label(shown)}"


def today(name: str) -> date:
    return datetime.now(UTC).astimezone(zone(name)).date()


def start_of_day(day: date, name: str, *, days: int = 0) -> datetime:
    """The moment (UTC) the day begins in the zone, `days` later: a filter "from day A to day B" where the
    tenant is reads created_at >= start_of_day(A) and < start_of_day(B, days=1)."""
    return datetime.combine(day + timedelta(days=days), time(), tzinfo=zone(name)).astimezone(UTC)
