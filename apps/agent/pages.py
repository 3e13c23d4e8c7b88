"""The deal lists: the partner portal's /p/{slug}/deals lists the deals one may read and registers new
ones; the console's /console/agent/deals lists the deals across partners. Both search, filter (stage,
registration, the days registered; the console also the partner and its tier), order, page and export
what they show as XLSX.

Field rules shape the pages as they shape the API: a hidden field is neither a column nor an input, a
read-only one is a column but not an input; the list is the actor's data scope, as in the API.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from apps.agent.controllers import xlsx
from apps.agent.deals import ANY_PARTNER, REGISTERED, DealFilter, Deals, plain
from apps.agent.dependencies import PARTNER_DEPENDENCIES, STAFF_DEPENDENCIES, DealsDep
from apps.agent.listing import search, span, with_query
from apps.agent.models import STAGES
from apps.agent.objects import FIELDS, PARTNER_OBJECT, STAFF_OBJECT
from interconnect.models import EnterpriseLink, PartnerTier
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal.errors import ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form, uuid_or_none
from portal.ui.labels import setting_name
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors

PAGE_SIZE = 50
CONSOLE_DEALS = "/console/agent/deals"
REGISTRATION_FILTERS = {
    REGISTERED: N_("Registered (any state)"),
    "conflict": N_("Waiting for the manufacturer (conflict)"),
    "approved": N_("Protected"),
    "rejected": N_("Rejected"),
}
PARTNER_QUERY = ("q", "stage", "registration", "from", "to", "sort")
CONSOLE_QUERY = (*PARTNER_QUERY, "enterprise", "tier")
AnyRequest = Request[Any, Any, Any]
REGISTRATION_LABELS = {
    "conflict": N_("Waiting for the manufacturer (conflict)"),
    "approved": N_("Protected"),
    "rejected": N_("Rejected"),
}
STAGE_LABELS = {
    "registered": N_("Registered"),
    "qualified": N_("Qualified"),
    "won": N_("Won"),
    "lost": N_("Lost"),
}
# The form's inputs besides the governed fields (the currency is not under field rules).
FORM_FIELDS = (*(name for name, _label in FIELDS), "currency")


def display(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name in ("amount", "commission_rate"):
        return plain(value)
    return str(value)


def deal_filter(deals: Deals, query: Mapping[str, str | None], *, staff: bool) -> tuple[dict[str, str], DealFilter]:
    """A deal list's query as chosen (unknown values dropped) and as the service reads it."""
    stage = query.get("stage") or ""
    registration = query.get("registration") or ""
    sorts = deals.sorts()
    chosen = {
        "q": search(query.get("q")),
        "stage": stage if stage in STAGES else "",
        "registration": registration if registration in REGISTRATION_FILTERS else "",
        "sort": sorts.chosen(query.get("sort")) if query.get("sort") in sorts.orders else "",
    }
    period = span(query.get("from"), query.get("to"), deals.actor.time_zone)
    chosen.update(period.query)
    enterprise: uuid.UUID | str | None = None
    tier = None
    if staff:
        typed = query.get("enterprise") or ""
        enterprise = ANY_PARTNER if typed == ANY_PARTNER else uuid_or_none(typed)
        tier = uuid_or_none(query.get("tier"))
        chosen.update(enterprise=str(enterprise or ""), tier=str(tier or ""))
    wanted = DealFilter(
        stage=chosen["stage"] or None,
        registration=chosen["registration"] or None,
        enterprise_id=enterprise,
        tier_id=tier,
        span=period,
        search=chosen["q"] or None,
        sort=chosen["sort"] or None,
    )
    return chosen, wanted


def _query(request: AnyRequest, names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: request.query_params.get(name) for name in (*names, "page")}


async def _deals_page(
    deals: Deals,
    portal: PortalContext,
    *,
    query: Mapping[str, str | None] | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: bool = False,
    status_code: int = 200,
) -> Template:
    rules = deals.field_rules()
    query = query or {}
    chosen, wanted = deal_filter(deals, query, staff=False)
    number = page_number(query.get("page"))
    rows, total = await deals.page(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, wanted=wanted)
    return Template(
        "agent/deals.html",
        context={
            **portal.frame,
            **_list_context(deals, chosen),
            "deals": [{**deals.out(d), "registration": d.registration} for d in rows],
            "total": total,
            "paging": paging(portal.path("deals"), chosen, number, total, PAGE_SIZE),
            "export_link": with_query(portal.path("deals/export.xlsx"), chosen),
            "stage": chosen["stage"],
            "stages": [(s, STAGE_LABELS[s]) for s in STAGES],
            "stage_labels": STAGE_LABELS,
            # hidden: neither a column nor an input; read-only: a column, not an input
            "columns": [(name, label) for name, label in FIELDS if rules.get(name) != "hidden"],
            "inputs": [name for name, _label in FIELDS if rules.get(name) is None],
            "read_only": [(name, label) for name, label in FIELDS if rules.get(name) == "read_only"],
            "display": display,
            "form": form or {},
            "errors": errors or {},
            "created": created,
        },
        status_code=status_code,
    )


def _list_context(deals: Deals, chosen: Mapping[str, str]) -> dict[str, Any]:
    return {
        "chosen": chosen,
        "sorts": deals.sorts().labels(),
        "registration_filters": REGISTRATION_FILTERS,
        "registration_labels": REGISTRATION_LABELS,
    }


@get("/deals", opt=requires(PARTNER_OBJECT, "read"), include_in_schema=False)
async def deals_page(
    request: AnyRequest,
    deals: DealsDep,
    portal: CurrentPortal,
    created: FromQuery[str | None] = None,
) -> Template:
    return await _deals_page(deals, portal, query=_query(request, PARTNER_QUERY), created=bool(created))


@post("/deals", opt=requires(PARTNER_OBJECT, "create"), include_in_schema=False)
async def register_deal_page(
    data: Form,
    db: DB,
    actor: CurrentActor,
    deals: DealsDep,
    portal: CurrentPortal,
) -> Template | Redirect:
    """Register a deal for one's own enterprise. A field the form does not offer (hidden or read-only)
    is refused if sent anyway, as in the API."""
    form = {name: data[name].strip() for name in FORM_FIELDS if name in data}
    values = {name: value for name, value in form.items() if value}
    try:
        async with db.begin_nested():
            await deals.create(values, owner_id=actor.user_id, enterprise_id=actor.enterprise_id)
    except ValidationFailed as error:
        return await _deals_page(deals, portal, form=form, errors=field_errors(error), status_code=422)
    return Redirect(portal.path("deals?created=1"))


@get("/deals/export.xlsx", opt=requires(PARTNER_OBJECT, "export"), include_in_schema=False)
async def export_deals_page(request: AnyRequest, deals: DealsDep) -> Response[bytes]:
    """The deals one may read that the list's filters let through, as XLSX, for the browser (the API's
    export takes a bearer token)."""
    _chosen, wanted = deal_filter(deals, _query(request, PARTNER_QUERY), staff=False)
    return await xlsx(deals, wanted)


# --- the console: deals across partners ---


@get(CONSOLE_DEALS, opt=requires(STAFF_OBJECT, "read"), include_in_schema=False)
async def console_deals_page(request: AnyRequest, db: DB, deals: DealsDep) -> Template:
    """The deals across partners one may read: search, filters (stage, registration, partner or any,
    tier, the days registered), an order, pages, and the XLSX of what the filters let through."""
    query = _query(request, CONSOLE_QUERY)
    chosen, wanted = deal_filter(deals, query, staff=True)
    number = page_number(query.get("page"))
    rows, total = await deals.page(limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE, wanted=wanted)
    hidden = deals.hidden()
    names = {
        key: name
        for key, name in await db.execute(
            select(EnterpriseLink.id, EnterpriseLink.name).where(
                EnterpriseLink.id.in_({d.enterprise_id for d in rows if d.enterprise_id})
            )
        )
    }
    partners = [
        (str(key), name)
        for key, name in await db.execute(
            select(EnterpriseLink.id, EnterpriseLink.name)
            .where(EnterpriseLink.status == "active")
            .order_by(EnterpriseLink.name)
        )
    ]
    tiers = [
        (str(key), setting_name(name))
        for key, name in await db.execute(select(PartnerTier.id, PartnerTier.name).order_by(PartnerTier.rank.desc()))
    ]
    return Template(
        "agent/console_deals.html",
        context={
            **_list_context(deals, chosen),
            "rows": [
                {**deals.out(d), "registration": d.registration, "protected_until": d.protected_until} for d in rows
            ],
            "names": names,
            "total": total,
            "columns": [(name, label) for name, label in FIELDS if name not in hidden and name != "notes"],
            "stages": [(s, STAGE_LABELS[s]) for s in STAGES],
            "stage_labels": STAGE_LABELS,
            "display": display,
            "partners": partners,
            "tiers": tiers,
            "any_partner": ANY_PARTNER,
            "paging": paging(CONSOLE_DEALS, chosen, number, total, PAGE_SIZE),
            "export_link": with_query(f"{CONSOLE_DEALS}/export.xlsx", chosen),
        },
    )


@get(f"{CONSOLE_DEALS}/export.xlsx", opt=requires(STAFF_OBJECT, "export"), include_in_schema=False)
async def console_export_deals_page(request: AnyRequest, deals: DealsDep) -> Response[bytes]:
    _chosen, wanted = deal_filter(deals, _query(request, CONSOLE_QUERY), staff=True)
    return await xlsx(deals, wanted)


PAGES = [
    partner_portal_router([deals_page, register_deal_page, export_deals_page], dependencies=PARTNER_DEPENDENCIES),
    Router(path="/", route_handlers=[console_deals_page, console_export_deals_page], dependencies=STAFF_DEPENDENCIES),
]
