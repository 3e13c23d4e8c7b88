"""The console's dispatch pages (/console/service/dispatch): the settings (auto-dispatch, auto-close),
the rules in the order they are tried (new, edit, up and down, delete), and "dispatch by the rules" on a
ticket's page. Each calls apps.service.dispatch.rules and the workflow, as the API does."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import Category
from apps.service import workflow
from apps.service.dependencies import PARTNER_DEPENDENCIES, STAFF_DEPENDENCIES, TicketsDep
from apps.service.dispatch import pool, rules
from apps.service.dispatch.models import PREFERENCES
from apps.service.field.rules import signature_required
from apps.service.objects import PARTNER_TICKET, TICKET
from apps.service.pages.console import ticket_view
from apps.service.pages.shared import PAGE_SIZE, page_helpers, regions, service_partners, text
from apps.service.tickets import Tickets
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal.errors import DomainError, FieldError, NotFound, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form, MultiForm, form_value, form_values, uuid_or_none
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

DISPATCH = "/console/service/dispatch"
RULES = f"{DISPATCH}/rules"
TICKETS = "/console/service/tickets"
PREFER_LABELS = {
    "load": N_("The fewest open tickets"),
    "rating": N_("The best customer rating"),
}
DONE = {
    "created": N_("The dispatch rule is added: it is tried after the others."),
    "saved": N_("The dispatch rule is saved."),
    "deleted": N_("The dispatch rule is deleted."),
    "moved": N_("The order of the rules is saved."),
    "settings": N_("The dispatch settings are saved."),
    "field_settings": N_("The setting for work on site is saved."),
}
RULE_FIELDS = ("name", "region_id", "category_id", "ticket_type", "prefer", "max_open", "active")


async def categories(db: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    """The catalog's categories: the product lines a rule may name."""
    rows = await db.execute(select(Category.id, Category.name).order_by(Category.sort_order, Category.name).limit(500))
    return [(key, name) for key, name in rows]


async def _page(
    db: AsyncSession,
    *,
    done: str | None = None,
    alert: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    current = await rules.settings(db)
    found = DONE.get(done or "")
    return Template(
        "service/console/dispatch.html",
        context={
            **page_helpers(),
            "rules": await rules.listed(db),
            "settings": form
            or {
                "auto_dispatch": "on" if current.auto_dispatch else "",
                "auto_close_days": "" if current.auto_close_days is None else str(current.auto_close_days),
            },
            "errors": errors or {},
            "notice": gettext(found) if found else None,
            "alert": alert,
            "prefer_labels": PREFER_LABELS,
            "section": "dispatch",
            "signature_required": await signature_required(db),
        },
        status_code=status_code,
    )


@get(DISPATCH, opt=requires(TICKET, "read"), include_in_schema=False)
async def dispatch_page(db: DB, done: FromQuery[str | None] = None) -> Template:
    return await _page(db, done=done)


@post(f"{DISPATCH}/settings", opt=requires("workspace", "update"), include_in_schema=False)
async def save_settings_page(data: Form, db: DB) -> Template | Redirect:
    form = {"auto_dispatch": text(data, "auto_dispatch"), "auto_close_days": text(data, "auto_close_days")}
    try:
        days: int | None = None
        if form["auto_close_days"]:
            try:
                days = int(form["auto_close_days"])
            except ValueError:
                raise ValidationFailed.single("auto_close_days", N_("must be a whole number"), "invalid") from None
        async with db.begin_nested():
            await rules.save_settings(db, rules.DispatchSettings(bool(form["auto_dispatch"]), days))
    except ValidationFailed as error:
        return await _page(db, form=form, errors=field_errors(error), status_code=422)
    return Redirect(f"{DISPATCH}?done=settings")


async def _rule_page(
    db: AsyncSession,
    rule_id: uuid.UUID | None,
    form: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "service/console/dispatch_rule.html",
        context={
            **page_helpers(),
            "rule_id": rule_id,
            "form": form,
            "errors": errors or {},
            "partners": await service_partners(db),
            "regions": await regions(db),
            "categories": await categories(db),
            "preferences": PREFERENCES,
            "prefer_labels": PREFER_LABELS,
            "section": "dispatch",
        },
        status_code=status_code,
    )


def _form_of(view: rules.RuleView) -> dict[str, Any]:
    return {
        "name": view.name,
        "region_id": str(view.region_id or ""),
        "category_id": str(view.category_id or ""),
        "ticket_type": view.ticket_type or "",
        "prefer": view.prefer,
        "max_open": "" if view.max_open is None else str(view.max_open),
        "active": "on" if view.active else "",
        "partner_ids": [str(key) for key, _name in view.partners],
    }


@get(f"{RULES}/new", opt=requires(TICKET, "dispatch"), include_in_schema=False)
async def new_rule_page(db: DB) -> Template:
    return await _rule_page(db, None, {"prefer": "load", "active": "on", "partner_ids": []})


@get(f"{RULES}/{{dispatch_rule_id:uuid}}", opt=requires(TICKET, "read"), include_in_schema=False)
async def rule_page(dispatch_rule_id: FromPath[uuid.UUID], db: DB) -> Template:
    return await _rule_page(db, dispatch_rule_id, _form_of(await rules.one(db, dispatch_rule_id)))


def _parsed(data: dict[str, str | list[str]]) -> tuple[dict[str, Any], rules.RuleIn]:
    """The form as sent (shown again when refused) and the rule it asks for; ids that are not ids are
    field errors, as an unknown one would be."""
    form: dict[str, Any] = {name: form_value(data, name).strip() for name in RULE_FIELDS}
    form["partner_ids"] = form_values(data, "partner_ids")
    errors: list[FieldError] = []
    given: dict[str, uuid.UUID | None] = {}
    for name in ("region_id", "category_id"):
        given[name] = uuid_or_none(form[name])
        if form[name] and given[name] is None:
            errors.append(FieldError(name, N_("is not known"), "unknown"))
    partners: list[uuid.UUID] = []
    for index, value in enumerate(form["partner_ids"]):
        key = uuid_or_none(value)
        if key is None:
            errors.append(FieldError(f"partner_ids[{index}]", N_("is not known"), "unknown"))
        else:
            partners.append(key)
    cap: int | None = None
    if form["max_open"]:
        try:
            cap = int(form["max_open"])
        except ValueError:
            errors.append(FieldError("max_open", N_("must be a whole number"), "invalid"))
    if errors:
        raise ValidationFailed(errors)
    wanted = rules.RuleIn(
        name=form["name"],
        partner_ids=partners,
        region_id=given["region_id"],
        category_id=given["category_id"],
        ticket_type=form["ticket_type"] or None,
        prefer=form["prefer"] or "load",
        max_open=cap,
        active=bool(form["active"]),
    )
    return form, wanted


def _shown(errors: dict[str, str]) -> dict[str, str]:
    """Each partner's own message under the partners' list as a whole."""
    merged = dict(errors)
    for key in [k for k in errors if k.startswith("partner_ids[")]:
        merged.setdefault("partner_ids", errors[key])
    return merged


@post(RULES, opt=requires(TICKET, "dispatch"), include_in_schema=False)
async def create_rule_page(data: MultiForm, db: DB) -> Template | Redirect:
    form: dict[str, Any] = {"partner_ids": form_values(data, "partner_ids")}
    try:
        form, wanted = _parsed(data)
        async with db.begin_nested():
            await rules.create(db, wanted)
    except ValidationFailed as error:
        form = {**{n: form_value(data, n) for n in RULE_FIELDS}, **form}
        return await _rule_page(db, None, form, _shown(field_errors(error)), status_code=422)
    return Redirect(f"{DISPATCH}?done=created")


@post(f"{RULES}/{{dispatch_rule_id:uuid}}", opt=requires(TICKET, "dispatch"), include_in_schema=False)
async def save_rule_page(dispatch_rule_id: FromPath[uuid.UUID], data: MultiForm, db: DB) -> Template | Redirect:
    await rules.one(db, dispatch_rule_id)  # another tenant's, or gone: not found
    form: dict[str, Any] = {"partner_ids": form_values(data, "partner_ids")}
    try:
        form, wanted = _parsed(data)
        async with db.begin_nested():
            await rules.change(db, dispatch_rule_id, wanted)
    except ValidationFailed as error:
        form = {**{n: form_value(data, n) for n in RULE_FIELDS}, **form}
        return await _rule_page(db, dispatch_rule_id, form, _shown(field_errors(error)), status_code=422)
    return Redirect(f"{DISPATCH}?done=saved")


@post(f"{RULES}/{{dispatch_rule_id:uuid}}/delete", opt=requires(TICKET, "dispatch"), include_in_schema=False)
async def delete_rule_page(dispatch_rule_id: FromPath[uuid.UUID], db: DB) -> Redirect:
    await rules.remove(db, dispatch_rule_id)
    return Redirect(f"{DISPATCH}?done=deleted")


@post(f"{RULES}/{{dispatch_rule_id:uuid}}/move", opt=requires(TICKET, "dispatch"), include_in_schema=False)
async def move_rule_page(dispatch_rule_id: FromPath[uuid.UUID], data: Form, db: DB) -> Redirect:
    """One place up or down (`direction`)."""
    await rules.move(db, dispatch_rule_id, -1 if text(data, "direction") == "up" else 1)
    return Redirect(f"{DISPATCH}?done=moved")


@post(f"{TICKETS}/{{ticket_id:uuid}}/dispatch-by-rules", opt=requires(TICKET, "dispatch"), include_in_schema=False)
async def dispatch_by_rules_page(ticket_id: FromPath[uuid.UUID], db: DB, tickets: TicketsDep) -> Template | Redirect:
    """The rules choose the partner; when none matches, the ticket's page says so."""
    await tickets.get(ticket_id)  # outside the viewer's scope: not found, not refused
    try:
        async with db.begin_nested():
            await workflow.dispatch_by_rules(tickets, ticket_id)
    except NotFound:
        raise
    except DomainError as error:
        return await ticket_view(db, tickets, ticket_id, alert=refusal_of(error), status_code=error.status)
    return Redirect(f"{TICKETS}/{ticket_id}?done=dispatch_rules")


DISPATCH_PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            dispatch_page,
            save_settings_page,
            new_rule_page,
            rule_page,
            create_rule_page,
            save_rule_page,
            delete_rule_page,
            move_rule_page,
            dispatch_by_rules_page,
        ],
        dependencies=STAFF_DEPENDENCIES,
    )
]


# --- the partner portal: the open pool of the enterprise's region ---


async def _pool_view(
    portal: PortalContext, tickets: Tickets, page: str | None = None, alert: str | None = None, status_code: int = 200
) -> Template:
    number = page_number(page)
    rows, total = await pool.pool(tickets, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    base = portal.path("service/pool")
    return Template(
        "service/portal/pool.html",
        context={
            **portal.frame,
            **page_helpers(),
            "rows": await tickets.out_many(rows),
            "total": total,
            "base": base,
            "paging": paging(base, {}, number, total, PAGE_SIZE, bare_first=True),
            "alert": alert,
        },
        status_code=status_code,
    )


@get("/service/pool", opt=requires(PARTNER_TICKET, "accept"), include_in_schema=False)
async def pool_page(portal: CurrentPortal, tickets: TicketsDep, page: FromQuery[str | None] = None) -> Template:
    """The tickets waiting in the pool of the enterprise's region, oldest first, each with "Take it"."""
    return await _pool_view(portal, tickets, page)


@post("/service/pool/{ticket_id:uuid}/take", opt=requires(PARTNER_TICKET, "accept"), include_in_schema=False)
async def take_page(
    ticket_id: FromPath[uuid.UUID], db: DB, portal: CurrentPortal, tickets: TicketsDep
) -> Template | Redirect:
    """Taken: to the ticket's page; taken by another partner first: the pool again, saying so."""
    try:
        async with db.begin_nested():
            await pool.take(tickets, ticket_id)
    except NotFound:
        raise
    except DomainError as error:
        return await _pool_view(portal, tickets, alert=refusal_of(error), status_code=error.status)
    return Redirect(portal.path(f"service/tickets/{ticket_id}?done=take"))


POOL_PAGES: list[Any] = [partner_portal_router([pool_page, take_page], dependencies=PARTNER_DEPENDENCIES)]
