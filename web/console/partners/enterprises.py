"""Console pages for partner enterprises: search and filters, create (with a first admin), detail, status
changes, and an external user's status."""

from __future__ import annotations

import math
import uuid
from urllib.parse import urlencode

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect import quotas
from interconnect.links import LinkFilter, Links, NewEnterprise
from interconnect.models import LINK_STATUSES, LINK_TRANSITIONS
from interconnect.people import NewPerson, People, create_enterprise
from interconnect.services import InterconnectDep
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.i18n import N_
from portal.identity.accounts import check_name
from portal.permissions import requires
from portal.services import Services
from roles.models import Role
from web.console.partners.shared import (
    PARENT_CHOICES,
    check_all,
    form_uuid,
    page_links,
    percent,
    programme_settings,
    required_uuid,
    uuid_or_none,
)
from web.labels import setting_name
from web.views import Form, MultiForm, field_errors, form_values, message_of, refusal_of

PAGE_SIZE = 20


@get("/console/partners", opt=requires("interconnect.enterprises", "read"), include_in_schema=False)
async def enterprises_page(
    db: DB,
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
    number = int(page) if page and page.isdigit() and 0 < int(page) < 100_000 else 1
    links = Links(db)
    found = LinkFilter(text or None, chosen["type"], chosen["tier"], chosen["region"], chosen["status"])
    rows, total = await links.search(found, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
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
            "page": number,
            "pages": pages,
            "page_links": page_links(number, pages),
            "query": query,
            "page_url": lambda n: "/console/partners?" + urlencode({**query, "page": n}),
            "chosen": chosen,
            "settings": await programme_settings(db),
            "statuses": LINK_STATUSES,
            "usage": usage,
            "percent": percent,
            "section": "enterprises",
        },
    )


async def _new_enterprise_page(
    db: AsyncSession, form: dict[str, str], errors: dict[str, str], alert: str | None = None, status_code: int = 200
) -> Template:
    parents, _total = await Links(db).search(LinkFilter(exclude_terminated=True), limit=PARENT_CHOICES)
    settings = await programme_settings(db)
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
async def new_enterprise_form(db: DB, parent: FromQuery[str | None] = None) -> Template:
    chosen = uuid_or_none(parent)
    return await _new_enterprise_page(db, {"parent": str(chosen) if chosen else ""}, {})


@post("/console/partners/new", opt=requires("interconnect.enterprises", "create"), include_in_schema=False)
async def create_enterprise_page(
    data: Form, db: DB, actor: CurrentActor, services: ServicesDep, interconnect: InterconnectDep
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
                lambda: admin and People(db, services.passwords).validate(admin),
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
        return await _new_enterprise_page(db, form, errors, status_code=422)
    except NotFound as error:  # the chosen parent enterprise is gone
        return await _new_enterprise_page(db, form, {"parent": message_of(error)}, status_code=422)
    except Conflict as error:  # code taken, quota used up, a person already connected, …
        field = {"enterprise_code_taken": "code", "already_member": "admin_email", "identity_mismatch": "admin_email"}
        if error.code in field:
            return await _new_enterprise_page(db, form, {field[error.code]: message_of(error)}, status_code=409)
        return await _new_enterprise_page(db, form, {}, message_of(error), status_code=error.status)
    setup_url = interconnect.setup_url(created.setup_credential) if created.setup_credential else None
    return Template(
        "console/partners/created.html",
        context={"link": created.link, "admin": created.admin, "setup_url": setup_url, "section": "enterprises"},
        status_code=201,
    )


async def _enterprise_page(
    db: AsyncSession,
    services: Services,
    link_id: uuid.UUID,
    *,
    role_error: tuple[uuid.UUID, str] | None = None,
    status_code: int = 200,
) -> Template:
    links = Links(db)
    link = await links.get(link_id)
    members, members_total = await People(db, services.passwords).list(link.id, limit=200)
    held = await services.permissions.roles_of(db, [m.id for m, _identity in members])
    partner_roles = list(
        await db.scalars(select(Role).where(Role.kind == "external").order_by(Role.preset.desc(), Role.name))
    )
    roles = {
        "held": {m.id: sorted(held.get(m.id, frozenset())) for m, _identity in members},
        "by_key": {r.key: r for r in partner_roles},
        "choices": partner_roles,
        "prefix": f"/console/partners/{link.id}/members/",
        "error_for": role_error[0] if role_error else None,
        "error": role_error[1] if role_error else None,
    }
    return Template(
        "console/partners/enterprise.html",
        context={
            "link": link,
            "parent": await links.get(link.parent_id) if link.parent_id else None,
            "children": await links.children(link.id),
            "history": await links.history_with_names(link.id),
            "members": members,
            "members_total": members_total,
            # the people a preview can be opened as (members are (membership, identity) pairs)
            "active_members": [m for m, _identity in members if m.status == "active"],
            "member_roles": roles,
            "settings": await programme_settings(db),
            "transitions": LINK_TRANSITIONS.get(link.status, frozenset()),
            "section": "enterprises",
        },
        status_code=status_code,
    )


@get(
    "/console/partners/enterprises/{link_id:uuid}",
    opt=requires("interconnect.enterprises", "read"),
    include_in_schema=False,
)
async def enterprise_page(link_id: FromPath[uuid.UUID], db: DB, services: ServicesDep) -> Template:
    return await _enterprise_page(db, services, link_id)


@post(
    "/console/partners/{link_id:uuid}/members/{membership_id:uuid}/roles",
    opt=requires("interconnect.users", "update"),
    include_in_schema=False,
)
async def member_roles_page(
    link_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    data: MultiForm,
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
) -> Template | Redirect:
    """Replace the partner roles of one person of this enterprise (`roles` checkboxes, or one `role`).
    The upstream may give any partner role; the role template only limits enterprise admins."""
    link = await Links(db).get(link_id)
    membership = await People(db, services.passwords).get(membership_id, link_id=link.id, only_link=True)
    try:
        async with db.begin_nested():
            await services.permissions.assign(db, actor, membership.id, "external", form_values(data, "roles", "role"))
    except (ValidationFailed, Conflict) as error:
        role_error = (membership.id, refusal_of(error))
        return await _enterprise_page(db, services, link.id, role_error=role_error, status_code=error.status)
    return Redirect(f"/console/partners/enterprises/{link.id}#person-{membership.id}")


@get(
    "/console/partners/enterprises/{link_id:uuid}/terminate",
    opt=requires("interconnect.enterprises", "update"),
    include_in_schema=False,
)
async def terminate_confirmation(link_id: FromPath[uuid.UUID], db: DB, services: ServicesDep) -> Template:
    link = await Links(db).get(link_id)
    if "terminated" not in LINK_TRANSITIONS.get(link.status, frozenset()):
        raise Conflict(
            N_("An enterprise that is %(current)s cannot become %(target)s"),
            code="invalid_transition",
            current=link.status,
            target="terminated",
        )
    _members, members_total = await People(db, services.passwords).list(link.id, limit=1)
    return Template(
        "console/partners/terminate.html",
        context={"link": link, "members_total": members_total, "section": "enterprises"},
    )


@post(
    "/console/partners/enterprises/{link_id:uuid}/status",
    opt=requires("interconnect.enterprises", "update"),
    include_in_schema=False,
)
async def enterprise_status(link_id: FromPath[uuid.UUID], data: Form, db: DB, actor: CurrentActor) -> Redirect:
    """Suspend, reactivate or terminate (terminating only from its confirmation page). Suspending or
    terminating ends the enterprise's users' sessions at once."""
    target = data.get("status", "")
    if target == "terminated" and data.get("confirm") != "yes":
        await Links(db).get(link_id)
        return Redirect(f"/console/partners/enterprises/{link_id}/terminate")
    await Links(db, actor).transition(link_id, target, data.get("reason"))
    return Redirect(f"/console/partners/enterprises/{link_id}")


@post(
    "/console/partners/users/{membership_id:uuid}/status",
    opt=requires("interconnect.users", "update"),
    include_in_schema=False,
)
async def external_user_status(
    membership_id: FromPath[uuid.UUID], data: Form, db: DB, services: ServicesDep
) -> Redirect:
    """Disable (ends their sessions at once) or re-enable an external user."""
    people = People(db, services.passwords)
    membership = await people.set_status(await people.get(membership_id), data.get("status", ""))
    if membership.link_id is None:
        return Redirect("/console/partners")
    return Redirect(f"/console/partners/enterprises/{membership.link_id}#people")
