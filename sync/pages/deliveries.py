"""/console/deliveries: the overview (per subscriber, and the last 24 hours), the filtered list, one
delivery with its event and attempts, and the replay button. The same service as the API."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import DomainError
from portal.http.deps import CurrentActor
from portal.permissions import requires
from portal.timezones import zone
from portal.ui.paging import page_number, paging
from portal.ui.refusals import refusal_of
from sync.delivery.chart import chart_of
from sync.delivery.service import STATES, Filters, state_of
from sync.dependencies import DeliveriesDep
from sync.objects import DELIVERY

PAGE_SIZE = 50


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def _day(text: str | None, time_zone: str, *, end: bool = False) -> datetime | None:
    """A date typed in the filter (the tenant's local day) as the UTC moment it starts (or ends)."""
    try:
        day = datetime.strptime((text or "").strip(), "%Y-%m-%d").date()
    except ValueError:
        return None
    start = datetime.combine(day, time(), tzinfo=zone(time_zone))
    return start + timedelta(days=1) if end else start


@get("/console/deliveries", opt=requires(DELIVERY, "read"), include_in_schema=False)
async def overview_page(deliveries: DeliveriesDep, actor: CurrentActor) -> Template:
    overview = await deliveries.overview()
    return Template(
        "sync/deliveries/overview.html",
        context={"overview": overview, "chart": chart_of(overview.hours, actor.time_zone)},
    )


@get("/console/deliveries/list", opt=requires(DELIVERY, "read"), include_in_schema=False)
async def list_page(
    deliveries: DeliveriesDep,
    actor: CurrentActor,
    subscriber: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    event_type: FromQuery[str | None] = None,
    aggregate: FromQuery[str | None] = None,
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    """Filters in the query string, so a filtered list (say, one subscriber's dead deliveries) can be linked."""
    chosen: dict[str, Any] = {
        "subscriber": (subscriber or "").strip()[:60],
        "status": status if status in STATES else "",
        "event_type": (event_type or "").strip()[:100],
        "aggregate": str(_uuid(aggregate) or ""),
        "since": (since or "").strip()[:10] if _day(since, actor.time_zone) else "",
        "until": (until or "").strip()[:10] if _day(until, actor.time_zone) else "",
    }
    filters = Filters(
        chosen["subscriber"] or None,
        chosen["status"] or None,
        chosen["event_type"] or None,
        _uuid(chosen["aggregate"]),
        _day(chosen["since"], actor.time_zone),
        _day(chosen["until"], actor.time_zone, end=True),
    )
    number = page_number(page)
    rows, total = await deliveries.page(filters, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    return Template(
        "sync/deliveries/list.html",
        context={
            "rows": [(d, state_of(d)) for d in rows],
            "total": total,
            "chosen": chosen,
            "states": STATES,
            "subscribers": await deliveries.subscriber_names(),
            "event_types": await deliveries.event_types(),
            "paging": paging("/console/deliveries/list", chosen, number, total, PAGE_SIZE),
        },
    )


async def _detail(deliveries: DeliveriesDep, delivery_id: uuid.UUID, **extra: Any) -> Template:
    status_code = extra.pop("status_code", 200)
    detail = await deliveries.detail(delivery_id)
    return Template(
        "sync/deliveries/detail.html",
        context={"detail": detail, "state": state_of(detail.delivery), **extra},
        status_code=status_code,
    )


@get("/console/deliveries/{delivery_id:uuid}", opt=requires(DELIVERY, "read"), include_in_schema=False)
async def detail_page(
    delivery_id: FromPath[uuid.UUID], deliveries: DeliveriesDep, replayed: FromQuery[str | None] = None
) -> Template:
    return await _detail(deliveries, delivery_id, replayed=bool(replayed))


@post("/console/deliveries/{delivery_id:uuid}/replay", opt=requires(DELIVERY, "replay"), include_in_schema=False)
async def replay_page(delivery_id: FromPath[uuid.UUID], deliveries: DeliveriesDep) -> Template | Redirect:
    try:
        await deliveries.replay(delivery_id)
    except DomainError as error:
        if error.status == 404:
            raise
        return await _detail(deliveries, delivery_id, refusal=refusal_of(error), status_code=error.status)
    return Redirect(f"/console/deliveries/{delivery_id}?replayed=1")


DELIVERY_PAGES = [overview_page, list_page, detail_page, replay_page]
