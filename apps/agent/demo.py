"""Demo deals: a few per demo enterprise, registered by its admin, and one of the upstream's own; the
preset deal registrar role given to the demo enterprises' admins (whatever their type), and the types
without a data level for deals seeing their enterprise's deals, so the page can be tried at once. Runs
after the demo partners; skips a tenant that has deals already."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.models import Deal
from apps.agent.objects import PARTNER_OBJECT
from interconnect.models import Membership, PartnerType
from portal.db.context import tenant_context
from portal.identity.models import InternalUser
from portal.permissions import policy_changed
from portal.services import Services
from roles.casbin_model import ROLE_PREFIX
from roles.models import DataRule, PolicyRule
from roles.policy import user_subject
from roles.presets import DEAL_REGISTRAR

DEMO_ROLE = DEAL_REGISTRAR
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
            await _data_levels(session)
            holders = set(
                await session.scalars(
                    select(PolicyRule.v0).where(PolicyRule.ptype == "g", PolicyRule.v1 == ROLE_PREFIX + DEMO_ROLE)
                )
            )
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
                if user_subject(admin.id) not in holders:  # an agent's admin holds it from the template already
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


async def _data_levels(session: AsyncSession) -> None:
    """Each partner type without a data level for deals (the presets give one to agents only): their
    enterprise's deals, to read."""
    ruled = set(await session.scalars(select(DataRule.partner_type_id).where(DataRule.object == PARTNER_OBJECT)))
    for type_id in await session.scalars(select(PartnerType.id)):
        if type_id not in ruled:
            session.add(DataRule(object=PARTNER_OBJECT, partner_type_id=type_id, level="enterprise_read"))
    await session.flush()
