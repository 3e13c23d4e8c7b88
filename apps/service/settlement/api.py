"""Settlement through the API: the fee schedule and settlements (staff, /api/service/fees and
/api/service/settlements: run, answer a dispute, approve, export) and the partner's own settlements
(/api/partner/service/settlements: read, dispute a line, export)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from litestar import Request, Response, Router, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from apps.service.controllers import CONFLICT, xlsx
from apps.service.objects import PARTNER_SETTLEMENT, SETTLEMENT
from apps.service.settlement import fees
from apps.service.settlement.settlements import Answer, Settlements
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Limit, Multiline, Offset
from portal.identity.schemas import Out, Strict, typed
from portal.permissions import requires
from portal.spreadsheets import XLSX_MEDIA_TYPE
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]


def provide_staff(request: AnyRequest, db: DB, actor: CurrentActor) -> Settlements:
    return Settlements(db, policy_of(request), actor, SETTLEMENT)


def provide_partner(request: AnyRequest, db: DB, actor: CurrentActor) -> Settlements:
    return Settlements(db, policy_of(request), actor, PARTNER_SETTLEMENT)


STAFF = {"settlements": Provide(provide_staff, sync_to_thread=False)}
PARTNER = {"settlements": Provide(provide_partner, sync_to_thread=False)}
SettlementsDep = NamedDependency[Settlements]


class FeeIn(Strict, kw_only=True):
    ticket_type: str  # installation | repair | maintenance | inspection
    region_id: uuid.UUID | None = None  # null: any region (a fee of the ticket's own region comes first)
    labour: Decimal
    travel: Decimal = Decimal(0)


class FeesIn(Strict):
    fees: list[FeeIn]  # the whole schedule


class FeeOut(Out, kw_only=True):
    id: uuid.UUID
    ticket_type: str
    region_id: uuid.UUID | None
    region: str | None
    labour: Decimal
    travel: Decimal


class SettlementIn(Strict):
    enterprise_id: uuid.UUID  # the service partner
    period_start: date  # tickets closed from this day to period_end, where the workspace is
    period_end: date


class DisputeIn(Strict):
    reason: Multiline


class AnswerIn(Strict):
    decision: str  # adjust (the amounts given replace the line's) | reject (the amounts stay)
    answer: Multiline  # the reply the partner reads
    labour: Decimal | None = None
    travel: Decimal | None = None
    parts: Decimal | None = None


class SettlementOut(Out, kw_only=True):
    id: uuid.UUID
    number: str
    enterprise_id: uuid.UUID | None
    enterprise: str | None
    period_start: date
    period_end: date
    status: str  # review | approved
    total: Decimal
    created_at: datetime
    approved_at: datetime | None


class PartUsedOut(Out, kw_only=True):
    product_id: uuid.UUID | None
    sku: str | None
    name: str
    quantity: int  # fitted on the ticket (its field entries' sum)
    unit_price: Decimal | None  # the catalog's base price on the day the ticket closed; null: none, billed at 0
    amount: Decimal


class LineOut(Out, kw_only=True):
    id: uuid.UUID
    ticket_id: uuid.UUID
    ticket_number: str
    ticket_type: str
    under_warranty: bool | None
    closed_at: datetime
    labour: Decimal
    travel: Decimal
    parts: Decimal  # the parts billed (adjusted by staff where they answered a dispute so)
    parts_used: list[PartUsedOut]  # empty on a line run before parts were billed from use (a flat amount)
    amount: Decimal
    dispute: str  # none | open | adjusted | rejected
    dispute_reason: str | None
    disputed_at: datetime | None
    answer: str | None
    answered_at: datetime | None


class SettlementDetailOut(SettlementOut, kw_only=True):
    open_disputes: int
    lines: list[LineOut]


class SettlementPage(Out, kw_only=True):
    items: list[SettlementOut]
    total: int
    limit: int
    offset: int


async def _page(
    settlements: Settlements, status: str | None, enterprise_id: uuid.UUID | None, limit: int, offset: int
) -> SettlementPage:
    rows, total = await settlements.page(status, enterprise_id, limit, offset)
    return typed(
        {"items": await settlements.out_many(rows), "total": total, "limit": limit, "offset": offset}, SettlementPage
    )


async def _detail(settlements: Settlements, settlement: Any) -> SettlementDetailOut:
    return typed(await settlements.out(settlement), SettlementDetailOut)


# --- staff ---


@get("/api/service/fees", opt=requires(SETTLEMENT, "read"))
async def list_fees(db: DB) -> list[FeeOut]:
    """The fee schedule: per ticket type, and per region where it differs."""
    return [typed(fee, FeeOut) for fee in await fees.listed(db)]


@put("/api/service/fees", opt=requires(SETTLEMENT, "update"))
async def replace_fees(data: JSONBody[FeesIn], db: DB) -> list[FeeOut]:
    """The whole schedule, refused whole with each mistake under its field (`fees[2].labour`). Settlements
    already run keep their amounts."""
    await fees.replace(db, [fees.FeeIn(f.ticket_type, f.region_id, f.labour, f.travel) for f in data.fees])
    return [typed(fee, FeeOut) for fee in await fees.listed(db)]


@get("/", opt=requires(SETTLEMENT, "read"), operation_id="settlement_list", name="settlement_list")
async def list_settlements(
    settlements: SettlementsDep,
    status: FromQuery[str | None] = None,
    enterprise_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> SettlementPage:
    """Newest first; `status` review or approved; `enterprise_id` the partner."""
    return await _page(settlements, status, enterprise_id, limit, offset)


@post("/", opt=requires(SETTLEMENT, "create", problems=CONFLICT))
async def run_settlement(data: JSONBody[SettlementIn], db: DB, settlements: SettlementsDep) -> SettlementDetailOut:
    """The partner's closed tickets of the period not settled before, priced by the fee schedule, in a new
    settlement in review (422 on `enterprise_id` when there is none; 409 `tickets_settled_meanwhile` when
    another run took them at the same moment)."""
    settlement = await settlements.run(data.enterprise_id, data.period_start, data.period_end)
    return await _detail(settlements, settlement)


@get("/{settlement_id:uuid}", opt=requires(SETTLEMENT, "read"), operation_id="settlement_get", name="settlement_get")
async def get_settlement(settlement_id: FromPath[uuid.UUID], settlements: SettlementsDep) -> SettlementDetailOut:
    return await _detail(settlements, await settlements.get(settlement_id))


@get(
    "/{settlement_id:uuid}/export.xlsx",
    opt=requires(SETTLEMENT, "export"),
    media_type=XLSX_MEDIA_TYPE,
    operation_id="settlement_export",
    name="settlement_export",
)
async def export_settlement(settlement_id: FromPath[uuid.UUID], settlements: SettlementsDep) -> Response[bytes]:
    """The settlement's lines and total as a workbook."""
    columns, rows = await settlements.export_rows(await settlements.get(settlement_id))
    return await xlsx("settlement", columns, rows)


@post(
    "/{settlement_id:uuid}/lines/{line_id:uuid}/answer",
    opt=requires(SETTLEMENT, "update", problems=CONFLICT),
    status_code=200,
)
async def answer_dispute(
    settlement_id: FromPath[uuid.UUID],
    line_id: FromPath[uuid.UUID],
    data: JSONBody[AnswerIn],
    settlements: SettlementsDep,
) -> SettlementDetailOut:
    """Answer a disputed line: adjust its amounts or reject the dispute, with a reply."""
    answer = Answer(data.decision, data.answer, data.labour, data.travel, data.parts)
    return await _detail(settlements, await settlements.answer(settlement_id, line_id, answer))


@post("/{settlement_id:uuid}/approve", opt=requires(SETTLEMENT, "approve", problems=CONFLICT), status_code=200)
async def approve_settlement(settlement_id: FromPath[uuid.UUID], settlements: SettlementsDep) -> SettlementDetailOut:
    """Final: the total is credited to the partner's account (409 `disputes_open` while a dispute waits)."""
    return await _detail(settlements, await settlements.approve(settlement_id))


# --- partners ---


@get(
    "/",
    opt=requires(PARTNER_SETTLEMENT, "read"),
    operation_id="partner_settlement_list",
    name="partner_settlement_list",
)
async def partner_settlements(
    settlements: SettlementsDep, status: FromQuery[str | None] = None, limit: Limit = 50, offset: Offset = 0
) -> SettlementPage:
    """The enterprise's settlements, newest first."""
    return await _page(settlements, status, None, limit, offset)


@get(
    "/{settlement_id:uuid}",
    opt=requires(PARTNER_SETTLEMENT, "read"),
    operation_id="partner_settlement_get",
    name="partner_settlement_get",
)
async def partner_settlement(settlement_id: FromPath[uuid.UUID], settlements: SettlementsDep) -> SettlementDetailOut:
    return await _detail(settlements, await settlements.get(settlement_id))


@get(
    "/{settlement_id:uuid}/export.xlsx",
    opt=requires(PARTNER_SETTLEMENT, "export"),
    media_type=XLSX_MEDIA_TYPE,
    operation_id="partner_settlement_export",
    name="partner_settlement_export",
)
async def partner_export(settlement_id: FromPath[uuid.UUID], settlements: SettlementsDep) -> Response[bytes]:
    columns, rows = await settlements.export_rows(await settlements.get(settlement_id))
    return await xlsx("settlement", columns, rows)


@post(
    "/{settlement_id:uuid}/lines/{line_id:uuid}/dispute",
    opt=requires(PARTNER_SETTLEMENT, "dispute", problems=CONFLICT),
    status_code=200,
)
async def dispute_line(
    settlement_id: FromPath[uuid.UUID],
    line_id: FromPath[uuid.UUID],
    data: JSONBody[DisputeIn],
    settlements: SettlementsDep,
) -> SettlementDetailOut:
    """Dispute a line's amount, once, with a reason, while the settlement is in review."""
    return await _detail(settlements, await settlements.dispute(settlement_id, line_id, data.reason))


SETTLEMENT_CONTROLLERS: list[Any] = [
    Router(path="/", route_handlers=[list_fees, replace_fees], dependencies=STAFF, tags=["service"]),
    Router(
        path="/api/service/settlements",
        route_handlers=[
            list_settlements,
            run_settlement,
            get_settlement,
            export_settlement,
            answer_dispute,
            approve_settlement,
        ],
        dependencies=STAFF,
        tags=["service"],
    ),
    Router(
        path="/api/partner/service/settlements",
        route_handlers=[partner_settlements, partner_settlement, partner_export, dispute_line],
        dependencies=PARTNER,
        tags=["partner: service"],
    ),
]
