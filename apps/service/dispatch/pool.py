"""The open pool: new tickets staff put there wait for a service partner of their region to take one. A
partner sees the pool of its own region (its enterprise's region) when its roles let it accept tickets,
and takes a ticket with one conditional UPDATE (the ticket's status is the mapper's version column: the
UPDATE says `WHERE status = 'new'`), so of many takes at once exactly one goes through; the others are
refused, 409, with nothing written."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service import lifecycle, workflow
from apps.service.lifecycle import TicketChanged
from apps.service.models import Ticket, TicketEvent
from apps.service.tickets import Tickets
from interconnect.models import EnterpriseLink
from portal.db.types import utcnow
from portal.errors import Conflict, NotFound, PermissionDenied
from portal.i18n import N_


class AlreadyTaken(Conflict):
    code, title = "pool_ticket_taken", N_("Another partner took this ticket first")


async def region_of(session: AsyncSession, enterprise_id: uuid.UUID | None) -> uuid.UUID | None:
    if enterprise_id is None:
        return None
    return await session.scalar(
        select(EnterpriseLink.region_id).where(EnterpriseLink.id == enterprise_id, EnterpriseLink.status == "active")
    )


def _pooled(region_id: uuid.UUID) -> Select[tuple[Ticket]]:
    return select(Ticket).where(Ticket.pooled_at.is_not(None), Ticket.status == "new", Ticket.region_id == region_id)


async def pool(tickets: Tickets, limit: int = 50, offset: int = 0) -> tuple[list[Ticket], int]:
    """The tickets waiting in the pool of the actor's region, oldest first (none: no region, or a role
    that may not accept tickets)."""
    if not tickets.may("accept"):
        raise PermissionDenied()
    region = await region_of(tickets.session, tickets.actor.enterprise_id)
    if region is None:
        return [], 0
    query = _pooled(region)
    total = await tickets.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await tickets.session.scalars(query.order_by(Ticket.pooled_at, Ticket.id).limit(limit).offset(offset))
    return list(rows), total


async def take(tickets: Tickets, ticket_id: uuid.UUID) -> Ticket:
    """The actor's enterprise takes the ticket from its region's pool: it is accepted by that enterprise."""
    if not tickets.may("accept") or tickets.actor.enterprise_id is None:
        raise PermissionDenied()
    session = tickets.session
    region = await region_of(session, tickets.actor.enterprise_id)
    ticket = None
    if region is not None:
        ticket = await session.scalar(_pooled(region).where(Ticket.id == ticket_id))
    if ticket is None:
        await _gone(session, region, ticket_id)
    assert ticket is not None
    step = lifecycle.check(ticket, "take", tickets.actor)
    now = utcnow()
    changes = {
        "enterprise_id": tickets.actor.enterprise_id,
        "engineer_id": None,
        "engineer_name": None,
        "owner_id": workflow.owner_of_opener(ticket),
        "dispatched_at": now,
    }
    number = ticket.number  # read now: after a failed flush the row may not be read again
    try:
        return await workflow.apply(tickets, ticket, step, None, changes, enterprise_id=tickets.actor.enterprise_id)
    except TicketChanged:
        raise AlreadyTaken(N_("Another partner took ticket %(number)s first"), number=number) from None


async def _gone(session: AsyncSession, region: uuid.UUID | None, ticket_id: uuid.UUID) -> None:
    """Not in the pool: 409 if it was in this region's pool and someone took it (or staff took it back),
    else not found, as any ticket the actor may not see."""
    if region is not None:
        was_pooled = await session.scalar(
            select(
                exists().where(
                    Ticket.id == ticket_id,
                    Ticket.region_id == region,
                    exists().where(TicketEvent.ticket_id == Ticket.id, TicketEvent.action == "pool"),
                )
            )
        )
        if was_pooled:
            raise AlreadyTaken(N_("This ticket is no longer in the open pool: another partner took it first"))
    raise NotFound(N_("No such ticket in your region's open pool"))
