"""Order status notices to the dealer's people (portal.notifications): ordering's own subscriber on its
outbox events calls `notify` for the person who placed the order and their enterprise's admins.

- ordering.order.approved → order approved;
- ordering.order.shipped / partially_shipped → order shipped;
- ordering.order.received with part of the total unpaid → awaiting payment (the goods are there).

The event id makes each notice once per person however often the event is delivered."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from apps.ordering.models import Order
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership
from interconnect.notices import recipient
from portal.db.context import tenant_context
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.notifications.kinds import NotificationKind
from portal.outbox import Event, Subscriber

if TYPE_CHECKING:
    from portal.services import Services

APPROVED = "ordering.order_approved"
SHIPPED = "ordering.order_shipped"
AWAITING_PAYMENT = "ordering.awaiting_payment"
PARTNERS = frozenset({"external"})
SAMPLE = {"name": "Li Wei", "workspace": "Acme Pumps", "number": "SO000123", "total": "12,800.00", "currency": "CNY"}

KINDS = (
    NotificationKind(APPROVED, N_("Order approved"), "ordering/notifications/approved", PARTNERS, sample=SAMPLE),
    NotificationKind(SHIPPED, N_("Order shipped"), "ordering/notifications/shipped", PARTNERS, sample=SAMPLE),
    NotificationKind(
        AWAITING_PAYMENT,
        N_("Order awaiting payment"),
        "ordering/notifications/awaiting_payment",
        PARTNERS,
        sample={**SAMPLE, "due": "12,800.00"},
    ),
)

EVENT_KIND = {
    "ordering.order.approved": APPROVED,
    "ordering.order.shipped": SHIPPED,
    "ordering.order.partially_shipped": SHIPPED,
    "ordering.order.received": AWAITING_PAYMENT,
}


def _money(value: object) -> str:
    return f"{value:,.2f}"


async def _order_notice(services: Services, event: Event) -> None:
    kind = EVENT_KIND.get(event.event_type)
    if kind is None:
        return
    async with services.db.session(tenant_context(event.tenant_id, channel="system")) as session:
        order = await session.scalar(select(Order).where(Order.id == event.aggregate_id))
        if order is None or order.enterprise_id is None:
            return
        due = order.total - order.paid_amount
        if kind == AWAITING_PAYMENT and due <= 0:
            return
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == event.tenant_id))).one()
        placed_by = order.created_by if order.placed_by_kind == "external" else None
        rows = await session.execute(
            select(Membership, ExternalIdentity)
            .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
            .join(EnterpriseLink, EnterpriseLink.id == Membership.link_id)
            .where(
                Membership.link_id == order.enterprise_id,
                Membership.status == "active",
                EnterpriseLink.status == "active",
                or_(Membership.is_enterprise_admin.is_(True), Membership.id == (placed_by or uuid.UUID(int=0))),
            )
        )
        params = {
            "workspace": tenant.name,
            "number": order.number,
            "total": _money(order.total),
            "currency": order.currency,
            "due": _money(due),
        }
        for membership, identity in rows.all():
            await services.notifications.notify(
                session,
                recipient(membership, identity, tenant.default_locale),
                kind,
                {**params, "name": membership.display_name},
                dedup_key=f"{event.id.hex}:{membership.id.hex}",
            )


SUBSCRIBERS = (
    Subscriber(
        "ordering.order_notices",
        lambda event_type: event_type in EVENT_KIND,
        _order_notice,
        label=N_("Order notices to partners"),
    ),
)
