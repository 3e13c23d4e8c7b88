"""Purchasing as cross-tenant sync sees it (two objects listed in the component's `extra["sync_objects"]`;
sync applies them through the app, which never imports sync; the second is apps.ordering.purchasing
.progress):

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
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import placing, workflow
from apps.ordering.models import Order
from apps.ordering.purchasing.demo import load_purchase_orders
from apps.ordering.purchasing.models import PurchaseOrder, PurchaseOrderLine
from apps.ordering.purchasing.orders import CANCEL_REQUESTED, REVISED, SENT
from apps.ordering.purchasing.orders import RECEIVED as RECEIPT
from apps.ordering.purchasing.progress import Outcome, follow, progress_of
from apps.ordering.system import upstream_orders
from portal.errors import DomainError, ValidationFailed
from portal.i18n import N_

if TYPE_CHECKING:
    from portal.services import Services

PRODUCT_OBJECT = "ordering.product"
# the comment on the supplier's order's timeline (kept as written: the supplier's staff read it)
CANCELLED_BY_PARTNER = "Cancelled by the partner's purchase order"
REPLACED_BY_REVISION = "Replaced by the partner's revised purchase order"


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
    events = frozenset({SENT, RECEIPT, REVISED, CANCEL_REQUESTED})
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
        for it after `after`, by id: sent, or asked to be cancelled), with their lines."""
        query = select(PurchaseOrder).where(PurchaseOrder.supplier_tenant_id == pair.upstream_id)
        if ids is not None:
            query = query.where(PurchaseOrder.id.in_(sorted(ids)))
        else:
            query = query.where(_waiting()).limit(limit)
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
                    "revision": order.revision,
                    "cancel": order.cancel_requested_at is not None,
                },
                order.status not in ("refused", "cancelled") or order.cancel_requested_at is not None,
            )
            for order in orders
        ]

    async def count(self, session: AsyncSession, pair: Any) -> int:
        query = select(func.count()).where(PurchaseOrder.supplier_tenant_id == pair.upstream_id, _waiting())
        return int(await session.scalar(query) or 0)

    async def apply(self, session: AsyncSession, services: Services, handover: Any) -> Outcome:
        """In the upstream's workspace: the sales order placed for the partner's enterprise, once (the
        mapping table, and the order's own unique reference to the purchase order, say it exists); once
        the partner says the goods arrived, the order is received."""
        existing = await session.scalar(select(Order).where(Order.purchase_order_id == handover.source_id))
        revision = int(handover.values.get("revision") or 0)
        if handover.values.get("cancel"):
            return await _cancelled(session, services, handover, existing)
        if existing is not None and (existing.purchase_order_revision or 0) < revision:
            return await _replaced(session, services, handover, existing)
        if existing is not None:
            return await _received(session, services, handover, existing.id)
        return await self._place(session, services, handover)

    async def _place(self, session: AsyncSession, services: Services, handover: Any) -> Outcome:
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
                order.purchase_order_revision = int(handover.values.get("revision") or 0)
        except DomainError as error:
            return Outcome("refused", answer={"refusal": refusal_of(error)})
        return Outcome("created", order.id, order, answer=progress_of(order, {}))

    async def demo(self, services: Services, pair: Any, hand: Any) -> None:
        """North Supply's purchase orders to Acme Pumps, one in each state (apps.ordering.purchasing.demo)."""
        await load_purchase_orders(services, pair, hand)

    async def answer(self, session: AsyncSession, source_id: uuid.UUID, handled: Any) -> PurchaseOrder | None:
        """In the partner's workspace: the supplier's answer on the purchase order."""
        if handled.outcome not in ("created", "refused", "cancelled", "kept"):
            return None
        order = await session.scalar(select(PurchaseOrder).where(PurchaseOrder.id == source_id).with_for_update())
        if order is None:
            return None
        if handled.outcome == "refused":
            order.status, order.refusal = "refused", handled.answer["refusal"]
        elif handled.outcome == "cancelled":
            # never placed (or its order cancelled already): cancelled here; an order cancelled now
            # brings its own status back
            order.cancel_requested_at = None
            if order.status in ("sent", "refused"):
                order.status = "cancelled"
        elif handled.outcome == "kept":
            # the supplier could not cancel its order: the purchase order goes on, with the reason
            order.cancel_requested_at, order.refusal = None, handled.answer["refusal"]
        elif order.status == "sent":
            await follow(session, order, handled.answer)
        return order


async def _cancelled(session: AsyncSession, services: Services, handover: Any, order: Order | None) -> Outcome:
    """The partner asked to cancel: the supplier's order is cancelled through the ordering app's own
    transition (its reservation released, an approved order's debit reversed), or kept with the reason
    it cannot be (shipped meanwhile, payments matched)."""
    if order is None or order.status == "cancelled":
        return Outcome("cancelled", order.id if order else None, order)
    orders = await upstream_orders(services, session, handover.pair.upstream_id)
    try:
        async with session.begin_nested():
            await workflow.cancel(orders, order.id, CANCELLED_BY_PARTNER)
    except DomainError as error:
        return Outcome("kept", order.id, order, answer={"refusal": {**refusal_of(error), "code": "cancel_refused"}})
    return Outcome("cancelled", order.id, order)


async def _replaced(session: AsyncSession, services: Services, handover: Any, order: Order) -> Outcome:
    """A revision of a purchase order whose supplier's order awaits approval: that order is cancelled
    (and no longer answers for the purchase order) and one is placed from the revision, under the same
    checks; if the revision is refused, the purchase order is refused with the reason. An order taken
    further meanwhile (approved, shipped) is kept, and the revision refused."""
    if order.status != "submitted":
        refusal = {
            "code": "revision_refused",
            "messages": [{"message": N_("The supplier has taken the order further; it can no longer be changed"),
                          "params": {}}],
        }  # fmt: skip
        return Outcome("kept", order.id, order, answer={"refusal": refusal})
    orders = await upstream_orders(services, session, handover.pair.upstream_id)
    async with session.begin_nested():
        await workflow.cancel(orders, order.id, REPLACED_BY_REVISION)
        order.purchase_order_id = None
        await session.flush()
    return await PURCHASE_ORDERS._place(session, services, handover)


async def _received(session: AsyncSession, services: Services, handover: Any, order_id: uuid.UUID) -> Outcome:
    order = await session.scalar(select(Order).where(Order.id == order_id))
    if order is None or not handover.values.get("receipt") or order.status != "shipped":
        return Outcome("unchanged", order_id)
    orders = await upstream_orders(services, session, handover.pair.upstream_id)
    await workflow.receive(orders, order_id, None)
    return Outcome("updated", order.id, order)


def _waiting() -> Any:
    """Purchase orders waiting for the supplier: sent (or sent again), or asked to be cancelled."""
    return (PurchaseOrder.status == "sent") | PurchaseOrder.cancel_requested_at.is_not(None)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


PURCHASE_ORDERS = PurchaseOrderSync()
