"""The purchase orders API: a workspace's orders to its suppliers (upstream workspaces on this platform)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from apps.ordering.placing import LineIn
from apps.ordering.purchasing.access import PURCHASE_ORDER
from apps.ordering.purchasing.orders import PurchaseOrders, purchase_order_out
from apps.ordering.purchasing.schemas import (
    PurchaseOrderIn,
    PurchaseOrderOut,
    PurchaseOrderPage,
    PurchaseOrderRevisionIn,
    SupplierOut,
)
from portal.http.deps import DB, provide_actor
from portal.http.inputs import Limit, Offset
from portal.identity.schemas import typed
from portal.permissions import requires


def provide_purchase_orders(request: Request[Any, Any, Any], db: DB) -> PurchaseOrders:
    components = request.app.state.services.components
    sources = [c.extra["purchase_suppliers"] for c in components if "purchase_suppliers" in c.extra]
    return PurchaseOrders(db, provide_actor(request), sources)


DEPENDENCIES = {"purchases": Provide(provide_purchase_orders, sync_to_thread=False)}
PurchasesDep = NamedDependency[PurchaseOrders]


class PurchaseOrdersController(Controller):
    path = "/api/ordering"
    tags = ["ordering"]
    dependencies = DEPENDENCIES

    @get("/suppliers", opt=requires(PURCHASE_ORDER, "read"))
    async def list_suppliers(self, purchases: PurchasesDep) -> list[SupplierOut]:
        """Workspaces whose partner link names yours: the suppliers a purchase order may go to."""
        return [typed({"tenant_id": s.tenant_id, "name": s.name}, SupplierOut) for s in await purchases.suppliers()]

    @get("/purchase-orders", opt=requires(PURCHASE_ORDER, "read"))
    async def list_purchase_orders(
        self, purchases: PurchasesDep, status: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0
    ) -> PurchaseOrderPage:
        rows, total = await purchases.page(status, limit, offset)
        items = [purchase_order_out(o) for o in rows]
        return typed({"items": items, "total": total, "limit": limit, "offset": offset}, PurchaseOrderPage)

    @post("/purchase-orders", opt=requires(PURCHASE_ORDER, "create"))
    async def create_purchase_order(
        self, data: JSONBody[PurchaseOrderIn], db: DB, purchases: PurchasesDep
    ) -> PurchaseOrderOut:
        """Send a purchase order to a supplier: it is placed there as a sales order for your enterprise
        (its prices, stock and credit apply), or refused with the reason; its status follows."""
        order, lines = await purchases.create(
            data.supplier_id,
            [LineIn(line.product_id, line.quantity) for line in data.lines],
            ship_to=data.ship_to,
            note=data.note,
            requested_delivery_date=data.requested_delivery_date,
        )
        return typed(purchase_order_out(order, lines), PurchaseOrderOut)

    @get("/purchase-orders/{purchase_order_id:uuid}", opt=requires(PURCHASE_ORDER, "read"))
    async def get_purchase_order(
        self, purchase_order_id: FromPath[uuid.UUID], purchases: PurchasesDep
    ) -> PurchaseOrderOut:
        order = await purchases.get(purchase_order_id)
        return typed(purchase_order_out(order, await purchases.lines(order.id)), PurchaseOrderOut)

    @put("/purchase-orders/{purchase_order_id:uuid}", opt=requires(PURCHASE_ORDER, "update", problems=(409,)))
    async def revise_purchase_order(
        self, purchase_order_id: FromPath[uuid.UUID], data: JSONBody[PurchaseOrderRevisionIn], purchases: PurchasesDep
    ) -> PurchaseOrderOut:
        """Change a purchase order the supplier refused (it is sent again, corrected) or that awaits its
        approval (its order is replaced by one placed from the change, under the same checks); a refusal
        comes back with its reason. 409 otherwise."""
        order, lines = await purchases.revise(
            purchase_order_id,
            [LineIn(line.product_id, line.quantity) for line in data.lines],
            ship_to=data.ship_to,
            note=data.note,
            requested_delivery_date=data.requested_delivery_date,
        )
        return typed(purchase_order_out(order, lines), PurchaseOrderOut)

    @post(
        "/purchase-orders/{purchase_order_id:uuid}/resend",
        opt=requires(PURCHASE_ORDER, "update", problems=(409,)),
        status_code=200,
    )
    async def resend_purchase_order(
        self, purchase_order_id: FromPath[uuid.UUID], purchases: PurchasesDep
    ) -> PurchaseOrderOut:
        """Send a refused purchase order again as it is (409 unless refused)."""
        order = await purchases.resend(purchase_order_id)
        return typed(purchase_order_out(order, await purchases.lines(order.id)), PurchaseOrderOut)

    @post(
        "/purchase-orders/{purchase_order_id:uuid}/cancel",
        opt=requires(PURCHASE_ORDER, "cancel", problems=(409,)),
        status_code=200,
    )
    async def cancel_purchase_order(
        self, purchase_order_id: FromPath[uuid.UUID], purchases: PurchasesDep
    ) -> PurchaseOrderOut:
        """Cancel a purchase order not yet shipped: a refused one at once; otherwise the supplier cancels
        its order through its own rules, or its refusal comes back with the reason (409 once shipped)."""
        order = await purchases.cancel(purchase_order_id)
        return typed(purchase_order_out(order, await purchases.lines(order.id)), PurchaseOrderOut)

    @post("/purchase-orders/{purchase_order_id:uuid}/receive", opt=requires(PURCHASE_ORDER, "receive"), status_code=200)
    async def receive_purchase_order(
        self, purchase_order_id: FromPath[uuid.UUID], purchases: PurchasesDep
    ) -> PurchaseOrderOut:
        """The goods arrived: the supplier's order is received, and the goods go into your stock when its
        status comes back (409 unless the order is shipped in full)."""
        order = await purchases.receive(purchase_order_id)
        return typed(purchase_order_out(order, await purchases.lines(order.id)), PurchaseOrderOut)


CONTROLLERS = [PurchaseOrdersController]
