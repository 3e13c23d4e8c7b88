"""The console's service dashboards (/console/service/dashboards): each figure a bar chart of the UI kit
(portal.ui.charts), each bar a link to the ticket list filtered to the tickets it counts."""

from __future__ import annotations

from typing import Any

from litestar import Router, get
from litestar.params import FromQuery
from litestar.response import Template

from apps.service import lifecycle
from apps.service.dashboards.figures import PERIODS, Figures, figures
from apps.service.dependencies import STAFF_DEPENDENCIES, TicketsDep
from apps.service.objects import TICKET
from apps.service.pages.shared import page_helpers, service_label, with_query
from portal.i18n import gettext
from portal.permissions import requires
from portal.ui.charts import Chart, Point, bar_chart

DASHBOARDS = "/console/service/dashboards"
TICKETS = "/console/service/tickets"


def _short(name: str) -> str:
    return name if len(name) <= 12 else f"{name[:11]}…"


def charts(found: Figures, tickets_path: str = TICKETS, *, name_partner: bool = True) -> dict[str, Any]:
    """The page's charts and the per-partner compliance rows, with the links of each bar to the ticket
    list at `tickets_path`. `name_partner` False (a partner's own dashboard): the list is the partner's,
    so the links name no partner."""

    def _list(partner: Any = None, **values: Any) -> str:
        return with_query(tickets_path, {**values, "partner": partner if name_partner else None})

    period = found.period
    since = {"opened_from": period.start.isoformat(), "opened_to": period.end.isoformat(), "status": "all"}
    by_status = bar_chart(
        [
            Point(service_label("status", s), found.open_by_status.get(s, 0), href=_list(status=s))
            for s in lifecycle.OPEN
        ]
    )
    by_partner = bar_chart(
        [
            Point(
                _short(name or gettext("Not dispatched yet")),
                n,
                title=name or gettext("Not dispatched yet"),
                href=_list(status="open", partner=key) if key else _list(status="new"),
            )
            for key, name, n in found.open_by_partner
        ]
    )
    compliance: list[tuple[str, str, Chart, str]] = []
    for key, name in found.partners:
        buckets = found.compliance.get(key, [])
        points = []
        total = missed = 0
        for index, (count, breached) in enumerate(buckets):
            first, last = period.bucket(index)
            total, missed = total + count, missed + breached
            share = 100 * (count - breached) / count if count else 0
            points.append(
                Point(
                    first.strftime("%m-%d"),
                    share,
                    shown=f"{share:.0f}%" if count else "—",
                    title=f"{first.isoformat()} to {last.isoformat()} ({count})",
                    href=_list(partner=key, status="all", opened_from=first.isoformat(), opened_to=last.isoformat())
                    if count
                    else None,
                )
            )
        overall = f"{100 * (total - missed) / total:.0f}%" if total else "—"
        breached_link = _list(partner=key, breached="1", **since)
        compliance.append((name, overall, bar_chart(points, peak=100), breached_link))
    hours = [
        (
            name,
            found.respond_hours.get(key),
            found.resolve_hours.get(key),
            _list(partner=key, **since),
        )
        for key, name in found.partners
    ]
    respond = bar_chart([Point(_short(n), r or 0, shown=_hours(r), title=n, href=link) for n, r, _s, link in hours])
    resolve = bar_chart([Point(_short(n), s or 0, shown=_hours(s), title=n, href=link) for n, _r, s, link in hours])
    ratings = bar_chart(
        [Point("★" * r, found.ratings.get(r, 0), title=f"{r}/5", href=_list(rating=r, **since)) for r in range(1, 6)]
    )
    return {
        "by_status": by_status,
        "by_partner": by_partner,
        "compliance": compliance,
        "respond": respond,
        "resolve": resolve,
        "ratings": ratings,
        "rated": sum(found.ratings.values()),
    }


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} h"


@get(DASHBOARDS, opt=requires(TICKET, "read"), include_in_schema=False)
async def dashboards_page(tickets: TicketsDep, days: FromQuery[str | None] = None) -> Template:
    """Within the viewer's data scope, as the ticket list: the figures count what its links list."""
    chosen = int(days) if days and days.isdigit() and int(days) in PERIODS else PERIODS[1]
    found = await figures(tickets, chosen)
    return Template(
        "service/console/dashboards.html",
        context={
            **page_helpers(),
            **charts(found),
            "period": found.period,
            "periods": PERIODS,
            "section": "dashboards",
        },
    )


DASHBOARD_PAGES: list[Any] = [Router(path="/", route_handlers=[dashboards_page], dependencies=STAFF_DEPENDENCIES)]
