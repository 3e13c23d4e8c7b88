"""A service partner's engineers: the active people of an enterprise whose roles let them work on tickets
(the ones assigned to them, or the enterprise's). Dispatch and assignment accept no one else."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.objects import PARTNER_JOB, PARTNER_TICKET
from interconnect.models import EnterpriseLink, Membership
from portal.errors import ValidationFailed
from portal.i18n import N_
from roles.policy import RolePolicy

MAX_LISTED = 500


@dataclass(frozen=True, slots=True)
class Engineer:
    id: uuid.UUID  # the membership
    name: str


async def engineers_of(
    session: AsyncSession, policy: RolePolicy, tenant_id: uuid.UUID, enterprise_id: uuid.UUID
) -> list[Engineer]:
    """The enterprise's people who may work on a ticket assigned to them, by name."""
    members = list(
        await session.scalars(
            select(Membership)
            .where(Membership.link_id == enterprise_id, Membership.status == "active")
            .order_by(Membership.display_name)
            .limit(MAX_LISTED)
        )
    )
    held = await policy.roles_of(session, [m.id for m in members])
    compiled = policy.current(tenant_id)
    return [
        Engineer(m.id, m.display_name)
        for m in members
        if any(compiled.allows(held[m.id], (obj, "work")) for obj in (PARTNER_JOB, PARTNER_TICKET))
    ]


async def engineer(
    session: AsyncSession, policy: RolePolicy, tenant_id: uuid.UUID, enterprise_id: uuid.UUID, membership_id: uuid.UUID
) -> Engineer:
    """One engineer of the enterprise, or a 422 on `engineer_id`."""
    found = next(
        (e for e in await engineers_of(session, policy, tenant_id, enterprise_id) if e.id == membership_id), None
    )
    if found is None:
        raise ValidationFailed.single(
            "engineer_id", N_("is not an engineer of the enterprise the ticket is dispatched to"), "not_an_engineer"
        )
    return found


async def service_partner(session: AsyncSession, enterprise_id: uuid.UUID) -> EnterpriseLink:
    """An active partner enterprise to dispatch to, or a 422 on `enterprise_id`."""
    link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == enterprise_id))
    if link is None:
        raise ValidationFailed.single("enterprise_id", N_("No such partner enterprise"), "unknown")
    if link.status != "active":
        raise ValidationFailed.single("enterprise_id", N_("This partner enterprise is not active"), "inactive")
    return link
