"""The account page: /p/{slug}/ordering/account shows what the enterprise owes, its credit limit and what
is left of it, the orders still to pay, the statement of a period (this month so far unless chosen; also
as XLSX) and the payments reported and confirmed; and reports a payment made, which the manufacturer
confirms before it counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from apps.ordering import account
from apps.ordering.controllers.partner import own_enterprise, period, statement_cells
from apps.ordering.controllers.shared import xlsx
from apps.ordering.dependencies import PaymentsDep
from apps.ordering.models import Payment
from apps.ordering.objects import PARTNER_ACCOUNT
from apps.ordering.pages.partner_shared import (
    ENTRY_LABELS,
    KEY_FIELD,
    PAYMENT_STATUS_LABELS,
    AnyRequest,
    base_of,
    date_or_none,
    form_errors,
    limited,
    may,
    once,
    one_time_key,
    refusal_lines,
    render,
)
from apps.ordering.payments import METHOD_LABELS, METHODS, Payments
from interconnect.pages.workspace import CurrentPortal, PortalContext
from portal import timezones
from portal.actor import Actor
from portal.errors import Conflict, FieldError, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form

PAYMENTS_SHOWN = 50
PAYMENT_FIELDS = ("amount", "received_on", "method", "reference", "note")


def chosen_period(start: str | None, end: str | None, time_zone: str) -> tuple[date, date, dict[str, str]]:
    """The period asked for (this month so far by default); a date that does not read is a message."""
    errors: dict[str, str] = {}
    first, last = date_or_none(start), date_or_none(end)
    for name, text, value in (("start", start, first), ("end", end, last)):
        if text and value is None:
            errors[name] = N_("is not a date (YYYY-MM-DD)")
    begin, finish = period(first, last, time_zone)
    return begin, finish, errors


async def _account_page(
    request: AnyRequest,
    db: DB,
    actor: Actor,
    portal: PortalContext,
    payments: Payments,
    *,
    start: str | None = None,
    end: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    reported: bool = False,
    status_code: int = 200,
) -> Template:
    enterprise = own_enterprise(actor)
    begin, finish, unread = chosen_period(start, end, actor.time_zone)
    period_errors = {name: gettext(message) for name, message in unread.items()}
    statement = None
    try:
        statement = await account.statement(db, enterprise, begin, finish, actor.time_zone)
    except ValidationFailed as error:
        period_errors.update(form_errors(error))
    if period_errors and status_code == 200:
        status_code = 422
    shown, payment_total = await payments.page(None, None, PAYMENTS_SHOWN, 0)
    return render(
        "account",
        portal,
        status_code,
        standing=await account.credit(db, enterprise),
        open_orders=await account.open_orders(db, enterprise),
        statement=statement,
        start=begin,
        end=finish,
        period_errors=period_errors,
        payments=shown,
        payment_total=payment_total,
        entry_labels=ENTRY_LABELS,
        method_labels=METHOD_LABELS,
        payment_status_labels=PAYMENT_STATUS_LABELS,
        methods=[(m, METHOD_LABELS[m]) for m in METHODS],
        may_report=may(request, actor, PARTNER_ACCOUNT, "create"),
        may_export=may(request, actor, PARTNER_ACCOUNT, "export"),
        form=form or {"method": "transfer", "received_on": timezones.today(actor.time_zone).isoformat()},
        errors=errors or {},
        reported=reported,
        key=one_time_key(),
        today=timezones.today(actor.time_zone),
    )


@get("/ordering/account", opt=requires(PARTNER_ACCOUNT, "read"), include_in_schema=False)
async def account_page(
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    portal: CurrentPortal,
    payments: PaymentsDep,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    reported: FromQuery[str | None] = None,
) -> Template:
    return await _account_page(request, db, actor, portal, payments, start=start, end=end, reported=bool(reported))


@get(
    "/ordering/account/statement.xlsx",
    opt=requires(PARTNER_ACCOUNT, "export"),
    include_in_schema=False,
)
async def statement_export_page(
    db: DB,
    actor: CurrentActor,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The same workbook as the API's statement.xlsx, for the period of the page."""
    begin, finish, errors = chosen_period(start, end, actor.time_zone)
    if errors:
        raise ValidationFailed([FieldError(name, message) for name, message in errors.items()])
    columns, rows = statement_cells(await account.statement(db, own_enterprise(actor), begin, finish, actor.time_zone))
    return await xlsx("statement", columns, rows)


def payment_values(form: dict[str, str]) -> dict[str, Any]:
    """The form read into the service's types; what does not read is a message on its input."""
    errors: list[FieldError] = []
    amount: Decimal | None = None
    try:
        amount = Decimal(form["amount"].replace(",", "").strip())
    except InvalidOperation:
        errors.append(FieldError("amount", N_("is not an amount (for example 1200.50)"), "invalid"))
    received_on = date_or_none(form["received_on"].strip())
    if received_on is None:
        errors.append(FieldError("received_on", N_("is not a date (YYYY-MM-DD)"), "invalid"))
    try:
        texts = limited(form, {"reference": Payment.__table__.c.reference, "note": Payment.__table__.c.note})
    except ValidationFailed as error:
        errors.extend(error.errors)
        texts = {}
    if errors:
        raise ValidationFailed(errors)
    return {"amount": amount, "received_on": received_on, "method": form["method"].strip(), **texts}


@post("/ordering/account/payments", opt=requires(PARTNER_ACCOUNT, "create"), include_in_schema=False)
async def report_payment_page(
    data: Form,
    request: AnyRequest,
    db: DB,
    actor: CurrentActor,
    portal: CurrentPortal,
    payments: PaymentsDep,
) -> Template | Redirect:
    """Report a payment made for one's own enterprise; the form's key makes a second send harmless."""
    enterprise = own_enterprise(actor)
    form = {name: data.get(name, "") for name in PAYMENT_FIELDS}

    async def create() -> dict[str, Any]:
        payment = await payments.create(enterprise_id=enterprise, **payment_values(form))
        return {"id": payment.id}

    try:
        async with db.begin_nested():
            await once(db, actor, request, data.get(KEY_FIELD), create)
    except ValidationFailed as error:
        return await _account_page(
            request, db, actor, portal, payments, form=form, errors=form_errors(error), status_code=422
        )
    except Conflict as error:
        errors = {KEY_FIELD: "; ".join(refusal_lines(error))}
        return await _account_page(
            request, db, actor, portal, payments, form=form, errors=errors, status_code=error.status
        )
    return Redirect(f"{base_of(portal)}/account?reported=1#payments")


ACCOUNT_PAGES = [account_page, statement_export_page, report_payment_page]
