"""Fund pages: the console's budgets and requests to decide and pay (/console/agent/funds), and a
partner's requests and claims (/p/<workspace>/agent/funds). They call what the API calls; a refusal is
shown on the page in words."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Redirect, Template
from sqlalchemy import select

from apps.agent.funds.api import PARTNER, STAFF, FundsDep
from apps.agent.funds.service import FundFilter, Funds
from apps.agent.listing import EXPORT_LIMIT, search, span, with_query
from apps.agent.objects import PARTNER_FUND, STAFF_FUND
from interconnect.models import EnterpriseLink, PartnerTier
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal import timezones
from portal.errors import DomainError, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_
from portal.permissions import requires
from portal.spreadsheets import workbook_bytes
from portal.storage.uploads import UPLOAD_BODY_LIMIT
from portal.ui.downloads import download, stamped
from portal.ui.forms import Form, uuid_or_none
from portal.ui.labels import setting_name
from portal.ui.numbers import money
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

AnyRequest = Request[Any, Any, Any]
CONSOLE = "/console/agent/funds"
STATUS_LABELS = {
    "requested": N_("Waiting for a decision"),
    "approved": N_("Approved: waiting for the claim"),
    "rejected": N_("Rejected"),
    "claimed": N_("Claimed: waiting for payment"),
    "paid": N_("Paid"),
}
DONE = {
    "saved": N_("Saved."),
    "approved": N_("Approved."),
    "rejected": N_("Rejected."),
    "paid": N_("Paid."),
    "asked": N_("Your request is sent."),
    "claimed": N_("Your claim is sent."),
}
BUDGET_INPUTS = ("name", "starts_on", "ends_on", "amount", "tier_id")


def _text(data: Form, name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _labels() -> dict[str, Any]:
    return {"status_labels": STATUS_LABELS, "money": money}


# --- the console ---


async def _console(
    db: Any,
    funds: Funds,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
    query: Mapping[str, str | None] | None = None,
) -> Template:
    tiers = [(str(i), setting_name(n)) for i, n in await db.execute(select(PartnerTier.id, PartnerTier.name))]
    budgets = await funds.budgets()
    query = query or {}
    chosen, wanted = fund_filter(funds, query)
    number = page_number(query.get("page"))
    rows, total = await funds.page(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, wanted=wanted)
    partners = [
        (str(key), name)
        for key, name in await db.execute(select(EnterpriseLink.id, EnterpriseLink.name).order_by(EnterpriseLink.name))
    ]
    return Template(
        "agent/funds/console.html",
        context={
            **_labels(),
            **_list_context(funds, chosen),
            "partners": partners,
            "paging": paging(CONSOLE, chosen, number, total, PAGE_SIZE),
            "export_link": with_query(f"{CONSOLE}/export.xlsx", chosen),
            "budgets": budgets,
            "budget_choices": [(str(b.id), f"{b.name} ({money(b.amount - b.reserved)})") for b in budgets],
            "tiers": tiers,
            "tier_names": dict(tiers),
            "requests": rows,
            "total": total,
            "hidden": funds.hidden,
            "notice": DONE.get(done or ""),
            "form": form or {},
            "errors": errors or {},
            "refusal": refusal,
        },
        status_code=status_code,
    )


PAGE_SIZE = 50
CONSOLE_QUERY = ("q", "status", "enterprise", "from", "to", "sort")
PARTNER_QUERY = ("q", "status", "from", "to", "sort")
EXPORT_COLUMNS = (
    "created_at",
    "partner",
    "purpose",
    "amount",
    "approved_amount",
    "claimed_amount",
    "paid_amount",
    "currency",
    "status",
)


def fund_filter(funds: Funds, query: Mapping[str, str | None]) -> tuple[dict[str, str], FundFilter]:
    """A fund request list's query as chosen (unknown values dropped) and as the service reads it."""
    status = query.get("status") or ""
    staff = funds.enterprise_id is None
    enterprise = uuid_or_none(query.get("enterprise")) if staff else None
    sort = query.get("sort") or ""
    chosen = {
        "q": search(query.get("q")),
        "status": status if status in STATUS_LABELS else "",
        "enterprise": str(enterprise or ""),
        "sort": sort if sort in funds.sorts().orders else "",
    }
    period = span(query.get("from"), query.get("to"), funds.actor.time_zone)
    chosen.update(period.query)
    wanted = FundFilter(
        status=chosen["status"] or None,
        enterprise_id=enterprise,
        span=period,
        search=chosen["q"] or None,
        sort=chosen["sort"] or None,
    )
    return chosen, wanted


def _list_context(funds: Funds, chosen: Mapping[str, str]) -> dict[str, Any]:
    return {"chosen": chosen, "sorts": funds.sorts().labels(), "statuses": list(STATUS_LABELS.items())}


def _query(request: AnyRequest, names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: request.query_params.get(name) for name in (*names, "page")}


async def requests_xlsx(funds: Funds, query: Mapping[str, str | None]) -> Response[bytes]:
    """The requests the list's filters let through, without the amounts field rules hide."""
    _chosen, wanted = fund_filter(funds, query)
    rows, _total = await funds.page(limit=EXPORT_LIMIT, wanted=wanted)
    columns = [c for c in EXPORT_COLUMNS if c not in funds.hidden]
    cells = []
    for found, name in rows:
        values = {c: getattr(found, c, None) for c in EXPORT_COLUMNS}
        values["partner"] = name
        values["created_at"] = timezones.moment_text(found.created_at, funds.actor.time_zone)
        cells.append(["" if values[c] is None else values[c] for c in columns])
    content = await asyncio.to_thread(workbook_bytes, columns, cells, "Fund requests")
    return download(content, stamped("fund-requests"))


@get(CONSOLE, opt=requires(STAFF_FUND, "read"), include_in_schema=False)
async def console_page(request: AnyRequest, db: DB, funds: FundsDep, done: FromQuery[str | None] = None) -> Template:
    """The budgets, and the requests: search (purpose, partner), filters (status, partner, the days
    asked), an order, pages and the XLSX of what the filters let through."""
    return await _console(db, funds, done=done, query=_query(request, CONSOLE_QUERY))


@get(f"{CONSOLE}/export.xlsx", opt=requires(STAFF_FUND, "read"), include_in_schema=False)
async def export_requests_page(request: AnyRequest, funds: FundsDep) -> Response[bytes]:
    return await requests_xlsx(funds, _query(request, CONSOLE_QUERY))


@post(f"{CONSOLE}/budgets", opt=requires(STAFF_FUND, "budget"), include_in_schema=False)
async def create_budget_page(data: Form, db: DB, funds: FundsDep) -> Template | Redirect:
    form = {name: _text(data, name) for name in BUDGET_INPUTS}
    try:
        async with db.begin_nested():
            tier_id = uuid_or_none(form["tier_id"])
            if form["tier_id"] and tier_id is None:
                raise ValidationFailed.single("tier_id", N_("is not known"), "unknown")
            await funds.create_budget({**form, "tier_id": tier_id})
    except ValidationFailed as error:
        return await _console(db, funds, form=form, errors=field_errors(error), status_code=422)
    return Redirect(f"{CONSOLE}?done=saved")


def _decision(action: str, permission: str) -> Any:
    @post(
        f"{CONSOLE}/{{fund_request_id:uuid}}/{action}",
        opt=requires(STAFF_FUND, permission),
        include_in_schema=False,
        name=f"fund-request-{action}",
    )
    async def handler(data: Form, db: DB, funds: FundsDep, fund_request_id: FromPath[uuid.UUID]) -> Template | Redirect:
        await funds.get(fund_request_id)  # another tenant's request is not found, whatever was sent
        try:
            async with db.begin_nested():
                amount = _text(data, "amount") or None
                if action == "approve":
                    budget_id = uuid_or_none(_text(data, "budget_id"))
                    if budget_id is None:
                        raise ValidationFailed.single("budget_id", N_("Choose a budget"), "required")
                    await funds.approve(fund_request_id, budget_id, amount, _text(data, "note") or None)
                elif action == "reject":
                    await funds.reject(fund_request_id, _text(data, "note"))
                else:
                    await funds.pay(fund_request_id, amount)
        except DomainError as error:
            return await _console(db, funds, refusal=refusal_of(error), status_code=error.status)
        return Redirect(f"{CONSOLE}?done={ {'approve': 'approved', 'reject': 'rejected', 'pay': 'paid'}[action] }")

    return handler


# --- the partner portal ---


async def _portal(
    funds: Funds,
    portal: PortalContext,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
    query: Mapping[str, str | None] | None = None,
) -> Template:
    query = query or {}
    chosen, wanted = fund_filter(funds, query)
    number = page_number(query.get("page"))
    rows, total = await funds.page(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, wanted=wanted)
    proofs = {r.id: await funds.proofs(r.id) for r, _name in rows if r.status in ("claimed", "paid")}
    return Template(
        "agent/funds/portal.html",
        context={
            **portal.frame,
            **_labels(),
            **_list_context(funds, chosen),
            "total": total,
            "paging": paging(portal.path("agent/funds"), chosen, number, total, PAGE_SIZE),
            "export_link": with_query(portal.path("agent/funds/export.xlsx"), chosen),
            "requests": rows,
            "proofs": proofs,
            "hidden": funds.hidden,
            "notice": DONE.get(done or ""),
            "form": form or {},
            "errors": errors or {},
            "refusal": refusal,
        },
        status_code=status_code,
    )


@get("/agent/funds", opt=requires(PARTNER_FUND, "read"), include_in_schema=False)
async def my_funds_page(
    request: AnyRequest, funds: FundsDep, portal: CurrentPortal, done: FromQuery[str | None] = None
) -> Template:
    """One's requests (search of the purpose, status, the days asked, an order, pages, the XLSX), asking
    and claiming."""
    return await _portal(funds, portal, done=done, query=_query(request, PARTNER_QUERY))


@get("/agent/funds/export.xlsx", opt=requires(PARTNER_FUND, "read"), include_in_schema=False)
async def my_requests_export_page(request: AnyRequest, funds: FundsDep) -> Response[bytes]:
    return await requests_xlsx(funds, _query(request, PARTNER_QUERY))


@post("/agent/funds", opt=requires(PARTNER_FUND, "request"), include_in_schema=False)
async def ask_page(data: Form, db: DB, funds: FundsDep, portal: CurrentPortal) -> Template | Redirect:
    form = {name: _text(data, name) for name in ("amount", "purpose")}
    try:
        async with db.begin_nested():
            await funds.request(form["amount"], form["purpose"])
    except ValidationFailed as error:
        return await _portal(funds, portal, form=form, errors=field_errors(error), status_code=422)
    return Redirect(portal.path("agent/funds?done=asked"))


@dataclass
class ClaimForm:
    amount: str = ""
    note: str = ""
    file: UploadFile | None = None


@post(
    "/agent/funds/{fund_request_id:uuid}/claim",
    opt=requires(PARTNER_FUND, "claim"),
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def claim_page(
    data: MultipartBody[ClaimForm], db: DB, funds: FundsDep, portal: CurrentPortal, fund_request_id: FromPath[uuid.UUID]
) -> Template | Redirect:
    await funds.get(fund_request_id)  # another enterprise's request is not found, whatever was sent
    try:
        async with db.begin_nested():
            if data.file is None or not data.file.filename:
                raise ValidationFailed.single("file", N_("is required: upload the proof"), "required")
            content = await data.file.read()
            await data.file.close()
            await funds.claim(fund_request_id, data.amount, data.note, content, data.file.filename)
    except DomainError as error:
        return await _portal(funds, portal, refusal=refusal_of(error), status_code=error.status)
    return Redirect(portal.path("agent/funds?done=claimed"))


FUND_PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            console_page,
            export_requests_page,
            create_budget_page,
            _decision("approve", "approve"),
            _decision("reject", "approve"),
            _decision("pay", "pay"),
        ],
        dependencies=STAFF,
    ),
    partner_portal_router([my_funds_page, my_requests_export_page, ask_page, claim_page], dependencies=PARTNER),
]
