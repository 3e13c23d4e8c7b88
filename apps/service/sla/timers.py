"""The scheduled job `service.sla_timers`, every minute: for each ticket whose `next_sla_check_at` has
come (an indexed range read: tickets with nothing due cost nothing),

- a target's warning instant passed: warn the partner's dispatchers and the ticket's engineer, once;
- a target's due instant passed: mark it missed (the breached flag, a timeline entry and the outbox
  event `service.ticket.sla_breached`) and escalate to the manufacturer's service managers.

Rows are taken FOR UPDATE SKIP LOCKED in batches, each batch in a transaction of its own, so two runs at
once never handle one ticket twice; the flags are committed with the notices they caused, so a run
repeated after a failure sends nothing twice. (The notices carry no dedup key: the flags already make
them once, and the key's look-up would be one more round trip per notice.)"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.models import Ticket, TicketEvent
from apps.service.objects import PARTNER_TICKET
from apps.service.sla.clock import RESOLUTION_RUNNING, RESPONSE_RUNNING, next_check
from apps.service.sla.notices import BREACHED, WARNING
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership
from interconnect.notices import recipient
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.identity.models import InternalUser, Tenant
from portal.notifications.service import Recipient
from portal.outbox import publish
from portal.schedules import ScheduledJob, for_each_tenant
from portal.services import Services
from roles.casbin_model import ROLE_PREFIX, USER_PREFIX
from roles.models import PolicyRule
from roles.policy import RolePolicy
from roles.presets import SERVICE_MANAGER

BATCH = 500
TARGETS = ("response", "resolution")


class _People:
    """Who hears about one tenant's tickets in this run: read once per enterprise, once per tenant."""

    def __init__(self, services: Services, session: AsyncSession, tenant: Tenant) -> None:
        self.services, self.session, self.tenant = services, session, tenant
        self._partners: dict[uuid.UUID, list[tuple[Membership, ExternalIdentity, bool]]] = {}
        self._managers: list[Recipient] | None = None

    async def partner(self, link_id: uuid.UUID) -> list[tuple[Membership, ExternalIdentity, bool]]:
        """The enterprise's active people, each with whether their roles let them accept its tickets."""
        if link_id not in self._partners:
            link = await self.session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == link_id))
            rows: list[tuple[Membership, ExternalIdentity]] = []
            if link is not None and link.status == "active":
                rows = [
                    (m, i)
                    for m, i in await self.session.execute(
                        select(Membership, ExternalIdentity)
                        .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
                        .where(Membership.link_id == link_id, Membership.status == "active")
                    )
                ]
            policy = self.services.permissions
            assert isinstance(policy, RolePolicy)
            compiled = await policy.compiled(self.session, self.tenant.id, self.tenant.policy_version)
            held = await policy.roles_of(self.session, [m.id for m, _i in rows])
            self._partners[link_id] = [(m, i, compiled.allows(held[m.id], (PARTNER_TICKET, "accept"))) for m, i in rows]
        return self._partners[link_id]

    async def managers(self) -> list[Recipient]:
        """The staff holding the service manager role."""
        if self._managers is None:
            self._managers = await service_managers(self.session, self.tenant)
        return self._managers


async def service_managers(session: AsyncSession, tenant: Tenant) -> list[Recipient]:
    """The tenant's active staff holding the service manager role, as notices reach them."""
    subjects = await session.scalars(
        select(PolicyRule.v0).where(PolicyRule.ptype == "g", PolicyRule.v1 == ROLE_PREFIX + SERVICE_MANAGER)
    )
    ids = [uuid.UUID(s.removeprefix(USER_PREFIX)) for s in subjects if s.startswith(USER_PREFIX)]
    if not ids:
        return []
    users = await session.scalars(select(InternalUser).where(InternalUser.id.in_(ids), InternalUser.status == "active"))
    return [
        Recipient("internal", u.id, u.display_name, u.email, None, u.locale or tenant.default_locale) for u in users
    ]


def _due(ticket: Ticket, target: str) -> tuple[bool, datetime | None, datetime | None, bool, bool]:
    running = ticket.status in (RESPONSE_RUNNING if target == "response" else RESOLUTION_RUNNING)
    return (
        running,
        getattr(ticket, f"{target}_warn_at"),
        getattr(ticket, f"{target}_due_at"),
        getattr(ticket, f"{target}_warned"),
        getattr(ticket, f"{target}_breached"),
    )


# a notice to send once the batch's marks are written: recipient, kind, parameters
Notice = tuple[Recipient, str, dict[str, Any]]


async def _check(people: _People, ticket: Ticket, now: datetime, notices: list[Notice]) -> int:
    """Mark what has come due on one ticket, adding the notices it calls for to `notices`; how many
    warnings and breaches that made."""
    session = people.session
    done = 0
    params = {
        "workspace": people.tenant.name,
        "number": ticket.number,
        "product": ticket.product_name or ticket.type,
    }
    for target in TARGETS:
        running, warn_at, due_at, warned, breached = _due(ticket, target)
        if not running or due_at is None or breached:
            continue
        if due_at <= now:
            setattr(ticket, f"{target}_breached", True)
            setattr(ticket, f"{target}_warned", True)  # a warning after the fact helps nobody
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    action=f"sla_{target}",
                    from_status=ticket.status,
                    to_status=ticket.status,
                    actor_kind="system",
                    enterprise_id=ticket.enterprise_id,
                )
            )
            payload = {
                "ticket_id": ticket.id,
                "number": ticket.number,
                "target": target,
                "due_at": due_at,
                "status": ticket.status,
                "enterprise_id": ticket.enterprise_id,
            }
            publish(session, "service.ticket.sla_breached", "service.ticket", ticket.id, payload)
            notices += [
                (
                    person,
                    BREACHED,
                    {**params, "name": person.name, "target": target},
                )
                for person in await people.managers()
            ]
            done += 1
        elif warn_at is not None and not warned and warn_at <= now:
            setattr(ticket, f"{target}_warned", True)
            if ticket.enterprise_id is not None:
                for membership, identity, dispatcher in await people.partner(ticket.enterprise_id):
                    if not dispatcher and membership.id != ticket.engineer_id:
                        continue
                    notices.append(
                        (
                            recipient(membership, identity, people.tenant.default_locale),
                            WARNING,
                            {**params, "name": membership.display_name, "target": target, "due_at": due_at},
                        )
                    )
            done += 1
    ticket.next_sla_check_at = next_check(ticket)
    return done


async def check_tenant(services: Services, tenant_id: uuid.UUID, now: datetime) -> int:
    done = 0
    while True:
        async with services.db.session(tenant_context(tenant_id, channel="system")) as session:
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
            tickets = list(
                await session.scalars(
                    select(Ticket)
                    .where(Ticket.next_sla_check_at.is_not(None), Ticket.next_sla_check_at <= now)
                    .order_by(Ticket.next_sla_check_at)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True)
                )
            )
            people = _People(services, session, tenant)
            notices: list[Notice] = []
            for ticket in tickets:
                done += await _check(people, ticket, now, notices)
            await session.flush()  # the batch's marks in a few statements, before the notices' own
            for person, kind, params in notices:
                await services.notifications.notify(session, person, kind, params)
        if len(tickets) < BATCH:
            return done


async def sla_timers(services: Services, now: datetime | None = None) -> int:
    """One pass over every tenant: how many warnings and breaches it handled."""
    moment = now or utcnow()
    return await for_each_tenant(services, lambda tenant_id: check_tenant(services, tenant_id, moment))


SLA_TIMERS = ScheduledJob("service.sla_timers", sla_timers, every=timedelta(minutes=1))
