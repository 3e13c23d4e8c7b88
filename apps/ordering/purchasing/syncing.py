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
from apps.ordering.models import Order, OrderLine, Product
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
REVISION_REFUSED = {
    "code": "revision_refused",
    "messages": [
        {"message": N_("The supplier has taken the order further; it can no longer be changed"), "params": {}}
    ],
}


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
        if existing is not None and handover.values.get("receipt"):
            return await _received(session, services, handover, existing.id)
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
        if handled.outcome not in ("created", "refused", "cancelled", "kept", "updated"):
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
            # the supplier could not cancel its order, or change it: the purchase order goes on, with the
            # reason, and a refused change takes back the lines, total and progress of the order kept
            order.cancel_requested_at, order.refusal = None, handled.answer["refusal"]
            if handled.answer.get("kept"):
                await _restored(session, order, handled.answer["kept"])
        elif handled.outcome == "updated":
            # received: a purchase order whose lines were not the order's takes the order's (and its
            # goods) back, with the refused change that made them differ
            if not handled.answer.get("kept"):
                return None
            order.refusal = handled.answer.get("refusal") or order.refusal
            await _restored(session, order, handled.answer["kept"])
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
        kept = await _kept(session, handover, order)
        return Outcome("kept", order.id, order, answer={"refusal": REVISION_REFUSED, "kept": kept})
    orders = await upstream_orders(services, session, handover.pair.upstream_id)
    async with session.begin_nested():
        await workflow.cancel(orders, order.id, REPLACED_BY_REVISION)
        order.purchase_order_id = None
        await session.flush()
    return await PURCHASE_ORDERS._place(session, services, handover)


async def _received(session: AsyncSession, services: Services, handover: Any, order_id: uuid.UUID) -> Outcome:
    """The partner says the goods arrived: the supplier's order is received. A purchase order whose lines
    are not the order's (a change the supplier refused had not come back yet) is never left waiting: it
    takes back the order's lines, so the goods shipped go into its stock, and the refused change says so."""
    order = await session.scalar(select(Order).where(Order.id == order_id))
    if order is None or not handover.values.get("receipt") or order.status != "shipped":
        return Outcome("unchanged", order_id)
    orders = await upstream_orders(services, session, handover.pair.upstream_id)
    await workflow.receive(orders, order_id, None)
    kept = await _kept(session, handover, order)
    sent = [(str(product_id), int(quantity)) for product_id, _sku, quantity in handover.values.get("lines") or ()]
    revised = int(handover.values.get("revision") or 0) > (order.purchase_order_revision or 0)
    if sent == [(product_id, quantity) for _no, product_id, quantity in kept["lines"]] and not revised:
        return Outcome("updated", order.id, order)
    answer: dict[str, Any] = {"kept": kept}
    if revised:
        answer["refusal"] = REVISION_REFUSED
    return Outcome("updated", order.id, order, answer=answer)


async def _kept(session: AsyncSession, handover: Any, order: Order) -> dict[str, Any]:
    """The supplier's order as the purchase order takes it back: its progress, the revision it was placed
    from, and its lines in the partner's products (None where the partner's product is not known)."""
    lines = list(
        await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no))
    )
    theirs = await _partners_products(handover, [line.product_id for line in lines])
    return {
        **progress_of(order, {str(line.line_no): line.shipped_quantity for line in lines}),
        "revision": order.purchase_order_revision or 0,
        "lines": [
            (line.line_no, str(theirs[line.product_id]) if line.product_id in theirs else None, line.quantity)
            for line in lines
        ],
    }


async def _partners_products(handover: Any, ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The partner's products the upstream's were made from; where the handover cannot say so (a paired
    deployment sends only the translations of the purchase order's own lines), those lines' translations
    the other way."""
    try:
        return dict(await handover.translate(PRODUCT_OBJECT, ids, back=True))
    except TypeError:
        own = [uuid.UUID(product_id) for product_id, _sku, _q in handover.values.get("lines") or ()]
        return {upstream: partner for partner, upstream in (await handover.translate(PRODUCT_OBJECT, own)).items()}


async def _restored(session: AsyncSession, order: PurchaseOrder, kept: Mapping[str, Any]) -> None:
    """The purchase order goes back to the supplier's order: the revision it was placed from (the last
    one the supplier accepted), its lines (when every product is known here; shipped quantities by the
    order's lines), total and status."""
    order.revision = min(order.revision, int(kept.get("revision") or 0))
    wanted = [(int(no), product_id, int(quantity)) for no, product_id, quantity in kept.get("lines") or ()]
    ids = [uuid.UUID(product_id) for _no, product_id, _q in wanted if product_id is not None]
    products = {p.id: p for p in await session.scalars(select(Product).where(Product.id.in_(ids)))} if ids else {}
    if wanted and len(products) == len(set(ids)) == len(wanted):
        for line in await session.scalars(
            select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == order.id)
        ):
            await session.delete(line)
        await session.flush()
        for no, product_id, quantity in wanted:
            product = products[uuid.UUID(product_id)]
            session.add(
                PurchaseOrderLine(
                    purchase_order_id=order.id,
                    line_no=no,
                    product_id=product.id,
                    sku=product.sku,
                    name=product.name,
                    unit=product.unit,
                    quantity=quantity,
                )
            )
        await session.flush()
    await follow(session, order, kept)


def _waiting() -> Any:
    """Purchase orders waiting for the supplier: sent (or sent again), or asked to be cancelled."""
    return (PurchaseOrder.status == "sent") | PurchaseOrder.cancel_requested_at.is_not(None)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


PURCHASE_ORDERS = PurchaseOrderSync()
