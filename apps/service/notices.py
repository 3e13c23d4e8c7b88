"""Ticket notices to the partner's people (portal.notifications), sent by the service app's own subscriber
on its outbox events:

- service.ticket.dispatch / reassign / reopen → "dispatched to your enterprise", to the people of the
  enterprise whose roles let them accept it (its dispatchers);
- service.ticket.assign, and a dispatch naming the engineer → "assigned to you", to the engineer.

A notice goes only while the ticket is still where the event put it, and the event id makes it once per
person however often the event is delivered."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from apps.service.models import Ticket
from apps.service.objects import PARTNER_TICKET
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership
from interconnect.notices import recipient
from portal.db.context import tenant_context
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.notifications.kinds import NotificationKind
from portal.outbox import Event, Subscriber
from roles.policy import RolePolicy

if TYPE_CHECKING:
    from portal.services import Services

DISPATCHED = "service.ticket_dispatched"
ASSIGNED = "service.ticket_assigned"
PARTNERS = frozenset({"external"})
SAMPLE = {"name": "Li Wei", "workspace": "Acme Pumps", "number": "T000123", "product": "Centrifugal pump"}

KINDS = (
    NotificationKind(
        DISPATCHED,
        N_("Service ticket dispatched to the enterprise"),
        "service/notifications/dispatched",
        PARTNERS,
        sample={**SAMPLE, "enterprise": "FixIt Services"},
    ),
    NotificationKind(
        ASSIGNED, N_("Service ticket assigned to me"), "service/notifications/assigned", PARTNERS, sample=SAMPLE
    ),
)
# To the customer who opened a ticket on a device's page: the progress link (email and SMS only).
CUSTOMER_REQUEST = "service.customer_request"
CUSTOMER_KINDS = (
    NotificationKind(
        CUSTOMER_REQUEST,
        N_("Service request received, with its progress link"),
        "service/notifications/customer_request",
        frozenset({"customer"}),
        security=True,  # a customer has no preferences to turn it off with: it goes where it can
        sample={**SAMPLE, "name": "Ms Wang"},
    ),
)
TO_DISPATCHERS = frozenset({"service.ticket.dispatch", "service.ticket.reassign", "service.ticket.reopen"})
TO_ENGINEER = frozenset({"service.ticket.dispatch", "service.ticket.reassign", "service.ticket.assign"})


def _id(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


async def _ticket_notice(services: Services, event: Event) -> None:
    enterprise_id, engineer_id = _id(event.payload.get("enterprise_id")), _id(event.payload.get("engineer_id"))
    if enterprise_id is None:
        return
    async with services.db.session(tenant_context(event.tenant_id, channel="system")) as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.id == event.aggregate_id))
        if ticket is None or ticket.enterprise_id != enterprise_id:
            return  # handed back or sent elsewhere meanwhile
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == event.tenant_id))).one()
        link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == enterprise_id))
        if link is None or link.status != "active":
            return
        rows = (
            await session.execute(
                select(Membership, ExternalIdentity)
                .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
                .where(Membership.link_id == enterprise_id, Membership.status == "active")
            )
        ).all()
        people: list[tuple[str, Membership, ExternalIdentity]] = []
        if event.event_type in TO_DISPATCHERS:
            policy = services.permissions
            assert isinstance(policy, RolePolicy)
            compiled = await policy.compiled(session, tenant.id, tenant.policy_version)
            held = await policy.roles_of(session, [m.id for m, _i in rows])
            people += [(DISPATCHED, m, i) for m, i in rows if compiled.allows(held[m.id], (PARTNER_TICKET, "accept"))]
        if event.event_type in TO_ENGINEER and engineer_id is not None and ticket.engineer_id == engineer_id:
            people += [(ASSIGNED, m, i) for m, i in rows if m.id == engineer_id]
        params = {
            "workspace": tenant.name,
            "number": ticket.number,
            "product": ticket.product_name or ticket.type,
            "enterprise": link.name,
        }
        for kind, membership, identity in people:
            await services.notifications.notify(
                session,
                recipient(membership, identity, tenant.default_locale),
                kind,
                {**params, "name": membership.display_name},
                dedup_key=f"{event.id.hex}:{kind}:{membership.id.hex}",
            )


SUBSCRIBERS = (
    Subscriber(
        "service.ticket_notices",
        lambda event_type: event_type in TO_DISPATCHERS | TO_ENGINEER,
        _ticket_notice,
        label=N_("Service ticket notices to partners"),
    ),
)
