"""Credit in the console: each partner enterprise's limit, balance, orders awaiting approval and what is
left, a form to set or remove the limit, and an enterprise's account statement for a period (on the
page and as XLSX). The sums are apps.ordering.account's, as on the API."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import account
from apps.ordering.controllers.partner import period, statement_cells
from apps.ordering.controllers.shared import xlsx
from apps.ordering.dependencies import AdminDep
from apps.ordering.objects import CREDIT
from apps.ordering.pages.console_shared import PAGE_SIZE, done_message, form_date, page_helpers, text, with_query
from interconnect.models import EnterpriseLink
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors


async def _credit_page(
    db: AsyncSession,
    q: str | None = None,
    page: str | None = None,
    *,
    done: str | None = None,
    row_errors: dict[uuid.UUID, str] | None = None,
    status_code: int = 200,
) -> Template:
    search = (q or "").strip()[:100]
    number = page_number(page)
    query = select(EnterpriseLink)
    if search:
        query = query.where(func.lower(EnterpriseLink.name).like(f"%{search.lower()}%"))
    total = await db.scalar(select(func.count()).select_from(query.subquery())) or 0
    links = list(
        await db.scalars(query.order_by(EnterpriseLink.name).limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))
    )
    standing = await account.credits(db, [link.id for link in links])
    rows = [(link, standing[link.id]) for link in links]
    return Template(
        "ordering/console/credit.html",
        context={
            **page_helpers(),
            "rows": rows,
            "total": total,
            "q": search,
            "paging": paging("/console/ordering/credit", {"q": search}, number, total, PAGE_SIZE),
            "row_errors": row_errors or {},
            "notice": done_message(done),
            "section": "credit",
        },
        status_code=status_code,
    )


@get("/console/ordering/credit", opt=requires(CREDIT, "read"), include_in_schema=False)
async def credit_page(
    db: DB, q: FromQuery[str | None] = None, page: FromQuery[str | None] = None, done: FromQuery[str | None] = None
) -> Template:
    return await _credit_page(db, q, page, done=done)


@post("/console/ordering/credit/{enterprise_id:uuid}", opt=requires(CREDIT, "update"), include_in_schema=False)
async def credit_limit_page(
    enterprise_id: FromPath[uuid.UUID], data: Form, db: DB, admin: AdminDep
) -> Template | Redirect:
    """Set the limit to `amount`; the "remove" button (or a blank amount) leaves the enterprise without one."""
    await _enterprise(db, enterprise_id)
    q, page = text(data, "q"), text(data, "page")
    amount = None if text(data, "remove") else text(data, "amount").replace(",", "") or None
    try:
        async with db.begin_nested():
            await admin.set_credit_limit(enterprise_id, amount)  # type: ignore[arg-type]
    except ValidationFailed as error:
        message = "; ".join(field_errors(error).values())
        return await _credit_page(db, q, page, row_errors={enterprise_id: message}, status_code=422)
    back = with_query("/console/ordering/credit", q=q, page=page, done="saved")
    return Redirect(f"{back}#credit-{enterprise_id}")


async def _enterprise(db: AsyncSession, enterprise_id: uuid.UUID) -> EnterpriseLink:
    link = await db.scalar(select(EnterpriseLink).where(EnterpriseLink.id == enterprise_id))
    if link is None:
        raise NotFound(N_("No such enterprise"))
    return link


def _period(start: str | None, end: str | None, time_zone: str) -> tuple[date, date, dict[str, str]]:
    """The statement's period from the query (the month so far by default); unreadable dates are
    reported and the default used instead."""
    errors: list[FieldError] = []
    values = {"start": start or "", "end": end or ""}
    first, last = form_date(values, "start", errors), form_date(values, "end", errors)
    shown = {e.field: gettext(e.message) for e in errors}
    if errors:
        first, last = None, None
    begin, finish = period(first, last, time_zone)
    return begin, finish, shown


@get("/console/ordering/accounts/{enterprise_id:uuid}", opt=requires(CREDIT, "read"), include_in_schema=False)
async def account_page(
    enterprise_id: FromPath[uuid.UUID],
    db: DB,
    actor: CurrentActor,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
) -> Template:
    link = await _enterprise(db, enterprise_id)
    begin, finish, errors = _period(start, end, actor.time_zone)
    statement = None
    try:
        statement = await account.statement(db, link.id, begin, finish, actor.time_zone)
    except ValidationFailed as error:  # a period the account refuses (the end before the start, too long)
        errors.update(field_errors(error))
    return Template(
        "ordering/console/account.html",
        context={
            **page_helpers(),
            "link": link,
            "standing": await account.credit(db, link.id),
            "statement": statement,
            "start": begin,
            "end": finish,
            "errors": errors,
            "download": with_query(f"/console/ordering/accounts/{link.id}/statement.xlsx", start=begin, end=finish),
            "section": "credit",
        },
        status_code=422 if errors else 200,
    )


@get(
    "/console/ordering/accounts/{enterprise_id:uuid}/statement.xlsx",
    opt=requires(CREDIT, "read"),
    include_in_schema=False,
)
async def statement_download(
    enterprise_id: FromPath[uuid.UUID],
    db: DB,
    actor: CurrentActor,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
) -> Response[bytes]:
    link = await _enterprise(db, enterprise_id)
    begin, finish, errors = _period(start, end, actor.time_zone)
    if errors:
        raise ValidationFailed.single(next(iter(errors)), N_("must be a date (YYYY-MM-DD)"), "invalid")
    columns, rows = statement_cells(await account.statement(db, link.id, begin, finish, actor.time_zone))
    return await xlsx("statement", columns, rows)


CREDIT_PAGES = [credit_page, credit_limit_page, account_page, statement_download]
