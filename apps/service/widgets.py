"""The service app's widgets for a partner's home (portal.home): tickets waiting for the enterprise's
dispatcher and the engineer's open jobs, counted by the lists they link to."""

from __future__ import annotations

from apps.service.objects import PARTNER_JOB, PARTNER_TICKET
from apps.service.tickets import OPEN, TicketFilter, Tickets
from portal.home import HomeWidget, Tile, WidgetContext
from portal.i18n import N_
from roles.access import role_policy


async def _count(context: WidgetContext, obj: str, status: str) -> int:
    tickets = Tickets(context.session, role_policy(context.services), context.actor, obj)
    _rows, total = await tickets.page(TicketFilter(status=status), limit=1)
    return total


async def to_accept(context: WidgetContext) -> Tile:
    return Tile(
        page="service/tickets?status=dispatched",
        api="/api/partner/service/tickets?status=dispatched",
        value=await _count(context, PARTNER_TICKET, "dispatched"),
        caption=N_("dispatched to the enterprise, to accept or reject"),
    )


async def my_jobs(context: WidgetContext) -> Tile:
    return Tile(
        page=f"service/jobs?status={OPEN}",
        api=f"/api/partner/service/jobs?status={OPEN}",
        value=await _count(context, PARTNER_JOB, OPEN),
        caption=N_("open tickets assigned to you"),
    )


WIDGETS = (
    HomeWidget(
        "service.to_accept",
        N_("Tickets to accept"),
        N_("Tickets the manufacturer dispatched to the enterprise that it has not accepted yet."),
        "todo",
        (PARTNER_TICKET, "accept"),
        to_accept,
    ),
    HomeWidget(
        "service.my_jobs",
        N_("My service jobs"),
        N_("The open tickets assigned to the person as engineer."),
        "todo",
        (PARTNER_JOB, "read"),
        my_jobs,
    ),
)
