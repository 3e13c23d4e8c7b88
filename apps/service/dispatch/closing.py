"""After the work: the customer's rating request and the automatic closing of unconfirmed tickets.

- On `service.ticket.resolve` (the subscriber `service.rating_request`), the ticket's contact gets the
  ticket's signed progress link by email and SMS (whichever are configured and given) to confirm and rate
  the work. A ticket opened by staff or through the API has no link yet: it is given one here. The event
  id makes the notice once however often the event is delivered.
- The scheduled job `service.auto_close` (every 15 minutes) closes the tickets resolved more than the
  tenant's `auto_close_days` ago that the customer has not confirmed: the state machine's `close`, made by
  the tenant's automation (on the timeline without a person, audited, published like any other), 500
  tickets a transaction, taken FOR UPDATE SKIP LOCKED so two runs at once never close one twice."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from apps.service import lifecycle, workflow
from apps.service.models import ServiceSettings, Ticket
from apps.service.objects import TICKET
from apps.service.public import PROGRESS_LIFETIME, PublicService
from apps.service.tickets import Tickets
from portal.actor import Actor
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.notifications.kinds import NotificationKind
from portal.notifications.service import Recipient
from portal.outbox import Event, Subscriber
from portal.schedules import ScheduledJob, for_each_tenant
from roles.policy import RolePolicy

if TYPE_CHECKING:
    from portal.services import Services

RATING_REQUEST = "service.rating_request"
BATCH = 500
KINDS = (
    NotificationKind(
        RATING_REQUEST,
        N_("Service request resolved: confirm and rate the work"),
        "service/notifications/rating_request",
        frozenset({"customer"}),
        security=True,  # a customer has no preferences to turn it off with: it goes where it can
        sample={"name": "Ms Wang", "workspace": "Acme Pumps", "number": "T000123", "product": "Centrifugal pump"},
    ),
)


def system_actor(tenant: Tenant) -> Actor:
    """The tenant's own automation: the timeline names no person."""
    return Actor(
        user_id=uuid.UUID(int=0),
        tenant_id=tenant.id,
        kind="system",
        channel="system",
        time_zone=tenant.time_zone,
        tenant_slug=tenant.slug,
        tenant_name=tenant.name,
    )


def _desk(services: Services) -> PublicService:
    return PublicService(
        services.accounts.guard, services.settings.secret_key, services.notifications, services.settings.base_url
    )


async def _rating_request(services: Services, event: Event) -> None:
    async with services.db.session(tenant_context(event.tenant_id, channel="system")) as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.id == event.aggregate_id))
        if ticket is None or ticket.status != "resolved" or ticket.rating is not None:
            return  # confirmed, reopened or closed meanwhile
        if not (ticket.contact_email or ticket.contact_phone):
            return
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == event.tenant_id))).one()
        now = utcnow()
        if ticket.progress_nonce is None:
            ticket.progress_nonce = secrets.token_hex(16)
        if ticket.progress_expires_at is None or ticket.progress_expires_at < now + timedelta(days=30):
            ticket.progress_expires_at = now + PROGRESS_LIFETIME
        await session.flush()
        desk = _desk(services)
        person = Recipient(
            "customer",
            ticket.id,
            ticket.contact_name,
            ticket.contact_email,
            ticket.contact_phone,
            tenant.default_locale,
        )
        params = {
            "name": ticket.contact_name,
            "number": ticket.number,
            "product": ticket.product_name or "",
            "workspace": tenant.name,
        }
        await services.notifications.notify(
            session,
            person,
            RATING_REQUEST,
            params,
            link=f"{desk.base_url}/service/t/{desk.progress_link(ticket)}",
            link_expires_at=ticket.progress_expires_at,
            dedup_key=f"{event.id.hex}:{RATING_REQUEST}",
        )


SUBSCRIBERS = (
    Subscriber(
        "service.rating_request",
        lambda event_type: event_type == "service.ticket.resolve",
        _rating_request,
        label=N_("Rating requests to customers"),
    ),
)


async def close_tenant(services: Services, tenant_id: uuid.UUID, now: datetime) -> int:
    """Close the tenant's unconfirmed tickets resolved more than its `auto_close_days` ago."""
    closed = 0
    step = lifecycle.STEPS[("resolved", "close")]
    while True:
        async with services.db.session(tenant_context(tenant_id, channel="system")) as session:
            days = await session.scalar(select(ServiceSettings.auto_close_days))
            if days is None:
                return closed
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
            tickets = list(
                await session.scalars(
                    select(Ticket)
                    .where(Ticket.status == "resolved", Ticket.resolved_at <= now - timedelta(days=days))
                    .order_by(Ticket.resolved_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            policy = services.permissions
            assert isinstance(policy, RolePolicy)
            system = Tickets(session, policy, system_actor(tenant), TICKET)
            for ticket in tickets:
                await workflow.apply(system, ticket, step, None, {})
                closed += 1
        if len(tickets) < BATCH:
            return closed


async def auto_close(services: Services, now: datetime | None = None) -> int:
    """One pass over every tenant: how many tickets it closed."""
    moment = now or utcnow()
    return await for_each_tenant(services, lambda tenant_id: close_tenant(services, tenant_id, moment))


AUTO_CLOSE = ScheduledJob("service.auto_close", auto_close, every=timedelta(minutes=15))
