"""Purchasing as cross-tenant sync sees it (two objects listed in the component's `extra["sync_objects"]`;
sync applies them through the app, which never imports sync):

- `ordering.purchase_order` travels up: a purchase order of the partner's own workspace becomes a sales
  order of the upstream for the partner's enterprise, placed by the ordering app's own placement (the
  upstream's catalog, prices, stock and credit apply). Its lines name the partner's products; the mapping
  table of the link's product rule says which of the upstream's they were made from. A refusal (an
  unknown product, the credit limit, a price, stock…) goes back to the purchase order with its reason.
- `ordering.purchase_order_status` travels down: the sales order's status, total and shipped quantities
  come back to the purchase order; when it is received, the goods go into the partner's stock, once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import placing, stock, workflow
from apps.ordering.models import Order, OrderEvent, OrderLine
from apps.ordering.purchasing.demo import load_purchase_orders
from apps.ordering.purchasing.models import PURCHASE_STATUSES, PurchaseOrder, PurchaseOrderLine
from apps.ordering.purchasing.orders import RECEIVED as RECEIPT
from apps.ordering.purchasing.orders import SENT
from apps.ordering.system import upstream_orders
from portal.db.types import utcnow
from portal.errors import DomainError, ValidationFailed
from portal.i18n import N_

if TYPE_CHECKING:
    from portal.services import Services

ORDER_EVENTS = frozenset(
    f"ordering.order.{s}"
    for s in ("submitted", "approved", "rejected", "partially_shipped", "shipped", "received", "completed", "cancelled")
)
RECEIVED = frozenset({"received", "completed"})
ENDED = ("rejected", "cancelled")
PRODUCT_OBJECT = "ordering.product"


class Outcome:
    """What sync.crosstenant.objects.Handled holds, made here without importing sync (same fields)."""

    def __init__(
        self, outcome: str, target_id: uuid.UUID | None = None, target_row: Any = None, answer: Any = None
    ) -> None:
        self.outcome, self.target_id, self.target_row, self.answer = outcome, target_id, target_row, answer or {}


def refusal_of(error: DomainError) -> dict[str, Any]:
    """A refusal as the purchase order keeps it: message ids and their values, shown in the reader's
    language (apps.ordering.purchasing.orders.refusal_text)."""
    if isinstance(error, ValidationFailed):
        messages = [{"message": e.message, "params": _plain(e.params)} for e in error.errors]
    else:
        messages = [{"message": error.detail, "params": _plain(error.params)}]
    return {"code": error.code, "messages": messages}


def _plain(params: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in params.items()}


class PurchaseOrderSync:
    name = "ordering.purchase_order"
    label = N_("Purchase orders")
    direction = "up"
    events = frozenset({SENT, RECEIPT})
    source_fields = ("number", "ship_to", "note", "requested_delivery_date")
    target_fields = {"po_number": "text", "ship_to": "text", "note": "text", "requested_delivery_date": "text"}
    required_targets = frozenset({"ship_to"})
    default_mapping = (
        {"target": "po_number", "kind": "rename", "source": "number"},
        {"target": "ship_to", "kind": "rename", "source": "ship_to"},
        {"target": "note", "kind": "rename", "source": "note"},
        {"target": "requested_delivery_date", "kind": "rename", "source": "requested_delivery_date"},
    )
    field_labels = {
        "number": N_("Purchase order number"),
        "po_number": N_("PO number"),
        "ship_to": N_("Ship to"),
        "note": N_("Note"),
        "requested_delivery_date": N_("Requested delivery date"),
    }

    def changed_ids(self, event_type: str, aggregate_id: uuid.UUID, payload: Mapping[str, Any]) -> list[uuid.UUID]:
        return [aggregate_id]

    async def read(
        self, session: AsyncSession, pair: Any, ids: Sequence[uuid.UUID] | None, after: uuid.UUID | None, limit: int
    ) -> list[tuple[uuid.UUID, dict[str, Any], bool]]:
        """In the partner's workspace: its purchase orders to this supplier (named, or those still waiting
        for it after `after`, by id), with their lines."""
        query = select(PurchaseOrder).where(PurchaseOrder.supplier_tenant_id == pair.upstream_id)
        if ids is not None:
            query = query.where(PurchaseOrder.id.in_(sorted(ids)))
        else:
            query = query.where(PurchaseOrder.status == "sent").limit(limit)
            if after is not None:
                query = query.where(PurchaseOrder.id > after)
        orders = list(await session.scalars(query.order_by(PurchaseOrder.id)))
        lines: dict[uuid.UUID, list[PurchaseOrderLine]] = {o.id: [] for o in orders}
        if orders:
            for line in await session.scalars(
                select(PurchaseOrderLine)
                .where(PurchaseOrderLine.purchase_order_id.in_(list(lines)))
                .order_by(PurchaseOrderLine.line_no)
            ):
                lines[line.purchase_order_id].append(line)
        return [
            (
                order.id,
                {
                    "number": order.number,
                    "ship_to": order.ship_to,
                    "note": order.note,
                    "requested_delivery_date": order.requested_delivery_date.isoformat()
                    if order.requested_delivery_date
                    else None,
                    "lines": [(str(line.product_id), line.sku, line.quantity) for line in lines[order.id]],
                    "receipt": order.receipt_requested_at is not None,
                },
                order.status != "refused",
            )
            for order in orders
        ]

    async def count(self, session: AsyncSession, pair: Any) -> int:
        query = select(func.count()).where(
            PurchaseOrder.supplier_tenant_id == pair.upstream_id, PurchaseOrder.status == "sent"
        )
        return int(await session.scalar(query) or 0)

    async def apply(self, session: AsyncSession, services: Services, handover: Any) -> Outcome:
        """In the upstream's workspace: the sales order placed for the partner's enterprise, once (the
        mapping table, and the order's own unique reference to the purchase order, say it exists); once
        the partner says the goods arrived, the order is received."""
        existing = handover.target_id or await session.scalar(
            select(Order.id).where(Order.purchase_order_id == handover.source_id)
        )
        if existing is not None:
            return await _received(session, services, handover, existing)
        wanted: list[tuple[uuid.UUID, str, int]] = [
            (uuid.UUID(product_id), sku, quantity) for product_id, sku, quantity in handover.values["lines"]
        ]
        theirs = await handover.translate(PRODUCT_OBJECT, [p for p, _s, _q in wanted])
        unknown = [
            {"message": N_("%(sku)s is not a product this supplier sends you"), "params": {"sku": sku}}
            for product_id, sku, _q in wanted
            if product_id not in theirs
        ]
        if unknown:
            return Outcome("refused", answer={"refusal": {"code": "unknown_product", "messages": unknown}})
        mapped = handover.mapped
        orders = await upstream_orders(services, session, handover.pair.upstream_id)
        try:
            async with session.begin_nested():
                order = await placing.place(
                    orders,
                    [placing.LineIn(theirs[p], q) for p, _s, q in wanted],
                    enterprise_id=handover.pair.link_id,
                    ship_to=mapped.get("ship_to"),
                    po_number=mapped.get("po_number"),
                    note=mapped.get("note"),
                    requested_delivery_date=_date(mapped.get("requested_delivery_date")),
                    purchase_order_id=handover.source_id,
                )
        except DomainError as error:
            return Outcome("refused", answer={"refusal": refusal_of(error)})
        return Outcome("created", order.id, order, answer=_progress(order, {}))

    async def demo(self, services: Services, pair: Any, hand: Any) -> None:
        """North Supply's purchase orders to Acme Pumps, one in each state (apps.ordering.purchasing.demo)."""
        await load_purchase_orders(services, pair, hand)

    async def answer(self, session: AsyncSession, source_id: uuid.UUID, handled: Any) -> PurchaseOrder | None:
        """In the partner's workspace: the supplier's answer on the purchase order."""
        if handled.outcome not in ("created", "refused"):
            return None
        order = await session.scalar(select(PurchaseOrder).where(PurchaseOrder.id == source_id).with_for_update())
        if order is None:
            return None
        if handled.outcome == "refused":
            order.status, order.refusal = "refused", handled.answer["refusal"]
        elif order.status == "sent":
            await _follow(session, order, handled.answer)
        return order


async def _received(session: AsyncSession, services: Services, handover: Any, order_id: uuid.UUID) -> Outcome:
    order = await session.scalar(select(Order).where(Order.id == order_id))
    if order is None or not handover.values.get("receipt") or order.status != "shipped":
        return Outcome("unchanged", order_id)
    orders = await upstream_orders(services, session, handover.pair.upstream_id)
    await workflow.receive(orders, order_id, None)
    return Outcome("updated", order.id, order)


class PurchaseOrderStatusSync:
    name = "ordering.purchase_order_status"
    label = N_("Purchase order progress")
    direction = "down"
    events = ORDER_EVENTS
    source_fields = ("number", "status", "total", "currency")
    target_fields = {"sales_order_number": "text", "status": "text", "total": "decimal", "currency": "text"}
    required_targets = frozenset({"status"})
    default_mapping = (
        {"target": "sales_order_number", "kind": "rename", "source": "number"},
        {"target": "status", "kind": "rename", "source": "status"},
        {"target": "total", "kind": "rename", "source": "total"},
        {"target": "currency", "kind": "rename", "source": "currency"},
    )
    field_labels = {
        "number": N_("Order number"),
        "sales_order_number": N_("Supplier's order number"),
        "status": N_("Status"),
        "total": N_("Total"),
        "currency": N_("Currency"),
    }

    def changed_ids(self, event_type: str, aggregate_id: uuid.UUID, payload: Mapping[str, Any]) -> list[uuid.UUID]:
        return [aggregate_id]

    async def read(
        self, session: AsyncSession, pair: Any, ids: Sequence[uuid.UUID] | None, after: uuid.UUID | None, limit: int
    ) -> list[tuple[uuid.UUID, dict[str, Any], bool]]:
        """In the upstream's workspace: its sales orders placed from the enterprise's purchase orders."""
        query = select(Order).where(Order.enterprise_id == pair.link_id, Order.purchase_order_id.is_not(None))
        if ids is not None:
            query = query.where(Order.id.in_(sorted(ids)))
        else:
            query = query.limit(limit)
            if after is not None:
                query = query.where(Order.id > after)
        orders = list(await session.scalars(query.order_by(Order.id)))
        shipped: dict[uuid.UUID, dict[str, int]] = {o.id: {} for o in orders}
        reasons: dict[uuid.UUID, str | None] = {}
        if orders:
            for line in await session.scalars(select(OrderLine).where(OrderLine.order_id.in_(list(shipped)))):
                shipped[line.order_id][str(line.line_no)] = line.shipped_quantity
            ended = [o.id for o in orders if o.status in ENDED]
            if ended:
                # why the supplier rejected or cancelled it: the comment of that step of its timeline
                for order_id, comment in await session.execute(
                    select(OrderEvent.order_id, OrderEvent.comment)
                    .where(OrderEvent.order_id.in_(ended), OrderEvent.to_status.in_(ENDED))
                    .order_by(OrderEvent.at)
                ):
                    reasons[order_id] = comment
        return [(o.id, {**_progress(o, shipped[o.id]), "reason": reasons.get(o.id)}, True) for o in orders]

    async def count(self, session: AsyncSession, pair: Any) -> int:
        query = select(func.count()).where(Order.enterprise_id == pair.link_id, Order.purchase_order_id.is_not(None))
        return int(await session.scalar(query) or 0)

    async def apply(self, session: AsyncSession, services: Services, handover: Any) -> Outcome:
        """In the partner's workspace: the purchase order follows its sales order."""
        order = await session.scalar(
            select(PurchaseOrder)
            .where(PurchaseOrder.id == uuid.UUID(handover.values["purchase_order_id"]))
            .with_for_update()
        )
        if order is None:
            return Outcome("unchanged")
        values = {**handover.values, **_renamed(handover.mapped)}
        changed = await _follow(session, order, values)
        return Outcome("updated" if changed else "unchanged", order.id, order)

    async def answer(self, session: AsyncSession, source_id: uuid.UUID, handled: Any) -> None:
        return None


def _progress(order: Order, shipped: Mapping[str, int]) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status,
        "total": str(order.total),
        "currency": order.currency,
        "purchase_order_id": str(order.purchase_order_id),
        "shipped": dict(shipped),
    }


def _renamed(mapped: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's mapping of the status fields, under the names `_follow` reads."""
    names = {"sales_order_number": "number", "status": "status", "total": "total", "currency": "currency"}
    return {names[k]: v for k, v in mapped.items() if k in names}


async def _follow(session: AsyncSession, order: PurchaseOrder, values: Mapping[str, Any]) -> bool:
    """The purchase order takes the sales order's number, status, total and shipped quantities; received,
    its goods go into the warehouse's stock (once: `received_at` marks it). Whether anything changed."""
    before = (order.status, order.sales_order_number, order.total, order.currency)
    status = values.get("status")
    if status in PURCHASE_STATUSES and status not in ("sent", "refused"):
        order.status = status
    order.sales_order_number = values.get("number") or order.sales_order_number
    if values.get("total") is not None:
        order.total = _decimal(values["total"])
    order.currency = values.get("currency") or order.currency
    reason = values.get("reason")
    refusal = None
    if order.status in ENDED and reason:
        said = {"message": N_("The supplier says: %(reason)s"), "params": {"reason": str(reason)[:1000]}}
        refusal = {"code": f"order_{order.status}", "messages": [said]}
    changed = before != (order.status, order.sales_order_number, order.total, order.currency) or (
        refusal != order.refusal
    )
    order.refusal = refusal
    shipped: Mapping[str, int] = values.get("shipped") or {}
    lines = list(
        await session.scalars(
            select(PurchaseOrderLine)
            .where(PurchaseOrderLine.purchase_order_id == order.id)
            .order_by(PurchaseOrderLine.line_no)
        )
    )
    for line in lines:
        quantity = max(0, min(int(shipped.get(str(line.line_no), line.shipped_quantity)), line.quantity))
        if quantity != line.shipped_quantity:
            line.shipped_quantity, changed = quantity, True
    if order.status in RECEIVED and order.received_at is None:
        order.received_at = utcnow()
        if order.warehouse_id is not None:
            arrived: dict[uuid.UUID, int] = {}
            for line in lines:
                arrived[line.product_id] = arrived.get(line.product_id, 0) + line.shipped_quantity
            await stock.take_in(session, order.warehouse_id, arrived)
        changed = True
    return changed


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


PURCHASE_ORDERS = PurchaseOrderSync()
PURCHASE_ORDER_STATUS = PurchaseOrderStatusSync()
