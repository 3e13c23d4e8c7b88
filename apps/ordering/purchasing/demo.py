"""Demo: North Supply (its own workspace) buys from Acme Pumps, a purchase order in each state. The orders
are written through North's service, handed to Acme as sync would (`hand`, given by the sync demo), moved
along at Acme through the ordering app's own workflow, and their progress handed back: one still waits
for Acme, one is refused (a product of North's own, which Acme never sent), the others are awaiting
approval, approved, rejected, cancelled, partly shipped, shipped and received (into North's stock)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from apps.ordering import workflow
from apps.ordering.models import Order, OrderLine, Product
from apps.ordering.placing import LineIn
from apps.ordering.purchasing.orders import PurchaseOrders
from apps.ordering.system import upstream_orders
from portal.actor import Actor
from portal.db.context import tenant_context
from portal.errors import DomainError
from portal.identity.models import InternalUser
from portal.permissions import ADMIN_ROLE

if TYPE_CHECKING:
    from portal.services import Services

Hand = Callable[[str, Sequence[uuid.UUID]], Awaitable[list[str]]]
# what happens at Acme to each purchase order, in order of the states shown
STEPS = (
    "sent",
    "refused",
    "submitted",
    "approved",
    "rejected",
    "cancelled",
    "partially_shipped",
    "shipped",
    "received",
)
OWN_SKU = "NS-LOCAL-GASKET"


async def load_purchase_orders(services: Services, pair: Any, hand: Hand) -> None:
    buyer, supplier = pair.downstream_id, pair.upstream_id
    async with services.db.session(tenant_context(buyer, channel="cli")) as session:
        first = await session.scalar(select(InternalUser).order_by(InternalUser.created_at, InternalUser.id).limit(1))
        products = list(await session.scalars(select(Product).where(Product.listed.is_(True)).order_by(Product.sku)))
        if first is None or len(products) < 3:
            return
        actor = Actor(first.id, buyer, "internal", "cli", first.display_name, roles=frozenset({ADMIN_ROLE}))
        own = Product(sku=OWN_SKU, name="Local gasket set", unit="pcs", tenant_id=buyer)
        session.add(own)
        await session.flush()
        purchases = PurchaseOrders(session, actor)
        made: dict[str, uuid.UUID] = {}
        for number, step in enumerate(STEPS):
            chosen = products[number % len(products)], products[(number + 1) % len(products)]
            lines = [LineIn(p.id, max(p.min_order_quantity, p.pack_size) * 2) for p in chosen]
            if step == "refused":
                lines.append(LineIn(own.id, 5))
            order, _lines = await purchases.create(
                supplier, lines, ship_to="North Supply, 8 Harbour Road, Dalian", note=f"Demo: {step}"
            )
            made[step] = order.id
    await hand("ordering.purchase_order", [i for step, i in made.items() if step != "sent"])
    async with services.db.session(tenant_context(supplier, channel="cli")) as session:
        orders = await upstream_orders(services, session, supplier)
        placed = {
            o.purchase_order_id: o
            for o in await session.scalars(select(Order).where(Order.purchase_order_id.in_(list(made.values()))))
        }
        moved: list[uuid.UUID] = []
        for step, po_id in made.items():
            order = placed.get(po_id)
            if order is None:
                continue
            moved.append(order.id)
            try:
                async with session.begin_nested():
                    await _move(orders, session, order, step)
            except DomainError:
                continue  # Acme's demo stock ran short: the order stays where it got to
    await hand("ordering.purchase_order_status", moved)
    receive = made["received"]
    async with services.db.session(tenant_context(buyer, channel="cli")) as session:
        try:
            await PurchaseOrders(session, actor).receive(receive)
        except DomainError:
            return  # not shipped in full (see above)
    await hand("ordering.purchase_order", [receive])
    async with services.db.session(tenant_context(supplier, channel="cli")) as session:
        received = await session.scalar(select(Order.id).where(Order.purchase_order_id == receive))
    if received is not None:
        await hand("ordering.purchase_order_status", [received])


async def _move(orders: Any, session: Any, order: Order, step: str) -> None:
    """Acme takes the sales order as far as the purchase order's demo state (the refusal came already)."""
    if step in ("submitted", "sent", "refused"):
        return
    if step == "rejected":
        await workflow.reject(orders, order.id, "Demo: not this month")
        return
    if step == "cancelled":
        await workflow.cancel(orders, order.id, "Demo: ordered twice")
        return
    while order.status == "submitted":
        await workflow.approve(orders, order.id)
    if step == "approved":
        return
    lines = list(await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)))
    if step == "partially_shipped":
        await workflow.ship(orders, order.id, {lines[0].id: lines[0].quantity}, own_delivery=True)
        return
    await workflow.ship(orders, order.id, None, carrier="SF Express", tracking_number=f"SF{order.number}")
