"""Demo ordering for both demo manufacturers: a catalog of a few hundred products in categories, a base
price list with quantity breaks, tier lists and one dealer's own prices, stock in the main warehouse,
the order desk role for the demo order clerk, and a history of orders in every status (placed,
approved, shipped, received and paid through the same services as the API, then dated back over the
last weeks). Runs after the demo partners; skips a tenant that has products already."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import placing, workflow
from apps.ordering.addresses import AddressBook
from apps.ordering.catalog import settings_of
from apps.ordering.models import (
    AccountEntry,
    Category,
    Order,
    OrderEvent,
    PriceList,
    PriceListItem,
    Product,
    Shipment,
    StockLevel,
)
from apps.ordering.objects import PARTNER_ORDER
from apps.ordering.orders import ORDER_KIND, Orders
from apps.ordering.payments import Payments
from apps.ordering.system import upstream_orders
from interconnect.models import EnterpriseLink, Membership, PartnerTier
from portal.actor import Actor
from portal.db.context import tenant_context
from portal.db.types import utcnow
from portal.identity.models import InternalUser
from portal.permissions import policy_changed
from portal.services import Services
from roles.approvals.models import ApprovalEvent, ApprovalRequest, ApprovalRequestStep
from roles.casbin_model import ROLE_PREFIX
from roles.models import PolicyRule
from roles.policy import user_subject


@dataclass(frozen=True)
class Family:
    code: str
    name: str
    unit: str
    base: Decimal
    step: Decimal
    pack: int = 1


ACME_CATALOG = (
    ("PUMP", "Centrifugal pumps", Family("CP", "Centrifugal pump", "pcs", Decimal("1200"), Decimal("180"))),
    ("SUB", "Submersible pumps", Family("SP", "Submersible pump", "pcs", Decimal("900"), Decimal("150"))),
    ("VALVE", "Valves", Family("BV", "Ball valve", "pcs", Decimal("45"), Decimal("6"), 5)),
    ("SEAL", "Seals and gaskets", Family("SG", "Mechanical seal", "pcs", Decimal("28"), Decimal("3"), 10)),
    ("MOTOR", "Motors", Family("EM", "Electric motor", "pcs", Decimal("650"), Decimal("95"))),
    ("CTRL", "Controls", Family("PC", "Pressure controller", "pcs", Decimal("320"), Decimal("40"))),
    ("PIPE", "Pipes and fittings", Family("PF", "Steel fitting", "pcs", Decimal("12"), Decimal("1.5"), 20)),
    ("PART", "Spare parts", Family("IM", "Impeller", "pcs", Decimal("85"), Decimal("11"))),
)
BOREALIS_CATALOG = (
    ("GATE", "闸阀", Family("ZF", "闸阀", "台", Decimal("480"), Decimal("60"))),
    ("BALL", "球阀", Family("QF", "球阀", "台", Decimal("120"), Decimal("18"), 5)),
    ("CHECK", "止回阀", Family("ZHF", "止回阀", "台", Decimal("260"), Decimal("32"))),
    ("BFLY", "蝶阀", Family("DF", "蝶阀", "台", Decimal("390"), Decimal("45"))),
    ("ACT", "执行器", Family("ZX", "电动执行器", "台", Decimal("1500"), Decimal("210"))),
    ("SPARE", "备件", Family("BJ", "密封件", "件", Decimal("15"), Decimal("2"), 10)),
)
SIZES = ("DN15", "DN20", "DN25", "DN32", "DN40", "DN50", "DN65", "DN80", "DN100", "DN125", "DN150", "DN200")
MATERIALS = (("CI", "cast iron", "铸铁"), ("SS", "stainless steel", "不锈钢"), ("BR", "bronze", "青铜"))
TIER_DISCOUNT = {"gold": Decimal("0.92"), "silver": Decimal("0.96")}
# (enterprise code, product count, days ago, the status to leave it in)
HISTORY = {
    "acme-pumps": (
        ("ED", 3, 40, "completed"),
        ("ED", 2, 33, "completed"),
        ("WD", 4, 30, "completed"),
        ("NS", 5, 28, "completed"),
        ("NS-S1", 2, 25, "received"),
        ("ED", 3, 21, "received"),
        ("WD", 2, 18, "shipped"),
        ("NS", 4, 15, "shipped"),
        ("ED", 6, 12, "partially_shipped"),
        ("NS-S2", 2, 10, "cancelled"),
        ("WD", 3, 9, "rejected"),
        ("ED", 2, 7, "approved"),
        ("NS", 3, 5, "approved"),
        ("NS-S1", 2, 3, "submitted"),
        ("ED", 4, 2, "submitted"),
        ("WD", 1, 1, "submitted"),
        ("ED", 2, 0, "submitted"),
    ),
    "borealis-valves": (
        ("DN", 3, 30, "completed"),
        ("HB", 4, 20, "received"),
        ("HB-01", 2, 14, "shipped"),
        ("DN", 2, 8, "approved"),
        ("HB", 3, 4, "cancelled"),
        ("DN", 2, 1, "submitted"),
    ),
}
# Each demo enterprise's address book: its warehouse (the default) and a second site.
ADDRESSES = {
    "acme-pumps": (
        ("Warehouse", "Receiving desk", "+1 555 0100", "{name}, 18 Harbour Road, Dock 2"),
        ("Showroom", "Front office", "+1 555 0101", "{name}, 5 Market Street"),
    ),
    "borealis-valves": (
        ("仓库", "收货处", "021-5555-0100", "{name} 上海市浦东新区港城路 18 号 2 号门"),
        ("门店", "前台", "021-5555-0101", "{name} 上海市黄浦区南京东路 5 号"),
    ),
}
ORDER_DESK_STAFF = {"acme-pumps": "oscar@acme-pumps.example", "borealis-valves": "liu.yang@borealis.example"}


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


async def _catalog(session: AsyncSession, slug: str) -> list[Product]:
    catalog = ACME_CATALOG if slug == "acme-pumps" else BOREALIS_CATALOG
    chinese = slug != "acme-pumps"
    products: list[Product] = []
    for order, (code, name, family) in enumerate(catalog):
        category = Category(code=code, name=name, sort_order=order)
        session.add(category)
        await session.flush()
        for size_index, size in enumerate(SIZES):
            for material_code, english, zh in MATERIALS[: 3 if family.base > 100 else 2]:
                price = _money(family.base + family.step * size_index) * (
                    Decimal("1.4") if material_code == "SS" else 1
                )
                title = f"{family.name} {size} {zh if chinese else english}"
                products.append(
                    Product(
                        sku=f"{family.code}-{size[2:]}-{material_code}",
                        name=title,
                        category_id=category.id,
                        unit=family.unit,
                        pack_size=family.pack,
                        min_order_quantity=family.pack,
                        description=(f"{title}，{size} 口径。" if chinese else f"{title}, nominal size {size}."),  # noqa: RUF001
                        cost_price=_money(price * Decimal("0.62")),
                        listed=not (size_index == len(SIZES) - 1 and material_code == "BR"),
                    )
                )
    session.add_all(products)
    await session.flush()
    return products


async def _prices(
    session: AsyncSession, products: list[Product], base_prices: dict[uuid.UUID, Decimal], own: EnterpriseLink | None
) -> None:
    base = PriceList(name="Base price list 2026", kind="base", currency="CNY")
    session.add(base)
    tiers = {t.code: t.id for t in await session.scalars(select(PartnerTier))}
    lists = [base]
    for code in TIER_DISCOUNT:
        if code in tiers:
            lists.append(PriceList(name=f"{code.title()} partners", kind="tier", tier_id=tiers[code], currency="CNY"))
    session.add_all(lists[1:])
    await session.flush()
    for product in products:
        price = base_prices[product.id]
        session.add(PriceListItem(price_list_id=base.id, product_id=product.id, min_quantity=1, unit_price=price))
        breaks_at = max(10, product.pack_size * 4)
        session.add(
            PriceListItem(
                price_list_id=base.id,
                product_id=product.id,
                min_quantity=breaks_at,
                unit_price=_money(price * Decimal("0.95")),
            )
        )
        for tier_list in lists[1:]:
            code = next(c for c, i in tiers.items() if i == tier_list.tier_id)
            session.add(
                PriceListItem(
                    price_list_id=tier_list.id,
                    product_id=product.id,
                    min_quantity=1,
                    unit_price=_money(price * TIER_DISCOUNT[code]),
                )
            )
    if own is not None:
        special = PriceList(name=f"{own.name} contract prices", kind="enterprise", enterprise_id=own.id, currency="CNY")
        session.add(special)
        await session.flush()
        for product in products[:12]:
            session.add(
                PriceListItem(
                    price_list_id=special.id,
                    product_id=product.id,
                    min_quantity=1,
                    unit_price=_money(base_prices[product.id] * Decimal("0.88")),
                )
            )
    await session.flush()


async def load_ordering(services: Services, context: dict[str, Any]) -> None:
    for slug, tenant_id in context["tenants"].items():
        if slug not in HISTORY:
            continue
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            if await session.scalar(select(Product.id).limit(1)) is not None:
                continue
            products = await _catalog(session, slug)
            base_prices = {p.id: _money(p.cost_price / Decimal("0.62")) for p in products if p.cost_price is not None}
            links = {link.code: link for link in await session.scalars(select(EnterpriseLink))}
            await _prices(session, products, base_prices, links.get("ED") or links.get("DN"))
            settings = await settings_of(session)
            assert settings.default_warehouse_id is not None
            session.add_all(
                StockLevel(warehouse_id=settings.default_warehouse_id, product_id=p.id, on_hand=40 + (n * 37) % 400)
                for n, p in enumerate(products)
            )
            desk = await session.scalar(select(InternalUser).where(InternalUser.email == ORDER_DESK_STAFF[slug]))
            if desk is not None:
                session.add(PolicyRule(ptype="g", v0=user_subject(desk.id), v1=ROLE_PREFIX + "order_desk", v2=""))
            await policy_changed(session, tenant_id)
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            await _history(services, session, tenant_id, slug, [p for p in products if p.listed], links)


async def _history(
    services: Services,
    session: AsyncSession,
    tenant_id: uuid.UUID,
    slug: str,
    products: list[Product],
    links: dict[str | None, EnterpriseLink],
) -> None:
    staff_orders = await upstream_orders(services, session, tenant_id)
    policy = staff_orders.policy
    reporter: Orders | None = None
    books: dict[uuid.UUID, uuid.UUID] = {}  # enterprise -> its default address
    for code in dict.fromkeys(code for code, *_ in HISTORY[slug]):
        link = links.get(code)
        if link is not None:
            book = AddressBook(session, link.id)
            for label, recipient, phone, where in ADDRESSES[slug]:
                values = {
                    "label": label,
                    "recipient": recipient,
                    "phone": phone,
                    "address": where.format(name=link.name),
                }
                address = await book.create(values)
                books.setdefault(link.id, address.id)
    for index, (code, count, days_ago, status) in enumerate(HISTORY[slug]):
        link = links.get(code)
        if link is None:
            continue
        buyer = await session.scalar(
            select(Membership)
            .where(Membership.link_id == link.id, Membership.is_enterprise_admin.is_(True))
            .order_by(Membership.created_at)
            .limit(1)
        )
        if buyer is None:
            continue
        dealer = Actor(
            buyer.id,
            tenant_id,
            "external",
            "cli",
            buyer.display_name,
            roles=frozenset({"dealer_admin"}),
            enterprise_id=link.id,
            partner_type_id=link.partner_type_id,
            tier_id=link.tier_id,
        )
        picked = [products[(index * 7 + k * 13) % len(products)] for k in range(count)]
        lines = [placing.LineIn(p.id, p.min_order_quantity * (1 + (index + k) % 3)) for k, p in enumerate(picked)]
        order = await placing.place(
            Orders(session, policy, dealer, PARTNER_ORDER),
            lines,
            enterprise_id=link.id,
            address_id=books[link.id],
            po_number=f"PO-{link.code}-{index + 1:03d}",
        )
        await _advance(session, staff_orders, Orders(session, policy, dealer, PARTNER_ORDER), order, status)
        await _date_back(session, order.id, days_ago)
        reporter = Orders(session, policy, dealer, PARTNER_ORDER)
    if reporter is not None:  # a payment the dealer reported, waiting for the order desk to confirm it
        await Payments(reporter).create(
            enterprise_id=reporter.actor.enterprise_id,  # type: ignore[arg-type]
            amount=Decimal("1000.00"),
            method="transfer",
            received_on=utcnow().date(),
            reference="Transfer 20261201-01",
        )
    await session.flush()


async def _advance(session: AsyncSession, staff: Orders, dealer: Orders, order: Order, status: str) -> None:
    if status == "submitted":
        return
    if status == "cancelled":
        await workflow.cancel(dealer, order.id, "Ordered twice by mistake")
        return
    if status == "rejected":
        await workflow.reject(staff, order.id, "These sizes are being discontinued")
        return
    await workflow.approve(staff, order.id, None)
    if status == "approved":
        return
    lines = (await staff.lines([order.id]))[order.id]
    if status == "partially_shipped":
        await workflow.ship(
            staff, order.id, {lines[0].id: lines[0].quantity}, carrier="SF Express", tracking_number="SF1001"
        )
        return
    await workflow.ship(staff, order.id, None, carrier="SF Express", tracking_number=f"SF{order.number[-4:]}")
    if status == "shipped":
        return
    await workflow.receive(dealer, order.id, None)
    if status == "completed":
        payments = Payments(staff)
        await payments.create(
            enterprise_id=order.enterprise_id,  # type: ignore[arg-type]
            amount=order.total,
            method="transfer",
            received_on=utcnow().date(),
            reference=f"Bank transfer {order.number}",
        )


async def _date_back(session: AsyncSession, order_id: uuid.UUID, days: int) -> None:
    """The demo history spreads over past weeks: the order and everything it wrote move back in time."""
    if days == 0:
        return
    shift = timedelta(days=days)
    columns = ("created_at", "submitted_at", "approved_at", "shipped_at", "received_at", "completed_at", "cancelled_at")
    await session.flush()
    order = await session.get(
        Order, (await session.scalar(select(Order.tenant_id).where(Order.id == order_id)), order_id)
    )
    assert order is not None
    for column in columns:
        value = getattr(order, column)
        if value is not None:
            setattr(order, column, value - shift)
    for event in await session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id)):
        event.at -= shift
    for shipment in await session.scalars(select(Shipment).where(Shipment.order_id == order_id)):
        shipment.shipped_at -= shift
    for entry in await session.scalars(select(AccountEntry).where(AccountEntry.order_id == order_id)):
        entry.occurred_at -= shift
    # its approval request (roles.approvals) and the steps taken on it
    for request in await session.scalars(
        select(ApprovalRequest).where(ApprovalRequest.kind == ORDER_KIND, ApprovalRequest.subject_id == order_id)
    ):
        request.created_at -= shift
        request.decided_at = request.decided_at - shift if request.decided_at else None
        steps = select(ApprovalRequestStep).where(ApprovalRequestStep.request_id == request.id)
        for step in await session.scalars(steps):
            step.decided_at = step.decided_at - shift if step.decided_at else None
        for event in await session.scalars(select(ApprovalEvent).where(ApprovalEvent.request_id == request.id)):
            event.at -= shift
