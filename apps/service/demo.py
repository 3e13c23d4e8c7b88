"""Demo service for both demo manufacturers: regions, a service manager and (Acme) a dispatcher whose team
covers one region, a second engineer for each service partner (FixIt for Acme Pumps, 速修服务 for 北辰阀门),
an installed base of devices from the catalog (some out of warranty), and tickets in every status, moved
there through the same workflow as the API by the people whose step it is, then dated back over the last
weeks (the finished ones with a spare part fitted on site); a ticket a dealer opened for a device it sold,
dispatched and accepted; a fee schedule and a settlement of the partner's closed tickets in review, its
parts billed at their catalog price, one line disputed. Runs after the demo partners and catalogs; skips a
tenant that has devices already."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import Product
from apps.service import lifecycle, workflow
from apps.service.dealer.tickets import DealerTicketIn, DealerTickets
from apps.service.dispatch.models import DispatchRule, DispatchRulePartner
from apps.service.field.demo import load_field_work
from apps.service.field.models import FieldEntry
from apps.service.field.steps import FieldWork, Location
from apps.service.models import Device, Ticket, TicketEvent, TicketPause
from apps.service.objects import PARTNER_JOB, PARTNER_SETTLEMENT, PARTNER_TICKET, SETTLEMENT, TICKET
from apps.service.parts.demo import load_parts
from apps.service.settlement import fees
from apps.service.settlement.models import SettlementLine
from apps.service.settlement.settlements import Settlements
from apps.service.sla import clock
from apps.service.sla.policy import warning_percent
from apps.service.tickets import Tickets
from interconnect.models import EnterpriseLink, Membership, Region
from interconnect.people import NewPerson, People
from portal.actor import Actor
from portal.calendars.arithmetic import BusinessCalendar
from portal.calendars.service import business_calendar
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.demo import DEMO_PASSWORD
from portal.identity.accounts import NewStaff
from portal.identity.models import InternalUser, Tenant
from portal.permissions import ADMIN_ROLE, policy_changed
from portal.services import Services
from roles.models import StaffTeam, StaffTeamMember, StaffTeamRegion
from roles.policy import RolePolicy


@dataclass(frozen=True)
class Plan:
    partner: str  # the service partner's enterprise code
    dealers: tuple[str, ...]
    skus: tuple[str, ...]  # catalog SKU prefixes the devices are of
    regions: tuple[tuple[str, str], ...]
    staff: tuple[tuple[str, str, str], ...]  # (name, email, role)
    team: tuple[str, str, str] | None  # (team name, member email, region code)
    engineer: tuple[str, str]  # a second engineer: (name, email local part)
    customers: tuple[tuple[str, str, str], ...]  # (customer, site, region code)
    # (status, type, priority, symptoms, contact, phone, days ago)
    tickets: tuple[tuple[str, str, str, str, str, str, int], ...]
    notes: dict[str, str]
    # spare parts and field work: the catalog SKU prefixes of the parts stocked (a product of each, in turn),
    # the notes of the shipped and the waiting parts request, the work note on the ticket on site, and
    # where that site is
    parts: tuple[str, ...] = ()
    parts_notes: tuple[str, str] = ("", "")
    field_note: str = ""
    site: tuple[float, float] = (0.0, 0.0)
    # the fee schedule: (ticket type, region code or None, labour, travel); parts are billed from use
    fees: tuple[tuple[str, str | None, str, str], ...] = ()
    dispute: str = ""  # the partner's reason on the first line of its settlement in review
    # the ticket the first dealer opens for a device it sold: (type, priority, symptoms, contact, phone)
    dealer_ticket: tuple[str, str, str, str, str] | None = None


ACME = Plan(
    partner="FX",
    dealers=("ED", "WD"),
    skus=("CP-", "SP-"),
    regions=(("EAST", "East"), ("NORTH", "North")),
    staff=(
        ("Sam Service", "sam@acme-pumps.example", "service_manager"),
        ("Dora Dispatch", "dora@acme-pumps.example", "dispatcher"),
    ),
    team=("East service desk", "dora@acme-pumps.example", "EAST"),
    engineer=("Ivy Installer", "staff2"),
    customers=(
        ("Lakeside School", "3 Lake Road, Harbin", "NORTH"),
        ("Harbour Hotel", "18 Harbour Road, Dalian", "EAST"),
        ("Green Farm Co-op", "Route 9, Changchun", "NORTH"),
        ("City Water Works", "1 River Street, Qingdao", "EAST"),
        ("Sunrise Apartments", "66 Sunrise Avenue, Yantai", "EAST"),
        ("North Mall", "200 Central Road, Harbin", "NORTH"),
    ),
    tickets=(
        ("new", "repair", "urgent", "Pump stopped, no pressure on floors 5-12", "Mr Zhao", "+86 138 0451 0001", 0),
        ("new", "maintenance", "normal", "Yearly maintenance due", "Ms Lin", "+86 139 0411 0002", 1),
        ("dispatched", "repair", "high", "Loud noise from the motor", "Mr Wang", "+86 137 0431 0003", 1),
        ("accepted", "inspection", "normal", "Inspection before the summer season", "Ms Chen", "+86 136 0532 0004", 2),
        ("on_the_way", "repair", "high", "Leaking seal at the pump outlet", "Mr Sun", "+86 135 0535 0005", 2),
        ("on_site", "repair", "normal", "Pressure drops every afternoon", "Ms Zhou", "+86 134 0451 0006", 3),
        ("on_hold", "repair", "high", "Impeller cracked", "Mr Qian", "+86 133 0411 0007", 5),
        ("resolved", "maintenance", "low", "Filter change", "Ms Wu", "+86 132 0431 0008", 8),
        ("confirmed", "installation", "normal", "Install the new booster pump", "Mr Zheng", "+86 131 0532 0009", 12),
        ("closed", "repair", "normal", "Pump trips the breaker", "Ms Feng", "+86 130 0535 0010", 20),
        ("closed", "inspection", "low", "Quarterly inspection", "Mr Chu", "+86 158 0451 0011", 30),
        ("cancelled", "repair", "low", "Noise (customer found a loose cover)", "Ms Wei", "+86 159 0411 0012", 9),
        (
            "rejected",
            "installation",
            "normal",
            "Install a second pump in the basement",
            "Mr Jiang",
            "+86 150 0431 0013",
            4,
        ),
    ),
    notes={
        "reject": "No installer free in that region this week",
        "hold": "Waiting for a replacement impeller",
        "resolve": "Replaced the mechanical seal and tested for 30 minutes",
        "cancel": "The customer fixed it themselves",
    },
    parts=("SG-", "IM-", "SG-"),  # mechanical seals and impellers
    parts_notes=("Opening stock of seals and impellers", "Seal kits for the summer season"),
    field_note="The pressure switch sticks when the pump room is hot; cleaned it and replaced the seal.",
    site=(45.756967, 126.642464),
    fees=(
        ("installation", None, "300.00", "60.00"),
        ("repair", None, "150.00", "40.00"),
        ("repair", "NORTH", "150.00", "70.00"),
        ("maintenance", None, "100.00", "40.00"),
        ("inspection", None, "80.00", "40.00"),
    ),
    dispute="The site is 120 km away: the northern travel fee applies",
    dealer_ticket=("repair", "high", "The pump we sold restarts every few minutes", "Mr Gao", "+86 135 0451 0014"),
)
BOREALIS = Plan(
    partner="WX",
    dealers=("DN", "HB"),
    skus=("ZF-", "DF-"),
    regions=(("HD", "华东"), ("HB", "华北")),
    staff=(("孙服务", "sun.fuwu@borealis.example", "service_manager"),),
    team=None,
    engineer=("郑工", "staff2"),
    customers=(
        ("上海第一水厂", "上海市浦东新区港城路 100 号", "HD"),
        ("杭州西湖宾馆", "杭州市西湖区北山路 8 号", "HD"),
        ("天津港物流园", "天津市滨海新区港航路 6 号", "HB"),
        ("北京朝阳医院", "北京市朝阳区工体南路 8 号", "HB"),
    ),
    tickets=(
        ("new", "repair", "urgent", "阀门无法关闭、管道持续漏水", "李先生", "138 0000 2001", 0),
        ("dispatched", "maintenance", "normal", "年度保养", "王女士", "139 0000 2002", 1),
        ("accepted", "repair", "high", "执行器报警", "张先生", "137 0000 2003", 2),
        ("on_the_way", "inspection", "normal", "汛期前巡检", "赵女士", "136 0000 2004", 2),
        ("on_site", "repair", "normal", "阀杆渗漏", "刘先生", "135 0000 2005", 3),
        ("on_hold", "repair", "high", "密封件损坏", "陈女士", "134 0000 2006", 4),
        ("resolved", "maintenance", "low", "更换密封件", "杨先生", "133 0000 2007", 6),
        ("confirmed", "installation", "normal", "新装蝶阀", "黄女士", "132 0000 2008", 10),
        ("closed", "repair", "normal", "电动执行器不动作", "周先生", "131 0000 2009", 18),
        ("cancelled", "inspection", "low", "客户改期", "吴女士", "130 0000 2010", 7),
    ),
    notes={
        "reject": "本周该区域没有可派的工程师",
        "hold": "等待备件到货",
        "resolve": "已更换阀杆密封并试压 30 分钟",
        "cancel": "客户取消了本次服务",
    },
    parts=("BJ-", "BJ-", "BJ-"),  # seals of three sizes
    parts_notes=("首批备件：各规格密封件", "夏季检修用的密封套件"),  # noqa: RUF001
    field_note="阀杆密封老化导致渗漏，已更换密封并紧固压盖。",  # noqa: RUF001
    site=(39.904211, 116.407395),
    fees=(
        ("installation", None, "800.00", "150.00"),
        ("repair", None, "400.00", "100.00"),
        ("repair", "HB", "400.00", "160.00"),
        ("maintenance", None, "300.00", "100.00"),
        ("inspection", None, "200.00", "100.00"),
    ),
    dispute="需要两次上门 第二次的差旅费未计入",
    dealer_ticket=("repair", "normal", "我们售出的阀门开关时有异响", "钱先生", "138 0000 2011"),
)
PLANS = {"acme-pumps": ACME, "borealis-valves": BOREALIS}
# How each status is reached from "new": (step, who takes it)
PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    "new": (),
    "rejected": (("dispatch", "staff"), ("reject", "dispatcher")),
    "dispatched": (("dispatch", "staff"),),
    "accepted": (("dispatch", "staff"), ("accept", "dispatcher"), ("assign", "dispatcher")),
}
PATHS["on_the_way"] = (*PATHS["accepted"], ("start", "engineer"))
PATHS["on_site"] = (*PATHS["on_the_way"], ("arrive", "engineer"))
PATHS["on_hold"] = (*PATHS["on_site"], ("hold", "engineer"))
PATHS["resolved"] = (*PATHS["on_site"], ("resolve", "engineer"))
PATHS["confirmed"] = (*PATHS["resolved"], ("confirm", "staff"))
PATHS["closed"] = (*PATHS["confirmed"], ("close", "staff"))
PATHS["cancelled"] = (*PATHS["dispatched"], ("cancel", "staff"))
# the statuses whose ticket had a part fitted on site
FITTED = ("resolved", "confirmed", "closed")


async def load_service(services: Services, context: dict[str, Any]) -> None:
    for slug, tenant_id in context["tenants"].items():
        plan = PLANS.get(slug)
        if plan is None:
            continue
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            links = {link.code: link for link in await session.scalars(select(EnterpriseLink))}
            partner = links.get(plan.partner)
            if partner is None:
                continue
            tenant_name = await session.scalar(select(Tenant.name).where(Tenant.id == tenant_id))
            name, local = plan.engineer
            engineer = f"{local}@{plan.partner.lower()}.{slug}.example"
            # printed on every run, as the other demo steps print theirs
            context["logins"].extend(
                [
                    *(
                        {
                            "workspace": slug,
                            "email": email,
                            "password": DEMO_PASSWORD,
                            "role": "staff",
                            "tenant": tenant_name,
                        }
                        for _name, email, _role in plan.staff
                    ),
                    {
                        "workspace": slug,
                        "email": engineer,
                        "password": DEMO_PASSWORD,
                        "role": "partner",
                        "tenant": partner.name,
                    },
                ]
            )
            if await session.scalar(select(Device.id).limit(1)) is not None:
                continue
            regions = await _regions(session, plan)
            await _staff(services, session, tenant_id, plan, regions)
            await People(session, services.passwords).add(partner.id, NewPerson(name, engineer, password=DEMO_PASSWORD))
            devices = await _devices(session, tenant_id, plan, links, regions)
            await _dispatch_rule(session, partner)
            await policy_changed(session, tenant_id)
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            await _tickets(services, session, tenant_id, plan, partner, devices, links.get(plan.dealers[0]))


async def _dispatch_rule(session: AsyncSession, partner: EnterpriseLink) -> None:
    """One rule to try "Dispatch by the rules" with: repairs go to the plan's partner, the least loaded."""
    rule = DispatchRule(position=1, name=f"Repairs: {partner.name}", ticket_type="repair", prefer="load")
    session.add(rule)
    await session.flush()
    session.add(DispatchRulePartner(rule_id=rule.id, enterprise_id=partner.id))
    await session.flush()


async def _regions(session: AsyncSession, plan: Plan) -> dict[str, uuid.UUID]:
    known = {r.code: r.id for r in await session.scalars(select(Region))}
    for code, name in plan.regions:
        if code not in known:
            region = Region(code=code, name=name)
            session.add(region)
            await session.flush()
            known[code] = region.id
    return known


async def _staff(
    services: Services, session: AsyncSession, tenant_id: uuid.UUID, plan: Plan, regions: dict[str, uuid.UUID]
) -> None:
    locale = await session.scalar(select(Tenant.default_locale).where(Tenant.id == tenant_id))
    staff = services.staff(session)
    for name, email, role in plan.staff:
        if await session.scalar(select(InternalUser.id).where(InternalUser.email == email)) is None:
            await staff.create(NewStaff(email, name, DEMO_PASSWORD, (role,), locale))
    if plan.team is not None:
        team_name, member, region = plan.team
        user_id = await session.scalar(select(InternalUser.id).where(InternalUser.email == member))
        team = StaffTeam(name=team_name)
        session.add(team)
        await session.flush()
        session.add_all(
            [
                StaffTeamMember(team_id=team.id, user_id=user_id),
                StaffTeamRegion(team_id=team.id, region_id=regions[region]),
            ]
        )
        await session.flush()


async def _devices(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    plan: Plan,
    links: dict[str | None, EnterpriseLink],
    regions: dict[str, uuid.UUID],
) -> list[Device]:
    admin = await session.scalar(select(InternalUser).order_by(InternalUser.created_at, InternalUser.id).limit(1))
    assert admin is not None
    products = [
        p
        for prefix in plan.skus
        for p in await session.scalars(
            select(Product)
            .where(Product.sku.startswith(prefix), Product.listed.is_(True))
            .order_by(Product.sku)
            .limit(6)
        )
    ]
    today = utcnow().date()
    devices = []
    for index, (customer, site, region) in enumerate(plan.customers * 2):
        product = products[index % len(products)] if products else None
        installed = today - timedelta(days=90 + 97 * index)
        # every third device's two-year warranty has run out
        warranty = installed + timedelta(days=730) if index % 3 else date(installed.year, 1, 1) - timedelta(days=1)
        dealer = links.get(plan.dealers[index % len(plan.dealers)])
        devices.append(
            Device(
                serial_number=f"{plan.partner}-{today.year}-{index + 1:04d}",
                product_id=product.id if product else None,
                product_name=product.name if product else "Pump",
                customer_name=customer,
                site_address=site if index < len(plan.customers) else f"{site} ({index + 1})",
                region_id=regions.get(region),
                install_date=installed,
                warranty_end=warranty,
                dealer_id=dealer.id if dealer else None,
                enterprise_id=links[plan.partner].id,
                owner_id=admin.id,
                created_by=admin.id,
            )
        )
    session.add_all(devices)
    await session.flush()
    return devices


async def _actor_of(
    session: AsyncSession, policy: RolePolicy, tenant_id: uuid.UUID, membership: Membership, link: EnterpriseLink
) -> Actor:
    roles = (await policy.roles_of(session, [membership.id]))[membership.id]
    return Actor(
        membership.id,
        tenant_id,
        "external",
        "cli",
        membership.display_name,
        roles=roles,
        enterprise_id=link.id,
        enterprise_name=link.name,
        partner_type_id=link.partner_type_id,
        tier_id=link.tier_id,
        sub_enterprises=frozenset({link.id}),
    )


async def _tickets(
    services: Services,
    session: AsyncSession,
    tenant_id: uuid.UUID,
    plan: Plan,
    partner: EnterpriseLink,
    devices: list[Device],
    dealer: EnterpriseLink | None,
) -> None:
    version = await session.scalar(select(Tenant.policy_version).where(Tenant.id == tenant_id)) or 0
    policy = RolePolicy(services.objects)
    await policy.compiled(session, tenant_id, version)
    admin = await session.scalar(select(InternalUser).order_by(InternalUser.created_at, InternalUser.id).limit(1))
    assert admin is not None
    staff = Tickets(
        session,
        policy,
        Actor(admin.id, tenant_id, "internal", "cli", admin.display_name, roles=frozenset({ADMIN_ROLE})),
        TICKET,
    )
    members = list(
        await session.scalars(
            select(Membership).where(Membership.link_id == partner.id).order_by(Membership.created_at)
        )
    )
    head = next(m for m in members if m.is_enterprise_admin)
    dispatcher = Tickets(session, policy, await _actor_of(session, policy, tenant_id, head, partner), PARTNER_TICKET)
    engineers = [m for m in members if not m.is_enterprise_admin and m.status == "active"]
    parts: list[Product] = []
    for prefix in plan.parts:
        taken = [p.id for p in parts]
        part = await session.scalar(
            select(Product)
            .where(Product.sku.startswith(prefix), Product.listed.is_(True), Product.id.not_in(taken))
            .order_by(Product.sku)
            .limit(1)
        )
        if part is not None:
            parts.append(part)
    await load_parts(staff, dispatcher, parts, plan.parts_notes)
    for index, (status, kind, priority, symptoms, contact, phone, days) in enumerate(plan.tickets):
        device = _device_for(devices, index, status)
        ticket = await workflow.open_ticket(
            staff,
            workflow.NewTicket(kind, symptoms, contact, phone, priority, device_id=device.id),
        )
        worker = engineers[index % len(engineers)] if engineers else head
        engineer = Tickets(session, policy, await _actor_of(session, policy, tenant_id, worker, partner), PARTNER_JOB)
        for action, who in PATHS[status]:
            side = {"staff": staff, "dispatcher": dispatcher, "engineer": engineer}[who]
            if action == "dispatch":
                await workflow.dispatch(side, ticket.id, partner.id)
            elif action == "assign":
                await workflow.assign(side, ticket.id, worker.id)
            else:
                await workflow.move(side, ticket.id, action, plan.notes.get(action))
            if action == "arrive" and status in FITTED and len(parts) > 1:
                # the finished tickets had a part fitted: the settlement bills it (under warranty)
                await FieldWork(engineer, services.attachments).use_part(ticket.id, parts[1].id, 1)
        if status == "on_site":
            site = Location(*plan.site, accuracy_m=15)
            part = parts[0] if parts else None
            await load_field_work(services.attachments, engineer, ticket.id, part, site, plan.field_note)
        await _date_back(session, ticket.id, days, index)
    if dealer is not None and plan.dealer_ticket is not None:
        await _dealer_ticket(
            session, policy, tenant_id, plan.dealer_ticket, dealer, devices, staff, dispatcher, partner
        )
    await _settlement(session, policy, staff.actor, dispatcher.actor, plan, partner)


def _device_for(devices: list[Device], index: int, status: str) -> Device:
    """The ticket's device, in turn; a closed one's under warranty, so its settlement line bills its part."""
    device = devices[index % len(devices)]
    if status != "closed":
        return device
    today = utcnow().date()
    ordered = devices[index % len(devices) :] + devices[: index % len(devices)]
    return next((d for d in ordered if d.warranty_end is not None and d.warranty_end >= today), device)


async def _dealer_ticket(
    session: AsyncSession,
    policy: RolePolicy,
    tenant_id: uuid.UUID,
    wanted: tuple[str, str, str, str, str],
    dealer: EnterpriseLink,
    devices: list[Device],
    staff: Tickets,
    dispatcher: Tickets,
    partner: EnterpriseLink,
) -> None:
    """The dealer's admin opens a ticket for a device the dealer sold (through the dealer's own service, as
    the portal does); staff dispatch it to the service partner, which accepts it: the dealer follows it."""
    device = next((d for d in devices if d.dealer_id == dealer.id), None)
    head = await session.scalar(
        select(Membership)
        .where(Membership.link_id == dealer.id, Membership.is_enterprise_admin.is_(True))
        .order_by(Membership.created_at)
        .limit(1)
    )
    if device is None or head is None:
        return
    kind, priority, symptoms, contact, phone = wanted
    opener = DealerTickets(session, policy, await _actor_of(session, policy, tenant_id, head, dealer))
    _opened, ticket = await opener.open(
        DealerTicketIn(kind, symptoms, contact, phone, priority, serial_number=device.serial_number)
    )
    await workflow.dispatch(staff, ticket.id, partner.id)
    await workflow.move(dispatcher, ticket.id, "accept")


async def _settlement(
    session: AsyncSession, policy: RolePolicy, staff: Actor, partner_actor: Actor, plan: Plan, partner: EnterpriseLink
) -> None:
    """The plan's fee schedule, and a settlement of the partner's closed tickets of the last two months, in
    review, its first line disputed by the partner."""
    regions = {r.code: r.id for r in await session.scalars(select(Region))}
    await fees.replace(
        session,
        [
            fees.FeeIn(kind, regions.get(region) if region else None, Decimal(labour), Decimal(travel))
            for kind, region, labour, travel in plan.fees
        ],
    )
    today = utcnow().date()
    settlement = await Settlements(session, policy, staff, SETTLEMENT).run(
        partner.id, today - timedelta(days=60), today
    )
    if plan.dispute:
        line = await session.scalar(
            select(SettlementLine.id).where(SettlementLine.settlement_id == settlement.id).limit(1)
        )
        if line is not None:
            await Settlements(session, policy, partner_actor, PARTNER_SETTLEMENT).dispute(
                settlement.id, line, plan.dispute
            )


# Business minutes each step takes after the one before (the demo's pace); accepting (or handing back) and
# resolving take a share of the ticket's own targets instead, more than all of it where the demo misses one.
PACE = {
    "dispatch": 15,
    "assign": 10,
    "start": 60,
    "arrive": 45,
    "hold": 60,
    "confirm": 240,
    "close": 480,
    "cancel": 120,
}
MET, MISSED = 0.5, 1.4


def _misses(index: int) -> tuple[bool, bool]:
    """Whether the plan's `index`th ticket misses its response, its resolution target: a few of each."""
    return index % 4 == 0, index % 3 == 1


def _moments(
    calendar: BusinessCalendar, events: list[TicketEvent], ticket: Ticket, opened: datetime, late: tuple[bool, bool]
) -> list[datetime]:
    """When each of the ticket's timeline entries happened, the first (its opening) at `opened`."""
    moments: list[datetime] = []
    at = opened
    for event in events:
        if not moments:
            at = opened
        elif event.action in ("accept", "reject") and ticket.response_minutes:
            at = calendar.add(at, timedelta(minutes=ticket.response_minutes * (MISSED if late[0] else MET)))
        elif event.action == "resolve" and ticket.resolution_minutes:
            goal = calendar.add(opened, timedelta(minutes=ticket.resolution_minutes * (MISSED if late[1] else MET)))
            at = max(goal, calendar.add(at, timedelta(minutes=30)))
        else:
            at = calendar.add(at, timedelta(minutes=PACE.get(event.action, 30)))
        moments.append(at)
    return moments


async def _date_back(session: AsyncSession, ticket_id: uuid.UUID, days: int, index: int) -> None:
    """The demo's tickets spread over past weeks: the ticket opened about `days` ago and each step of its
    timeline taken at the demo's pace in business time, its service-level due instants counted from those
    moments as the clocks count them (apps.service.sla.clock), so some targets are met and some missed. A
    clock still running past its due instant is left to the timer job, which marks it as it would."""
    await session.flush()
    ticket = await session.scalar(select(Ticket).where(Ticket.id == ticket_id))
    assert ticket is not None
    events = list(
        await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.at, TicketEvent.id)
        )
    )
    if days == 0 or not events:
        return
    calendar = await business_calendar(session)
    now = utcnow()
    opened = now - timedelta(days=days)
    late = _misses(index)
    moments = _moments(calendar, events, ticket, opened, late)
    for _ in range(5):  # the last step must lie in the past: start earlier by as much as it overshoots
        overshoot = moments[-1] - (now - timedelta(minutes=5))
        if overshoot <= timedelta():
            break
        opened -= overshoot + timedelta(hours=1)
        moments = _moments(calendar, events, ticket, opened, late)
    ticket.created_at = moments[0]
    for event, moment in zip(events, moments, strict=True):
        event.at = moment
        stamp = lifecycle.STAMPS.get(event.to_status)
        if stamp is not None and event.to_status != event.from_status:
            setattr(ticket, stamp, moment)
        if event.to_status in clock.PAUSED and event.from_status not in clock.PAUSED:
            for pause in await session.scalars(select(TicketPause).where(TicketPause.ticket_id == ticket_id)):
                pause.started_at = moment
        if event.action == "arrive":
            entries = await session.scalars(
                select(FieldEntry).where(FieldEntry.ticket_id == ticket_id).order_by(FieldEntry.at, FieldEntry.id)
            )
            for number, entry in enumerate(entries, start=1):
                entry.at = moment + timedelta(minutes=10 * number)
    percent = await warning_percent(session)
    clock.schedule_resolution(ticket, calendar, percent, timedelta())
    if ticket.resolution_due_at is not None and ticket.resolution_warn_at is not None:
        stopped = ticket.resolved_at or ticket.held_at
        ticket.resolution_breached = ticket.resolved_at is not None and ticket.resolved_at > ticket.resolution_due_at
        ticket.resolution_warned = stopped is not None and stopped > ticket.resolution_warn_at
    if ticket.response_minutes is not None and ticket.dispatched_at is not None:
        ticket.response_due_at = calendar.add(ticket.dispatched_at, timedelta(minutes=ticket.response_minutes))
        ticket.response_warn_at = calendar.add(
            ticket.dispatched_at, timedelta(minutes=ticket.response_minutes) * percent / 100
        )
        answered = next((e.at for e in reversed(events) if e.action in ("accept", "reject")), None)
        ticket.response_breached = (
            ticket.accepted_at is not None and answered is not None and answered > ticket.response_due_at
        )
        ticket.response_warned = answered is not None and answered > ticket.response_warn_at
    ticket.next_sla_check_at = clock.next_check(ticket)
    await session.flush()
