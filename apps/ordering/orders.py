"""Orders as one actor may see them. Every read goes through the actor's data scope (`scoped`), and
every order leaves as `shown()` makes it, at the order and at each line, so a hidden field (the
manufacturer's cost and margin, for dealer roles) is in no response, page or export.

One class serves both sides: partners act on "partner.ordering.order", staff on "ordering.order" (same
table, their own rules). An order outside the read scope is "not found"; one readable but outside the
write scope is refused (403).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import lifecycle
from apps.ordering.catalog import margin
from apps.ordering.models import Order, OrderApproval, OrderEvent, OrderLine, Shipment, ShipmentLine
from apps.ordering.models.orders import ORDER_STATUSES
from interconnect.models import EnterpriseLink
from portal import timezones
from portal.actor import Actor
from portal.errors import NotFound, PermissionDenied
from portal.i18n import N_
from roles.access import scoped, shown
from roles.policy import RolePolicy
from roles.scopes import Access

# The permission (on the actor's order object) each transition needs.
ACTION_PERMISSIONS = {
    "submit": "create",
    "approve": "approve",
    "reject": "approve",
    "ship": "ship",
    "receive": "receive",
    "complete": "approve",
    "cancel": "cancel",
}
EXPORT_LIMIT = 10_000
EXPORT_FIELDS = (
    "number",
    "status",
    "enterprise",
    "currency",
    "total",
    "paid_amount",
    "cost_price",
    "margin",
    "created_at",
)


class Orders:
    """The orders `actor` may reach as `obj` ("partner.ordering.order" or "ordering.order")."""

    def __init__(self, session: AsyncSession, policy: RolePolicy, actor: Actor, obj: str) -> None:
        self.session = session
        self.policy = policy
        self.actor = actor
        self.obj = obj
        # Orders placed in this request, with what was written with them: presenting one reads nothing.
        self._placed: dict[uuid.UUID, tuple[list[OrderLine], list[OrderApproval], list[OrderEvent]]] = {}
        self._actions: dict[str, list[str]] = {}

    def placed(
        self, order: Order, lines: list[OrderLine], approvals: list[OrderApproval], events: list[OrderEvent]
    ) -> None:
        self._placed[order.id] = (lines, approvals, events)

    # --- reading ---

    async def query(self, access: Access = "read") -> Select[tuple[Order]]:
        return await scoped(self.session, select(Order), self.policy, self.actor, self.obj, access)

    async def page(
        self,
        status: str | None = None,
        search: str | None = None,
        enterprise_id: uuid.UUID | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Order], int]:
        """Newest first; `status` one status or "open" (submitted to shipped)."""
        query = await self.query()
        if status == "open":
            query = query.where(Order.status.in_(("submitted", "approved", "partially_shipped", "shipped")))
        elif status in ORDER_STATUSES:
            query = query.where(Order.status == status)
        if search:
            query = query.where(func.lower(Order.number).like(f"%{search.strip().lower()}%"))
        if enterprise_id is not None:
            query = query.where(Order.enterprise_id == enterprise_id)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(
            query.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit).offset(offset)
        )
        return list(rows), total

    async def get(self, order_id: uuid.UUID) -> Order:
        order = await self.session.scalar((await self.query()).where(Order.id == order_id))
        if order is None:
            raise NotFound(N_("No such order"))
        return order

    async def writable(self, order_id: uuid.UUID, *, lock: bool = True) -> Order:
        """An order the actor may change, locked for the transition: not found if they may not even read
        it, refused if they may only read it."""
        await self.get(order_id)
        query = (await self.query("write")).where(Order.id == order_id)
        order = await self.session.scalar(query.with_for_update() if lock else query)
        if order is None:
            raise PermissionDenied(N_("You may read this order but not change it"), code="record_read_only")
        return order

    async def lines(self, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[OrderLine]]:
        found: dict[uuid.UUID, list[OrderLine]] = {i: [] for i in order_ids}
        if order_ids:
            for line in await self.session.scalars(
                select(OrderLine).where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.line_no)
            ):
                found[line.order_id].append(line)
        return found

    # --- presenting ---

    def may(self, action: str) -> bool:
        return self.policy.allows(self.actor, (self.obj, ACTION_PERMISSIONS[action]))

    def actions(self, order: Order) -> list[str]:
        """What the actor may do to the order next: it depends only on the order's status (and the actor),
        so a list of orders works it out once per status."""
        found = self._actions.get(order.status)
        if found is None:
            found = self._actions[order.status] = [a for a in lifecycle.actions_for(order, self.actor) if self.may(a)]
        return list(found)

    def line_out(self, line: OrderLine) -> dict[str, Any]:
        values = {
            "id": line.id,
            "line_no": line.line_no,
            "product_id": line.product_id,
            "sku": line.sku,
            "name": line.name,
            "unit": line.unit,
            "quantity": line.quantity,
            "shipped_quantity": line.shipped_quantity,
            "unit_price": line.unit_price,
            "line_total": line.line_total,
            "price_source": line.price_source,
            "cost_price": line.unit_cost,
            "margin": margin(line.unit_price, line.unit_cost),
        }
        return shown(self.policy, self.actor, self.obj, values)

    async def enterprise_names(self, orders: Sequence[Order]) -> dict[uuid.UUID, str]:
        known = {}
        if self.actor.enterprise_id is not None and self.actor.enterprise_name is not None:
            known[self.actor.enterprise_id] = self.actor.enterprise_name  # read with the session
        ids = sorted({o.enterprise_id for o in orders if o.enterprise_id is not None} - known.keys())
        if ids:
            rows = await self.session.execute(
                select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(ids))
            )
            known.update({key: name for key, name in rows})
        return known

    def summary(self, order: Order, names: dict[uuid.UUID, str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": order.id,
            "number": order.number,
            "status": order.status,
            "enterprise_id": order.enterprise_id,
            "enterprise": names.get(order.enterprise_id) if order.enterprise_id else None,
            "owner_id": order.owner_id,
            "placed_by_kind": order.placed_by_kind,
            "currency": order.currency,
            "total": order.total,
            "paid_amount": order.paid_amount,
            "balance_due": order.total - order.paid_amount if _receivable(order) else None,
            "cost_price": order.cost_total,
            "margin": margin(order.total, order.cost_total),
            "over_credit": order.over_credit,
            "ship_to": order.ship_to,
            "po_number": order.po_number,
            "requested_delivery_date": order.requested_delivery_date,
            "note": order.note,
            "created_at": order.created_at,
            "submitted_at": order.submitted_at,
            "approved_at": order.approved_at,
            "shipped_at": order.shipped_at,
            "received_at": order.received_at,
            "completed_at": order.completed_at,
            "cancelled_at": order.cancelled_at,
            "actions": self.actions(order),
        }
        return shown(self.policy, self.actor, self.obj, values)

    async def out_many(self, orders: Sequence[Order]) -> list[dict[str, Any]]:
        names = await self.enterprise_names(orders)
        return [self.summary(o, names) for o in orders]

    async def out(self, order: Order) -> dict[str, Any]:
        """The order with its lines, approval steps, shipments and timeline."""
        names = await self.enterprise_names([order])
        placed = self._placed.get(order.id)
        if placed is not None:  # just placed: no shipments yet
            lines, approvals, events = placed
            shipments: list[dict[str, Any]] = []
        else:
            lines = (await self.lines([order.id]))[order.id]
            approvals = list(
                await self.session.scalars(
                    select(OrderApproval).where(OrderApproval.order_id == order.id).order_by(OrderApproval.step)
                )
            )
            events = list(
                await self.session.scalars(
                    select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.at, OrderEvent.id)
                )
            )
            shipments = await self.shipments(order.id)
        return {
            **self.summary(order, names),
            "lines": [self.line_out(line) for line in lines],
            "approvals": [
                {
                    "step": a.step,
                    "role": a.role_key,
                    "reason": a.reason_code,
                    "status": a.status,
                    "decided_by": a.decided_by_name,
                    "decided_at": a.decided_at,
                    "comment": a.comment,
                }
                for a in approvals
            ],
            "shipments": shipments,
            "timeline": [
                {
                    "at": e.at,
                    "action": e.action,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "by": e.actor_name,
                    "by_kind": e.actor_kind,
                    "comment": e.comment,
                }
                for e in events
            ],
        }

    async def shipments(self, order_id: uuid.UUID) -> list[dict[str, Any]]:
        shipments = list(
            await self.session.scalars(
                select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.shipped_at, Shipment.id)
            )
        )
        quantities: dict[uuid.UUID, list[dict[str, Any]]] = {s.id: [] for s in shipments}
        if shipments:
            rows = await self.session.execute(
                select(ShipmentLine.shipment_id, ShipmentLine.order_line_id, ShipmentLine.quantity).where(
                    ShipmentLine.shipment_id.in_(list(quantities))
                )
            )
            for shipment_id, line_id, quantity in rows:
                quantities[shipment_id].append({"order_line_id": line_id, "quantity": quantity})
        return [
            {
                "id": s.id,
                "number": s.number,
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "own_delivery": s.own_delivery,
                "shipped_at": s.shipped_at,
                "lines": quantities[s.id],
            }
            for s in shipments
        ]

    # --- export ---

    def export_columns(self) -> list[str]:
        rules = self.policy.fields(self.actor, self.obj)
        return [name for name in EXPORT_FIELDS if rules.get(name) != "hidden"]

    async def export_rows(self) -> tuple[list[str], list[list[str]]]:
        columns = self.export_columns()
        orders = list(
            await self.session.scalars(
                (await self.query()).order_by(Order.created_at.desc(), Order.id.desc()).limit(EXPORT_LIMIT)
            )
        )
        names = await self.enterprise_names(orders)
        cells = []
        for order in orders:
            values = self.summary(order, names)
            cells.append([_cell(values.get(name), self.actor.time_zone) for name in columns])
        return columns, cells


RECEIVABLE_STATUSES = ("approved", "partially_shipped", "shipped", "received", "completed")


def _receivable(order: Order) -> bool:
    return order.status in RECEIVABLE_STATUSES


def _cell(value: Any, time_zone: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezones.moment_text(value, time_zone)
    return str(value)
