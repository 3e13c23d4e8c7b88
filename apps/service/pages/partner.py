"""The partner portal's service pages (/p/{slug}/service/...).

- /service/tickets: the enterprise's tickets, for its dispatcher (accept or hand back, assign an engineer,
  the field steps too), with status filter, search, paging and XLSX export;
- /service/jobs: the engineer's own tickets, made for a phone: open ones first as cards, each with the
  next step as one big button;
- /service/dashboard: the enterprise's figures (apps.service.dashboards.partner);
- /service: whichever of the two the person may open (a dealer: the tickets it opened, apps.service.dealer).

Both lists and both ticket pages are the same code over the two ways to tickets ("partner.service.ticket"
and "partner.service.job"): each router names its own `tickets` provider."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from apps.service import lifecycle
from apps.service.controllers import JOB_ACTIONS, PARTNER_ACTIONS, xlsx
from apps.service.dependencies import JOB_DEPENDENCIES, PARTNER_DEPENDENCIES, TicketsDep
from apps.service.engineers import engineers_of
from apps.service.field.views import field_view
from apps.service.models import PRIORITIES
from apps.service.objects import PARTNER_DEALER_TICKET, PARTNER_JOB, PARTNER_TICKET
from apps.service.pages.shared import (
    PAGE_SIZE,
    RATINGS,
    SORT_LABELS,
    STATUS_FILTERS,
    day_of,
    done_message,
    page_helpers,
    run_action,
    sort_filter,
    status_filter,
    wanted_status,
    with_query,
)
from apps.service.tickets import TicketFilter, Tickets
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal.errors import PermissionDenied
from portal.http.deps import DB, CurrentActor
from portal.permissions import requires, signed_in
from portal.ui.forms import Form
from portal.ui.paging import page_number, paging
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]
# the two ways to tickets: (path under /service, object, the actions its pages offer)
WAYS = {"tickets": (PARTNER_TICKET, PARTNER_ACTIONS), "jobs": (PARTNER_JOB, JOB_ACTIONS)}


@get("/service", opt=signed_in("external"), include_in_schema=False)
async def service_home(request: AnyRequest, actor: CurrentActor, portal: CurrentPortal) -> Redirect:
    """The enterprise's tickets for whoever may read them, else the person's own, else (a dealer) the
    tickets the enterprise opened."""
    policy = policy_of(request)
    for way, (obj, _actions) in WAYS.items():
        if policy.allows(actor, (obj, "read")):
            return Redirect(portal.path(f"service/{way}"))
    if policy.allows(actor, (PARTNER_DEALER_TICKET, "read")):
        return Redirect(portal.path("service/opened"))
    raise PermissionDenied()


def _render(name: str, portal: PortalContext, way: str, status_code: int = 200, **values: Any) -> Template:
    return Template(
        f"service/portal/{name}.html",
        context={**portal.frame, **page_helpers(), "way": way, "base": portal.path(f"service/{way}"), **values},
        status_code=status_code,
    )


def _list_page(way: str) -> HTTPRouteHandler:
    obj, _actions = WAYS[way]

    async def handler(
        request: AnyRequest,
        actor: CurrentActor,
        portal: CurrentPortal,
        tickets: TicketsDep,
        status: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        priority: FromQuery[str | None] = None,
        breached: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
        opened_from: FromQuery[str | None] = None,
        opened_to: FromQuery[str | None] = None,
        rating: FromQuery[str | None] = None,
    ) -> Template:
        """`opened_from`, `opened_to` (days) and `rating` come from the dashboard's links."""
        chosen, wanted = _filters(status, q, priority, breached, sort, opened_from, opened_to, rating)
        number = page_number(page)
        rows, total = await tickets.page(wanted, PAGE_SIZE, (number - 1) * PAGE_SIZE)
        return _render(
            way,
            portal,
            way,
            rows=await tickets.out_many(rows),
            total=total,
            chosen=chosen,
            filters=STATUS_FILTERS,
            paging=paging(portal.path(f"service/{way}"), chosen, number, total, PAGE_SIZE, bare_first=True),
            may_export=way == "tickets" and policy_of(request).allows(actor, (obj, "export")),
            export=with_query(portal.path(f"service/{way}/export.xlsx"), chosen),
            sorts=SORT_LABELS,
            notice=done_message(done),
        )

    handler.__name__ = handler.__qualname__ = f"{way}_page"
    return get(f"/service/{way}", opt=requires(obj, "read"), include_in_schema=False)(handler)


@get("/service/tickets/export.xlsx", opt=requires(PARTNER_TICKET, "export"), include_in_schema=False)
async def export_tickets_page(
    tickets: TicketsDep,
    status: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    priority: FromQuery[str | None] = None,
    breached: FromQuery[str | None] = None,
    sort: FromQuery[str | None] = None,
    opened_from: FromQuery[str | None] = None,
    opened_to: FromQuery[str | None] = None,
    rating: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The same workbook as the API's: the enterprise's tickets as the list filters and orders them,
    without what the viewer may not see."""
    _chosen, wanted = _filters(status, q, priority, breached, sort, opened_from, opened_to, rating)
    columns, rows = await tickets.export_rows(wanted)
    return await xlsx("tickets", columns, rows)


def _filters(
    status: str | None,
    q: str | None,
    priority: str | None,
    breached: str | None,
    sort: str | None,
    opened_from: str | None = None,
    opened_to: str | None = None,
    rating: str | None = None,
) -> tuple[dict[str, str], TicketFilter]:
    """The list's filters as its links keep them and as the service takes them (a day or a rating that
    is not one is left out)."""
    first, last = day_of(opened_from), day_of(opened_to)
    chosen = {
        "status": status_filter(status),
        "q": (q or "").strip()[:40],
        "priority": priority if priority in PRIORITIES else "",
        "breached": "1" if breached else "",
        "sort": sort_filter(sort),
        "opened_from": first.isoformat() if first else "",
        "opened_to": last.isoformat() if last else "",
        "rating": rating if rating in RATINGS else "",
    }
    wanted = TicketFilter(
        status=wanted_status(chosen["status"]),
        search=chosen["q"] or None,
        priority=chosen["priority"] or None,
        breached=bool(chosen["breached"]),
        sort=chosen["sort"] or "newest",
        opened_from=first,
        opened_to=last,
        rating=int(chosen["rating"]) if chosen["rating"] else None,
    )
    return chosen, wanted


async def partner_ticket_page(
    request: AnyRequest,
    tickets: Tickets,
    portal: PortalContext,
    way: str,
    ticket_id: uuid.UUID,
    *,
    done: str | None = None,
    alert: str | None = None,
    failed: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    ticket = await tickets.out(await tickets.get(ticket_id))
    _obj, offered = WAYS[way]
    actions = [a for a in ticket["actions"] if a in offered]
    engineers = []
    if "assign" in actions and ticket["enterprise_id"] is not None:
        engineers = await engineers_of(
            tickets.session, policy_of(request), tickets.actor.tenant_id, uuid.UUID(str(ticket["enterprise_id"]))
        )
    return _render(
        "ticket",
        portal,
        way,
        status_code,
        field=await field_view(tickets, ticket, may_work=tickets.may("work")),
        ticket=ticket,
        actions=actions,
        engineers=engineers,
        notice=done_message(done),
        alert=alert,
        failed=failed,
        form=form or {},
        errors=errors or {},
    )


def _detail_page(way: str) -> HTTPRouteHandler:
    obj, _actions = WAYS[way]

    async def handler(
        request: AnyRequest,
        ticket_id: FromPath[uuid.UUID],
        portal: CurrentPortal,
        tickets: TicketsDep,
        done: FromQuery[str | None] = None,
    ) -> Template:
        """A ticket of the actor's scope; any other (another enterprise's) is not found."""
        return await partner_ticket_page(request, tickets, portal, way, ticket_id, done=done)

    handler.__name__ = handler.__qualname__ = f"{way}_ticket_page"
    return get(f"/service/{way}/{{ticket_id:uuid}}", opt=requires(obj, "read"), include_in_schema=False)(handler)


def _action_page(way: str, action: str) -> HTTPRouteHandler:
    obj, _actions = WAYS[way]
    permission = lifecycle.PERMISSIONS[action][1]
    assert permission is not None

    async def handler(
        request: AnyRequest,
        ticket_id: FromPath[uuid.UUID],
        data: Form,
        db: DB,
        portal: CurrentPortal,
        tickets: TicketsDep,
    ) -> Template | Redirect:
        async def render(**values: Any) -> Template:
            return await partner_ticket_page(request, tickets, portal, way, ticket_id, **values)

        def done() -> Redirect:
            # handed back, the ticket is no longer the enterprise's: back to the list
            if action == "reject":
                return Redirect(portal.path(f"service/{way}?done=reject"))
            return Redirect(portal.path(f"service/{way}/{ticket_id}?done={action}"))

        return await run_action(db, tickets, ticket_id, action, data, render, done)

    handler.__name__ = handler.__qualname__ = f"{way}_{action}_page"
    return post(f"/service/{way}/{{ticket_id:uuid}}/{action}", opt=requires(obj, permission), include_in_schema=False)(
        handler
    )


PARTNER_PAGES: list[Any] = [
    partner_portal_router(
        [
            service_home,
            _list_page("tickets"),
            export_tickets_page,
            _detail_page("tickets"),
            *(_action_page("tickets", action) for action in PARTNER_ACTIONS),
        ],
        dependencies=PARTNER_DEPENDENCIES,
    ),
    partner_portal_router(
        [_list_page("jobs"), _detail_page("jobs"), *(_action_page("jobs", action) for action in JOB_ACTIONS)],
        dependencies=JOB_DEPENDENCIES,
    ),
]
