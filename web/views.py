"""Server-rendered pages of the web shell: landing, sign-up, login, language switch, admin console."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func, select

from interconnect import quotas
from portal.actor import Actor
from portal.audit import AuditEntry
from portal.errors import Conflict, DomainError, InvalidCredentials, Throttled, ValidationFailed
from portal.http.context import SESSION_COOKIE, sign_in_client
from portal.http.deps import DB, STAFF_DEPENDENCIES, CurrentActor, ServicesDep, StaffDep
from portal.i18n import LANGUAGE_COOKIE, gettext
from portal.identity.accounts import Accounts, NewStaff, SignUp, Staff
from portal.identity.models import AuthSession, InternalUser, Tenant
from portal.identity.sessions import revoke_session
from portal.identity.signed_in import end_sessions_of
from portal.identity.throttle import staff_login
from portal.permissions import SIGNED_IN, public, requires
from portal.ui.cookies import end_session, signed_in_cookies
from portal.ui.forms import Form, MultiForm, form_value, form_values, safe_next
from portal.ui.refusals import field_errors, message_of, refusal_of
from roles.models import Role
from sync.dependencies import DEPENDENCIES as DELIVERY_DEPENDENCIES
from sync.dependencies import DeliveriesDep
from sync.objects import DELIVERY

ONE_YEAR = 365 * 24 * 3600
PARTNER_PATH = re.compile(r"^/p/([a-z0-9][a-z0-9-]{0,39})(?:/|$)")


@get("/", opt=public(), include_in_schema=False)
async def landing(request: Request[Any, Any, Any]) -> Template | Redirect:
    if request.scope.get("user") is not None:
        return Redirect("/console")
    return Template("landing.html")


@get("/signup", opt=public(), include_in_schema=False)
async def signup_form() -> Template:
    return Template("signup.html", context={"form": {}, "errors": {}})


@post("/signup", opt=public(), include_in_schema=False)
async def signup(data: Form, db: DB, services: ServicesDep, request: Request[Any, Any, Any]) -> Template | Redirect:
    fields = ("company_name", "slug", "admin_name", "email", "password", "locale", "time_zone")
    form = {k: data.get(k, "") for k in fields}
    try:
        tenant, admin = await services.accounts.sign_up(
            db,
            SignUp(
                form["company_name"],
                form["slug"],
                form["admin_name"],
                form["email"],
                form["password"],
                form["locale"] or "en",
                form["time_zone"] or None,
            ),
            "web",
        )
        # the first admin has just chosen the password: signed in with it, not asked for it again
        login = staff_login(tenant.slug, admin.email)
        logged_in = await services.accounts.signed_in(db, admin, login, "web", sign_in_client(request))
    except ValidationFailed as error:
        form["password"] = ""
        return Template("signup.html", context={"form": form, "errors": field_errors(error)}, status_code=422)
    await end_session(db, request.scope.get("user"), "replaced")
    return Redirect("/console", cookies=signed_in_cookies(services, logged_in))


@get("/login", opt=public(), include_in_schema=False)
async def login_form(request: Request[Any, Any, Any], next: FromQuery[str | None] = None) -> Template | Redirect:
    partner_portal = PARTNER_PATH.match(safe_next(next, ""))
    if partner_portal:  # a partner portal page asked for a sign-in: that portal has its own login page
        return Redirect(f"/p/{partner_portal.group(1)}/login?{urlencode({'next': safe_next(next)})}")
    actor: Actor | None = request.scope.get("user")
    if actor is not None and actor.kind == "internal":
        return Redirect(safe_next(next))
    notice = None
    if actor is not None:  # this browser is signed in to a partner portal: signing in here ends that
        notice = gettext("You are signed in to a partner portal. Signing in here as staff ends that session.")
    return Template("login.html", context={"form": {}, "next": safe_next(next), "error": None, "notice": notice})


@post("/login", opt=public(), include_in_schema=False)
async def login(data: Form, db: DB, services: ServicesDep, request: Request[Any, Any, Any]) -> Template | Redirect:
    form = {k: data.get(k, "").strip() for k in ("workspace", "email")}
    target = safe_next(data.get("next"))
    try:
        logged_in = await services.accounts.log_in(
            db, form["workspace"], form["email"], data.get("password", ""), "web", sign_in_client(request)
        )
    except (InvalidCredentials, Throttled) as error:
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else {}
        return Template(
            "login.html",
            context={"form": form, "next": target, "error": message_of(error)},
            status_code=error.status,
            headers=headers,
        )
    await end_session(db, request.scope.get("user"), "replaced")
    return Redirect(target, cookies=signed_in_cookies(services, logged_in))


@post("/logout", opt={"permission": SIGNED_IN}, include_in_schema=False)
async def logout(db: DB, actor: CurrentActor) -> Redirect:
    assert actor.session_id is not None
    await revoke_session(db, actor.session_id, "logout")
    return Redirect("/", cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])


@post("/lang", opt=public(), include_in_schema=False)
async def switch_language(data: Form, services: ServicesDep, request: Request[Any, Any, Any]) -> Redirect:
    language = services.catalogs.supported(data.get("language")) or services.settings.default_language
    actor: CurrentActor | None = request.scope.get("user")
    if actor is not None:
        async with services.db.session_for(actor) as session:
            user = await session.scalar(select(InternalUser).where(InternalUser.id == actor.user_id))
            if user is not None:
                user.locale = language
    cookie = Cookie(
        key=LANGUAGE_COOKIE,
        value=language,
        max_age=ONE_YEAR,
        path="/",
        samesite="lax",
        secure=services.settings.secure_cookies,
    )
    return Redirect(safe_next(data.get("next"), "/"), cookies=[cookie])


@get("/console", opt=requires("console", "read"), include_in_schema=False)
async def console_home(db: DB, actor: CurrentActor, services: ServicesDep, deliveries: DeliveriesDep) -> Template:
    tenant = (await db.scalars(select(Tenant).where(Tenant.id == actor.tenant_id))).one()
    staff_total = await db.scalar(select(func.count()).select_from(InternalUser)) or 0
    staff_active = (
        await db.scalar(select(func.count()).select_from(InternalUser).where(InternalUser.status == "active")) or 0
    )
    sessions_open = (
        await db.scalar(select(func.count()).select_from(AuthSession).where(AuthSession.revoked_at.is_(None))) or 0
    )
    # what a channel manager can act on: subscribers whose deliveries fail, each linked to its list
    failing = (await deliveries.overview()).failing if services.permissions.allows(actor, (DELIVERY, "read")) else []
    recent = list(
        await db.scalars(select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc()).limit(10))
    )
    return Template(
        "console/home.html",
        context={
            "tenant": tenant,
            "stats": {
                "staff_total": staff_total,
                "staff_active": staff_active,
                "sessions_open": sessions_open,
            },
            "failing_deliveries": failing,
            "recent": recent,
            "quota": await quotas.usage(db),
        },
    )


def settings_page(
    tenant: Tenant,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    *,
    brand_form: dict[str, str] | None = None,
    brand_errors: dict[str, str] | None = None,
    **kw: Any,
) -> Template:
    """The workspace settings page: its time zone, and its brand (web.brand handles the brand's forms)."""
    brand = brand_form or {
        "colour": tenant.brand_colour or "",
        "sign_in_text": tenant.sign_in_text or "",
        "email_header": tenant.email_header or "",
    }
    context = {
        "tenant": tenant,
        "form": form or {"time_zone": tenant.time_zone},
        "errors": errors or {},
        "brand": brand,
        "brand_errors": brand_errors or {},
    }
    return Template("console/workspace.html", context={**context, "saved": saved}, **kw)


@get("/console/settings", opt=requires("workspace", "read"), include_in_schema=False)
async def console_settings(db: DB, actor: CurrentActor, saved: FromQuery[str | None] = None) -> Template:
    tenant = (await db.scalars(select(Tenant).where(Tenant.id == actor.tenant_id))).one()
    return settings_page(tenant, saved=bool(saved))


@post("/console/settings", opt=requires("workspace", "update"), include_in_schema=False)
async def console_save_settings(data: Form, db: DB, actor: CurrentActor) -> Template | Redirect:
    form = {"time_zone": data.get("time_zone", "")}
    try:
        async with db.begin_nested():
            await Accounts.set_time_zone(db, actor.tenant_id, form["time_zone"])
    except ValidationFailed as error:
        tenant = (await db.scalars(select(Tenant).where(Tenant.id == actor.tenant_id))).one()
        return settings_page(tenant, form, field_errors(error), status_code=422)
    return Redirect("/console/settings?saved=1")


async def _users_page(
    db: DB,
    staff: Staff,
    form: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
    *,
    alert: str | None = None,
    alert_user: uuid.UUID | None = None,
) -> Template:
    users, total = await staff.list(limit=200)
    held = await staff.roles_of(users)
    staff_roles = list(
        await db.scalars(select(Role).where(Role.kind == "internal").order_by(Role.preset.desc(), Role.name))
    )
    by_key = {r.key: r for r in staff_roles}
    return Template(
        "console/users.html",
        context={
            "users": users,
            "total": total,
            "form": form,
            "errors": errors,
            "staff_roles": staff_roles,
            "held": {u.id: sorted(held.get(u.id, frozenset())) for u in users},
            "roles_by_key": by_key,
            "alert": alert,
            "alert_user": alert_user,
        },
        status_code=status_code,
    )


@get("/console/users", opt=requires("staff.users", "read"), include_in_schema=False)
async def console_users(db: DB, staff: StaffDep) -> Template:
    return await _users_page(db, staff, {"roles": ["staff"]}, {})


@post("/console/users", opt=requires("staff.users", "create"), include_in_schema=False)
async def console_add_user(data: MultiForm, db: DB, staff: StaffDep) -> Template | Redirect:
    """Roles come as `roles` checkboxes; a single `role` value is accepted as well."""
    form: dict[str, Any] = {k: form_value(data, k) for k in ("email", "display_name", "password")}
    form["roles"] = form_values(data, "roles", "role") or ["staff"]
    try:
        async with db.begin_nested():
            await staff.create(
                NewStaff(form["email"], form["display_name"], form["password"], roles=tuple(form["roles"]))
            )
    except ValidationFailed as error:  # refused before anything was written
        form["password"] = ""
        return await _users_page(db, staff, form, field_errors(error), 422)
    except DomainError as error:
        form["password"] = ""
        return await _users_page(db, staff, form, {"email": message_of(error)}, error.status)
    return Redirect("/console/users")


@post("/console/users/{user_id:uuid}/status", opt=requires("staff.users", "update"), include_in_schema=False)
async def console_user_status(
    user_id: FromPath[uuid.UUID], data: Form, actor: CurrentActor, staff: StaffDep
) -> Redirect:
    await staff.update(actor, user_id, status=data.get("status", ""))
    return Redirect("/console/users")


@post("/console/users/{user_id:uuid}/sign-out", opt=requires("staff.users", "update"), include_in_schema=False)
async def console_user_sign_out(user_id: FromPath[uuid.UUID], db: DB, staff: StaffDep) -> Redirect:
    """Sign a staff member out everywhere (they may sign in again)."""
    await end_sessions_of(db, await staff.get(user_id))
    return Redirect(f"/console/users#user-{user_id}")


@post("/console/users/{user_id:uuid}/roles", opt=requires("staff.users", "update"), include_in_schema=False)
async def console_user_roles(
    user_id: FromPath[uuid.UUID], data: MultiForm, db: DB, actor: CurrentActor, staff: StaffDep
) -> Template | Redirect:
    """Replace a staff member's roles (`roles` checkboxes, or one `role`)."""
    await staff.get(user_id)  # another tenant's user, or none: not found
    try:
        async with db.begin_nested():
            await staff.update(actor, user_id, roles=form_values(data, "roles", "role"))
    except (ValidationFailed, Conflict) as error:  # unknown roles; one's own administrator role
        return await _users_page(
            db, staff, {"roles": ["staff"]}, {}, error.status, alert=refusal_of(error), alert_user=user_id
        )
    return Redirect(f"/console/users#user-{user_id}")


PAGES = [
    console_settings,
    console_save_settings,
    landing,
    signup_form,
    signup,
    login_form,
    login,
    logout,
    switch_language,
    # the console home shows the deliveries that fail, from the delivery service's provider
    Router(path="/", route_handlers=[console_home], dependencies=DELIVERY_DEPENDENCIES),
    # the staff accounts' pages, which take the staff service named once for them
    Router(
        path="/",
        route_handlers=[
            console_users,
            console_add_user,
            console_user_status,
            console_user_roles,
            console_user_sign_out,
        ],
        dependencies=STAFF_DEPENDENCIES,
    ),
]
