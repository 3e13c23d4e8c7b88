"""Commission pages: the console's rules and statements (/console/agent/commissions) and a partner's
commissions and statements (/p/<workspace>/agent/commissions). They call what the API calls; a refusal
is shown on the page in words."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from apps.agent.commissions.api import PARTNER, STAFF, SetupDep, StatementsDep, statement_xlsx
from apps.agent.commissions.models import DEAL_TYPES
from apps.agent.commissions.rules import CommissionSetup
from apps.agent.commissions.statements import StatementFilter, Statements, last_ended, month
from apps.agent.listing import EXPORT_LIMIT, search, with_query
from apps.agent.objects import PARTNER_COMMISSION, STAFF_COMMISSION
from interconnect.models import EnterpriseLink, PartnerTier
from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from portal.db.types import utcnow
from portal.errors import DomainError, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.spreadsheets import workbook_bytes
from portal.ui.downloads import download, stamped
from portal.ui.forms import Form, uuid_or_none
from portal.ui.labels import setting_name
from portal.ui.numbers import money
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

AnyRequest = Request[Any, Any, Any]
CONSOLE = "/console/agent/commissions"
STATUS_LABELS = {
    "open": N_("Waiting for the partner's review"),
    "accepted": N_("Accepted by the partner"),
    "disputed": N_("Disputed by the partner"),
    "approved": N_("Approved"),
    "withdrawn": N_("Withdrawn"),
}
KIND_LABELS = {"earned": N_("Won deal"), "reversal": N_("Deal reopened")}
DEAL_TYPE_LABELS = {"new_business": N_("New business"), "renewal": N_("Renewal"), "expansion": N_("Expansion")}
DONE = {
    "saved": N_("Saved."),
    "closed": N_("The statements of the period are made."),
    "approved": N_("Approved and posted to the partner's account."),
    "withdrawn": N_("Withdrawn: its lines go on the next statement."),
    "accepted": N_("You accepted the statement."),
    "disputed": N_("You disputed the statement; the manufacturer will look at it."),
}
RULE_INPUTS = ("name", "rate", "tier_id", "product_line", "deal_type", "position")


def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "deal_type_labels": DEAL_TYPE_LABELS,
        "money": money,
    }


def _text(data: Form, name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


# --- the console ---


async def _console(
    db: Any,
    setup: CommissionSetup,
    statements: Statements,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
    query: Mapping[str, str | None] | None = None,
) -> Template:
    tiers = [(str(i), setting_name(n)) for i, n in await db.execute(select(PartnerTier.id, PartnerTier.name))]
    query = query or {}
    chosen, wanted = statement_filter(statements, query)
    number = page_number(query.get("page"))
    rows, total = await statements.page(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, wanted=wanted)
    partners = [
        (str(key), name)
        for key, name in await db.execute(select(EnterpriseLink.id, EnterpriseLink.name).order_by(EnterpriseLink.name))
    ]
    return Template(
        "agent/commissions/console.html",
        context={
            **_labels(),
            **_list_context(statements, chosen),
            "partners": partners,
            "paging": paging(CONSOLE, chosen, number, total, PAGE_SIZE),
            "export_link": with_query(f"{CONSOLE}/export.xlsx", chosen),
            "rules": await setup.rules(),
            "tiers": tiers,
            "tier_names": dict(tiers),
            "deal_types": [(t, gettext(DEAL_TYPE_LABELS[t])) for t in DEAL_TYPES],
            "statements": rows,
            "total": total,
            "waiting": len(await statements.unstated()),
            "hidden": statements.hidden,
            "period": last_ended(utcnow().date()),
            "notice": DONE.get(done or ""),
            "form": form or {},
            "errors": errors or {},
            "refusal": refusal,
        },
        status_code=status_code,
    )


PAGE_SIZE = 50
CONSOLE_QUERY = ("q", "status", "enterprise", "from", "to", "sort")
PARTNER_QUERY = ("status", "from", "to", "sort")
EXPORT_COLUMNS = ("period", "round", "partner", "lines", "total", "currency", "status")


def statement_filter(statements: Statements, query: Mapping[str, str | None]) -> tuple[dict[str, str], StatementFilter]:
    """A statement list's query as chosen (unknown values dropped) and as the service reads it."""
    status = query.get("status") or ""
    sorts = statements.sorts()
    enterprise = None if statements.partner else uuid_or_none(query.get("enterprise"))
    chosen = {
        "q": "" if statements.partner else search(query.get("q")),
        "status": status if status in STATUS_LABELS else "",
        "enterprise": str(enterprise or ""),
        "from": month(query.get("from")) or "",
        "to": month(query.get("to")) or "",
        "sort": str(query.get("sort")) if query.get("sort") in sorts.orders else "",
    }
    wanted = StatementFilter(
        status=chosen["status"] or None,
        enterprise_id=enterprise,
        first=chosen["from"] or None,
        last=chosen["to"] or None,
        search=chosen["q"] or None,
        sort=chosen["sort"] or None,
    )
    return chosen, wanted


def _list_context(statements: Statements, chosen: Mapping[str, str]) -> dict[str, Any]:
    return {"chosen": chosen, "sorts": statements.sorts().labels(), "statuses": list(STATUS_LABELS.items())}


def _query(request: AnyRequest, names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: request.query_params.get(name) for name in (*names, "page")}


async def statements_xlsx(statements: Statements, query: Mapping[str, str | None]) -> Response[bytes]:
    """The statements the list's filters let through, with the columns one may see (a hidden amount
    leaves out the total)."""
    _chosen, wanted = statement_filter(statements, query)
    rows, _total = await statements.page(limit=EXPORT_LIMIT, wanted=wanted)
    columns = [c for c in EXPORT_COLUMNS if not (c == "total" and "amount" in statements.hidden)]
    cells = []
    for statement, name in rows:
        values = {
            "period": statement.period,
            "round": statement.round,
            "partner": name,
            "lines": statement.lines_count,
            "total": statement.total,
            "currency": statement.currency,
            "status": statement.status,
        }
        cells.append([values[c] for c in columns])
    content = await asyncio.to_thread(workbook_bytes, columns, cells, "Commission statements")
    return download(content, stamped("commission-statements"))


@get(CONSOLE, opt=requires(STAFF_COMMISSION, "read"), include_in_schema=False)
async def console_page(
    request: AnyRequest, db: DB, setup: SetupDep, statements: StatementsDep, done: FromQuery[str | None] = None
) -> Template:
    """The rules, making a month's statements, and the statements: search (partner), filters (status,
    partner, months), an order, pages and the XLSX of what the filters let through."""
    return await _console(db, setup, statements, done=done, query=_query(request, CONSOLE_QUERY))


@get(f"{CONSOLE}/export.xlsx", opt=requires(STAFF_COMMISSION, "export"), include_in_schema=False)
async def export_statements_page(request: AnyRequest, statements: StatementsDep) -> Response[bytes]:
    return await statements_xlsx(statements, _query(request, CONSOLE_QUERY))


@post(f"{CONSOLE}/rules", opt=requires(STAFF_COMMISSION, "setup"), include_in_schema=False)
async def create_rule_page(data: Form, db: DB, setup: SetupDep, statements: StatementsDep) -> Template | Redirect:
    form = {name: _text(data, name) for name in RULE_INPUTS}
    try:
        async with db.begin_nested():
            tier_id = uuid_or_none(form["tier_id"])
            if form["tier_id"] and tier_id is None:
                raise ValidationFailed.single("tier_id", N_("is not known"), "unknown")
            values: dict[str, Any] = {name: form[name] for name in ("name", "rate", "product_line", "deal_type")}
            values["tier_id"] = tier_id
            if form["position"]:
                try:
                    values["position"] = int(form["position"])
                except ValueError:
                    raise ValidationFailed.single("position", N_("must be a whole number"), "invalid") from None
                if not -1000 <= values["position"] <= 1000:
                    raise ValidationFailed.single("position", N_("must be a whole number"), "invalid")
            await setup.create(values)
    except ValidationFailed as error:
        return await _console(db, setup, statements, form=form, errors=field_errors(error), status_code=422)
    return Redirect(f"{CONSOLE}?done=saved")


@post(
    f"{CONSOLE}/rules/{{commission_rule_id:uuid}}/delete",
    opt=requires(STAFF_COMMISSION, "setup"),
    include_in_schema=False,
)
async def delete_rule_page(commission_rule_id: FromPath[uuid.UUID], setup: SetupDep) -> Redirect:
    await setup.delete(commission_rule_id)
    return Redirect(f"{CONSOLE}?done=saved")


@post(f"{CONSOLE}/close", opt=requires(STAFF_COMMISSION, "approve"), include_in_schema=False)
async def close_page(data: Form, db: DB, setup: SetupDep, statements: StatementsDep) -> Template | Redirect:
    try:
        async with db.begin_nested():
            await statements.close(_text(data, "period"))
    except ValidationFailed as error:
        form = {"period": _text(data, "period")}
        return await _console(db, setup, statements, form=form, errors=field_errors(error), status_code=422)
    return Redirect(f"{CONSOLE}?done=closed")


async def _statement_page(
    statements: Statements,
    statement_id: uuid.UUID,
    template: str,
    frame: dict[str, Any],
    *,
    done: str | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Template:
    statement = await statements.get(statement_id)
    return Template(
        template,
        context={
            **frame,
            **_labels(),
            "statement": statement,
            "enterprise_name": await statements.enterprise_name(statement.enterprise_id),
            "lines": await statements.lines(statement.id),
            "hidden": statements.hidden,
            "notice": DONE.get(done or ""),
            "refusal": refusal,
        },
        status_code=status_code,
    )


@get(f"{CONSOLE}/{{statement_id:uuid}}", opt=requires(STAFF_COMMISSION, "read"), include_in_schema=False)
async def statement_page(
    statements: StatementsDep, statement_id: FromPath[uuid.UUID], done: FromQuery[str | None] = None
) -> Template:
    return await _statement_page(statements, statement_id, "agent/commissions/console_statement.html", {}, done=done)


@get(f"{CONSOLE}/{{statement_id:uuid}}/export.xlsx", opt=requires(STAFF_COMMISSION, "export"), include_in_schema=False)
async def export_page(statements: StatementsDep, statement_id: FromPath[uuid.UUID]) -> Response[bytes]:
    return await statement_xlsx(statements, statement_id)


def _staff_decision(action: str) -> Any:
    @post(
        f"{CONSOLE}/{{statement_id:uuid}}/{action}",
        opt=requires(STAFF_COMMISSION, "approve"),
        include_in_schema=False,
        name=f"commission-statement-{action}",
    )
    async def handler(
        data: Form, db: DB, statements: StatementsDep, statement_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        try:
            async with db.begin_nested():
                if action == "approve":
                    await statements.approve(statement_id)
                else:
                    await statements.withdraw(statement_id, _text(data, "note")[:1000] or None)
        except DomainError as error:
            return await _statement_page(
                statements,
                statement_id,
                "agent/commissions/console_statement.html",
                {},
                refusal=refusal_of(error),
                status_code=error.status,
            )
        return Redirect(f"{CONSOLE}/{statement_id}?done={'approved' if action == 'approve' else 'withdrawn'}")

    return handler


# --- the partner portal ---


@get("/agent/commissions", opt=requires(PARTNER_COMMISSION, "read"), include_in_schema=False)
async def my_commissions_page(request: AnyRequest, statements: StatementsDep, portal: CurrentPortal) -> Template:
    """One's statements (filters: status, months; an order; pages; the XLSX) and the lines waiting."""
    query = _query(request, PARTNER_QUERY)
    chosen, wanted = statement_filter(statements, query)
    number = page_number(query.get("page"))
    rows, total = await statements.page(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, wanted=wanted)
    return Template(
        "agent/commissions/portal.html",
        context={
            **portal.frame,
            **_labels(),
            **_list_context(statements, chosen),
            "total": total,
            "paging": paging(portal.path("agent/commissions"), chosen, number, total, PAGE_SIZE),
            "export_link": with_query(portal.path("agent/commissions/export.xlsx"), chosen),
            "lines": await statements.unstated(),
            "statements": rows,
            "hidden": statements.hidden,
        },
    )


@get("/agent/commissions/export.xlsx", opt=requires(PARTNER_COMMISSION, "read"), include_in_schema=False)
async def my_statements_export_page(request: AnyRequest, statements: StatementsDep) -> Response[bytes]:
    return await statements_xlsx(statements, _query(request, PARTNER_QUERY))


@get("/agent/commissions/{statement_id:uuid}", opt=requires(PARTNER_COMMISSION, "read"), include_in_schema=False)
async def my_statement_page(
    statements: StatementsDep,
    portal: CurrentPortal,
    statement_id: FromPath[uuid.UUID],
    done: FromQuery[str | None] = None,
) -> Template:
    return await _statement_page(
        statements, statement_id, "agent/commissions/portal_statement.html", portal.frame, done=done
    )


@get(
    "/agent/commissions/{statement_id:uuid}/export.xlsx",
    opt=requires(PARTNER_COMMISSION, "read"),
    include_in_schema=False,
)
async def my_export_page(statements: StatementsDep, statement_id: FromPath[uuid.UUID]) -> Response[bytes]:
    return await statement_xlsx(statements, statement_id)


def _review(accept: bool) -> Any:
    action = "accept" if accept else "dispute"

    @post(
        f"/agent/commissions/{{statement_id:uuid}}/{action}",
        opt=requires(PARTNER_COMMISSION, "review"),
        include_in_schema=False,
        name=f"commission-review-{action}",
    )
    async def handler(
        data: Form, db: DB, statements: StatementsDep, portal: CurrentPortal, statement_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        try:
            async with db.begin_nested():
                await statements.review(statement_id, accept, _text(data, "note")[:1000] or None)
        except DomainError as error:
            return await _statement_page(
                statements,
                statement_id,
                "agent/commissions/portal_statement.html",
                portal.frame,
                refusal=refusal_of(error),
                status_code=error.status,
            )
        return Redirect(portal.path(f"agent/commissions/{statement_id}?done={'accepted' if accept else 'disputed'}"))

    return handler


COMMISSION_PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            console_page,
            export_statements_page,
            create_rule_page,
            delete_rule_page,
            close_page,
            statement_page,
            export_page,
            _staff_decision("approve"),
            _staff_decision("withdraw"),
        ],
        dependencies=STAFF,
    ),
    partner_portal_router(
        [
            my_commissions_page,
            my_statements_export_page,
            my_statement_page,
            my_export_page,
            _review(True),
            _review(False),
        ],
        dependencies=PARTNER,
    ),
]
