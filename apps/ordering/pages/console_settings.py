"""The ordering settings in the console: when stock is reserved, what an order over the credit limit
does (and who approves it then), when shipped orders count as received, the default warehouse; and the
approval rules (an order takes every step whose rule it matches). Through CatalogAdmin, as on the API."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.admin import CatalogAdmin, settings_out
from apps.ordering.catalog import settings_of
from apps.ordering.dependencies import AdminDep
from apps.ordering.models import Warehouse
from apps.ordering.objects import SETTINGS
from apps.ordering.pages.console_shared import (
    done_message,
    form_decimal,
    form_int,
    form_uuid,
    page_helpers,
    raise_if,
    role_namer,
    staff_roles,
    text,
)
from interconnect.dependencies import ProgrammeDep
from interconnect.pages.programme_settings import programme_settings
from interconnect.programme import Programme
from portal.errors import FieldError, ValidationFailed
from portal.http.deps import DB
from portal.permissions import requires
from portal.ui.forms import Form
from portal.ui.labels import setting_name
from portal.ui.refusals import field_errors

RESERVE_CHOICES = ("submit", "approval")
OVER_CREDIT_CHOICES = ("refuse", "approval")


async def _settings_page(
    db: AsyncSession,
    programme: Programme,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    rule_form: dict[str, str] | None = None,
    rule_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    current = settings_out(await settings_of(db))
    settings = await programme_settings(programme)
    rules = await CatalogAdmin(db).approval_rules()
    warehouses = list(await db.scalars(select(Warehouse).order_by(Warehouse.code)))
    return Template(
        "ordering/console/settings.html",
        context={
            **page_helpers(),
            "form": form or {k: "" if v is None else str(v) for k, v in current.items()},
            "errors": errors or {},
            "rules": rules,
            "rule_form": rule_form or {"step": "1", "min_amount": "0"},
            "rule_errors": rule_errors or {},
            "roles": await staff_roles(db),
            "role_name_of": await role_namer(db),
            "types": [(t.id, setting_name(t.name)) for t in settings.types],
            "type_names": settings.type_names,
            "warehouses": [(w.id, f"{w.code} · {w.name}") for w in warehouses],
            "reserve_choices": RESERVE_CHOICES,
            "over_credit_choices": OVER_CREDIT_CHOICES,
            "notice": done_message(done),
            "section": "settings",
        },
        status_code=status_code,
    )


@get("/console/ordering/settings", opt=requires(SETTINGS, "read"), include_in_schema=False)
async def settings_page(db: DB, programme: ProgrammeDep, done: FromQuery[str | None] = None) -> Template:
    return await _settings_page(db, programme, done=done)


@post("/console/ordering/settings", opt=requires(SETTINGS, "update"), include_in_schema=False)
async def update_settings_page(data: Form, db: DB, admin: AdminDep, programme: ProgrammeDep) -> Template | Redirect:
    names = ("reserve_on", "over_credit", "credit_approver_role", "auto_receive_days", "default_warehouse_id")
    form = {name: text(data, name) for name in names}
    errors: list[FieldError] = []
    values = {
        "reserve_on": form["reserve_on"],
        "over_credit": form["over_credit"],
        "credit_approver_role": form["credit_approver_role"],
        "auto_receive_days": form_int(data, "auto_receive_days", errors),
        "default_warehouse_id": form_uuid(data, "default_warehouse_id", errors),
    }
    try:
        async with db.begin_nested():
            raise_if(errors)
            await admin.update_settings(values)
    except ValidationFailed as error:
        return await _settings_page(db, programme, form=form, errors=field_errors(error), status_code=422)
    return Redirect("/console/ordering/settings?done=saved")


@post("/console/ordering/settings/approval-rules", opt=requires(SETTINGS, "update"), include_in_schema=False)
async def add_rule_page(data: Form, db: DB, admin: AdminDep, programme: ProgrammeDep) -> Template | Redirect:
    form = {name: text(data, name) for name in ("name", "step", "role_key", "min_amount", "partner_type_id")}
    errors: list[FieldError] = []
    values = {
        "name": form["name"],
        "role_key": form["role_key"],
        "step": form_int(data, "step", errors, default=1),
        "min_amount": form_decimal(data, "min_amount", errors),
        "partner_type_id": form_uuid(data, "partner_type_id", errors),
    }
    try:
        async with db.begin_nested():
            raise_if(errors)
            await admin.create_approval_rule(values)
    except ValidationFailed as error:
        return await _settings_page(db, programme, rule_form=form, rule_errors=field_errors(error), status_code=422)
    return Redirect("/console/ordering/settings?done=created#rules")


@post(
    "/console/ordering/settings/approval-rules/{approval_rule_id:uuid}/delete",
    opt=requires(SETTINGS, "update"),
    include_in_schema=False,
)
async def delete_rule_page(approval_rule_id: FromPath[uuid.UUID], admin: AdminDep) -> Redirect:
    """Orders placed from now on no longer take this step; orders already placed keep theirs."""
    await admin.delete_approval_rule(approval_rule_id)
    return Redirect("/console/ordering/settings?done=deleted#rules")


SETTINGS_PAGES = [settings_page, update_settings_page, add_rule_page, delete_rule_page]
