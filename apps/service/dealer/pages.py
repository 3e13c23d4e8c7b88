"""The dealer's service page in the partner portal (/p/{slug}/service/opened): a form to open a ticket for a
device the enterprise sold (or for none, with the customer's address) and the tickets it opened with their
progress; each ticket's own page shows its steps. The same service as the API; a refusal shows the form
again with every mistake under its field."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from apps.service.dealer.api import DEALER_DEPENDENCIES, DealerTicketsDep
from apps.service.dealer.tickets import DealerTicketIn, DealerTickets
from apps.service.objects import PARTNER_DEALER_TICKET
from apps.service.pages.shared import PAGE_SIZE, page_helpers, regions, status_filter, text, wanted_status
from apps.service.public import CUSTOMER_ACTION, CUSTOMER_STATUS
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal.errors import DomainError, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form, uuid_or_none
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

AnyRequest = Request[Any, Any, Any]
FIELDS = (
    "type",
    "priority",
    "serial_number",
    "symptoms",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "region_id",
)
OPENED = N_("The ticket is opened: the manufacturer sends a service partner.")


def _step_text(step: dict[str, Any]) -> str:
    return gettext(CUSTOMER_ACTION.get(step["action"]) or CUSTOMER_STATUS[step["status"]])


def _status_text(status: str) -> str:
    return gettext(CUSTOMER_STATUS[status])


async def _list_view(
    dealer_tickets: DealerTickets,
    portal: PortalContext,
    *,
    status: str | None = None,
    q: str | None = None,
    page: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Template:
    chosen = {"status": status_filter(status), "q": (q or "").strip()[:40]}
    number = page_number(page)
    rows, total = await dealer_tickets.page(
        wanted_status(chosen["status"]), chosen["q"] or None, PAGE_SIZE, (number - 1) * PAGE_SIZE
    )
    base = portal.path("service/opened")
    may_open = dealer_tickets.may("create")
    return Template(
        "service/portal/opened.html",
        context={
            **portal.frame,
            **page_helpers(),
            "base": base,
            "rows": await dealer_tickets.out_many(rows),
            "total": total,
            "chosen": chosen,
            "paging": paging(base, chosen, number, total, PAGE_SIZE, bare_first=True),
            "status_text": _status_text,
            "may_open": may_open,
            "devices": await dealer_tickets.devices_sold() if may_open else [],
            "regions": await regions(dealer_tickets.session) if may_open else [],
            "form": form or {"type": "repair", "priority": "normal"},
            "errors": errors or {},
            "alert": alert,
        },
        status_code=status_code,
    )


@get("/service/opened", opt=requires(PARTNER_DEALER_TICKET, "read"), include_in_schema=False)
async def opened_page(
    dealer_tickets: DealerTicketsDep,
    portal: CurrentPortal,
    status: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    serial: FromQuery[str | None] = None,
) -> Template:
    """`serial`: the form starts with that device (a link from a device the dealer looks at)."""
    form = {"type": "repair", "priority": "normal", "serial_number": (serial or "").strip()[:80]}
    return await _list_view(dealer_tickets, portal, status=status, q=q, page=page, form=form)


@post("/service/opened", opt=requires(PARTNER_DEALER_TICKET, "create"), include_in_schema=False)
async def open_page(data: Form, db: DB, dealer_tickets: DealerTicketsDep, portal: CurrentPortal) -> Template | Redirect:
    form = {name: text(data, name) for name in FIELDS}
    try:
        async with db.begin_nested():
            _opened, ticket = await dealer_tickets.open(
                DealerTicketIn(
                    type=form["type"],
                    symptoms=form["symptoms"],
                    contact_name=form["contact_name"],
                    contact_phone=form["contact_phone"],
                    priority=form["priority"] or "normal",
                    serial_number=form["serial_number"] or None,
                    address=form["address"] or None,
                    region_id=uuid_or_none(form["region_id"]),
                    contact_email=form["contact_email"] or None,
                )
            )
    except DomainError as error:
        errors = field_errors(error) if isinstance(error, ValidationFailed) else {}
        return await _list_view(
            dealer_tickets, portal, form=form, errors=errors, alert=refusal_of(error), status_code=error.status
        )
    return Redirect(portal.path(f"service/opened/{ticket.id}?done=opened"))


@get("/service/opened/{ticket_id:uuid}", opt=requires(PARTNER_DEALER_TICKET, "read"), include_in_schema=False)
async def opened_ticket_page(
    ticket_id: FromPath[uuid.UUID],
    dealer_tickets: DealerTicketsDep,
    portal: CurrentPortal,
    done: FromQuery[str | None] = None,
) -> Template:
    """A ticket the enterprise opened; any other is not found."""
    opened, ticket = await dealer_tickets.get(ticket_id)
    found = await dealer_tickets.out(opened, ticket)
    return Template(
        "service/portal/opened_ticket.html",
        context={
            **portal.frame,
            **page_helpers(),
            "base": portal.path("service/opened"),
            "ticket": found,
            "status_now": _status_text(found["status"]),
            "steps": [(step["at"], _step_text(step)) for step in found["progress"]],
            "notice": gettext(OPENED) if done == "opened" else None,
        },
    )


DEALER_PAGES: list[Any] = [
    partner_portal_router([opened_page, open_page, opened_ticket_page], dependencies=DEALER_DEPENDENCIES)
]
