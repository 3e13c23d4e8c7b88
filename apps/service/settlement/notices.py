"""A settlement's notices (the inbox, and email, SMS as each person's preferences say), sent by the
settlement's own subscriber, once per person however often an event is delivered:

- `service.settlement.created`: to the people of the enterprise whose roles let them dispute it (its
  dispatchers): they have it to review, while it is still in review;
- `service.settlement.disputed`: to the manufacturer's service managers, while the line's dispute is still
  open: it waits for their answer before the settlement can be approved;
- `service.settlement.answered`: back to the partner's dispatchers, with the decision (adjusted or
  rejected)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.objects import PARTNER_SETTLEMENT
from apps.service.settlement.models import Settlement, SettlementLine
from apps.service.sla.timers import service_managers
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership
from interconnect.notices import recipient
from portal.db.context import tenant_context
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.notifications.kinds import NotificationKind
from portal.outbox import Event, Subscriber
from portal.ui.numbers import money
from roles.policy import RolePolicy

if TYPE_CHECKING:
    from portal.services import Services

READY = "service.settlement_ready"
DISPUTED = "service.settlement_disputed"
ANSWERED = "service.settlement_answered"
_SAMPLE = {"name": "Li Wei", "workspace": "Acme Pumps", "number": "S000012", "total": "1,250.00"}
KINDS = (
    NotificationKind(
        READY,
        N_("Service settlement to review"),
        "service/notifications/settlement_ready",
        frozenset({"external"}),
        sample=_SAMPLE,
    ),
    NotificationKind(
        DISPUTED,
        N_("A partner disputed a service settlement line"),
        "service/notifications/settlement_disputed",
        frozenset({"internal"}),
        sample={**_SAMPLE, "partner": "FixIt Services", "ticket": "T000123", "reason": "Two seal kits were fitted"},
    ),
    NotificationKind(
        ANSWERED,
        N_("The manufacturer answered a disputed settlement line"),
        "service/notifications/settlement_answered",
        frozenset({"external"}),
        sample={**_SAMPLE, "ticket": "T000123", "decision": "adjusted", "answer": "Second kit added"},
    ),
)


async def _notice(services: Services, event: Event) -> None:
    async with services.db.session(tenant_context(event.tenant_id, channel="system")) as session:
        settlement = await session.scalar(select(Settlement).where(Settlement.id == event.aggregate_id))
        if settlement is None or settlement.enterprise_id is None:
            return
        link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == settlement.enterprise_id))
        if link is None:
            return
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == event.tenant_id))).one()
        params = {"workspace": tenant.name, "number": settlement.number, "total": money(settlement.total)}
        line = None
        if event.event_type != CREATED:
            line = await session.scalar(
                select(SettlementLine).where(
                    SettlementLine.settlement_id == settlement.id,
                    SettlementLine.ticket_number == str(event.payload.get("ticket_number")),
                )
            )
            if line is None:
                return
            params["ticket"] = line.ticket_number
        if event.event_type == DISPUTED_EVENT:
            if line is None or line.dispute != "open":
                return  # answered meanwhile: nothing waits for the managers any more
            params.update(partner=link.name, reason=line.dispute_reason or "")
            for person in await service_managers(session, tenant):
                await services.notifications.notify(
                    session,
                    person,
                    DISPUTED,
                    {**params, "name": person.name},
                    dedup_key=f"{event.id.hex}:{DISPUTED}:{person.id.hex}",
                )
            return
        if link.status != "active":
            return
        if event.event_type == CREATED:
            if settlement.status != "review":
                return
            kind = READY
        else:
            assert line is not None
            kind = ANSWERED
            params.update(decision=str(event.payload.get("decision") or line.dispute), answer=line.answer or "")
        for membership, identity in await _dispatchers(services, session, tenant, link.id):
            await services.notifications.notify(
                session,
                recipient(membership, identity, tenant.default_locale),
                kind,
                {**params, "name": membership.display_name},
                dedup_key=f"{event.id.hex}:{kind}:{membership.id.hex}",
            )


async def _dispatchers(
    services: Services, session: AsyncSession, tenant: Tenant, link_id: uuid.UUID
) -> list[tuple[Membership, ExternalIdentity]]:
    """The enterprise's active people whose roles let them dispute its settlements."""
    rows = (
        await session.execute(
            select(Membership, ExternalIdentity)
            .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
            .where(Membership.link_id == link_id, Membership.status == "active")
        )
    ).all()
    policy = services.permissions
    assert isinstance(policy, RolePolicy)
    compiled = await policy.compiled(session, tenant.id, tenant.policy_version)
    held: dict[uuid.UUID, frozenset[str]] = await policy.roles_of(session, [m.id for m, _i in rows])
    return [(m, i) for m, i in rows if compiled.allows(held[m.id], (PARTNER_SETTLEMENT, "dispute"))]


CREATED = "service.settlement.created"
DISPUTED_EVENT = "service.settlement.disputed"
ANSWERED_EVENT = "service.settlement.answered"
EVENTS = frozenset({CREATED, DISPUTED_EVENT, ANSWERED_EVENT})

SUBSCRIBERS = (
    Subscriber(
        "service.settlement_notices",
        lambda event_type: event_type in EVENTS,
        _notice,
        label=N_("Service settlement notices"),
    ),
)
