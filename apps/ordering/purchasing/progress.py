"""The sales order's progress back to the purchase order it was placed from (sync object
`ordering.purchase_order_status`, travelling down; apps.ordering.purchasing.syncing places the order):
its status, number, total, currency and shipped quantities, and what the supplier said when it rejected
or cancelled it. Received, the goods go into the partner's stock, once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import stock
from apps.ordering.models import Order, OrderEvent, OrderLine
from apps.ordering.purchasing.models import PURCHASE_STATUSES, PurchaseOrder, PurchaseOrderLine
from portal.db.types import utcnow
from portal.i18n import N_

if TYPE_CHECKING:
    from portal.services import Services

ORDER_EVENTS = frozenset(
    f"ordering.order.{s}"
    for s in ("submitted", "approved", "rejected", "partially_shipped", "shipped", "received", "completed", "cancelled")
)
RECEIVED = frozenset({"received", "completed"})
ENDED = ("rejected", "cancelled")
# what the supplier answered to a cancellation or a change it could not make: kept while the order goes on
KEPT_ANSWERS = ("cancel_refused", "revision_refused")


class Outcome:
    """What sync.crosstenant.objects.Handled holds, made here without importing sync (same fields)."""

    def __init__(
        self, outcome: str, target_id: uuid.UUID | None = None, target_row: Any = None, answer: Any = None
    ) -> None:
        self.outcome, self.target_id, self.target_row, self.answer = outcome, target_id, target_row, answer or {}


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
        return [(o.id, {**progress_of(o, shipped[o.id]), "reason": reasons.get(o.id)}, True) for o in orders]

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
        changed = await follow(session, order, values)
        return Outcome("updated" if changed else "unchanged", order.id, order)

    async def answer(self, session: AsyncSession, source_id: uuid.UUID, handled: Any) -> None:
        return None


def progress_of(order: Order, shipped: Mapping[str, int]) -> dict[str, Any]:
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


async def follow(session: AsyncSession, order: PurchaseOrder, values: Mapping[str, Any]) -> bool:
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
    if refusal is None and order.status not in ENDED and (order.refusal or {}).get("code") in KEPT_ANSWERS:
        refusal = order.refusal
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


PURCHASE_ORDER_STATUS = PurchaseOrderStatusSync()
