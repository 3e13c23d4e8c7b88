"""Demo partners for each demo manufacturer: distributors with stores under them, dealers and a service
provider, each with a partner admin (and some colleagues), so both sides of the portal can be tried."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from interconnect.links import Links, NewEnterprise
from interconnect.models import EnterpriseLink, PartnerTier, PartnerType
from interconnect.people import NewPerson, People
from portal.db.context import tenant_context
from portal.demo import DEMO_PASSWORD
from portal.services import Services

# (code, name, partner type, tier, parent code, admin name, admin email local part, colleagues)
ACME_PARTNERS = (
    ("NS", "North Supply", "distributor", "gold", None, "Nora North", "nora", ("Nate Buyer",)),
    ("NS-S1", "North Supply Store Harbin", "store", "bronze", "NS", "Hu Store", "hu", ()),
    ("NS-S2", "North Supply Store Changchun", "store", "bronze", "NS", "Chang Store", "chang", ()),
    ("ED", "East Dealer", "dealer", "silver", None, "Eve East", "eve", ("Ethan Buyer", "Emma Sales")),
    ("WD", "West Dealer", "dealer", "bronze", None, "Will West", "will", ()),
    ("FX", "FixIt Services", "service_provider", "gold", None, "Fay Fixit", "fay", ("Finn Engineer",)),
)
BOREALIS_PARTNERS = (
    ("HB", "华北分销", "distributor", "gold", None, "赵华", "zhao", ("钱采购",)),
    ("HB-01", "华北分销·天津门店", "store", "bronze", "HB", "孙店长", "sun", ()),
    ("DN", "东南经销商", "dealer", "silver", None, "周东", "zhou", ()),
    ("WX", "速修服务", "service_provider", "silver", None, "吴工", "wu", ()),
)


async def load_partners(services: Services, context: dict[str, Any]) -> None:
    for slug, partners in (("acme-pumps", ACME_PARTNERS), ("borealis-valves", BOREALIS_PARTNERS)):
        tenant_id: uuid.UUID | None = context["tenants"].get(slug)
        if tenant_id is None:
            continue
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            types = {t.code: t.id for t in await session.scalars(select(PartnerType))}
            tiers = {t.code: t.id for t in await session.scalars(select(PartnerTier))}
            links = {link.code: link for link in await session.scalars(select(EnterpriseLink))}
            people = People(session, services.passwords)
            for code, name, type_code, tier, parent, admin, local, colleagues in partners:
                domain = f"{code.lower()}.{slug}.example"
                context["logins"].append(
                    {
                        "workspace": slug,
                        "email": f"{local}@{domain}",
                        "password": DEMO_PASSWORD,
                        "role": "partner",
                        "tenant": name,
                    }
                )
                if code in links:
                    continue
                link = await Links(session).create(
                    NewEnterprise(
                        name, types[type_code], tiers[tier], parent_id=links[parent].id if parent else None, code=code
                    ),
                    status="active",
                )
                links[code] = link
                await people.add(link.id, NewPerson(admin, f"{local}@{domain}", password=DEMO_PASSWORD), admin=True)
                for index, colleague in enumerate(colleagues, start=1):
                    await people.add(link.id, NewPerson(colleague, f"staff{index}@{domain}", password=DEMO_PASSWORD))
                if slug == "borealis-valves" and code == "WX":
                    # Acme's FixIt engineer also serves Borealis: one sign-in, two workspaces to switch between
                    # (in the demo he has accepted already: in life he would, through his one-time link).
                    finn = NewPerson("Finn Engineer", "staff1@fx.acme-pumps.example")
                    known = await people.identity_for(finn.email, None)
                    await people.add(link.id, finn, proven_identity=known.id if known else None)
