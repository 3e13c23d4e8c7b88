"""The upstream admin console for the partner programme: partner types, tiers and regions; partner
enterprises (search, create, detail, status); invitations with QR codes; bulk import and export.

Pages call the interconnect services (the same ones the JSON API uses) inside the request's unit of
work. A refused form is re-rendered with its field errors; everything else goes to the one error mapper.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import segno
from jinja2 import pass_context
from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect import imports, quotas
from interconnect.invitations import Invitations, NewInvitation
from interconnect.links import LinkFilter, Links, NewEnterprise
from interconnect.models import LINK_STATUSES, LINK_TRANSITIONS, Invitation, PartnerTier, PartnerType, Region
from interconnect.people import NewPerson, People, create_enterprise
from interconnect.programme import Programme
from interconnect.services import InterconnectDep
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.i18n import N_, gettext
from portal.identity.accounts import check_name
from portal.identity.models import Tenant
from portal.permissions import requires
from web.labels import setting_name
from web.views import Form, field_errors, message_of

PAGE_SIZE = 20
PARENT_CHOICES = 200  # enterprises offered as a parent in a select


# --- Helpers --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settings:
    """The programme's partner types, tiers and regions, with lookups by id for showing names."""

    types: list[PartnerType]
    tiers: list[PartnerTier]
    regions: list[Region]

    @property
    def type_names(self) -> dict[uuid.UUID, str]:
        return {t.id: t.name for t in self.types}

    @property
    def tier_names(self) -> dict[uuid.UUID, str]:
        return {t.id: t.name for t in self.tiers}

    @property
    def region_names(self) -> dict[uuid.UUID, str]:
        return {r.id: r.name for r in self.regions}


async def programme_settings(db: AsyncSession) -> Settings:
    programme = Programme(db)
    return Settings(await programme.list(PartnerType), await programme.list(PartnerTier), await programme.list(Region))


def uuid_or_none(value: str | None) -> uuid.UUID | None:
    """A filter or select value: empty means "any" / "none"; anything unreadable is ignored likewise."""
    if not value or not value.strip():
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


def form_uuid(data: dict[str, str], name: str, field: str) -> uuid.UUID | None:
    """A select of the form: empty is "none", a value that is not an id is a field error."""
    value = data.get(name, "").strip()
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationFailed.single(field, N_("is not known"), "unknown") from None


def form_int(data: dict[str, str], name: str) -> int | None:
    value = data.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed.single(name, N_("must be a whole number"), "not_a_number") from None


def check_all(*checks: Callable[[], object]) -> None:
    """Run every check and report all their field errors at once, not only the first refusal."""
    errors: list[FieldError] = []
    for check in checks:
        try:
            check()
        except ValidationFailed as error:
            errors.extend(error.errors)
    if errors:
        raise ValidationFailed(errors)


def percent(used: int, maximum: int) -> int:
    return 100 if maximum <= 0 else min(100, round(used * 100 / maximum))


def qr_svg(url: str) -> str:
    """An inline SVG QR code (no external image, no script)."""
    return segno.make(url, error="m").svg_inline(scale=4, title=url)


def page_links(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last and two either side of the current; None is a gap."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links: list[int | None] = []
    for number in shown:
        if links and number - (links[-1] or 0) > 1:
            links.append(None)
        links.append(number)
    return links


@pass_context
def can(context: Any, obj: str, action: str) -> bool:
    """For templates: whether the signed-in actor holds a permission, so a page does not offer forms the
    actor could not submit. Display only: the guard still decides on every request."""
    request = context.get("request")
    actor = request.scope.get("user") if request is not None else None
    return actor is not None and request.app.state.services.permissions.allows(actor, (obj, action))


async def tenant_slug(db: AsyncSession, actor: CurrentActor) -> str:
    return (await db.scalars(select(Tenant.slug).where(Tenant.id == actor.tenant_id))).one()


# --- Programme: partner types, tiers, regions ------------------------------------------------------


async def _programme_page(
    db: AsyncSession,
    *,
    forms: dict[str, dict[str, str]] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "console/partners/programme.html",
        context={
            "settings": await programme_settings(db),
            "forms": forms or {},
            "errors": errors or {},
            "section": "programme",
        },
        status_code=status_code,
    )


@get("/console/partners/programme", opt=requires("interconnect.programme", "read"), include_in_schema=False)
async def programme_page(db: DB) -> Template:
    return await _programme_page(db)


async def _add_setting(db: AsyncSession, kind: str, data: dict[str, str]) -> Template | Redirect:
    model: type[PartnerType | PartnerTier | Region] = {"type": PartnerType, "tier": PartnerTier, "region": Region}[kind]
    form = {k: data.get(k, "") for k in ("code", "name", "rank")}
    try:
        async with db.begin_nested():
            rank = form_int(data, "rank") if kind == "tier" else None
            await Programme(db).create(model, form["code"], form["name"], rank or 0)
    except ValidationFailed as error:
        return await _programme_page(db, forms={kind: form}, errors={kind: field_errors(error)}, status_code=422)
    except Conflict as error:
        return await _programme_page(
            db, forms={kind: form}, errors={kind: {"code": message_of(error)}}, status_code=error.status
        )
    return Redirect(f"/console/partners/programme#{kind}s")


@post("/console/partners/programme/types", opt=requires("interconnect.programme", "update"), include_in_schema=False)
async def add_partner_type(data: Form, db: DB) -> Template | Redirect:
    return await _add_setting(db, "type", data)


@post("/console/partners/programme/tiers", opt=requires("interconnect.programme", "update"), include_in_schema=False)
async def add_tier(data: Form, db: DB) -> Template | Redirect:
    return await _add_setting(db, "tier", data)


@post("/console/partners/programme/regions", opt=requires("interconnect.programme", "update"), include_in_schema=False)
async def add_region(data: Form, db: DB) -> Template | Redirect:
    return await _add_setting(db, "region", data)


@post(
    "/console/partners/programme/types/{partner_type_id:uuid}",
    opt=requires("interconnect.programme", "update"),
    include_in_schema=False,
)
async def update_partner_type(partner_type_id: FromPath[uuid.UUID], data: Form, db: DB) -> Template | Redirect:
    """Rename (a `name` field) or activate / deactivate (an `active` field of "1" or "0")."""
    active = {"1": True, "0": False}.get(data.get("active", ""))
    name = data.get("name")
    try:
        async with db.begin_nested():
            await Programme(db).update(PartnerType, partner_type_id, name=name, active=active)
    except ValidationFailed as error:
        errors = {"rename": field_errors(error) | {"id": str(partner_type_id)}}
        return await _programme_page(db, errors=errors, status_code=422)
    return Redirect("/console/partners/programme#types")


@post(
    "/console/partners/programme/tiers/{tier_id:uuid}",
    opt=requires("interconnect.programme", "update"),
    include_in_schema=False,
)
async def update_tier(tier_id: FromPath[uuid.UUID], data: Form, db: DB) -> Template | Redirect:
    """Rename a tier and, optionally, change its rank."""
    try:
        async with db.begin_nested():
            await Programme(db).update(PartnerTier, tier_id, name=data.get("name", ""), rank=form_int(data, "rank"))
    except ValidationFailed as error:
        errors = {"rename": field_errors(error) | {"id": str(tier_id)}}
        return await _programme_page(db, errors=errors, status_code=422)
    return Redirect("/console/partners/programme#tiers")


# --- Enterprises: list, create, detail, status ------------------------------------------------------


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
    parents, _total = await Links(db).search(LinkFilter(), limit=PARENT_CHOICES)
    settings = await programme_settings(db)
    return Template(
        "console/partners/new_enterprise.html",
        context={
            "form": form,
            "errors": errors,
            "alert": alert,
            "settings": settings,
            "tier_options": [(t.id, setting_name(t.name)) for t in settings.tiers],
            "region_options": [(r.id, r.name) for r in settings.regions],
            "parent_options": [(p.id, p.name) for p in parents if p.status != "terminated"],
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


@get(
    "/console/partners/enterprises/{link_id:uuid}",
    opt=requires("interconnect.enterprises", "read"),
    include_in_schema=False,
)
async def enterprise_page(link_id: FromPath[uuid.UUID], db: DB, services: ServicesDep) -> Template:
    links = Links(db)
    link = await links.get(link_id)
    members, members_total = await People(db, services.passwords).list(link.id, limit=200)
    return Template(
        "console/partners/enterprise.html",
        context={
            "link": link,
            "parent": await links.get(link.parent_id) if link.parent_id else None,
            "children": await links.children(link.id),
            "history": await links.history_with_names(link.id),
            "members": members,
            "members_total": members_total,
            "settings": await programme_settings(db),
            "transitions": LINK_TRANSITIONS.get(link.status, frozenset()),
            "section": "enterprises",
        },
    )


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


# --- Invitations ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvitationRow:
    invitation: Invitation
    url: str  # the link to open (an invitation link, or the portal's join page with the code filled in)
    qr: str


async def _invitations_page(
    db: AsyncSession,
    actor: CurrentActor,
    interconnect: InterconnectDep,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    created: uuid.UUID | None = None,
    status_code: int = 200,
) -> Template:
    slug = await tenant_slug(db, actor)
    rows = []
    for invitation in await Invitations(db).list():
        if invitation.kind == "link":
            url = interconnect.invitation_url(invitation.tenant_id, invitation.id)
        else:
            url = f"{interconnect.base_url}/p/{slug}/join?{urlencode({'code': invitation.code})}"
        rows.append(InvitationRow(invitation, url, qr_svg(url)))
    parents, _total = await Links(db).search(LinkFilter(), limit=PARENT_CHOICES)
    settings = await programme_settings(db)
    return Template(
        "console/partners/invitations.html",
        context={
            "rows": rows,
            "form": form or {"kind": "link"},
            "errors": errors or {},
            "alert": alert,
            "created": created,
            "settings": settings,
            "parents": {p.id: p.name for p in parents},
            "tier_options": [(t.id, setting_name(t.name)) for t in settings.tiers],
            "parent_options": [(p.id, p.name) for p in parents if p.status != "terminated"],
            "join_page": f"{interconnect.base_url}/p/{slug}/join",
            "section": "invitations",
        },
        status_code=status_code,
    )


@get("/console/partners/invitations", opt=requires("interconnect.invitations", "read"), include_in_schema=False)
async def invitations_page(
    db: DB, actor: CurrentActor, interconnect: InterconnectDep, created: FromQuery[str | None] = None
) -> Template:
    return await _invitations_page(db, actor, interconnect, created=uuid_or_none(created))


@post("/console/partners/invitations", opt=requires("interconnect.invitations", "create"), include_in_schema=False)
async def create_invitation_page(
    data: Form, db: DB, actor: CurrentActor, interconnect: InterconnectDep
) -> Template | Redirect:
    """An invitation link (default: one use, 14 days) or an invite code (default: unlimited uses)."""
    form = {k: data.get(k, "").strip() for k in ("kind", "partner_type", "tier", "parent", "max_uses", "days", "note")}
    try:
        async with db.begin_nested():
            partner_type = form_uuid(data, "partner_type", "partner_type")
            if partner_type is None:
                raise ValidationFailed.single("partner_type", N_("is required"), "required")
            invitation = await Invitations(db, actor).create(
                NewInvitation(
                    form["kind"] or "link",
                    partner_type,
                    form_uuid(data, "tier", "tier"),
                    form_uuid(data, "parent", "parent"),
                    form_int(data, "max_uses"),
                    form_int({"expires_in_days": form["days"]}, "expires_in_days"),
                    form["note"] or None,
                )
            )
    except ValidationFailed as error:
        errors = {"days" if f == "expires_in_days" else f: m for f, m in field_errors(error).items()}
        return await _invitations_page(db, actor, interconnect, form=form, errors=errors, status_code=422)
    except NotFound as error:  # the chosen parent enterprise is gone
        return await _invitations_page(
            db, actor, interconnect, form=form, errors={"parent": message_of(error)}, status_code=422
        )
    return Redirect(f"/console/partners/invitations?created={invitation.id}#invitation-{invitation.id}")


@post(
    "/console/partners/invitations/{invitation_id:uuid}/revoke",
    opt=requires("interconnect.invitations", "update"),
    include_in_schema=False,
)
async def revoke_invitation_page(invitation_id: FromPath[uuid.UUID], db: DB) -> Redirect:
    await Invitations(db).revoke(invitation_id)
    return Redirect("/console/partners/invitations")


# --- Bulk import and export ---------------------------------------------------------------------------

IMPORT_MODES = (
    ("all_or_nothing", N_("All or nothing: one bad row and nothing is imported")),
    ("valid_rows", N_("Import the valid rows and report the others")),
)
UPLOAD_BODY_LIMIT = imports.MAX_BYTES + 256 * 1024  # the file plus its multipart envelope
REFRESH_SECONDS = 2


@dataclass
class ImportForm:
    file: UploadFile | None = None  # optional here, so that a missing file is a field error on the page
    mode: str = "all_or_nothing"


def _import_page(form: dict[str, str], errors: dict[str, str], status_code: int = 200) -> Template:
    return Template(
        "console/partners/import.html",
        context={
            "form": form,
            "errors": errors,
            "modes": IMPORT_MODES,
            "max_rows": imports.MAX_ROWS,
            "max_megabytes": imports.MAX_BYTES // (1024 * 1024),
            "columns": list(imports.COLUMNS),
            "section": "import",
        },
        status_code=status_code,
    )


@get("/console/partners/import", opt=requires("interconnect.enterprises", "create"), include_in_schema=False)
async def import_form() -> Template:
    return _import_page({"mode": "all_or_nothing"}, {})


@post(
    "/console/partners/import",
    opt=requires("interconnect.enterprises", "create"),
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_LIMIT,
)
async def start_import(
    data: MultipartBody[ImportForm], actor: CurrentActor, services: ServicesDep
) -> Template | Redirect:
    """Check the file, queue the job and follow it on its progress page (the work runs in the background)."""
    form = {"mode": data.mode}
    if data.file is None or not data.file.filename:
        return _import_page(form, {"file": gettext("is required: upload a .csv or .xlsx file")}, 422)
    content = await data.file.read()
    await data.file.close()
    try:
        # Its own unit of work, committed before the background run looks for the job.
        async with services.db.session_for(actor) as session:
            job = await imports.create_job(session, actor, data.file.filename, content, data.mode)
    except ValidationFailed as error:
        return _import_page(form, field_errors(error), 422)
    imports.start_job(services, actor.tenant_id, job.id, content, channel="web")
    return Redirect(f"/console/partners/import/{job.id}")


def import_error_text(error: dict[str, Any]) -> str:
    """A row error of a job, in the reader's language (the job stores the message id and its values)."""
    msgid = error.get("msgid")
    if not msgid:
        return str(error.get("message", ""))
    return gettext(msgid, **(error.get("params") or {}))


@get(
    "/console/partners/import/{job_id:uuid}",
    opt=requires("interconnect.enterprises", "read"),
    include_in_schema=False,
)
async def import_progress(job_id: FromPath[uuid.UUID], db: DB) -> Template:
    """The job's progress; the page reloads itself while the job runs (no script needed)."""
    job = await imports.get_job(db, job_id)
    running = job.status in ("queued", "running")
    return Template(
        "console/partners/import_job.html",
        context={
            "job": job,
            "running": running,
            "refresh": REFRESH_SECONDS if running else None,
            "share": percent(job.processed_rows, job.total_rows) if job.total_rows else (0 if running else 100),
            "errors": [(e.get("row"), e.get("field", ""), import_error_text(e)) for e in job.errors],
            "mode_label": dict(IMPORT_MODES).get(job.mode, job.mode),
            "section": "import",
        },
    )


@get("/console/partners/export.xlsx", opt=requires("interconnect.enterprises", "export"), include_in_schema=False)
async def export_enterprises_page(db: DB) -> Response[bytes]:
    """Every enterprise as an XLSX workbook in the import's columns (it can be imported again)."""
    filename = f"enterprises-{utcnow():%Y%m%d-%H%M}.xlsx"
    return Response(
        await imports.export_xlsx(db),
        media_type=imports.XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


CONSOLE_PARTNER_PAGES: list[Any] = [
    programme_page,
    add_partner_type,
    add_tier,
    add_region,
    update_partner_type,
    update_tier,
    enterprises_page,
    new_enterprise_form,
    create_enterprise_page,
    enterprise_page,
    terminate_confirmation,
    enterprise_status,
    external_user_status,
    invitations_page,
    create_invitation_page,
    revoke_invitation_page,
    import_form,
    start_import,
    import_progress,
    export_enterprises_page,
]
