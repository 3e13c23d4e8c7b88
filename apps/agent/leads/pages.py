"""The lead pages. Console (/console/agent/...): the leads with their filters, making one, importing a
file, a lead's history with distribution by hand, the extension requests, the pools and the assignment
rules. Partner portal (/p/{slug}/agent/...): the pool with its claim buttons, and one's leads with giving
back, follow-ups, conversion and asking for more time. Each calls the services the API calls, so a page
refuses exactly what the API refuses."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.agent.dependencies import (
    PARTNER_DEPENDENCIES,
    STAFF_DEPENDENCIES,
    LeadsDep,
    LeadSetupDep,
    RegistrationsDep,
)
from apps.agent.leads.api import UPLOAD_BODY_LIMIT, xlsx
from apps.agent.leads.conversion import convert_lead
from apps.agent.leads.models import FOLLOW_UP_KINDS, LEAD_STATUSES, STRATEGIES
from apps.agent.leads.rules import RECYCLE_REASONS
from apps.agent.leads.service import ANY_PARTNER, EXTENSION_FILTERS, IMPORT_COLUMNS, LEAD_SORTS, LeadFilter, Leads
from apps.agent.listing import Sorts, search, span, with_query
from apps.agent.objects import LEAD_FIELDS, LEAD_SETUP, PARTNER_LEAD, STAFF_LEAD
from interconnect.models import EnterpriseLink, PartnerTier, PartnerType, Region
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from portal.errors import DomainError, ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.ui.forms import Form, MultiForm, uuid_or_none
from portal.ui.labels import setting_name
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, refusal_of

AnyRequest = Request[Any, Any, Any]
PAGE_SIZE = 50
LEADS = "/console/agent/leads"
POOLS = "/console/agent/pools"
RULES = "/console/agent/lead-rules"
STATUS_LABELS = {
    "new": N_("Not placed"),
    "pooled": N_("In a pool"),
    "assigned": N_("Held by a partner"),
    "converted": N_("Converted"),
    "closed": N_("Closed"),
}
STRATEGY_LABELS = {"round_robin": N_("In turn"), "capacity": N_("By capacity"), "pool": N_("Into a pool")}
KIND_LABELS = {"call": N_("Call"), "visit": N_("Visit"), "message": N_("Message")}
EVENT_LABELS = {
    "created": N_("Made"),
    "assigned": N_("Assigned"),
    "pooled": N_("Put in a pool"),
    "claimed": N_("Claimed"),
    "returned": N_("Given back"),
    "recycled": N_("Taken back"),
    "noticed": N_("Holder warned"),
    "followed_up": N_("Followed up"),
    "converted": N_("Converted"),
    "extended": N_("Deadline extended"),
}
DONE = {
    "created": N_("The lead is saved."),
    "imported": N_("The file is imported."),
    "distributed": N_("The lead is distributed."),
    "decided": N_("The request is decided."),
    "saved": N_("Saved."),
    "claimed": N_("The lead is yours."),
    "returned": N_("The lead is given back."),
    "followed": N_("The follow-up is recorded."),
    "converted": N_("The lead is converted into a customer account, its contact and a registered deal."),
    "asked": N_("Your request is sent to the manufacturer."),
}
LEAD_INPUTS = ("company_name", "contact_name", "phone", "email", "region_id", "product_line", "notes")


def _done(code: str | None) -> str | None:
    return gettext(DONE[code]) if code in DONE else None


def labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "strategy_labels": STRATEGY_LABELS,
        "kind_labels": KIND_LABELS,
        "event_labels": EVENT_LABELS,
        "lead_fields": LEAD_FIELDS,
    }


async def choices(db: AsyncSession) -> dict[str, list[tuple[str, str]]]:
    """What the console's forms choose from: partners, regions, partner types and tiers."""

    async def pairs(query: Any) -> list[tuple[str, str]]:
        # seeded type and tier names are stored in English and shown translated
        return [(str(key), setting_name(name)) for key, name in await db.execute(query)]

    return {
        "enterprises": await pairs(
            select(EnterpriseLink.id, EnterpriseLink.name)
            .where(EnterpriseLink.status == "active")
            .order_by(EnterpriseLink.name)
        ),
        "regions": await pairs(select(Region.id, Region.name).order_by(Region.name)),
        "types": await pairs(
            select(PartnerType.id, PartnerType.name).order_by(PartnerType.sort_order, PartnerType.name)
        ),
        "tiers": await pairs(select(PartnerTier.id, PartnerTier.name).order_by(PartnerTier.rank.desc())),
    }


def _text(data: Form, name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _ids(form: dict[str, str], names: tuple[str, ...]) -> dict[str, uuid.UUID | None]:
    """The form's ids; one that is not an id is refused as unknown."""
    out: dict[str, uuid.UUID | None] = {}
    for name in names:
        out[name] = uuid_or_none(form.get(name))
        if form.get(name) and out[name] is None:
            raise ValidationFailed.single(name, N_("is not known"), "unknown")
    return out


# --- console: leads ---


LIST_QUERY = ("q", "status", "enterprise", "tier", "from", "to", "recycled", "extension", "sort")
RECYCLE_LABELS = {
    "no_follow_up": N_("Taken back: no follow-up in time"),
    "no_conversion": N_("Taken back: not converted in time"),
}
EXTENSION_FILTER_LABELS = {"requested": N_("More time asked"), "granted": N_("More time given")}


def lead_filter(
    query: Mapping[str, str | None], time_zone: str, *, staff: bool, sorts: Sorts = LEAD_SORTS
) -> tuple[dict[str, str], LeadFilter]:
    """A lead list's query as chosen (unknown values dropped) and as the service reads it. Partners
    choose no partner, tier, recycling or extension: their list is their own leads."""
    status = query.get("status") or ""
    chosen = {
        "q": search(query.get("q")),
        "status": status if status in LEAD_STATUSES else "",
        "sort": str(query.get("sort")) if query.get("sort") in sorts.orders else "",
    }
    period = span(query.get("from"), query.get("to"), time_zone)
    chosen.update(period.query)
    enterprise: uuid.UUID | str | None = None
    tier = None
    recycled = extension = ""
    if staff:
        typed = query.get("enterprise") or ""
        enterprise = ANY_PARTNER if typed == ANY_PARTNER else uuid_or_none(typed)
        tier = uuid_or_none(query.get("tier"))
        recycled = query.get("recycled") or ""
        recycled = recycled if recycled in RECYCLE_REASONS else ""
        extension = query.get("extension") or ""
        extension = extension if extension in EXTENSION_FILTERS else ""
        chosen.update(enterprise=str(enterprise or ""), tier=str(tier or ""), recycled=recycled, extension=extension)
    wanted = LeadFilter(
        status=chosen["status"] or None,
        search=chosen["q"] or None,
        enterprise_id=enterprise,
        tier_id=tier,
        span=period,
        recycled=recycled or None,
        extension=extension or None,
        sort=chosen["sort"] or None,
    )
    return chosen, wanted


async def _leads_page(
    db: AsyncSession,
    leads: Leads,
    lead_setup: Any,
    *,
    query: Mapping[str, str | None] | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    import_errors: list[str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Template:
    query = query or {}
    chosen, wanted = lead_filter(query, leads.actor.time_zone, staff=True, sorts=leads.sorts())
    number = page_number(query.get("page"))
    rows, total = await leads.page(wanted, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    return Template(
        "agent/leads/console_leads.html",
        context={
            **labels(),
            **await choices(db),
            "rows": leads.out_many(rows),
            "total": total,
            "chosen": chosen,
            "statuses": [(s, STATUS_LABELS[s]) for s in LEAD_STATUSES],
            "sorts": leads.sorts().labels(),
            "recycle_labels": RECYCLE_LABELS,
            "extension_filter_labels": EXTENSION_FILTER_LABELS,
            "any_partner": ANY_PARTNER,
            "export_link": with_query(f"{LEADS}/export.xlsx", chosen),
            "pools": {p.id: p.name for p in await lead_setup.pools()},
            "extensions": await leads.extensions("pending"),
            "paging": paging(LEADS, chosen, number, total, PAGE_SIZE),
            "columns": list(IMPORT_COLUMNS.aliases),
            "notice": _done(done),
            "form": form or {},
            "errors": errors or {},
            "import_errors": import_errors or [],
            "refusal": refusal,
        },
        status_code=status_code,
    )


def _query(request: AnyRequest, names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: request.query_params.get(name) for name in (*names, "page")}


@get(LEADS, opt=requires(STAFF_LEAD, "read"), include_in_schema=False)
async def leads_page(
    request: AnyRequest,
    db: DB,
    leads: LeadsDep,
    lead_setup: LeadSetupDep,
    done: FromQuery[str | None] = None,
) -> Template:
    """Search (company, contact, phone, email), filters (status; the partner, or any, and its tier; the
    days it was taken on, or taken back for a reason, or its holder asked for or was given more time),
    an order, pages; the export writes what the filters let through."""
    return await _leads_page(db, leads, lead_setup, query=_query(request, LIST_QUERY), done=done)


@post(LEADS, opt=requires(STAFF_LEAD, "create"), include_in_schema=False)
async def create_lead_page(data: Form, db: DB, leads: LeadsDep, lead_setup: LeadSetupDep) -> Template | Redirect:
    form = {name: _text(data, name) for name in LEAD_INPUTS}
    try:
        async with db.begin_nested():
            values: dict[str, Any] = {**form, **_ids(form, ("region_id",))}
            await leads.create(values, source="manual", distribute=bool(data.get("distribute")))
    except ValidationFailed as error:
        return await _leads_page(db, leads, lead_setup, form=form, errors=field_errors(error), status_code=422)
    return Redirect(f"{LEADS}?done=created")


@get(f"{LEADS}/export.xlsx", opt=requires(STAFF_LEAD, "export"), include_in_schema=False)
async def export_leads_page(request: AnyRequest, leads: LeadsDep) -> Response[bytes]:
    """The leads one may read that the list's filters let through, as XLSX, for the browser (the API's
    export takes a bearer token)."""
    _chosen, wanted = lead_filter(_query(request, LIST_QUERY), leads.actor.time_zone, staff=True, sorts=leads.sorts())
    return await xlsx(leads, wanted)


@dataclass
class LeadFile:
    file: UploadFile | None = None


@post(
    f"{LEADS}/import",
    opt=requires(STAFF_LEAD, "import"),
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def import_leads_page(
    data: MultipartBody[LeadFile], db: DB, leads: LeadsDep, lead_setup: LeadSetupDep
) -> Template | Redirect:
    """Every row or none; a refused file lists each bad row with its number."""
    try:
        async with db.begin_nested():
            if data.file is None or not data.file.filename:
                raise ValidationFailed.single("file", N_("is required: upload a .csv or .xlsx file"), "required")
            content = await data.file.read()
            await data.file.close()
            await leads.import_file(data.file.filename, content)
    except ValidationFailed as error:
        problems = [gettext(e.message, **e.params) for e in error.errors]
        return await _leads_page(db, leads, lead_setup, import_errors=problems, status_code=422)
    except DomainError as error:
        return await _leads_page(db, leads, lead_setup, import_errors=[refusal_of(error)], status_code=error.status)
    return Redirect(f"{LEADS}?done=imported")


def _decide(approve: bool) -> Any:
    path = f"{LEADS}/extensions/{{extension_id:uuid}}/{'approve' if approve else 'reject'}"

    @post(path, opt=requires(STAFF_LEAD, "approve"), include_in_schema=False, name=f"lead-extension-{approve}")
    async def handler(
        extension_id: FromPath[uuid.UUID], db: DB, leads: LeadsDep, lead_setup: LeadSetupDep
    ) -> Template | Redirect:
        try:
            async with db.begin_nested():
                await leads.decide_extension(extension_id, approve)
        except DomainError as error:
            if error.status == 404:
                raise
            return await _leads_page(db, leads, lead_setup, refusal=refusal_of(error), status_code=error.status)
        return Redirect(f"{LEADS}?done=decided")

    return handler


async def _lead_page(
    db: AsyncSession,
    leads: Leads,
    lead_setup: Any,
    lead_id: uuid.UUID,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Template:
    lead = await leads.get(lead_id)
    events, follow_ups = await leads.history(lead.id)
    return Template(
        "agent/leads/console_lead.html",
        context={
            **labels(),
            **await choices(db),
            "lead": leads.out(lead),
            "events": events,
            "follow_ups": follow_ups,
            "pool_choices": [(str(p.id), p.name) for p in await lead_setup.pools()],
            "notice": _done(done),
            "form": form or {},
            "errors": errors or {},
            "refusal": refusal,
        },
        status_code=status_code,
    )


@get(f"{LEADS}/{{lead_id:uuid}}", opt=requires(STAFF_LEAD, "read"), include_in_schema=False)
async def lead_page(
    lead_id: FromPath[uuid.UUID], db: DB, leads: LeadsDep, lead_setup: LeadSetupDep, done: FromQuery[str | None] = None
) -> Template:
    return await _lead_page(db, leads, lead_setup, lead_id, done=done)


@post(f"{LEADS}/{{lead_id:uuid}}/distribute", opt=requires(STAFF_LEAD, "distribute"), include_in_schema=False)
async def distribute_page(
    lead_id: FromPath[uuid.UUID], data: Form, db: DB, leads: LeadsDep, lead_setup: LeadSetupDep
) -> Template | Redirect:
    form = {name: _text(data, name) for name in ("enterprise_id", "pool_id")}
    try:
        async with db.begin_nested():
            ids = _ids(form, ("enterprise_id", "pool_id"))
            await leads.distribute(lead_id, ids["enterprise_id"], ids["pool_id"])
    except ValidationFailed as error:
        return await _lead_page(db, leads, lead_setup, lead_id, form=form, errors=field_errors(error), status_code=422)
    except DomainError as error:
        if error.status == 404:
            raise
        return await _lead_page(db, leads, lead_setup, lead_id, refusal=refusal_of(error), status_code=error.status)
    return Redirect(f"{LEADS}/{lead_id}?done=distributed")


def _staff_take(action: str) -> Any:
    """The console's claim and give-back of a lead, for the staff member themselves."""

    @post(
        f"{LEADS}/{{lead_id:uuid}}/{action}",
        opt=requires(STAFF_LEAD, "claim"),
        include_in_schema=False,
        name=f"console-lead-{action}",
    )
    async def handler(
        lead_id: FromPath[uuid.UUID], db: DB, leads: LeadsDep, lead_setup: LeadSetupDep
    ) -> Template | Redirect:
        try:
            async with db.begin_nested():
                if action == "claim":
                    await leads.claim(lead_id)
                else:
                    await leads.give_back(lead_id)
        except DomainError as error:
            if error.status == 404:
                raise
            return await _lead_page(db, leads, lead_setup, lead_id, refusal=refusal_of(error), status_code=error.status)
        return Redirect(f"{LEADS}/{lead_id}?done={'claimed' if action == 'claim' else 'returned'}")

    return handler


# --- console: pools and assignment rules ---

POOL_INPUTS = (
    "name",
    "partner_type_id",
    "region_id",
    "enterprise_limit",
    "person_limit",
    "daily_claim_limit",
    "cooldown_days",
    "follow_up_days",
    "convert_days",
    "notice_days",
)
RULE_INPUTS = (
    "name",
    "position",
    "strategy",
    "region_id",
    "product_line",
    "partner_type_id",
    "tier_id",
    "capacity",
    "pool_id",
)


async def _setup_page(
    db: AsyncSession,
    lead_setup: Any,
    template: str,
    *,
    done: str | None = None,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    options = await choices(db)
    return Template(
        template,
        context={
            **labels(),
            **options,
            "names": {key: name for pairs in options.values() for key, name in pairs},
            "pools": await lead_setup.pools(),
            "rules": await lead_setup.rules(),
            "pool_choices": [(str(p.id), p.name) for p in await lead_setup.pools()],
            "strategies": [(s, gettext(STRATEGY_LABELS[s])) for s in STRATEGIES],
            "notice": _done(done),
            "form": form or {},
            "errors": errors or {},
        },
        status_code=status_code,
    )


def _pool_form(pool: Any) -> dict[str, Any]:
    """A pool as its form shows it (for changing it)."""
    form: dict[str, Any] = {
        name: "" if getattr(pool, name) is None else str(getattr(pool, name)) for name in POOL_INPUTS
    }
    form["visible_fields"] = list(pool.visible_fields)
    form["active"] = pool.active
    return form


@get(POOLS, opt=requires(LEAD_SETUP, "read"), include_in_schema=False)
async def pools_page(
    db: DB, lead_setup: LeadSetupDep, done: FromQuery[str | None] = None, edit: FromQuery[str | None] = None
) -> Template:
    """The pools; `edit` fills the form with one of them, to change it."""
    editing = uuid_or_none(edit)
    pool = next((p for p in await lead_setup.pools() if p.id == editing), None) if editing else None
    form = {**_pool_form(pool), "id": str(pool.id)} if pool else None
    return await _setup_page(db, lead_setup, "agent/leads/console_pools.html", done=done, form=form)


def _pool_values(data: MultiForm) -> tuple[dict[str, Any], dict[str, Any]]:
    """The form as typed (to show it again) and as the service takes it."""
    form: dict[str, Any] = {name: v.strip() if isinstance(v := data.get(name, ""), str) else "" for name in POOL_INPUTS}
    chosen = data.get("visible_fields", [])
    form["visible_fields"] = [chosen] if isinstance(chosen, str) else list(chosen)
    form["active"] = bool(data.get("active"))
    values: dict[str, Any] = {name: form[name] for name in POOL_INPUTS if name not in ("partner_type_id", "region_id")}
    values.update(_ids(form, ("partner_type_id", "region_id")))
    values["visible_fields"] = form["visible_fields"]
    values["active"] = form["active"]
    return form, values


@post(POOLS, opt=requires(LEAD_SETUP, "update"), include_in_schema=False)
async def create_pool_page(data: MultiForm, db: DB, lead_setup: LeadSetupDep) -> Template | Redirect:
    """A pool; the fields shown while unclaimed are the boxes ticked."""
    form: dict[str, Any] = {}
    try:
        async with db.begin_nested():
            form, values = _pool_values(data)
            await lead_setup.create_pool(values)
    except ValidationFailed as error:
        return await _setup_page(
            db, lead_setup, "agent/leads/console_pools.html", form=form, errors=field_errors(error), status_code=422
        )
    return Redirect(f"{POOLS}?done=saved")


@post(f"{POOLS}/{{pool_id:uuid}}", opt=requires(LEAD_SETUP, "update"), include_in_schema=False)
async def update_pool_page(
    pool_id: FromPath[uuid.UUID], data: MultiForm, db: DB, lead_setup: LeadSetupDep
) -> Template | Redirect:
    """Change a pool's rules (they apply to claims from now on, and to deadlines started from now on)."""
    await lead_setup.pool(pool_id)  # another tenant's pool, or none: not found
    form: dict[str, Any] = {"id": str(pool_id)}
    try:
        async with db.begin_nested():
            typed_form, values = _pool_values(data)
            form.update(typed_form)
            await lead_setup.update_pool(pool_id, values)
    except ValidationFailed as error:
        return await _setup_page(
            db, lead_setup, "agent/leads/console_pools.html", form=form, errors=field_errors(error), status_code=422
        )
    return Redirect(f"{POOLS}?done=saved")


@get(RULES, opt=requires(LEAD_SETUP, "read"), include_in_schema=False)
async def rules_page(db: DB, lead_setup: LeadSetupDep, done: FromQuery[str | None] = None) -> Template:
    return await _setup_page(db, lead_setup, "agent/leads/console_rules.html", done=done)


@post(RULES, opt=requires(LEAD_SETUP, "update"), include_in_schema=False)
async def create_rule_page(data: Form, db: DB, lead_setup: LeadSetupDep) -> Template | Redirect:
    form = {name: _text(data, name) for name in RULE_INPUTS}
    try:
        async with db.begin_nested():
            values: dict[str, Any] = {
                name: form[name]
                for name in ("name", "strategy", "product_line", "capacity")
                if form[name] or name == "name"
            }
            if form["position"]:
                values["position"] = form["position"]
            values.update(_ids(form, ("region_id", "partner_type_id", "tier_id", "pool_id")))
            await lead_setup.create_rule(values)
    except ValidationFailed as error:
        return await _setup_page(
            db, lead_setup, "agent/leads/console_rules.html", form=form, errors=field_errors(error), status_code=422
        )
    return Redirect(f"{RULES}?done=saved")


@post(f"{RULES}/{{lead_rule_id:uuid}}/delete", opt=requires(LEAD_SETUP, "update"), include_in_schema=False)
async def delete_rule_page(lead_rule_id: FromPath[uuid.UUID], db: DB, lead_setup: LeadSetupDep) -> Redirect:
    await lead_setup.delete_rule(lead_rule_id)
    return Redirect(f"{RULES}?done=saved")


# --- the partner portal ---


def _render(name: str, portal: PortalContext, status_code: int = 200, **values: Any) -> Template:
    return Template(f"agent/leads/{name}.html", context={**portal.frame, **labels(), **values}, status_code=status_code)


async def _pool_page(
    leads: Leads,
    portal: PortalContext,
    page: str | None = None,
    done: str | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Template:
    number = page_number(page)
    items, total, pools = await leads.pool_page(None, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    regions = {key: name for key, name in await leads.session.execute(select(Region.id, Region.name))}
    return _render(
        "portal_pool",
        portal,
        status_code,
        rows=items,
        total=total,
        pools=list(pools.values()),
        regions=regions,
        paging=paging(portal.path("agent/pool"), {}, number, total, PAGE_SIZE),
        notice=_done(done),
        refusal=refusal,
    )


@get("/agent/pool", opt=requires(PARTNER_LEAD, "read"), include_in_schema=False)
async def pool_page(
    leads: LeadsDep, portal: CurrentPortal, page: FromQuery[str | None] = None, done: FromQuery[str | None] = None
) -> Template:
    return await _pool_page(leads, portal, page, done)


@post("/agent/pool/{lead_id:uuid}/claim", opt=requires(PARTNER_LEAD, "claim"), include_in_schema=False)
async def claim_page(
    lead_id: FromPath[uuid.UUID], db: DB, leads: LeadsDep, portal: CurrentPortal
) -> Template | Redirect:
    try:
        async with db.begin_nested():
            await leads.claim(lead_id)
    except DomainError as error:
        if error.status == 404:
            raise
        return await _pool_page(leads, portal, refusal=refusal_of(error), status_code=error.status)
    return Redirect(portal.path(f"agent/leads/{lead_id}?done=claimed"))


PARTNER_QUERY = ("q", "status", "from", "to", "sort")


@get("/agent/leads", opt=requires(PARTNER_LEAD, "read"), include_in_schema=False)
async def my_leads_page(
    request: AnyRequest,
    leads: LeadsDep,
    portal: CurrentPortal,
    done: FromQuery[str | None] = None,
) -> Template:
    """One's leads: search, status, the days they were taken on, an order, pages, and the XLSX."""
    query = _query(request, PARTNER_QUERY)
    chosen, wanted = lead_filter(query, leads.actor.time_zone, staff=False, sorts=leads.sorts())
    number = page_number(query.get("page"))
    rows, total = await leads.page(wanted, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    hidden = leads.policy.hidden(leads.actor, PARTNER_LEAD)
    return _render(
        "portal_leads",
        portal,
        rows=leads.out_many(rows),
        total=total,
        chosen=chosen,
        sorts=leads.sorts().labels(),
        export_link=with_query(portal.path("agent/leads/export.xlsx"), chosen),
        columns=[
            (name, label) for name, label in LEAD_FIELDS if name not in hidden and name not in ("notes", "region_id")
        ],
        statuses=[(s, STATUS_LABELS[s]) for s in ("assigned", "converted")],
        paging=paging(portal.path("agent/leads"), chosen, number, total, PAGE_SIZE),
        notice=_done(done),
    )


async def _my_lead_page(
    leads: Leads,
    portal: PortalContext,
    lead_id: uuid.UUID,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    status_code: int = 200,
) -> Template:
    lead = await leads.get(lead_id)
    events, follow_ups = await leads.history(lead.id)
    hidden = leads.policy.hidden(leads.actor, PARTNER_LEAD)
    return _render(
        "portal_lead",
        portal,
        status_code,
        lead=leads.out(lead),
        fields=[(name, label) for name, label in LEAD_FIELDS if name not in hidden and name != "region_id"],
        events=events,
        follow_ups=follow_ups,
        kinds=[(k, gettext(KIND_LABELS[k])) for k in FOLLOW_UP_KINDS],
        notice=_done(done),
        form=form or {},
        errors=errors or {},
        refusal=refusal,
    )


@get("/agent/leads/export.xlsx", opt=requires(PARTNER_LEAD, "read"), include_in_schema=False)
async def export_my_leads_page(request: AnyRequest, leads: LeadsDep) -> Response[bytes]:
    """One's leads that the list's filters let through, in the columns one may see."""
    _chosen, wanted = lead_filter(
        _query(request, PARTNER_QUERY), leads.actor.time_zone, staff=False, sorts=leads.sorts()
    )
    return await xlsx(leads, wanted)


@get("/agent/leads/{lead_id:uuid}", opt=requires(PARTNER_LEAD, "read"), include_in_schema=False)
async def my_lead_page(
    lead_id: FromPath[uuid.UUID], leads: LeadsDep, portal: CurrentPortal, done: FromQuery[str | None] = None
) -> Template:
    return await _my_lead_page(leads, portal, lead_id, done=done)


def _lead_action(action: str, permission: str, done: str) -> Any:
    @post(
        f"/agent/leads/{{lead_id:uuid}}/{action}",
        opt=requires(PARTNER_LEAD, permission),
        include_in_schema=False,
        name=f"lead-{action}",
    )
    async def handler(
        lead_id: FromPath[uuid.UUID],
        data: Form,
        db: DB,
        leads: LeadsDep,
        registrations: RegistrationsDep,
        portal: CurrentPortal,
    ) -> Template | Redirect:
        form = {k: v for k, v in data.items() if isinstance(v, str) and not k.startswith("_")}
        try:
            async with db.begin_nested():
                if action == "return":
                    await leads.give_back(lead_id, form.get("note"))
                elif action == "follow-ups":
                    await leads.follow_up(lead_id, form)
                elif action == "convert":
                    await convert_lead(leads, registrations, lead_id, form)
                else:
                    days = form.get("days", "").strip()
                    if not days.isdigit():
                        raise ValidationFailed.single("days", N_("must be a whole number"), "invalid")
                    await leads.request_extension(lead_id, int(days), form.get("reason"))
        except ValidationFailed as error:
            return await _my_lead_page(leads, portal, lead_id, form=form, errors=field_errors(error), status_code=422)
        except DomainError as error:
            if error.status == 404:
                raise
            return await _my_lead_page(leads, portal, lead_id, refusal=refusal_of(error), status_code=error.status)
        if action == "return":
            return Redirect(portal.path(f"agent/leads?done={done}"))
        return Redirect(portal.path(f"agent/leads/{lead_id}?done={done}"))

    return handler


LEAD_PAGES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            leads_page,
            export_leads_page,
            create_lead_page,
            import_leads_page,
            _decide(True),
            _decide(False),
            lead_page,
            distribute_page,
            _staff_take("claim"),
            _staff_take("return"),
            pools_page,
            create_pool_page,
            update_pool_page,
            rules_page,
            create_rule_page,
            delete_rule_page,
        ],
        dependencies=STAFF_DEPENDENCIES,
    ),
    partner_portal_router(
        [
            pool_page,
            claim_page,
            my_leads_page,
            export_my_leads_page,
            my_lead_page,
            _lead_action("return", "return", "returned"),
            _lead_action("follow-ups", "update", "followed"),
            _lead_action("convert", "update", "converted"),
            _lead_action("extension", "update", "asked"),
        ],
        dependencies=PARTNER_DEPENDENCIES,
    ),
]
