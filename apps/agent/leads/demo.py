"""Demo leads: for each demo manufacturer a pool open to every partner type, with its rules set, a
fallback assignment rule into it, leads waiting in it, two held by the first demo enterprise (one of them
close to being recycled, its holder having asked for more time, the other given more time once) and one
not yet placed; three of the waiting leads were held by that enterprise before and taken back (two with
no follow-up in time, one not converted in time), for the dashboard's recycling figures. The partner
types without a data level for leads see their enterprise's. Runs after the demo deals (whose step gives
the demo admins the deal registrar role); skips a tenant that has leads already."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.leads import rules
from apps.agent.leads.models import AssignmentRule, Lead, LeadEvent, LeadExtension, LeadPool
from apps.agent.objects import PARTNER_LEAD
from interconnect.models import Membership, PartnerType, Region
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.identity.models import InternalUser
from portal.permissions import policy_changed
from portal.services import Services
from roles.models import DataRule

LEADS = {
    "acme-pumps": (
        ("Riverside Dairy", "Pumps", "Ms Chen"),
        ("Northgate Mall", "Pumps", "Mr Olsen"),
        ("Sunrise Hotel", "Boosters", "Ms Park"),
        ("City Fire Brigade", "Fire pumps", "Chief Adams"),
        ("Valley Vineyards", "Irrigation", "Mr Rossi"),
        ("Port Authority", "Pumps", "Ms Ngata"),
        ("Mountain Spa", "Boosters", "Mr Keller"),
        ("Old Town Bakery", "Pumps", None),
        ("Eastside School", "Pumps", "Mr Brown"),
    ),
    "borealis-valves": (
        ("江南纺织厂", "阀门", "陈女士"),
        ("北城商场", "阀门", "王先生"),
        ("日出酒店", "调节阀", "朴女士"),
        ("市消防支队", "消防阀", "李队长"),
        ("山谷葡萄园", "灌溉", "罗先生"),
        ("港务集团", "阀门", "赵女士"),
        ("山间温泉", "调节阀", "孔先生"),
        ("老城面包房", "阀门", None),
        ("东区学校", "阀门", "刘老师"),
    ),
}

# Each manufacturer's pool and its fallback rule, in its own language, and the regions its leads are in
# (the service demo's, which it finds by code when it runs after this).
POOLS = {
    "acme-pumps": ("Open leads", "Everything else into the pool"),
    "borealis-valves": ("公共线索池", "其余线索进入公共池"),
}
REGIONS = {
    "acme-pumps": (("EAST", "East"), ("NORTH", "North")),
    "borealis-valves": (("HD", "华东"), ("HB", "华北")),
}


async def load_leads(services: Services, context: dict[str, Any]) -> None:
    for slug, tenant_id in context["tenants"].items():
        leads = LEADS.get(slug)
        if leads is None:
            continue
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            if await session.scalar(select(Lead.id).limit(1)) is not None:
                continue
            upstream = await session.scalar(select(InternalUser.id).order_by(InternalUser.created_at).limit(1))
            if upstream is None:
                continue
            await _data_levels(session)
            regions = await _regions(session, REGIONS[slug])
            await _leads(session, upstream, leads, POOLS[slug], regions)
            await policy_changed(session, tenant_id)


async def _regions(session: AsyncSession, wanted: tuple[tuple[str, str], ...]) -> list[Any]:
    known = {r.code: r.id for r in await session.scalars(select(Region))}
    for code, name in wanted:
        if code not in known:
            region = Region(code=code, name=name)
            session.add(region)
            await session.flush()
            known[code] = region.id
    return [known[code] for code, _name in wanted]


async def _leads(
    session: AsyncSession,
    upstream: Any,
    leads: tuple[tuple[str, str, str | None], ...],
    names: tuple[str, str],
    regions: list[Any],
) -> None:
    pool = LeadPool(
        name=names[0],
        enterprise_limit=5,
        person_limit=3,
        daily_claim_limit=10,
        visible_fields=["region_id", "product_line"],
        cooldown_days=3,
        follow_up_days=7,
        convert_days=30,
        notice_days=2,
    )
    session.add(pool)
    await session.flush()
    session.add(AssignmentRule(position=100, name=names[1], strategy="pool", pool_id=pool.id))
    first = await session.scalar(
        select(Membership)
        .where(Membership.is_enterprise_admin.is_(True), Membership.link_id.is_not(None))
        .order_by(Membership.created_at, Membership.id)
        .limit(1)
    )
    now = utcnow()
    for number, (company, line, contact) in enumerate(leads):
        lead = Lead(
            company_name=company,
            product_line=line,
            contact_name=contact,
            phone=f"+86 138 0000 {1000 + number}",
            region_id=regions[number % len(regions)],
            source="import",
            status="new",
            owner_id=upstream,
            created_by=upstream,
        )
        session.add(lead)
        await session.flush()
        session.add(LeadEvent(lead_id=lead.id, action="created", actor_kind="internal", actor_id=upstream, at=now))
        if number == len(leads) - 1:
            continue  # one not placed yet, for the console's "distribute by hand"
        if number < 2 and first is not None:
            lead.status, lead.pool_id, lead.enterprise_id = "assigned", pool.id, first.link_id
            lead.owner_id = lead.holder_id = first.id
            # the second was claimed six days ago: its holder is warned and it goes back tomorrow
            rules.start_clock(lead, pool, now - timedelta(days=6 * number))
            session.add(
                LeadEvent(
                    lead_id=lead.id,
                    action="claimed",
                    actor_kind="external",
                    actor_id=first.id,
                    enterprise_id=first.link_id,
                    at=now,
                )
            )
            if number == 0:
                # more time given once, four days ago
                given = now - timedelta(days=4)
                session.add(
                    LeadExtension(
                        lead_id=lead.id,
                        enterprise_id=first.link_id,
                        requested_by=first.id,
                        days=7,
                        reason="Waiting for the customer's budget",
                        status="approved",
                        decided_by=upstream,
                        decided_at=given,
                        created_at=given - timedelta(hours=3),
                    )
                )
                rules.extended(lead, pool, 7)
            else:
                session.add(
                    LeadExtension(
                        lead_id=lead.id,
                        enterprise_id=first.link_id,
                        requested_by=first.id,
                        days=5,
                        reason="The buyer is travelling this week",
                    )
                )
        else:
            lead.status, lead.pool_id = "pooled", pool.id
            if 2 <= number <= 4 and first is not None:
                # held by the first enterprise before, and taken back by the recycling job
                claimed, lost = now - timedelta(days=3 * number + 10), now - timedelta(days=3 * number)
                session.add_all(
                    [
                        LeadEvent(
                            lead_id=lead.id,
                            action="claimed",
                            actor_kind="external",
                            actor_id=first.id,
                            enterprise_id=first.link_id,
                            at=claimed,
                        ),
                        LeadEvent(
                            lead_id=lead.id,
                            action="recycled",
                            actor_kind="system",
                            enterprise_id=first.link_id,
                            note="no_conversion" if number == 4 else "no_follow_up",
                            at=lost,
                        ),
                    ]
                )
            session.add(LeadEvent(lead_id=lead.id, action="pooled", actor_kind="system", actor_id=upstream, at=now))
    await session.flush()


async def _data_levels(session: AsyncSession) -> None:
    """Each partner type without a data level for leads (the presets give one to agents only): their
    enterprise's leads, to work on."""
    ruled = set(await session.scalars(select(DataRule.partner_type_id).where(DataRule.object == PARTNER_LEAD)))
    for type_id in await session.scalars(select(PartnerType.id)):
        if type_id not in ruled:
            session.add(DataRule(object=PARTNER_LEAD, partner_type_id=type_id, level="enterprise_write"))
    await session.flush()
