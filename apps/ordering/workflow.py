"""What happens to an order after it is placed: approval step by step (through the approvals engine,
roles.approvals, whose kind "ordering.order" is defined here), rejection, cancellation,
shipments (partial or whole), receipt (by the dealer, or automatically after the tenant's number of
days) and completion. Each one locks the order, checks the transition (apps.ordering.lifecycle), writes
the timeline, moves stock and the account as it must, and announces itself in the outbox."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select

from apps.ordering import account, lifecycle, stock
from apps.ordering.catalog import settings_of
from apps.ordering.models import Order, OrderEvent, Shipment, ShipmentLine
from apps.ordering.objects import ORDER
from apps.ordering.orders import ORDER_KIND, Orders
from apps.ordering.placing import event_payload, next_number, quantities, text_field
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, ValidationFailed
from portal.i18n import N_
from portal.outbox import publish
from roles.approvals import ApprovalKind, ApprovalKinds, Approvals, Decision, withdraw


def _announce(orders: Orders, order: Order, action: str) -> None:
    publish(orders.session, f"ordering.order.{action}", "ordering.order", order.id, event_payload(order))


def _engine(orders: Orders) -> Approvals:
    return Approvals(orders.session, orders.policy, orders.actor, ApprovalKinds([ORDER_APPROVAL]))


async def approve(orders: Orders, order_id: uuid.UUID, comment: str | None = None) -> Order:
    """Take the order's next approval step (roles.approvals); the last one approves the order (reserving
    its stock when the tenant reserves on approval, and putting it on the dealer's account)."""
    order = await orders.writable(order_id)
    lifecycle.check(order, "approve", orders.actor)
    comment = _comment(comment)
    state = {"orders": orders, "order": order}
    if await _engine(orders).decide_subject(ORDER_KIND, order.id, "approve", comment, state=state) is None:
        await _approved(orders, order, comment)
    return order


async def reject(orders: Orders, order_id: uuid.UUID, comment: str | None) -> Order:
    """Refuse the order at its current step (a reason is required); a reservation is released."""
    order = await orders.writable(order_id)
    lifecycle.check(order, "reject", orders.actor)
    reason = _reason(comment)
    state = {"orders": orders, "order": order}
    if await _engine(orders).decide_subject(ORDER_KIND, order.id, "reject", reason, state=state) is None:
        await _rejected(orders, order, reason)
    return order


async def _approved(orders: Orders, order: Order, comment: str | None) -> None:
    settings = await settings_of(orders.session)
    if not order.stock_reserved and settings.reserve_on == "approval" and order.warehouse_id is not None:
        await stock.reserve(orders.session, order.warehouse_id, await quantities(orders, order))
        order.stock_reserved = True
    orders.session.add(lifecycle.move(order, "approve", "approved", orders.actor, comment))
    if order.enterprise_id is not None:
        orders.session.add(
            account.entry(order.enterprise_id, "order", order.number, debit=order.total, order_id=order.id)
        )
    _announce(orders, order, "approved")
    await orders.session.flush()


async def _rejected(orders: Orders, order: Order, reason: str) -> None:
    await _release(orders, order)
    orders.session.add(lifecycle.move(order, "reject", "rejected", orders.actor, reason))
    _announce(orders, order, "rejected")
    await orders.session.flush()


def _step_event(order: Order, actor: Actor, step: int, comment: str | None) -> OrderEvent:
    return OrderEvent(
        order_id=order.id,
        action="approve_step",
        from_status=order.status,
        to_status=order.status,
        actor_kind=actor.kind,
        actor_id=actor.user_id,
        actor_name=actor.display_name or actor.email or None,
        comment=comment if comment else f"step {step}",
    )


def _comment(comment: str | None) -> str | None:
    return text_field("comment", comment, 1000)


def _reason(comment: str | None) -> str:
    cleaned = _comment(comment)
    if cleaned is None:
        raise ValidationFailed.single("comment", N_("Say why"), "required")
    return cleaned


# --- orders as a kind of subject of the approvals engine ---


async def _check(decision: Decision) -> None:
    """Before a step is taken from the approvals queue: the order locked, in a state that allows it."""
    if "order" in decision.state:
        return
    orders = Orders(decision.session, decision.policy, decision.actor, ORDER)
    order = await orders.writable(decision.subject_id)
    lifecycle.check(order, decision.outcome, decision.actor)
    if decision.outcome == "approve":
        decision.comment = _comment(decision.comment)
    decision.state.update(orders=orders, order=order)


async def _on_step(decision: Decision) -> None:
    orders, order = decision.state["orders"], decision.state["order"]
    step = decision.step.step if decision.step is not None else 1
    orders.session.add(_step_event(order, orders.actor, step, decision.comment))
    await orders.session.flush()


async def _on_approved(decision: Decision) -> None:
    await _approved(decision.state["orders"], decision.state["order"], decision.comment)


async def _on_rejected(decision: Decision) -> None:
    await _rejected(decision.state["orders"], decision.state["order"], decision.comment or "")


ORDER_APPROVAL = ApprovalKind(
    key=ORDER_KIND,
    label=N_("Order"),
    permission=(ORDER, "approve"),
    link=lambda order_id: f"/console/ordering/orders/{order_id}",
    check=_check,
    step_approved=_on_step,
    approved=_on_approved,
    rejected=_on_rejected,
    reason_required=True,
)


async def _release(orders: Orders, order: Order) -> None:
    if order.stock_reserved and order.warehouse_id is not None:
        await stock.release(orders.session, order.warehouse_id, await quantities(orders, order, unshipped=True))
        order.stock_reserved = False


async def cancel(orders: Orders, order_id: uuid.UUID, comment: str | None) -> Order:
    """Cancel an order not yet shipped (partners: not yet approved). A reservation is released, and an
    approved order's debit is reversed; an order with payments matched to it cannot be cancelled."""
    order = await orders.writable(order_id)
    lifecycle.check(order, "cancel", orders.actor)
    reason = _reason(comment)
    if order.paid_amount > 0:
        raise Conflict(N_("Payments are matched to this order; it cannot be cancelled"), code="order_paid")
    was_approved = order.status == "approved"
    await withdraw(orders.session, ORDER_KIND, [order.id])
    await _release(orders, order)
    orders.session.add(lifecycle.move(order, "cancel", "cancelled", orders.actor, reason))
    if was_approved and order.enterprise_id is not None:
        orders.session.add(
            account.entry(order.enterprise_id, "reversal", order.number, credit=order.total, order_id=order.id)
        )
    _announce(orders, order, "cancelled")
    await orders.session.flush()
    return order


async def ship(
    orders: Orders,
    order_id: uuid.UUID,
    lines: Mapping[uuid.UUID, int] | None = None,
    *,
    carrier: str | None = None,
    tracking_number: str | None = None,
    own_delivery: bool = False,
) -> Shipment:
    """A shipment of some of what is left to ship (`lines`: order line id -> quantity; all of it when
    None), with its carrier and tracking number unless the manufacturer delivers it itself. Stock
    leaves the warehouse; the order becomes partially shipped or shipped."""
    order = await orders.writable(order_id)
    lifecycle.check(order, "ship", orders.actor)
    carrier = text_field("carrier", carrier, 100)
    tracking_number = text_field("tracking_number", tracking_number, 100)
    order_lines = {line.id: line for line in (await orders.lines([order.id]))[order.id]}
    wanted = dict(lines) if lines else {i: line.quantity - line.shipped_quantity for i, line in order_lines.items()}
    errors: list[FieldError] = []
    for line_id, quantity in wanted.items():
        line = order_lines.get(line_id)
        if line is None:
            errors.append(FieldError(f"lines.{line_id}", N_("is not a line of this order"), "unknown_line"))
        elif not 0 <= quantity <= line.quantity - line.shipped_quantity:
            errors.append(
                FieldError(
                    f"lines.{line_id}",
                    N_("%(sku)s has %(left)s left to ship"),
                    "over_shipped",
                    {"sku": line.sku, "left": line.quantity - line.shipped_quantity},
                )
            )
    wanted = {i: q for i, q in wanted.items() if q > 0}
    if not errors and not wanted:
        errors.append(FieldError("lines", N_("Nothing to ship"), "required"))
    if not own_delivery:
        # the dealer follows the goods with these; only the manufacturer's own delivery goes without
        if carrier is None:
            errors.append(FieldError("carrier", N_("is required unless you deliver it yourself"), "required"))
        if tracking_number is None:
            errors.append(FieldError("tracking_number", N_("is required unless you deliver it yourself"), "required"))
    if errors:
        raise ValidationFailed(errors)
    if order.warehouse_id is not None:
        by_product: dict[uuid.UUID, int] = {}
        for line_id, quantity in wanted.items():
            product = order_lines[line_id].product_id
            by_product[product] = by_product.get(product, 0) + quantity
        await stock.issue(orders.session, order.warehouse_id, by_product, reserved=order.stock_reserved)
    shipment = Shipment(
        order_id=order.id,
        number=await next_number(orders, "next_shipment_number", "SH"),
        warehouse_id=order.warehouse_id,
        carrier=carrier,
        tracking_number=tracking_number,
        own_delivery=own_delivery,
        created_by=orders.actor.user_id,
    )
    orders.session.add(shipment)
    await orders.session.flush()
    for line_id, quantity in wanted.items():
        order_lines[line_id].shipped_quantity += quantity
        orders.session.add(ShipmentLine(shipment_id=shipment.id, order_line_id=line_id, quantity=quantity))
    complete = all(line.shipped_quantity == line.quantity for line in order_lines.values())
    to_status = "shipped" if complete else "partially_shipped"
    note = shipment.number if shipment.tracking_number is None else f"{shipment.number} ({shipment.tracking_number})"
    orders.session.add(lifecycle.move(order, "ship", to_status, orders.actor, note))
    if complete:
        order.stock_reserved = False
    _announce(orders, order, to_status)
    await orders.session.flush()
    return shipment


async def receive(orders: Orders, order_id: uuid.UUID, comment: str | None = None) -> Order:
    order = await orders.writable(order_id)
    return await _received(orders, order, _comment(comment))


async def _received(orders: Orders, order: Order, comment: str | None, automatic: bool = False) -> Order:
    orders.session.add(lifecycle.move(order, "receive", "received", orders.actor, comment, automatic=automatic))
    _announce(orders, order, "received")
    await complete_if_settled(orders, order)
    await orders.session.flush()
    return order


async def complete(orders: Orders, order_id: uuid.UUID, comment: str | None = None) -> Order:
    order = await orders.writable(order_id)
    orders.session.add(lifecycle.move(order, "complete", "completed", orders.actor, _comment(comment)))
    _announce(orders, order, "completed")
    await orders.session.flush()
    return order


async def complete_if_settled(orders: Orders, order: Order) -> None:
    """A received order paid in full is complete."""
    if order.status == "received" and order.paid_amount >= order.total:
        orders.session.add(lifecycle.move(order, "complete", "completed", orders.actor, automatic=True))
        _announce(orders, order, "completed")


async def auto_receive(orders: Orders, days: int | None = None) -> list[Order]:
    """Orders shipped at least the tenant's number of days ago are received on the dealer's behalf."""
    settings = await settings_of(orders.session)
    wait = settings.auto_receive_days if days is None else days
    cutoff = utcnow() - timedelta(days=wait)
    due = list(
        await orders.session.scalars(
            select(Order)
            .where(Order.status == "shipped", Order.shipped_at <= cutoff)
            .order_by(Order.shipped_at)
            .with_for_update()
        )
    )
    for order in due:
        await _received(orders, order, None, automatic=True)
    return due
