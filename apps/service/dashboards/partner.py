"""A service partner's own dashboard in the portal (/p/{slug}/service/dashboard): the figures of the
console's dashboards (apps.service.dashboards.figures) over the tickets the person reaches as the
enterprise's ("partner.service.ticket", its data level: its own enterprise), so nothing of another partner
is counted; each bar and figure links to the enterprise's ticket list filtered to what it counts. Only for
roles that read the enterprise's tickets."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.params import FromQuery
from litestar.response import Template

from apps.service.dashboards.figures import PERIODS, figures
from apps.service.dashboards.pages import charts
from apps.service.dependencies import PARTNER_DEPENDENCIES, TicketsDep
from apps.service.objects import PARTNER_TICKET
from apps.service.pages.shared import page_helpers, with_query
from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from portal.permissions import requires


@get("/service/dashboard", opt=requires(PARTNER_TICKET, "read"), include_in_schema=False)
async def partner_dashboard_page(
    tickets: TicketsDep, portal: CurrentPortal, days: FromQuery[str | None] = None
) -> Template:
    chosen = int(days) if days and days.isdigit() and int(days) in PERIODS else PERIODS[1]
    found = await figures(tickets, chosen)
    list_path = portal.path("service/tickets")
    shown = charts(found, list_path, name_partner=False)
    period = found.period
    since = {"status": "all", "opened_from": period.start.isoformat(), "opened_to": period.end.isoformat()}
    own = found.partners[0][0] if found.partners else None
    respond = found.respond_hours.get(own) if own else None
    resolve = found.resolve_hours.get(own) if own else None
    return Template(
        "service/portal/dashboard.html",
        context={
            **portal.frame,
            **page_helpers(),
            **shown,
            "period": found.period,
            "periods": PERIODS,
            "base": portal.path("service/dashboard"),
            "tickets_link": list_path,
            "open_total": sum(found.open_by_status.values()),
            "open_link": with_query(list_path, {"status": "open"}),
            "respond": None if respond is None else f"{respond:.1f}",
            "resolve": None if resolve is None else f"{resolve:.1f}",
            "period_link": with_query(list_path, since),
        },
    )


PARTNER_DASHBOARD_PAGES: list[Any] = [
    partner_portal_router([partner_dashboard_page], dependencies=PARTNER_DEPENDENCIES)
]
