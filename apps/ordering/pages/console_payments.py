"""Payments in the console: the list by status (dealers' reported payments wait for confirmation), a
payment recorded for an enterprise (confirmed at once and matched to the orders chosen, else to its
oldest open orders), and confirming or rejecting a reported one. All of it through
apps.ordering.payments.Payments, as on the API."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import account
from apps.ordering.dependencies import PaymentsDep
from apps.ordering.models.money import PAYMENT_STATUSES
from apps.ordering.objects import PAYMENT
from apps.ordering.pages.console_shared import (
    PAGE_SIZE,
    done_message,
    enterprise_choices,
    form_date,
    form_decimal,
    form_uuid,
    optional_uuid,
    page_helpers,
    raise_if,
    text,
    with_query,
)
from apps.ordering.payments import METHODS, Payments
from portal import timezones
from portal.actor import Actor
from portal.errors import Conflict, FieldError, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

ALLOCATION_FIELD = re.compile(r"^alloc:([0-9a-fA-F-]{36})$")


def allocations_of(data: Mapping[str, Any], errors: list[FieldError]) -> dict[uuid.UUID, Decimal] | None:
    """`alloc:<order id>` amounts typed on the form; none typed: the service's oldest-first matching."""
    found: dict[uuid.UUID, Decimal] = {}
    for key in data:
        match = ALLOCATION_FIELD.match(key)
        if match:
            share = form_decimal(data, key, errors)
            if share is not None:
                found[uuid.UUID(match.group(1))] = share
    return found or None


async def _payments_page(
    db: AsyncSession,
    actor: Actor,
    payments: Payments,
    status: str | None = None,
    enterprise: str | None = None,
    page: str | None = None,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    alert_payment: uuid.UUID | None = None,
    status_code: int = 200,
) -> Template:
    chosen = {"status": status if status in PAYMENT_STATUSES else "", "enterprise": optional_uuid(enterprise)}
    number = page_number(page)
    rows, total = await payments.page(
        chosen["status"] or None, chosen["enterprise"], PAGE_SIZE, (number - 1) * PAGE_SIZE
    )
    form = form or {"received_on": timezones.today(actor.time_zone).isoformat(), "method": "transfer"}
    payer = optional_uuid(form.get("enterprise_id")) or chosen["enterprise"]
    open_orders = await account.open_orders(db, payer) if payer else []
    return Template(
        "ordering/console/payments.html",
        context={
            **page_helpers(),
            "rows": rows,
            "total": total,
            "chosen": chosen,
            "statuses": PAYMENT_STATUSES,
            "methods": METHODS,
            "enterprises": await enterprise_choices(db),
            "payer": payer,
            "open_orders": open_orders,
            "paging": paging("/console/ordering/payments", chosen, number, total, PAGE_SIZE),
            "form": {**form, "enterprise_id": str(payer) if payer else ""},
            "errors": errors or {},
            "alert": alert,
            "alert_payment": alert_payment,
            "notice": done_message(done),
            "section": "payments",
        },
        status_code=status_code,
    )


@get("/console/ordering/payments", opt=requires(PAYMENT, "read"), include_in_schema=False)
async def payments_page(
    db: DB,
    actor: CurrentActor,
    payments: PaymentsDep,
    status: FromQuery[str | None] = None,
    enterprise: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
    done: FromQuery[str | None] = None,
) -> Template:
    """`enterprise` also picks the payer of the record form, whose open orders it offers to match."""
    return await _payments_page(db, actor, payments, status, enterprise, page, done=done)


@post("/console/ordering/payments", opt=requires(PAYMENT, "create"), include_in_schema=False)
async def record_payment_page(data: Form, db: DB, actor: CurrentActor, payments: PaymentsDep) -> Template | Redirect:
    names = ("enterprise_id", "amount", "received_on", "method", "reference", "note")
    form = {name: text(data, name) for name in names}
    form.update({k: text(data, k) for k in data if ALLOCATION_FIELD.match(k)})
    errors: list[FieldError] = []
    enterprise_id = form_uuid(data, "enterprise_id", errors)
    amount = form_decimal(data, "amount", errors)
    received_on = form_date(data, "received_on", errors)
    allocations = allocations_of(data, errors)
    for name, value in (("enterprise_id", enterprise_id), ("amount", amount), ("received_on", received_on)):
        if value is None and not any(e.field == name for e in errors):
            errors.append(FieldError(name, N_("is required"), "required"))
    try:
        async with db.begin_nested():
            raise_if(errors)
            payment = await payments.create(
                enterprise_id=enterprise_id,  # type: ignore[arg-type]
                amount=amount,  # type: ignore[arg-type]
                method=form["method"] or "transfer",
                received_on=received_on,  # type: ignore[arg-type]
                reference=form["reference"] or None,
                note=form["note"] or None,
                allocations=allocations,
            )
    except ValidationFailed as error:
        return await _payments_page(db, actor, payments, form=form, errors=field_errors(error), status_code=422)
    return Redirect(with_query("/console/ordering/payments", enterprise=payment.enterprise_id, done="recorded"))


@post("/console/ordering/payments/{payment_id:uuid}/confirm", opt=requires(PAYMENT, "approve"), include_in_schema=False)
async def confirm_payment_page(
    payment_id: FromPath[uuid.UUID], data: Form, db: DB, actor: CurrentActor, payments: PaymentsDep
) -> Template | Redirect:
    """Confirm a reported payment; it is matched to the enterprise's oldest open orders."""
    await payments.get(payment_id)
    try:
        async with db.begin_nested():
            await payments.confirm(payment_id)
    except (ValidationFailed, Conflict) as error:
        return await _payments_page(
            db, actor, payments, "reported", alert=refusal_of(error), alert_payment=payment_id, status_code=error.status
        )
    return Redirect(with_query("/console/ordering/payments", status=text(data, "status"), done="confirmed"))


@post("/console/ordering/payments/{payment_id:uuid}/reject", opt=requires(PAYMENT, "approve"), include_in_schema=False)
async def reject_payment_page(
    payment_id: FromPath[uuid.UUID], data: Form, db: DB, actor: CurrentActor, payments: PaymentsDep
) -> Template | Redirect:
    """Reject a reported payment; `note` says why (required)."""
    await payments.get(payment_id)
    try:
        async with db.begin_nested():
            await payments.reject(payment_id, text(data, "note"))
    except (ValidationFailed, Conflict) as error:
        return await _payments_page(
            db, actor, payments, "reported", alert=refusal_of(error), alert_payment=payment_id, status_code=error.status
        )
    return Redirect(with_query("/console/ordering/payments", status=text(data, "status"), done="payment_rejected"))


PAYMENT_PAGES = [payments_page, record_payment_page, confirm_payment_page, reject_payment_page]
