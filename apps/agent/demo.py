"""Demo deals: a few per demo enterprise, registered by its admin, and one of the upstream's own; a
"Deal registration" partner role held by the demo enterprises' admins, and dealers' colleagues seeing
their enterprise's deals, so the page can be tried at once. Runs after the demo partners; skips a tenant
that has deals already."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.models import Deal
from apps.agent.objects import APP, PARTNER_OBJECT
from interconnect.models import Membership, PartnerType
from portal.db.context import tenant_context
from portal.identity.models import InternalUser
from portal.permissions import policy_changed
from portal.services import Services
from roles.casbin_model import ROLE_PREFIX
from roles.models import DataRule, PolicyRule, Role
from roles.policy import user_subject

DEMO_ROLE = "deal_registrar"
CUSTOMERS = {
    "acme-pumps": ("Harbor Water Works", "Greenfield Farms", "Metro Hospital", "Lakeside Brewery"),
    "borealis-valves": ("滨海水务", "绿野农场", "市第一医院", "湖畔啤酒厂"),
}
STAGES = ("registered", "qualified", "won")


async def load_deals(services: Services, context: dict[str, Any]) -> None:
    for slug, tenant_id in context["tenants"].items():
        customers = CUSTOMERS.get(slug)
        if customers is None:
            continue
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            if await session.scalar(select(Deal.id).limit(1)) is not None:
                continue
            await _partner_role(session)
            admins = list(
                await session.scalars(
                    select(Membership)
                    .where(Membership.is_enterprise_admin.is_(True), Membership.link_id.is_not(None))
                    .order_by(Membership.created_at, Membership.id)
                )
            )
            for number, admin in enumerate(admins):
                for offset in range(2):
                    index = number * 2 + offset
                    session.add(
                        Deal(
                            owner_id=admin.id,
                            enterprise_id=admin.link_id,
                            created_by=admin.id,
                            customer_name=customers[index % len(customers)],
                            amount=Decimal(50_000 + 12_500 * index),
                            stage=STAGES[index % len(STAGES)],
                            expected_close=date.today() + timedelta(days=30 * (offset + 1)),
                            commission_rate=Decimal("0.05"),
                        )
                    )
                session.add(PolicyRule(ptype="g", v0=user_subject(admin.id), v1=ROLE_PREFIX + DEMO_ROLE, v2=""))
            upstream = await session.scalar(select(InternalUser.id).order_by(InternalUser.created_at).limit(1))
            if upstream is not None:
                session.add(
                    Deal(
                        owner_id=upstream,
                        enterprise_id=None,
                        created_by=upstream,
                        customer_name=customers[-1],
                        amount=Decimal(250_000),
                        stage="qualified",
                    )
                )
            await session.flush()
            await policy_changed(session, tenant_id)


async def _partner_role(session: AsyncSession) -> None:
    """The demo partner role, and each partner type's data level: their enterprise's deals, to read."""
    if await session.scalar(select(Role.id).where(Role.key == DEMO_ROLE)) is None:
        session.add(Role(key=DEMO_ROLE, name="Deal registration", kind="external", apps=[APP], preset=False))
        for action in ("read", "create", "update", "export"):
            session.add(PolicyRule(ptype="p", v0=ROLE_PREFIX + DEMO_ROLE, v1=PARTNER_OBJECT, v2=action))
    ruled = set(await session.scalars(select(DataRule.partner_type_id).where(DataRule.object == PARTNER_OBJECT)))
    for type_id in await session.scalars(select(PartnerType.id)):
        if type_id not in ruled:
            session.add(DataRule(object=PARTNER_OBJECT, partner_type_id=type_id, level="enterprise_read"))
    await session.flush()
