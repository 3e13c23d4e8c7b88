"""Settlement pages. The console's (/console/service/settlements): the list with "Run a settlement", a
settlement with its lines, the answer to each open dispute, approval and the XLSX; the fee schedule
(/console/service/fees). The partner portal's (/p/<workspace>/service/settlements): its settlements, each
line with "Dispute" while in review, and the XLSX. Each calls apps.service.settlement as the API does; a
refusal shows the page again with why."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from litestar import Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from apps.service.controllers import xlsx
from apps.service.models import TICKET_TYPES
from apps.service.objects import PARTNER_SETTLEMENT, SETTLEMENT
from apps.service.pages.shared import PAGE_SIZE, page_helpers, regions, service_partners, text
from apps.service.settlement import fees
from apps.service.settlement.api import PARTNER, STAFF, SettlementsDep
from apps.service.settlement.settlements import Answer, Settlements
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal import timezones
from portal.errors import DomainError, FieldError, NotFound, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form, uuid_or_none
from portal.ui.numbers import money
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

SETTLEMENTS = "/console/service/settlements"
FEES = "/console/service/fees"
STATUS_LABELS = {"review": N_("In review"), "approved": N_("Approved")}
DISPUTE_LABELS = {
    "none": N_("Not disputed"),
    "open": N_("Disputed, waiting for an answer"),
    "adjusted": N_("Adjusted"),
    "rejected": N_("Dispute rejected"),
}
DONE = {
    "run": N_("The settlement is made: the partner can review it now."),
    "answered": N_("The dispute is answered."),
    "approved": N_("The settlement is approved and credited to the partner's account."),
    "disputed": N_("The line is disputed: the manufacturer will answer."),
    "fees": N_("The fee schedule is saved."),
}
BLANK_FEES = 3  # empty rows offered under the schedule to add fees


def helpers(done: str | None = None) -> dict[str, Any]:
    found = DONE.get(done or "")
    return {
        **page_helpers(),
        "money": money,
        "status_labels": STATUS_LABELS,
        "dispute_labels": DISPUTE_LABELS,
        "notice": gettext(found) if found else None,
    }


def _day(value: str, field: str, errors: list[FieldError]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError(field, N_("must be a date (YYYY-MM-DD)"), "invalid"))
        return None


# --- console ---


async def _list_view(
    db: AsyncSession,
    settlements: Settlements,
    *,
    status: str | None = None,
    partner: str | None = None,
    page: str | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    status_code: int = 200,
) -> Template:
    chosen = {"status": status if status in STATUS_LABELS else "", "partner": partner or ""}
    number = page_number(page)
    rows, total = await settlements.page(
        chosen["status"] or None, uuid_or_none(chosen["partner"]), PAGE_SIZE, (number - 1) * PAGE_SIZE
    )
    today = timezones.today(settlements.actor.time_zone)
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return Template(
        "service/console/settlements.html",
        context={
            **helpers(done),
            "rows": await settlements.out_many(rows),
            "total": total,
            "chosen": chosen,
            "partners": await service_partners(db),
            "paging": paging(SETTLEMENTS, chosen, number, total, PAGE_SIZE),
            "form": form
            or {"period_start": last_month_end.replace(day=1).isoformat(), "period_end": last_month_end.isoformat()},
            "errors": errors or {},
            "alert": alert,
            "section": "settlements",
        },
        status_code=status_code,
    )


@get(SETTLEMENTS, opt=requires(SETTLEMENT, "read"), include_in_schema=False)
async def settlements_page(
    db: DB,
    settlements: SettlementsDep,
    status: FromQuery[str | None] = None,
    partner: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _list_view(db, settlements, status=status, partner=partner, page=page, done=done)


@post(SETTLEMENTS, opt=requires(SETTLEMENT, "create"), include_in_schema=False)
async def run_page(data: Form, db: DB, settlements: SettlementsDep) -> Template | Redirect:
    """A settlement of the partner and period chosen; refused, the form again with each message."""
    form = {name: text(data, name) for name in ("enterprise_id", "period_start", "period_end")}
    try:
        errors: list[FieldError] = []
        partner = uuid_or_none(form["enterprise_id"])
        if partner is None:
            errors.append(FieldError("enterprise_id", N_("Choose a service partner"), "required"))
        start = _day(form["period_start"], "period_start", errors)
        end = _day(form["period_end"], "period_end", errors)
        if errors or partner is None or start is None or end is None:
            raise ValidationFailed(errors)
        async with db.begin_nested():
            settlement = await settlements.run(partner, start, end)
    except ValidationFailed as error:
        return await _list_view(db, settlements, form=form, errors=field_errors(error), status_code=422)
    except DomainError as error:
        return await _list_view(db, settlements, form=form, alert=refusal_of(error), status_code=error.status)
    return Redirect(f"{SETTLEMENTS}/{settlement.id}?done=run")


async def _settlement_view(
    settlements: Settlements,
    settlement_id: uuid.UUID,
    template: str,
    base: str,
    *,
    done: str | None = None,
    alert: str | None = None,
    failed: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    frame: dict[str, Any] | None = None,
) -> Template:
    settlement = await settlements.get(settlement_id)
    return Template(
        template,
        context={
            **(frame or {}),
            **helpers(done),
            "s": await settlements.out(settlement),
            "base": base,
            "alert": alert,
            "failed": failed,
            "form": form or {},
            "errors": errors or {},
            "section": "settlements",
        },
        status_code=status_code,
    )


@get(f"{SETTLEMENTS}/{{settlement_id:uuid}}", opt=requires(SETTLEMENT, "read"), include_in_schema=False)
async def settlement_page(
    settlement_id: FromPath[uuid.UUID], settlements: SettlementsDep, done: FromQuery[str | None] = None
) -> Template:
    return await _settlement_view(settlements, settlement_id, "service/console/settlement.html", SETTLEMENTS, done=done)


@post(
    f"{SETTLEMENTS}/{{settlement_id:uuid}}/lines/{{line_id:uuid}}/answer",
    opt=requires(SETTLEMENT, "update"),
    include_in_schema=False,
)
async def answer_page(
    settlement_id: FromPath[uuid.UUID], line_id: FromPath[uuid.UUID], data: Form, db: DB, settlements: SettlementsDep
) -> Template | Redirect:
    form = {name: text(data, name) for name in ("decision", "answer", "labour", "travel", "parts")}
    await settlements.get(settlement_id)  # another's: not found
    try:
        errors: list[FieldError] = []
        amounts: dict[str, Any] = {}
        for name in fees.AMOUNTS:
            if form[name]:
                value = fees.amount_of(form[name])
                if value is None:
                    errors.append(FieldError(name, N_("must be an amount such as 120.50"), "invalid"))
                amounts[name] = value
        if errors:
            raise ValidationFailed(errors)
        async with db.begin_nested():
            await settlements.answer(settlement_id, line_id, Answer(form["decision"], form["answer"], **amounts))
    except NotFound:
        raise
    except DomainError as error:
        errors_of = field_errors(error) if isinstance(error, ValidationFailed) else {}
        return await _settlement_view(
            settlements,
            settlement_id,
            "service/console/settlement.html",
            SETTLEMENTS,
            alert=None if errors_of else refusal_of(error),
            failed=str(line_id),
            form=form,
            errors=errors_of,
            status_code=error.status,
        )
    return Redirect(f"{SETTLEMENTS}/{settlement_id}?done=answered")


@post(f"{SETTLEMENTS}/{{settlement_id:uuid}}/approve", opt=requires(SETTLEMENT, "approve"), include_in_schema=False)
async def approve_page(settlement_id: FromPath[uuid.UUID], db: DB, settlements: SettlementsDep) -> Template | Redirect:
    await settlements.get(settlement_id)
    try:
        async with db.begin_nested():
            await settlements.approve(settlement_id)
    except NotFound:
        raise
    except DomainError as error:
        return await _settlement_view(
            settlements,
            settlement_id,
            "service/console/settlement.html",
            SETTLEMENTS,
            alert=refusal_of(error),
            status_code=error.status,
        )
    return Redirect(f"{SETTLEMENTS}/{settlement_id}?done=approved")


@get(f"{SETTLEMENTS}/{{settlement_id:uuid}}/export.xlsx", opt=requires(SETTLEMENT, "export"), include_in_schema=False)
async def export_page(settlement_id: FromPath[uuid.UUID], settlements: SettlementsDep) -> Response[bytes]:
    columns, rows = await settlements.export_rows(await settlements.get(settlement_id))
    return await xlsx("settlement", columns, rows)


async def _fees_view(
    db: AsyncSession,
    *,
    done: str | None = None,
    rows: list[dict[str, str]] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    if rows is None:
        rows = [
            {
                "ticket_type": f["ticket_type"],
                "region_id": str(f["region_id"] or ""),
                **{name: f"{f[name]:.2f}" for name in fees.AMOUNTS},
            }
            for f in await fees.listed(db)
        ]
        rows += [{"ticket_type": "", "region_id": "", "labour": "", "travel": ""}] * BLANK_FEES
    return Template(
        "service/console/fees.html",
        context={
            **helpers(done),
            "rows": rows,
            "errors": errors or {},
            "regions": await regions(db),
            "types": TICKET_TYPES,
            "section": "settlements",
        },
        status_code=status_code,
    )


@get(FEES, opt=requires(SETTLEMENT, "read"), include_in_schema=False)
async def fees_page(db: DB, done: FromQuery[str | None] = None) -> Template:
    return await _fees_view(db, done=done)


@post(FEES, opt=requires(SETTLEMENT, "update"), include_in_schema=False)
async def save_fees_page(data: Form, db: DB) -> Template | Redirect:
    """The rows as typed (`fees-<n>-<field>`); a row without a type is dropped, so emptying it removes the
    fee. Refused whole, each message beside its input."""
    rows: list[dict[str, str]] = []
    count = min(int(n) if (n := text(data, "count")).isdigit() else 0, fees.MAX_FEES + BLANK_FEES)
    for index in range(count):
        row = {name: text(data, f"fees-{index}-{name}") for name in ("ticket_type", "region_id", *fees.AMOUNTS)}
        rows.append(row)
    kept = [row for row in rows if row["ticket_type"]]
    errors: list[FieldError] = []
    wanted: list[fees.FeeIn] = []
    for index, row in enumerate(kept):
        amounts = {}
        for name in fees.AMOUNTS:
            value = fees.amount_of(row[name])
            if value is None:
                errors.append(FieldError(f"fees[{index}].{name}", N_("must be an amount such as 120.50"), "invalid"))
            amounts[name] = value or fees.ZERO
        region = uuid_or_none(row["region_id"])
        if row["region_id"] and region is None:
            errors.append(FieldError(f"fees[{index}].region_id", N_("No such region"), "unknown"))
        wanted.append(fees.FeeIn(row["ticket_type"], region, **amounts))
    try:
        if errors:
            raise ValidationFailed(errors)
        async with db.begin_nested():
            await fees.replace(db, wanted)
    except ValidationFailed as error:
        return await _fees_view(db, rows=kept, errors=field_errors(error), status_code=422)
    return Redirect(f"{FEES}?done=fees")


CONSOLE_PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            settlements_page,
            run_page,
            settlement_page,
            answer_page,
            approve_page,
            export_page,
            fees_page,
            save_fees_page,
        ],
        dependencies=STAFF,
    )
]


# --- the partner portal ---


@get("/service/settlements", opt=requires(PARTNER_SETTLEMENT, "read"), include_in_schema=False)
async def partner_settlements_page(
    portal: CurrentPortal, settlements: SettlementsDep, page: FromQuery[str | None] = None
) -> Template:
    number = page_number(page)
    rows, total = await settlements.page(None, None, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    base = portal.path("service/settlements")
    return Template(
        "service/portal/settlements.html",
        context={
            **portal.frame,
            **helpers(),
            "rows": await settlements.out_many(rows),
            "total": total,
            "base": base,
            "paging": paging(base, {}, number, total, PAGE_SIZE, bare_first=True),
        },
    )


async def _partner_view(
    portal: PortalContext, settlements: Settlements, settlement_id: uuid.UUID, **values: Any
) -> Template:
    return await _settlement_view(
        settlements,
        settlement_id,
        "service/portal/settlement.html",
        portal.path("service/settlements"),
        frame=portal.frame,
        **values,
    )


@get("/service/settlements/{settlement_id:uuid}", opt=requires(PARTNER_SETTLEMENT, "read"), include_in_schema=False)
async def partner_settlement_page(
    settlement_id: FromPath[uuid.UUID],
    portal: CurrentPortal,
    settlements: SettlementsDep,
    done: FromQuery[str | None] = None,
) -> Template:
    return await _partner_view(portal, settlements, settlement_id, done=done)


@post(
    "/service/settlements/{settlement_id:uuid}/lines/{line_id:uuid}/dispute",
    opt=requires(PARTNER_SETTLEMENT, "dispute"),
    include_in_schema=False,
)
async def dispute_page(
    settlement_id: FromPath[uuid.UUID],
    line_id: FromPath[uuid.UUID],
    data: Form,
    db: DB,
    portal: CurrentPortal,
    settlements: SettlementsDep,
) -> Template | Redirect:
    form = {"reason": text(data, "reason")}
    await settlements.get(settlement_id)
    try:
        async with db.begin_nested():
            await settlements.dispute(settlement_id, line_id, form["reason"])
    except NotFound:
        raise
    except DomainError as error:
        errors = field_errors(error) if isinstance(error, ValidationFailed) else {}
        return await _partner_view(
            portal,
            settlements,
            settlement_id,
            alert=None if errors else refusal_of(error),
            failed=str(line_id),
            form=form,
            errors=errors,
            status_code=error.status,
        )
    return Redirect(portal.path(f"service/settlements/{settlement_id}?done=disputed"))


@get(
    "/service/settlements/{settlement_id:uuid}/export.xlsx",
    opt=requires(PARTNER_SETTLEMENT, "export"),
    include_in_schema=False,
)
async def partner_export_page(settlement_id: FromPath[uuid.UUID], settlements: SettlementsDep) -> Response[bytes]:
    columns, rows = await settlements.export_rows(await settlements.get(settlement_id))
    return await xlsx("settlement", columns, rows)


PARTNER_PAGES: list[Any] = [
    partner_portal_router(
        [partner_settlements_page, partner_settlement_page, dispute_page, partner_export_page], dependencies=PARTNER
    )
]
