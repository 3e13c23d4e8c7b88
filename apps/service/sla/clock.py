"""Each ticket's two service-level clocks, moved at its milestones (apps.service.workflow calls `started`
when a ticket is opened and `stepped` after every transition):

- response runs from each dispatch until the partner accepts (or hands it back);
- resolution runs from opening until resolved, standing still while the ticket is on hold or resolved
  (each such interval is a `TicketPause`); reopening resumes it.

Due and warning instants are business time on the tenant's calendar: the resolution's due instant is the
target plus the business time of every pause after the opening, so it moves when a pause ends. The
ticket's `next_sla_check_at` is the earliest instant still pending, which the timer job reads."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.models import Ticket, TicketPause
from apps.service.sla.policy import target_for, warning_percent
from portal.calendars.arithmetic import BusinessCalendar
from portal.calendars.service import business_calendar

RESPONSE_RUNNING = frozenset({"dispatched"})
RESOLUTION_RUNNING = frozenset({"new", "dispatched", "accepted", "on_the_way", "on_site"})
PAUSED = frozenset({"on_hold", "resolved", "confirmed", "closed"})


def _share(minutes: int, percent: int) -> timedelta:
    return timedelta(minutes=minutes) * percent / 100


def next_check(ticket: Ticket) -> datetime | None:
    """The earliest warning or due instant of a running clock whose target is not yet missed."""
    pending: list[datetime] = []
    for running, due, warn, warned, breached in (
        (
            ticket.status in RESPONSE_RUNNING,
            ticket.response_due_at,
            ticket.response_warn_at,
            ticket.response_warned,
            ticket.response_breached,
        ),
        (
            ticket.status in RESOLUTION_RUNNING,
            ticket.resolution_due_at,
            ticket.resolution_warn_at,
            ticket.resolution_warned,
            ticket.resolution_breached,
        ),
    ):
        if not running or due is None or breached:
            continue
        pending.append(due)
        if warn is not None and not warned:
            pending.append(warn)
    return min(pending, default=None)


async def started(session: AsyncSession, ticket: Ticket) -> None:
    """A new ticket: the tenant's targets for its priority and type, and the resolution clock running."""
    target = await target_for(session, ticket.priority, ticket.type)
    if target is None:  # a tenant whose targets were removed: the ticket is held to none
        return
    ticket.response_minutes, ticket.resolution_minutes = target.response_minutes, target.resolution_minutes
    calendar = await business_calendar(session)
    schedule_resolution(ticket, calendar, await warning_percent(session), timedelta())
    ticket.next_sla_check_at = next_check(ticket)


def schedule_resolution(ticket: Ticket, calendar: BusinessCalendar, percent: int, paused: timedelta) -> None:
    if ticket.resolution_minutes is None:
        return
    opened = ticket.created_at
    ticket.resolution_due_at = calendar.add(opened, timedelta(minutes=ticket.resolution_minutes) + paused)
    ticket.resolution_warn_at = calendar.add(opened, _share(ticket.resolution_minutes, percent) + paused)


# the actions that send the ticket to a partner, whose response clock then starts afresh
TO_A_PARTNER = frozenset({"dispatch", "reassign", "reopen"})


async def stepped(session: AsyncSession, ticket: Ticket, action: str, source: str, now: datetime) -> None:
    """After `action` moved the ticket from `source` to its status, at `now`."""
    if ticket.resolution_minutes is None or ticket.response_minutes is None:
        return
    target = ticket.status
    calendar: BusinessCalendar | None = None
    if action in TO_A_PARTNER:
        calendar = await business_calendar(session)
        percent = await warning_percent(session)
        ticket.response_due_at = calendar.add(now, timedelta(minutes=ticket.response_minutes))
        ticket.response_warn_at = calendar.add(now, _share(ticket.response_minutes, percent))
        ticket.response_warned = False
    if source in RESPONSE_RUNNING and target not in RESPONSE_RUNNING:
        late = ticket.response_due_at is not None and now > ticket.response_due_at
        if target == "accepted" and late:  # accepted after the target, before the timer job saw it
            ticket.response_breached = True
    if target in PAUSED and source not in PAUSED:
        session.add(TicketPause(ticket_id=ticket.id, started_at=now))
        if target == "resolved" and ticket.resolution_due_at is not None and now > ticket.resolution_due_at:
            ticket.resolution_breached = True
    if target in RESOLUTION_RUNNING and source in PAUSED:
        pauses = list(await session.scalars(select(TicketPause).where(TicketPause.ticket_id == ticket.id)))
        for pause in pauses:
            if pause.ended_at is None:
                pause.ended_at = now
        calendar = calendar or await business_calendar(session)
        paused = sum((calendar.between(p.started_at, p.ended_at or now) for p in pauses), timedelta())
        schedule_resolution(ticket, calendar, await warning_percent(session), paused)
    ticket.next_sla_check_at = next_check(ticket)


def left(ticket: Ticket, calendar: BusinessCalendar, now: datetime) -> tuple[timedelta | None, timedelta | None]:
    """Business time left on the response and resolution targets (negative: overdue by), None for a clock
    that is not running. On hold, the resolution's time left is what was left when it stopped."""
    response = None
    if ticket.status in RESPONSE_RUNNING and ticket.response_due_at is not None:
        response = calendar.between(now, ticket.response_due_at)
    resolution = None
    if ticket.resolution_due_at is not None:
        if ticket.status in RESOLUTION_RUNNING:
            resolution = calendar.between(now, ticket.resolution_due_at)
        elif ticket.status == "on_hold" and ticket.held_at is not None:
            resolution = calendar.between(ticket.held_at, ticket.resolution_due_at)
    return response, resolution
