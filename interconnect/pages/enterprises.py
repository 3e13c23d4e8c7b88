"""Console pages for partner enterprises: search and filters, create (with a first admin), detail, status
changes, and an external user's status."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from interconnect import quotas
from interconnect.dependencies import LinksDep, PeopleDep, ProgrammeDep
from interconnect.links import EnterpriseChanges, LinkFilter, Links, NewEnterprise
from interconnect.models import LINK_STATUSES, LINK_TRANSITIONS
from interconnect.notices import Handover
from interconnect.pages.programme_settings import PARENT_CHOICES, percent, programme_settings
from interconnect.people import NewPerson, create_enterprise
from interconnect.programme import Programme
from interconnect.services import InterconnectDep
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.i18n import N_
from portal.identity.accounts import check_name
from portal.identity.signed_in import end_sessions_of
from portal.permissions import requires
from portal.ui.forms import Form, check_all, form_uuid, required_uuid, uuid_or_none
from portal.ui.labels import setting_name
from portal.ui.paging import page_count, page_number, paging
from portal.ui.refusals import field_errors, message_of

PAGE_SIZE = 20


@get("/console/partners", opt=requires("interconnect.enterprises", "read"), include_in_schema=False)
async def enterprises_page(
    db: DB,
    links: LinksDep,
    programme: ProgrammeDep,
    q: FromQuery[str | None] = None,
    type: FromQuery[str | None] = None,
    tier: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
    status: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    """Search and filters as query parameters, so a filtered page can be bookmarked and shared."""
    text = (q or "").strip()[:100]
    chosen = {
        "q": text,
        "type": uuid_or_none(type),
        "tier": uuid_or_none(tier),
        "region": uuid_or_none(region),
        "status": status if status in LINK_STATUSES else None,
    }
    number = page_number(page)
    found = LinkFilter(text or None, chosen["type"], chosen["tier"], chosen["region"], chosen["status"])
    rows, total = await links.search(found, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    pages = page_count(total, PAGE_SIZE)
    if number > pages and total:
        number = pages
        rows, total = await links.search(found, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    query = {k: str(v) for k, v in chosen.items() if v}
    usage = await quotas.usage(db)
    return Template(
        "console/partners/enterprises.html",
        context={
            "rows": rows,
            "total": total,
            "paging": paging("/console/partners", query, number, total, PAGE_SIZE),
            "query": query,
            "chosen": chosen,
            "settings": await programme_settings(programme),
            "statuses": LINK_STATUSES,
            "usage": usage,
            "percent": percent,
            "section": "enterprises",
        },
    )


async def _new_enterprise_page(
    links: Links,
    programme: Programme,
    form: dict[str, str],
    errors: dict[str, str],
    alert: str | None = None,
    status_code: int = 200,
) -> Template:
    parents, _total = await links.search(LinkFilter(exclude_terminated=True), limit=PARENT_CHOICES)
    settings = await programme_settings(programme)
    return Template(
        "console/partners/new_enterprise.html",
        context={
            "form": form,
            "errors": errors,
            "alert": alert,
            "settings": settings,
            "type_options": [(t.id, setting_name(t.name)) for t in settings.types if t.active],
            "tier_options": [(t.id, setting_name(t.name)) for t in settings.tiers],
            "region_options": [(r.id, r.name) for r in settings.regions],
            "parent_options": [(p.id, p.name) for p in parents],
            "section": "enterprises",
        },
        status_code=status_code,
    )


ENTERPRISE_FIELDS = ("name", "code", "partner_type", "tier", "region", "parent", "contact_phone")
ADMIN_FIELDS = ("admin_name", "admin_email", "admin_mobile", "admin_title")
# Field names of the services' errors → the form's fields (the first admin's fields are prefixed).
ADMIN_ERROR_FIELDS = {"display_name": "admin_name", "email": "admin_email", "mobile": "admin_mobile"}


@get("/console/partners/new", opt=requires("interconnect.enterprises", "create"), include_in_schema=False)
async def new_enterprise_form(
    links: LinksDep, programme: ProgrammeDep, parent: FromQuery[str | None] = None
) -> Template:
    chosen = uuid_or_none(parent)
    return await _new_enterprise_page(links, programme, {"parent": str(chosen) if chosen else ""}, {})


@post("/console/partners/new", opt=requires("interconnect.enterprises", "create"), include_in_schema=False)
async def create_enterprise_page(
    data: Form,
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
    interconnect: InterconnectDep,
    links: LinksDep,
    people: PeopleDep,
    programme: ProgrammeDep,
) -> Template:
    """Create an enterprise directly; with a first admin, show their one-time set-password link."""
    form = {k: data.get(k, "").strip() for k in (*ENTERPRISE_FIELDS, *ADMIN_FIELDS)}
    wants_admin = any(form[k] for k in ADMIN_FIELDS)
    try:
        async with db.begin_nested():
            admin = None
            if wants_admin:
                admin = NewPerson(
                    form["admin_name"], form["admin_email"] or None, form["admin_mobile"] or None, form["admin_title"]
                )
            check_all(
                lambda: check_name(form["name"], "name"),
                lambda: required_uuid(data, "partner_type"),
                lambda: admin and people.validate(admin),
            )
            created = await create_enterprise(
                db,
                actor,
                services.passwords,
                NewEnterprise(
                    form["name"],
                    form_uuid(data, "partner_type", "partner_type"),  # type: ignore[arg-type]
                    form_uuid(data, "tier", "tier"),
                    form_uuid(data, "region", "region"),
                    form_uuid(data, "parent", "parent"),
                    form["code"] or None,
                    form["contact_phone"] or None,
                ),
                admin,
            )
    except ValidationFailed as error:
        errors = {ADMIN_ERROR_FIELDS.get(f, f): m for f, m in field_errors(error).items()}
        return await _new_enterprise_page(links, programme, form, errors, status_code=422)
    except NotFound as error:  # the chosen parent enterprise is gone
        return await _new_enterprise_page(links, programme, form, {"parent": message_of(error)}, status_code=422)
    except Conflict as error:  # code taken, quota used up, a person already connected, …
        field = {"enterprise_code_taken": "code", "already_member": "admin_email", "identity_mismatch": "admin_email"}
        if error.code in field:
            return await _new_enterprise_page(
                links, programme, form, {field[error.code]: message_of(error)}, status_code=409
            )
        return await _new_enterprise_page(links, programme, form, {}, message_of(error), status_code=error.status)
    handover = Handover()
    if created.admin is not None and created.setup_credential:
        identity = await people.identity_of(created.admin)
        handover = await interconnect.hand_over(db, created.admin, identity, created.setup_credential, by=actor)
    return Template(
        "console/partners/created.html",
        context={
            "link": created.link,
            "admin": created.admin,
            "setup_url": handover.url,
            "sent_to": handover.sent_to,
            "section": "enterprises",
        },
        status_code=201,
    )


@get(
    "/console/partners/enterprises/{link_id:uuid}/terminate",
    opt=requires("interconnect.enterprises", "update"),
    include_in_schema=False,
)
async def terminate_confirmation(link_id: FromPath[uuid.UUID], links: LinksDep, people: PeopleDep) -> Template:
    link = await links.get(link_id)
    if "terminated" not in LINK_TRANSITIONS.get(link.status, frozenset()):
        raise Conflict(
            N_("An enterprise that is %(current)s cannot become %(target)s"),
            code="invalid_transition",
            current=link.status,
            target="terminated",
        )
    _members, members_total = await people.list(link.id, limit=1)
    return Template(
        "console/partners/terminate.html",
        context={"link": link, "members_total": members_total, "section": "enterprises"},
    )


@post(
    "/console/partners/enterprises/{link_id:uuid}/status",
    opt=requires("interconnect.enterprises", "update"),
    include_in_schema=False,
)
async def enterprise_status(link_id: FromPath[uuid.UUID], data: Form, links: LinksDep) -> Redirect:
    """Suspend, reactivate or terminate (terminating only from its confirmation page). Suspending or
    terminating ends the enterprise's users' sessions at once."""
    target = data.get("status", "")
    if target == "terminated" and data.get("confirm") != "yes":
        await links.get(link_id)
        return Redirect(f"/console/partners/enterprises/{link_id}/terminate")
    await links.transition(link_id, target, data.get("reason"))
    return Redirect(f"/console/partners/enterprises/{link_id}")


@post(
    "/console/partners/users/{membership_id:uuid}/setup-link",
    opt=requires("interconnect.users", "update"),
    include_in_schema=False,
)
async def resend_setup_link_page(
    membership_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor, people: PeopleDep, interconnect: InterconnectDep
) -> Template:
    """A new one-time link for a person who has not accepted yet (the earlier ones stop working): sent to
    them when email or SMS reaches them, else shown once to pass on."""
    membership = await people.get(membership_id)
    credential = await people.renew_setup_link(membership)
    handover = await interconnect.hand_over(db, membership, await people.identity_of(membership), credential, by=actor)
    return Template(
        "console/partners/link_sent.html",
        context={
            "person": membership,
            "setup_url": handover.url,
            "sent_to": handover.sent_to,
            "section": "enterprises",
        },
    )


@post(
    "/console/partners/users/{membership_id:uuid}/status",
    opt=requires("interconnect.users", "update"),
    include_in_schema=False,
)
async def external_user_status(membership_id: FromPath[uuid.UUID], data: Form, people: PeopleDep) -> Redirect:
    """Disable (ends their sessions at once) or re-enable an external user."""
    membership = await people.set_status(await people.get(membership_id), data.get("status", ""))
    if membership.link_id is None:
        return Redirect("/console/partners")
    return Redirect(f"/console/partners/enterprises/{membership.link_id}#people")


@post(
    "/console/partners/users/{membership_id:uuid}/sign-out",
    opt=requires("interconnect.users", "update"),
    include_in_schema=False,
)
async def external_user_sign_out(membership_id: FromPath[uuid.UUID], db: DB, people: PeopleDep) -> Redirect:
    """Sign a partner out of this workspace everywhere (they may sign in again)."""
    membership = await people.get(membership_id)
    await end_sessions_of(db, membership)
    if membership.link_id is None:
        return Redirect("/console/partners")
    return Redirect(f"/console/partners/enterprises/{membership.link_id}#person-{membership.id}")


EDITABLE_FIELDS = ("name", "code", "partner_type", "tier", "region", "contact_phone")


async def _edit_page(
    link_id: uuid.UUID,
    links: Links,
    programme: Programme,
    form: dict[str, str] | None,
    errors: dict[str, str],
    alert: str | None = None,
    status_code: int = 200,
) -> Template:
    link = await links.get(link_id)
    if form is None:
        form = {
            "name": link.name,
            "code": link.code or "",
            "partner_type": str(link.partner_type_id),
            "tier": str(link.tier_id or ""),
            "region": str(link.region_id or ""),
            "contact_phone": link.contact_phone or "",
        }
    settings = await programme_settings(programme)
    return Template(
        "console/partners/edit_enterprise.html",
        context={
            "link": link,
            "form": form,
            "errors": errors,
            "alert": alert,
            "type_options": [
                (t.id, setting_name(t.name)) for t in settings.types if t.active or t.id == link.partner_type_id
            ],
            "tier_options": [(t.id, setting_name(t.name)) for t in settings.tiers],
            "region_options": [(r.id, r.name) for r in settings.regions],
            "section": "enterprises",
        },
        status_code=status_code,
    )


@get(
    "/console/partners/enterprises/{link_id:uuid}/edit",
    opt=requires("interconnect.enterprises", "update"),
    include_in_schema=False,
)
async def edit_enterprise_form(link_id: FromPath[uuid.UUID], links: LinksDep, programme: ProgrammeDep) -> Template:
    return await _edit_page(link_id, links, programme, None, {})


@post(
    "/console/partners/enterprises/{link_id:uuid}/edit",
    opt=requires("interconnect.enterprises", "update"),
    include_in_schema=False,
)
async def edit_enterprise(
    link_id: FromPath[uuid.UUID], data: Form, db: DB, links: LinksDep, programme: ProgrammeDep
) -> Template | Redirect:
    form = {k: data.get(k, "").strip() for k in EDITABLE_FIELDS}
    try:
        async with db.begin_nested():
            check_all(lambda: check_name(form["name"], "name"), lambda: required_uuid(data, "partner_type"))
            await links.update(
                link_id,
                EnterpriseChanges(
                    name=form["name"],
                    partner_type_id=form_uuid(data, "partner_type", "partner_type"),  # type: ignore[arg-type]
                    tier_id=form_uuid(data, "tier", "tier"),
                    region_id=form_uuid(data, "region", "region"),
                    code=form["code"] or None,
                    contact_phone=form["contact_phone"] or None,
                ),
            )
    except ValidationFailed as error:
        return await _edit_page(link_id, links, programme, form, field_errors(error), status_code=422)
    except Conflict as error:
        if error.code == "enterprise_code_taken":
            return await _edit_page(link_id, links, programme, form, {"code": message_of(error)}, status_code=409)
        return await _edit_page(link_id, links, programme, form, {}, message_of(error), status_code=error.status)
    return Redirect(f"/console/partners/enterprises/{link_id}")
