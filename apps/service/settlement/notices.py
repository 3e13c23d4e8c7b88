"""A settlement made for a partner reaches the inbox (and email, SMS, as their preferences say) of the
people of the enterprise whose roles let them dispute it: they have it to review. Sent by the settlement's
own subscriber on `service.settlement.created`, once per person however often the event is delivered, and
only while the settlement is still in review."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from apps.service.objects import PARTNER_SETTLEMENT
from apps.service.settlement.models import Settlement
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
KINDS = (
    NotificationKind(
        READY,
        N_("Service settlement to review"),
        "service/notifications/settlement_ready",
        frozenset({"external"}),
        sample={"name": "Li Wei", "workspace": "Acme Pumps", "number": "S000012", "total": "1,250.00"},
    ),
)


async def _ready(services: Services, event: Event) -> None:
    async with services.db.session(tenant_context(event.tenant_id, channel="system")) as session:
        settlement = await session.scalar(select(Settlement).where(Settlement.id == event.aggregate_id))
        if settlement is None or settlement.status != "review" or settlement.enterprise_id is None:
            return
        link = await session.scalar(select(EnterpriseLink).where(EnterpriseLink.id == settlement.enterprise_id))
        if link is None or link.status != "active":
            return
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == event.tenant_id))).one()
        rows = (
            await session.execute(
                select(Membership, ExternalIdentity)
                .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
                .where(Membership.link_id == link.id, Membership.status == "active")
            )
        ).all()
        policy = services.permissions
        assert isinstance(policy, RolePolicy)
        compiled = await policy.compiled(session, tenant.id, tenant.policy_version)
        held: dict[uuid.UUID, frozenset[str]] = await policy.roles_of(session, [m.id for m, _i in rows])
        params = {"workspace": tenant.name, "number": settlement.number, "total": money(settlement.total)}
        for membership, identity in rows:
            if compiled.allows(held[membership.id], (PARTNER_SETTLEMENT, "dispute")):
                await services.notifications.notify(
                    session,
                    recipient(membership, identity, tenant.default_locale),
                    READY,
                    {**params, "name": membership.display_name},
                    dedup_key=f"{event.id.hex}:{READY}:{membership.id.hex}",
                )


SUBSCRIBERS = (
    Subscriber(
        "service.settlement_notices",
        lambda event_type: event_type == "service.settlement.created",
        _ready,
        label=N_("Service settlement notices to partners"),
    ),
)
