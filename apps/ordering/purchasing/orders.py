"""A downstream tenant's purchase orders to its suppliers: the upstream workspaces whose active partner link
names this workspace as the partner's own. A purchase order is written here and announced in the outbox
(`ordering.purchase_order.sent`); cross-tenant sync places it with the supplier (apps.ordering.purchasing
.syncing) and brings the answer and the sales order's progress back."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.catalog import settings_of
from apps.ordering.models import OrderingSettings, Product
from apps.ordering.placing import LineIn, merged, text_field
from apps.ordering.purchasing.models import PURCHASE_STATUSES, PurchaseOrder, PurchaseOrderLine
from interconnect.models import EnterpriseLink
from portal.actor import Actor
from portal.db.context import SYSTEM
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.i18n import N_, gettext
from portal.identity.models import Tenant
from portal.ids import uuid7
from portal.outbox import publish

SENT = "ordering.purchase_order.sent"
RECEIVED = "ordering.purchase_order.received"
REVISED = "ordering.purchase_order.revised"
CANCEL_REQUESTED = "ordering.purchase_order.cancel_requested"
# a purchase order the partner may still revise: refused (corrected and sent again) or awaiting the
# supplier's approval (the supplier's order is replaced by one placed from the revision)
REVISABLE = ("refused", "submitted")
# not yet shipped: the supplier is asked to cancel its order (a refused one is cancelled here at once)
CANCELLABLE = ("sent", "refused", "submitted", "approved")
AGGREGATE = "ordering.purchase_order"
LABELS = {
    "sent": N_("Sent to the supplier"),
    "refused": N_("Refused by the supplier"),
    "submitted": N_("Awaiting approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "partially_shipped": N_("Partially shipped"),
    "shipped": N_("Shipped"),
    "received": N_("Received"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}


@dataclass(frozen=True, slots=True)
class Supplier:
    tenant_id: uuid.UUID
    name: str


# Suppliers found elsewhere than in this deployment's partner links: a component lists a function in its
# `extra["purchase_suppliers"]` (sync lists the manufacturers a workspace is paired with on another
# deployment); each gives (tenant id, name) pairs, read in the actor's unit of work.
SupplierSource = Callable[[AsyncSession, uuid.UUID], Awaitable[list[tuple[uuid.UUID, str]]]]


class PurchaseOrders:
    """In the request's unit of work (the actor's own workspace)."""

    def __init__(self, session: AsyncSession, actor: Actor, sources: Sequence[SupplierSource] = ()) -> None:
        self.session = session
        self.actor = actor
        self.sources = sources

    async def suppliers(self) -> list[Supplier]:
        """Workspaces whose active partner link names this one as the partner's own: read in the system
        context, only the links naming this workspace (never another's), only the supplier's name."""
        async with within(self.session, SYSTEM):
            rows = (
                await self.session.execute(
                    select(Tenant.id, Tenant.name)
                    .join(EnterpriseLink, EnterpriseLink.tenant_id == Tenant.id)
                    .where(
                        EnterpriseLink.downstream_tenant_id == self.actor.tenant_id,
                        EnterpriseLink.status == "active",
                    )
                    .distinct()
                    .order_by(Tenant.name)
                )
            ).all()
        found = [Supplier(tenant_id, name) for tenant_id, name in rows]
        for source in self.sources:
            found += [Supplier(tenant_id, name) for tenant_id, name in await source(self.session, self.actor.tenant_id)]
        return found

    async def page(self, status: str | None, limit: int, offset: int) -> tuple[list[PurchaseOrder], int]:
        query = select(PurchaseOrder)
        if status in PURCHASE_STATUSES:
            query = query.where(PurchaseOrder.status == status)
        total = int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
        rows = await self.session.scalars(
            query.order_by(PurchaseOrder.created_at.desc(), PurchaseOrder.id.desc()).limit(limit).offset(offset)
        )
        return list(rows), total

    async def get(self, purchase_order_id: uuid.UUID) -> PurchaseOrder:
        found = await self.session.scalar(select(PurchaseOrder).where(PurchaseOrder.id == purchase_order_id))
        if found is None:
            raise NotFound(N_("No such purchase order"))
        return found

    async def lines(self, purchase_order_id: uuid.UUID) -> list[PurchaseOrderLine]:
        return list(
            await self.session.scalars(
                select(PurchaseOrderLine)
                .where(PurchaseOrderLine.purchase_order_id == purchase_order_id)
                .order_by(PurchaseOrderLine.line_no)
            )
        )

    async def _checked(
        self,
        lines: Sequence[LineIn],
        ship_to: str | None,
        note: str | None,
        requested_delivery_date: date | None,
        errors: list[FieldError],
    ) -> tuple[str | None, str | None, dict[uuid.UUID, int], dict[uuid.UUID, Product]]:
        try:
            ship_to = text_field("ship_to", ship_to, 500)
            if ship_to is None:
                errors.append(FieldError("ship_to", N_("Say where the order ships to"), "required"))
            note = text_field("note", note, 2000)
        except ValidationFailed as failed:
            errors.extend(failed.errors)
        if requested_delivery_date is not None and requested_delivery_date < utcnow().date():
            errors.append(FieldError("requested_delivery_date", N_("may not be in the past"), "past"))
        try:
            wanted = merged(lines)
        except ValidationFailed as failed:
            errors.extend(failed.errors)
            wanted = {}
        products = {
            p.id: p
            for p in await self.session.scalars(
                select(Product).where(Product.id.in_(sorted(wanted)), Product.listed.is_(True))
            )
        }
        for number, product_id in enumerate(wanted):
            if product_id not in products:
                errors.append(FieldError(f"lines[{number}].product_id", N_("No such product"), "unknown"))
        if errors:
            raise ValidationFailed(errors)
        return ship_to, note, wanted, products

    async def create(
        self,
        supplier_id: Any,
        lines: Sequence[LineIn],
        *,
        ship_to: str | None,
        note: str | None = None,
        requested_delivery_date: date | None = None,
    ) -> tuple[PurchaseOrder, list[PurchaseOrderLine]]:
        """A purchase order of this workspace's own listed products, sent to the supplier (the outbox
        carries it; nothing is written when anything is wrong)."""
        errors: list[FieldError] = []
        suppliers = {s.tenant_id: s for s in await self.suppliers()}
        supplier = suppliers.get(supplier_id) if isinstance(supplier_id, uuid.UUID) else None
        if supplier is None:
            errors.append(FieldError("supplier_id", N_("is not one of your suppliers"), "unknown"))
        ship_to, note, wanted, products = await self._checked(lines, ship_to, note, requested_delivery_date, errors)
        assert supplier is not None and ship_to is not None
        settings = await settings_of(self.session)
        order = PurchaseOrder(
            id=uuid7(),
            number=await _next_number(self.session),
            supplier_tenant_id=supplier.tenant_id,
            supplier_name=supplier.name,
            status="sent",
            warehouse_id=settings.default_warehouse_id,
            ship_to=ship_to,
            requested_delivery_date=requested_delivery_date,
            note=note,
            created_by=self.actor.user_id,
        )
        made = [
            PurchaseOrderLine(
                purchase_order_id=order.id,
                line_no=line_no,
                product_id=product_id,
                sku=products[product_id].sku,
                name=products[product_id].name,
                unit=products[product_id].unit,
                quantity=quantity,
            )
            for line_no, (product_id, quantity) in enumerate(wanted.items(), start=1)
        ]
        self.session.add(order)
        self.session.add_all(made)
        publish(self.session, SENT, AGGREGATE, order.id, {"number": order.number})
        await self.session.flush()
        return order, made

    async def _locked(self, purchase_order_id: uuid.UUID) -> PurchaseOrder:
        found = await self.session.scalar(
            select(PurchaseOrder).where(PurchaseOrder.id == purchase_order_id).with_for_update()
        )
        if found is None:
            raise NotFound(N_("No such purchase order"))
        return found

    async def revise(
        self,
        purchase_order_id: uuid.UUID,
        lines: Sequence[LineIn],
        *,
        ship_to: str | None,
        note: str | None = None,
        requested_delivery_date: date | None = None,
    ) -> tuple[PurchaseOrder, list[PurchaseOrderLine]]:
        """New lines and details for a purchase order refused by the supplier (corrected, it is sent
        again) or awaiting its approval (its order is replaced by one placed from the revision); the
        supplier's checks apply again, and a refusal comes back with its reason."""
        order = await self._locked(purchase_order_id)
        if order.status not in REVISABLE or order.cancel_requested_at is not None:
            raise Conflict(
                N_("Only a purchase order refused by the supplier, or awaiting its approval, can be changed"),
                code="not_revisable",
            )
        errors: list[FieldError] = []
        checked_to, note, wanted, products = await self._checked(lines, ship_to, note, requested_delivery_date, errors)
        assert checked_to is not None
        order.ship_to, order.note, order.requested_delivery_date = checked_to, note, requested_delivery_date
        for line in await self.lines(order.id):
            await self.session.delete(line)
        await self.session.flush()
        made = [
            PurchaseOrderLine(
                purchase_order_id=order.id,
                line_no=line_no,
                product_id=product_id,
                sku=products[product_id].sku,
                name=products[product_id].name,
                unit=products[product_id].unit,
                quantity=quantity,
            )
            for line_no, (product_id, quantity) in enumerate(wanted.items(), start=1)
        ]
        self.session.add_all(made)
        self._send_again(order)
        await self.session.flush()
        return order, made

    async def resend(self, purchase_order_id: uuid.UUID) -> PurchaseOrder:
        """A refused purchase order sent again as it is (the supplier may have raised a limit since)."""
        order = await self._locked(purchase_order_id)
        if order.status != "refused":
            raise Conflict(N_("Only a purchase order the supplier refused can be sent again"), code="not_refused")
        self._send_again(order)
        await self.session.flush()
        return order

    def _send_again(self, order: PurchaseOrder) -> None:
        order.revision += 1
        order.status, order.refusal = "sent", None
        publish(self.session, REVISED, AGGREGATE, order.id, {"number": order.number, "revision": order.revision})

    async def cancel(self, purchase_order_id: uuid.UUID) -> PurchaseOrder:
        """Cancel a purchase order not yet shipped: a refused one here at once; otherwise the supplier is
        asked to cancel its order through its own rules, and its answer (cancelled, or why not) comes
        back."""
        order = await self._locked(purchase_order_id)
        if order.status not in CANCELLABLE:
            raise Conflict(N_("Only a purchase order not yet shipped can be cancelled"), code="not_cancellable")
        if order.status == "refused":
            order.status = "cancelled"
        elif order.cancel_requested_at is None:
            order.cancel_requested_at, order.refusal = utcnow(), None
            publish(self.session, CANCEL_REQUESTED, AGGREGATE, order.id, {"number": order.number})
        await self.session.flush()
        return order

    async def receive(self, purchase_order_id: uuid.UUID) -> PurchaseOrder:
        """The goods of a shipped purchase order arrived: the supplier's order is received (sync), and its
        status brings them into stock here. Asked again before they are in stock, the receipt is sent
        again (the supplier receives its order once)."""
        found = await self.session.scalar(
            select(PurchaseOrder).where(PurchaseOrder.id == purchase_order_id).with_for_update()
        )
        if found is None:
            raise NotFound(N_("No such purchase order"))
        if found.status != "shipped":
            raise Conflict(N_("Only a purchase order shipped in full can be received"), code="not_shipped")
        if found.received_at is None:
            found.receipt_requested_at = found.receipt_requested_at or utcnow()
            publish(self.session, RECEIVED, AGGREGATE, found.id, {"number": found.number})
            await self.session.flush()
        return found


async def _next_number(session: AsyncSession) -> str:
    """PO000001, PO000002…: the tenant's counter, taken with its row (purchase orders are few)."""
    counter = OrderingSettings.next_purchase_order_number
    drawn = await session.scalar(
        update(OrderingSettings).values(next_purchase_order_number=counter + 1).returning(counter)
    )
    if drawn is None:
        await settings_of(session)
        drawn = await session.scalar(
            update(OrderingSettings).values(next_purchase_order_number=counter + 1).returning(counter)
        )
    return f"PO{int(drawn or 1) - 1:06d}"


def refusal_text(refusal: dict[str, Any] | None) -> str | None:
    """Why the supplier refused, in the reader's language."""
    if not refusal:
        return None
    return "; ".join(
        dict.fromkeys(gettext(m["message"], **dict(m.get("params") or {})) for m in refusal.get("messages", ()))
    )


def purchase_order_out(order: PurchaseOrder, lines: Sequence[PurchaseOrderLine] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": order.id,
        "number": order.number,
        "supplier_tenant_id": order.supplier_tenant_id,
        "supplier_name": order.supplier_name,
        "status": order.status,
        "status_label": gettext(LABELS[order.status]),
        "ship_to": order.ship_to,
        "requested_delivery_date": order.requested_delivery_date,
        "note": order.note,
        "sales_order_number": order.sales_order_number,
        "total": order.total,
        "currency": order.currency,
        "refusal_code": (order.refusal or {}).get("code"),
        "refusal": refusal_text(order.refusal),
        "receipt_requested_at": order.receipt_requested_at,
        "received_at": order.received_at,
        "revision": order.revision,
        "cancel_requested_at": order.cancel_requested_at,
        "created_at": order.created_at,
    }
    if lines is not None:
        out["lines"] = [
            {
                "id": line.id,
                "line_no": line.line_no,
                "product_id": line.product_id,
                "sku": line.sku,
                "name": line.name,
                "unit": line.unit,
                "quantity": line.quantity,
                "shipped_quantity": line.shipped_quantity,
            }
            for line in lines
        ]
    return out
