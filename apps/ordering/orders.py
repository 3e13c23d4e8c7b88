"""Orders as one actor may see them. Every read goes through the actor's data scope (`scoped`), and
every order leaves as `shown()` makes it, at the order and at each line, so a hidden field (the
manufacturer's cost and margin, for dealer roles) is in no response, page or export.

One class serves both sides: partners act on "partner.ordering.order", staff on "ordering.order" (same
table, their own rules). An order outside the read scope is "not found"; one readable but outside the
write scope is refused (403).
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import lifecycle
from apps.ordering.catalog import margin
from apps.ordering.models import Order, OrderEvent, OrderLine, Shipment, ShipmentLine
from apps.ordering.models.orders import ORDER_STATUSES
from interconnect.models import EnterpriseLink
from portal import timezones
from portal.actor import Actor
from portal.db.tenancy import tenant_of
from portal.errors import NotFound, PermissionDenied
from portal.i18n import N_
from roles.access import Shown, scoped, shown_to
from roles.approvals.models import ApprovalRequest, ApprovalRequestStep
from roles.policy import RolePolicy
from roles.scopes import Access

# The kind of subject orders are to the approvals engine (roles.approvals): the staff order object.
ORDER_KIND = "ordering.order"
# How an approval step that anyone allowed to approve orders may take is shown, and one a named person
# takes (who, the approvals queue says: partners are not told staff members' ids).
ANY_APPROVER = "*"
NAMED_PERSON = "person"
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
        self._placed: dict[uuid.UUID, tuple[list[OrderLine], list[ApprovalRequestStep], list[OrderEvent]]] = {}
        self._actions: dict[str, list[str]] = {}

    def placed(
        self, order: Order, lines: list[OrderLine], approvals: list[ApprovalRequestStep], events: list[OrderEvent]
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
    ) -> tuple[list[Row[Any]], int]:
        """Newest first; `status` one status or "open" (submitted to shipped). The orders as rows of what
        `summary()` reads, and how many there are, in one statement (a second counts them only when the
        page is past the last order)."""
        condition = await self.policy.scope(self.session, self.actor, self.obj, "read")
        kind = "open" if status == "open" else "one" if status in ORDER_STATUSES else None
        statement, count = _page_statements(condition, kind, bool(search), enterprise_id is not None)
        params: dict[str, Any] = {"tenant_id": tenant_of(self.session), "limit": limit, "offset": offset}
        if kind == "one":
            params["status"] = status
        if search:
            params["search"] = f"%{search.strip().lower()}%"
        if enterprise_id is not None:
            params["enterprise_id"] = enterprise_id
        # Core on the unit of work's connection: the statement names its tenant (see _page_statements)
        rows = list((await (await self.session.connection()).execute(statement, params)).all())
        if rows:
            return rows, rows[0].total_found
        if offset == 0:
            return rows, 0
        return rows, (await (await self.session.connection()).execute(count, params)).scalar_one()

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

    def actions(self, status: str) -> list[str]:
        """What the actor may do next to an order in `status`: it depends only on the status (and the
        actor), so a list of orders works it out once per status."""
        found = self._actions.get(status)
        if found is None:
            found = self._actions[status] = [a for a in lifecycle.actions_for(status, self.actor) if self.may(a)]
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
        return self.shown(values)

    async def enterprise_names(self, enterprise_ids: Sequence[uuid.UUID | None]) -> dict[uuid.UUID, str]:
        known = {}
        if self.actor.enterprise_id is not None and self.actor.enterprise_name is not None:
            known[self.actor.enterprise_id] = self.actor.enterprise_name  # read with the session
        ids = sorted({i for i in enterprise_ids if i is not None} - known.keys())
        if ids:
            rows = await self.session.execute(
                select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(ids))
            )
            known.update({key: name for key, name in rows})
        return known

    @cached_property
    def shown(self) -> Shown:
        return shown_to(self.policy, self.actor, self.obj)

    def summary(self, fields: dict[str, Any], names: dict[uuid.UUID, str]) -> dict[str, Any]:
        """An order as a list shows it, from its `fields` (a dict of the caller's own, by the names a
        summary gives them: a list's row, or `summary_fields()` of a loaded order)."""
        enterprise_id, total = fields["enterprise_id"], fields["total"]
        fields["enterprise"] = names.get(enterprise_id) if enterprise_id else None
        # placed from the buyer's purchase order in its own workspace (cross-tenant sync): a mark, not its id
        fields["from_purchase_order"] = fields.get("from_purchase_order") is not None
        fields["balance_due"] = total - fields["paid_amount"] if fields["status"] in RECEIVABLE_STATUSES else None
        if "margin" not in self.shown.hidden:
            fields["margin"] = margin(total, fields["cost_price"])
        fields["actions"] = self.actions(fields["status"])
        return self.shown(fields)

    async def out_many(self, rows: Sequence[Row[Any]]) -> list[dict[str, Any]]:
        """The orders of a list (`page()`'s rows) as it shows them."""
        names = await self.enterprise_names([row.enterprise_id for row in rows])
        return [self.summary(dict(zip(SUMMARY_NAMES, row, strict=False)), names) for row in rows]

    async def out(self, order: Order) -> dict[str, Any]:
        """The order with its lines, approval steps, shipments and timeline."""
        names = await self.enterprise_names([order.enterprise_id])
        placed = self._placed.get(order.id)
        if placed is not None:  # just placed: no shipments yet
            lines, approvals, events = placed
            shipments: list[dict[str, Any]] = []
        else:
            lines = (await self.lines([order.id]))[order.id]
            approvals = list(
                await self.session.scalars(
                    select(ApprovalRequestStep)
                    .join(ApprovalRequest, ApprovalRequest.id == ApprovalRequestStep.request_id)
                    .where(ApprovalRequest.kind == ORDER_KIND, ApprovalRequest.subject_id == order.id)
                    .order_by(ApprovalRequest.created_at, ApprovalRequestStep.step)
                )
            )
            events = list(
                await self.session.scalars(
                    select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.at, OrderEvent.id)
                )
            )
            shipments = await self.shipments(order.id)
        return {
            **self.summary(summary_fields(order), names),
            "lines": [self.line_out(line) for line in lines],
            "approvals": [
                {
                    "step": a.step,
                    "role": a.role_key or (ANY_APPROVER if a.user_id is None else NAMED_PERSON),
                    "reason": a.reason,
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
        names = await self.enterprise_names([order.enterprise_id for order in orders])
        cells = []
        for order in orders:
            values = self.summary(summary_fields(order), names)
            cells.append([_cell(values.get(name), self.actor.time_zone) for name in columns])
        return columns, cells


RECEIVABLE_STATUSES = ("approved", "partially_shipped", "shipped", "received", "completed")
OPEN_STATUSES = ("submitted", "approved", "partially_shipped", "shipped")

_ORDERS = Order.__table__.c
# What a list shows of an order, by the name it shows and the order's attribute (the same column).
_SUMMARY_FIELDS = (
    ("id", "id"),
    ("number", "number"),
    ("status", "status"),
    ("enterprise_id", "enterprise_id"),
    ("owner_id", "owner_id"),
    ("placed_by_kind", "placed_by_kind"),
    ("currency", "currency"),
    ("total", "total"),
    ("paid_amount", "paid_amount"),
    ("cost_price", "cost_total"),
    ("over_credit", "over_credit"),
    ("from_purchase_order", "purchase_order_id"),
    ("ship_to", "ship_to"),
    ("po_number", "po_number"),
    ("requested_delivery_date", "requested_delivery_date"),
    ("note", "note"),
    ("created_at", "created_at"),
    ("submitted_at", "submitted_at"),
    ("approved_at", "approved_at"),
    ("shipped_at", "shipped_at"),
    ("received_at", "received_at"),
    ("completed_at", "completed_at"),
    ("cancelled_at", "cancelled_at"),
)
SUMMARY_NAMES = tuple(name for name, _ in _SUMMARY_FIELDS)
# A list's row: the summary's fields in that order (then how many orders the list has).
_SUMMARY_COLUMNS = tuple(_ORDERS[attribute] for _, attribute in _SUMMARY_FIELDS)


def summary_fields(order: Order) -> dict[str, Any]:
    """A loaded order's fields as `Orders.summary()` takes them."""
    return {name: getattr(order, attribute) for name, attribute in _SUMMARY_FIELDS}


# A viewer's list statements, kept with the scope condition they were built on (roles.scopes.where keeps
# a viewer's condition between requests): building one, and SQLAlchemy working out its cache key, costs
# more than running it. Every value in them is a parameter but the condition's own.
# Keyed by the condition's id, not by the condition: a lookup in a WeakKeyDictionary compares the keys
# with ==, which on a SQL expression builds a new expression (a comparison) on every request.
_PAGES: dict[int, tuple[weakref.ref[ColumnElement[bool]], dict[tuple[Any, ...], tuple[Select[Any], Select[Any]]]]] = {}


def _built_on(condition: ColumnElement[bool]) -> dict[tuple[Any, ...], tuple[Select[Any], Select[Any]]]:
    key = id(condition)
    entry = _PAGES.get(key)
    if entry is None or entry[0]() is not condition:

        def forget(ref: weakref.ref[ColumnElement[bool]], pages: dict[int, Any] = _PAGES) -> None:
            # `pages` held here: at interpreter exit the module's names may be gone before the conditions
            if pages.get(key, (None,))[0] is ref:  # not a later condition that has this id now
                del pages[key]

        entry = _PAGES[key] = (weakref.ref(condition, forget), {})
    return entry[1]


def _page_statements(
    condition: ColumnElement[bool], status: str | None, search: bool, enterprise: bool
) -> tuple[Select[Any], Select[Any]]:
    """A page of a list and its count. The page carries the count as a scalar subquery: one round trip,
    and the database counts as it would alone (a window over the list would carry every row through)."""
    shape = (status, search, enterprise)
    built = _built_on(condition)
    found = built.get(shape)
    if found is None:
        where = [_ORDERS.tenant_id == bindparam("tenant_id"), condition]
        if status == "open":
            where.append(_ORDERS.status.in_(OPEN_STATUSES))
        elif status == "one":
            where.append(_ORDERS.status == bindparam("status"))
        if search:
            where.append(func.lower(_ORDERS.number).like(bindparam("search")))
        if enterprise:
            where.append(_ORDERS.enterprise_id == bindparam("enterprise_id"))
        count = select(func.count()).select_from(Order.__table__).where(*where)
        page = (
            select(*_SUMMARY_COLUMNS, count.scalar_subquery().label("total_found"))
            .where(*where)
            .order_by(_ORDERS.created_at.desc(), _ORDERS.id.desc())
            .limit(bindparam("limit"))
            .offset(bindparam("offset"))
        )
        found = built[shape] = (page, count)
    return found


def _cell(value: Any, time_zone: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezones.moment_text(value, time_zone)
    return str(value)
