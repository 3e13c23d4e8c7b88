"""Demo registrations: for each demo manufacturer, registrations by its first two demo enterprises in
every state, so the partner's list and the conflict queue can be tried at once: approved and protected,
protected with an extension waiting for a decision, expired, rejected, and two conflicts (one meeting
the other partner's protected registration by phone, one meeting an account the manufacturer owns by
email). Runs after the demo deals (which give the demo admins the deal registrar role); skips a tenant
that has registrations already."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.models import Deal
from apps.agent.registrations.approvals import EXTENSION_KIND, REGISTRATION_KIND
from apps.agent.registrations.models import DealMatch
from interconnect.models import Membership
from portal.actor import Actor
from portal.crm.matching import email_key, phone_key, tax_key
from portal.crm.models import Account, Contact
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.services import Services
from roles.approvals import Facts, open_request


@dataclass(frozen=True)
class Sample:
    customer: str
    contact: str
    phone: str
    email: str
    tax_id: str


SAMPLES = {
    "acme-pumps": (
        Sample(
            "Harbor Water Works Co., Ltd.",
            "Ms Lin",
            "+86 138 0013 8001",
            "buyer@harborwater.example",
            "91310000MA1K000001",
        ),
        Sample("Greenfield Farms", "Mr Ode", "+86 138 0013 8002", "farm@greenfield.example", "91310000MA1K000002"),
        Sample("Lakeside Brewery Ltd", "Ms Berg", "+86 138 0013 8003", "ops@lakeside.example", "91310000MA1K000003"),
        Sample("Pier Hotel", "Mr Sato", "+86 138 0013 8004", "gm@pierhotel.example", "91310000MA1K000004"),
        Sample("Harbour Waterworks Depot", "Mr Wu", "+86 138 0013 8001", "depot@harbour.example", ""),
        Sample("Metro General Hospital", "Dr Ames", "+86 138 0013 8006", "purchasing@metro.example", ""),
    ),
    "borealis-valves": (
        Sample("滨海水务有限公司", "林女士", "+86 139 0013 9001", "caigou@binhai.example", "91320000MA1K000001"),
        Sample("绿野农场", "欧先生", "+86 139 0013 9002", "farm@lvye.example", "91320000MA1K000002"),
        Sample("湖畔啤酒厂", "贝女士", "+86 139 0013 9003", "ops@hupan.example", "91320000MA1K000003"),
        Sample("码头酒店", "佐藤先生", "+86 139 0013 9004", "gm@matou.example", "91320000MA1K000004"),
        Sample("滨海水务仓库", "吴先生", "+86 139 0013 9001", "cangku@binhai.example", ""),
        Sample("市第一人民医院", "艾医生", "+86 139 0013 9006", "caigou@shiyiyuan.example", ""),
    ),
}
# the account the manufacturer owns, which the last sample meets by email
UPSTREAM_ACCOUNTS = {"acme-pumps": "Metro Hospital", "borealis-valves": "市第一医院"}


async def load_registrations(services: Services, context: dict[str, Any]) -> None:
    for slug, tenant_id in context["tenants"].items():
        samples = SAMPLES.get(slug)
        if samples is None:
            continue
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            if await session.scalar(select(Deal.id).where(Deal.registration.is_not(None)).limit(1)) is not None:
                continue
            admins = list(
                await session.scalars(
                    select(Membership)
                    .where(Membership.is_enterprise_admin.is_(True), Membership.link_id.is_not(None))
                    .order_by(Membership.created_at, Membership.id)
                    .limit(2)
                )
            )
            if len(admins) < 2:
                continue
            await _load(session, samples, admins, UPSTREAM_ACCOUNTS[slug])


async def _load(session: AsyncSession, samples: tuple[Sample, ...], admins: list[Membership], owned: str) -> None:
    now = utcnow()
    first, second = admins
    upstream = Account(name=owned, kind="customer", email=email_key(samples[5].email))
    session.add(upstream)
    await session.flush()
    plan = (
        # (sample, registrar, registration, protection end, extension)
        (samples[0], first, "approved", now + timedelta(days=75), None),
        (samples[1], second, "approved", now + timedelta(days=12), "pending"),
        (samples[2], first, "approved", now - timedelta(days=5), None),
        (samples[3], second, "rejected", None, None),
        (samples[4], second, "conflict", None, None),
        (samples[5], first, "conflict", None, None),
    )
    deals: list[Deal] = []
    for number, (sample, admin, state, until, extension) in enumerate(plan):
        account = Account(
            name=sample.customer,
            kind="customer",
            tax_id=tax_key(sample.tax_id),
            phone=phone_key(sample.phone),
            email=email_key(sample.email),
            enterprise_id=admin.link_id,
        )
        session.add(account)
        await session.flush()
        contact = Contact(account_id=account.id, name=sample.contact, phone=account.phone, email=account.email)
        session.add(contact)
        await session.flush()
        deal = Deal(
            owner_id=admin.id,
            enterprise_id=admin.link_id,
            created_by=admin.id,
            customer_name=sample.customer,
            customer_contact=sample.contact,
            amount=Decimal(80_000 + 15_000 * number),
            stage="qualified" if state == "approved" and number == 0 else "registered",
            account_id=account.id,
            contact_id=contact.id,
            registration=state,
            protected_until=until,
            extension=extension,
        )
        session.add(deal)
        deals.append(deal)
    await session.flush()
    session.add_all(
        (
            DealMatch(deal_id=deals[4].id, other_deal_id=deals[0].id, account_id=deals[0].account_id, key="phone"),
            DealMatch(deal_id=deals[5].id, other_deal_id=None, account_id=upstream.id, key="email"),
        )
    )
    await session.flush()
    # what waits for the channel manager waits in the approvals queue too (roles.approvals)
    for deal, (_sample, admin, state, _until, extension) in zip(deals, plan, strict=True):
        registrar = Actor(
            user_id=admin.id, tenant_id=admin.tenant_id, kind="external", channel="web", display_name=admin.display_name
        )
        facts = Facts(deal.amount, deal.currency, deal.enterprise_id)
        if state == "conflict":
            await open_request(session, registrar, REGISTRATION_KIND, deal.id, deal.customer_name, facts)
        if extension == "pending":
            await open_request(session, registrar, EXTENSION_KIND, deal.id, deal.customer_name, facts)
