"""Spare parts over the API. Staff: every partner's stock (`GET /api/service/parts/stock`, optionally one
partner's), its corrections (`/api/service/parts/stock/adjustments`: a change with its reason, never
below zero; permission `adjust`) and the requests, approved or rejected (`approve` permission) and
shipped (`ship`), which adds to the partner's stock. Partners: their enterprise's stock and requests,
and a new request."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from apps.service.controllers import CONFLICT
from apps.service.parts import stock
from apps.service.parts.objects import PARTNER_REQUEST, PARTNER_STOCK, REQUEST, STOCK
from apps.service.parts.requests import Line, PartRequests
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Int32, Limit, Multiline, Offset
from portal.identity.schemas import Out, Strict, typed
from portal.permissions import requires
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]


class LineIn(Strict):
    product_id: uuid.UUID  # a product of the manufacturer's catalog
    quantity: Int32


class PartRequestIn(Strict):
    lines: list[LineIn]
    note: Multiline | None = None


class AdjustmentIn(Strict):
    enterprise_id: uuid.UUID  # the service partner
    product_id: uuid.UUID  # the part, a product of the catalog
    change: Int32  # added to the stock (negative: taken off); never 0, at most 10,000 either way
    reason: Multiline  # why: a count, a damaged part, …


class AdjustmentOut(Out, kw_only=True):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    enterprise: str
    product_id: uuid.UUID
    sku: str
    name: str
    change: int
    quantity_after: int  # what the stock held once adjusted
    reason: str
    at: datetime
    by: str | None


class DecisionIn(Strict):
    note: Multiline | None = None  # rejecting: the reason (required)


class StockOut(Out, kw_only=True):
    enterprise_id: uuid.UUID | None
    enterprise: str
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    quantity: int
    updated_at: datetime


class LineOut(Out, kw_only=True):
    product_id: uuid.UUID
    sku: str
    name: str
    quantity: int


class PartRequestOut(Out, kw_only=True):
    id: uuid.UUID
    enterprise_id: uuid.UUID | None
    enterprise: str | None
    status: str  # requested | approved | shipped | rejected
    note: str | None
    reject_reason: str | None
    created_at: datetime
    approved_at: datetime | None
    shipped_at: datetime | None
    rejected_at: datetime | None
    lines: list[LineOut]


class PartRequestPage(Out, kw_only=True):
    items: list[PartRequestOut]
    total: int
    limit: int
    offset: int


def staff_requests(request: AnyRequest, db: DB, actor: CurrentActor) -> PartRequests:
    return PartRequests(db, policy_of(request), actor, REQUEST)


def partner_requests(request: AnyRequest, db: DB, actor: CurrentActor) -> PartRequests:
    return PartRequests(db, policy_of(request), actor, PARTNER_REQUEST)


# Each controller names its side's requests once; handlers take them as `requests`.
PartRequestsDep = NamedDependency[PartRequests]


async def request_page(requests: PartRequests, status: str | None, limit: int, offset: int) -> PartRequestPage:
    rows, total = await requests.page(status, limit, offset)
    items = await requests.out_many(rows)
    return typed({"items": items, "total": total, "limit": limit, "offset": offset}, PartRequestPage)


async def request_out(requests: PartRequests, request_id: uuid.UUID) -> PartRequestOut:
    found = await requests.out_many([await requests.get(request_id)])
    return typed(found[0], PartRequestOut)


class StaffPartsController(Controller):
    path = "/api/service/parts"
    tags = ["service"]
    dependencies = {"requests": Provide(staff_requests, sync_to_thread=False)}

    @get("/stock", opt=requires(STOCK, "read"))
    async def staff_stock(
        self, request: AnyRequest, db: DB, actor: CurrentActor, enterprise_id: FromQuery[uuid.UUID | None] = None
    ) -> list[StockOut]:
        """Each service partner's spare parts on consignment, by partner and part."""
        rows = await stock.stock_rows(db, policy_of(request), actor, STOCK, enterprise_id)
        return [typed(row, StockOut) for row in rows]

    @get("/stock/adjustments", opt=requires(STOCK, "read"))
    async def stock_adjustments(self, db: DB, enterprise_id: FromQuery[uuid.UUID | None] = None) -> list[AdjustmentOut]:
        """The latest 100 corrections of the partners' stock (one partner's with `enterprise_id`), newest
        first."""
        return [typed(row, AdjustmentOut) for row in await stock.adjustments(db, enterprise_id)]

    @post("/stock/adjustments", opt=requires(STOCK, "adjust", problems=CONFLICT))
    async def adjust_stock(self, db: DB, actor: CurrentActor, data: JSONBody[AdjustmentIn]) -> AdjustmentOut:
        """Correct a partner's stock of one part by `change` (a JSON integer: not a string or a
        fraction), with the reason, for a service partner (422 `not_a_service_partner` otherwise): 409
        `stock_below_zero` naming the part when it would go below zero (nothing written). Audited."""
        made = await stock.adjust(db, actor, data.enterprise_id, data.product_id, data.change, data.reason)
        found = await stock.adjustments(db, adjustment_id=made.id)
        return typed(found[0], AdjustmentOut)

    @get("/requests", opt=requires(REQUEST, "read"))
    async def staff_part_requests(
        self,
        requests: PartRequestsDep,
        status: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PartRequestPage:
        """Newest first; `status` requested, approved, shipped or rejected."""
        return await request_page(requests, status, limit, offset)

    @get("/requests/{request_id:uuid}", opt=requires(REQUEST, "read"))
    async def staff_part_request(self, requests: PartRequestsDep, request_id: FromPath[uuid.UUID]) -> PartRequestOut:
        return await request_out(requests, request_id)

    @post("/requests/{request_id:uuid}/approve", opt=requires(REQUEST, "approve", problems=CONFLICT), status_code=200)
    async def approve_part_request(
        self,
        requests: PartRequestsDep,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn | None] = None,
    ) -> PartRequestOut:
        await requests.decide(request_id, "approve", data.note if data else None)
        return await request_out(requests, request_id)

    @post("/requests/{request_id:uuid}/reject", opt=requires(REQUEST, "approve", problems=CONFLICT), status_code=200)
    async def reject_part_request(
        self,
        requests: PartRequestsDep,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn | None] = None,
    ) -> PartRequestOut:
        """With the reason in `note` (required)."""
        await requests.decide(request_id, "reject", data.note if data else None)
        return await request_out(requests, request_id)

    @post("/requests/{request_id:uuid}/ship", opt=requires(REQUEST, "ship", problems=CONFLICT), status_code=200)
    async def ship_part_request(
        self,
        requests: PartRequestsDep,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn | None] = None,
    ) -> PartRequestOut:
        """An approved request is shipped: its lines are added to the partner's stock."""
        await requests.decide(request_id, "ship", data.note if data else None)
        return await request_out(requests, request_id)


class PartnerPartsController(Controller):
    path = "/api/partner/service/parts"
    tags = ["service"]
    dependencies = {"requests": Provide(partner_requests, sync_to_thread=False)}

    @get("/stock", opt=requires(PARTNER_STOCK, "read"))
    async def partner_stock(self, request: AnyRequest, db: DB, actor: CurrentActor) -> list[StockOut]:
        """The enterprise's spare parts on consignment."""
        rows = await stock.stock_rows(db, policy_of(request), actor, PARTNER_STOCK)
        return [typed(row, StockOut) for row in rows]

    @get("/requests", opt=requires(PARTNER_REQUEST, "read"))
    async def partner_part_requests(
        self,
        requests: PartRequestsDep,
        status: FromQuery[str | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PartRequestPage:
        return await request_page(requests, status, limit, offset)

    @post("/requests", opt=requires(PARTNER_REQUEST, "create"))
    async def request_parts(self, db: DB, requests: PartRequestsDep, data: JSONBody[PartRequestIn]) -> PartRequestOut:
        """Ask the manufacturer for parts: each line a catalog product and a quantity (1 to 10,000)."""
        made = await requests.create([Line(line.product_id, line.quantity) for line in data.lines], data.note)
        return await request_out(requests, made.id)

    @get("/requests/{request_id:uuid}", opt=requires(PARTNER_REQUEST, "read"))
    async def partner_part_request(self, requests: PartRequestsDep, request_id: FromPath[uuid.UUID]) -> PartRequestOut:
        return await request_out(requests, request_id)


PARTS_CONTROLLERS = [StaffPartsController, PartnerPartsController]
