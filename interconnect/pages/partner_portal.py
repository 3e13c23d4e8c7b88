"""The partner portal: an upstream's pages for its partners' people.

- /p/{slug}/login, /logout: external users sign in with an email or a mobile number;
- /p/{slug}/: the partner home, with a switcher between the manufacturers a person works with;
- /p/{slug}/colleagues: an enterprise admin manages the people of their own enterprise and their roles;
- /join/{token} and /p/{slug}/join: accepting an invitation link or an invite code;
- /setup/{token}: setting a password from a one-time link.

One browser holds one session. A /p/{slug}/ page asked for with a session of another tenant treats the
visitor as not signed in to this portal (its login page), so nothing of the other tenant is shown.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.access import Workspace
from interconnect.invitations import Acceptance, Accepted
from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from interconnect.people import NewPerson
from interconnect.services import Interconnect, InterconnectDep
from portal.actor import Actor
from portal.db.context import actor_context
from portal.db.tenancy import within
from portal.errors import (
    Conflict,
    Gone,
    InvalidCredentials,
    NotAuthenticated,
    NotFound,
    Throttled,
    ValidationFailed,
)
from portal.http.context import SESSION_COOKIE, sign_in_client
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.hosts import inward_next, outward_location, partner_domain_of
from portal.i18n import N_, gettext
from portal.identity.models import Tenant
from portal.identity.sessions import revoke_session
from portal.permissions import SIGNED_IN, public, requires
from portal.services import Services
from portal.ui.cookies import device_cookie, end_session, session_cookie
from portal.ui.forms import Form, safe_next
from portal.ui.refusals import field_errors, message_of

AnyRequest = Request[Any, Any, Any]
PERSON_FIELDS = ("display_name", "email", "mobile")
# Errors of the services that belong to a field of the join forms.
JOIN_CONFLICT_FIELDS = {"already_member": "email", "identity_mismatch": "email"}


# --- Helpers --------------------------------------------------------------------------------------


def portal_path(portal: Workspace, rest: str = "") -> str:
    return f"/p/{portal.slug}/{rest}"


def portal_next(portal: Workspace, target: str | None, scope: Any = None) -> str:
    """Only pages of this portal: another portal or the console would refuse the new session. On the workspace's
    partner domain (`scope`, the request's) `next` is the domain's own path ("/orders"), mapped in here."""
    target = safe_next(target, "")
    if target and partner_domain_of(scope) == portal.slug:
        target = inward_next(target, portal.slug) or ""
    return target if target.startswith(portal_path(portal)) else portal_path(portal)


def shown_next(portal: Workspace, target: str, scope: Any = None) -> str:
    """`next` as a form carries it: on the workspace's partner domain, the domain's own path."""
    return outward_location(target, portal.slug, "") if partner_domain_of(scope) == portal.slug else target


async def open_web_session(
    db: AsyncSession,
    services: Services,
    interconnect: Interconnect,
    request: AnyRequest,
    tenant_id: uuid.UUID,
    identity_id: uuid.UUID,
) -> Cookie:
    opened = await interconnect.access.open_session(db, tenant_id, identity_id, "web", sign_in_client(request))
    if opened is None:
        raise Conflict(N_("You have no access to this partner portal"), code="no_membership")
    await end_session(db, request.scope.get("user"), "replaced")
    return session_cookie(services, opened[1].credential)


def person_form(data: dict[str, str], *extra: str) -> dict[str, str]:
    return {k: data.get(k, "").strip() for k in (*PERSON_FIELDS, *extra)}


def new_person(form: dict[str, str], password: str | None = None) -> NewPerson:
    return NewPerson(
        form["display_name"],
        form["email"] or None,
        form["mobile"] or None,
        form.get("title") or None,
        password=password,
    )


# --- Sign in and out ------------------------------------------------------------------------------


def _login_page(
    portal: Workspace, form: dict[str, str], target: str, error: str | None, notice: str | None = None, **kw: Any
) -> Template:
    return Template(
        "portal/login.html",
        context={"portal": portal, "form": form, "next": target, "error": error, "notice": notice},
        **kw,
    )


@get("/login", opt={**public(), "writes": True}, include_in_schema=False)
async def partner_login_form(
    db: DB,
    request: AnyRequest,
    services: ServicesDep,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
    next: FromQuery[str | None] = None,
    password_set: FromQuery[str | None] = None,
) -> Template | Redirect:
    workspace = portal.workspace
    target = portal_next(workspace, next, request.scope)
    actor: Actor | None = request.scope.get("user")
    if actor is not None and actor.kind == "external" and actor.tenant_id == workspace.tenant_id:
        return Redirect(target)
    if actor is not None and actor.kind == "external" and actor.identity_id is not None:
        # Signed in to another manufacturer this person also serves: open this one without a password,
        # as the switcher would. Without a membership here, this portal's sign-in form is shown.
        opened = await interconnect.access.open_session(
            db, workspace.tenant_id, actor.identity_id, "web", sign_in_client(request)
        )
        if opened is not None:
            await end_session(db, actor, "replaced")
            return Redirect(target, cookies=[session_cookie(services, opened[1].credential)])
    notice = gettext("Your password is set. Sign in with it now.") if password_set else None
    return _login_page(workspace, {}, shown_next(workspace, target, request.scope), None, notice)


@post("/login", opt=public(), include_in_schema=False)
async def partner_login(
    data: Form,
    db: DB,
    request: AnyRequest,
    services: ServicesDep,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
) -> Template | Redirect:
    workspace = portal.workspace
    form = {"login": data.get("login", "").strip()}
    target = portal_next(workspace, data.get("next"), request.scope)
    try:
        signed_in = await interconnect.access.log_in(
            db, workspace.slug, form["login"], data.get("password", ""), "web", sign_in_client(request)
        )
    except (InvalidCredentials, Throttled) as error:
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else {}
        shown = shown_next(workspace, target, request.scope)
        return _login_page(workspace, form, shown, message_of(error), status_code=error.status, headers=headers)
    await end_session(db, request.scope.get("user"), "replaced")
    cookies = [session_cookie(services, signed_in.opened.credential), device_cookie(services, signed_in.device)]
    return Redirect(target, cookies=cookies)


@post("/p/{slug:str}/logout", opt={"permission": SIGNED_IN}, include_in_schema=False)
async def partner_logout(slug: FromPath[str], db: DB, actor: CurrentActor) -> Redirect:
    assert actor.session_id is not None
    await revoke_session(db, actor.session_id, "logout")
    target = f"/p/{slug.lower()}/login" if slug.isascii() and slug.replace("-", "").isalnum() else "/"
    return Redirect(target, cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])


# --- Workspace switcher ------------------------------------------------------------------


@post("/switch", opt=requires("partner.profile", "read"), include_in_schema=False)
async def switch_workspace(
    data: Form,
    db: DB,
    actor: CurrentActor,
    request: AnyRequest,
    services: ServicesDep,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
) -> Redirect:
    """Open a session in another manufacturer's portal this person works with, without signing in again."""
    assert actor.identity_id is not None
    target = await interconnect.access.workspace(db, data.get("workspace", "") or portal.workspace.slug)
    cookie = await open_web_session(db, services, interconnect, request, target.tenant_id, actor.identity_id)
    return Redirect(portal_path(target), cookies=[cookie])


# --- Accepting an invitation ----------------------------------------------------------------------


def _join_defaults(actor: Actor | None) -> dict[str, str]:
    """A signed-in person joins with the login they have: their name and sign-in name, filled in."""
    if actor is None:
        return {}
    email, mobile = (actor.email, "") if "@" in actor.email else ("", actor.email)
    return {"display_name": actor.display_name, "email": email, "mobile": mobile}


async def _connectable(
    db: AsyncSession, interconnect: Interconnect, actor: Actor | None, inviting: Tenant
) -> Tenant | None:
    """The workspace a signed-in internal admin of another tenant could connect instead."""
    if actor is None or not interconnect.onboarding.may_connect(actor, inviting.id):
        return None
    async with within(db, actor_context(actor)):
        return await db.scalar(select(Tenant).where(Tenant.id == actor.tenant_id))


async def _join_page(
    db: AsyncSession,
    interconnect: Interconnect,
    request: AnyRequest,
    *,
    token: str | None = None,
    portal: Workspace | None = None,
    code: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    actor: Actor | None = request.scope.get("user")
    preview = None
    errors = dict(errors or {})
    if token is not None:
        preview = await interconnect.onboarding.preview(db, token)
    elif code:
        try:
            preview = await interconnect.onboarding.preview(db, slug=portal.slug if portal else None, code=code)
        except ValidationFailed as error:
            errors = {**field_errors(error), **errors}
    tenant = preview[0] if preview else None
    connectable = await _connectable(db, interconnect, actor, tenant) if token is not None and tenant else None
    if portal is None and tenant is not None:  # the page wears the inviting portal's name and links
        portal = Workspace(tenant.id, tenant.slug, tenant.name)
    return Template(
        "portal/join.html",
        context={
            "token": token,
            "portal": portal,
            "inviting": tenant.name if tenant else (portal.name if portal else ""),
            "invitation": preview[1] if preview else None,
            "partner_type": preview[2] if preview else None,
            "connectable": connectable,
            "form": form if form is not None else {**_join_defaults(actor), "code": code or ""},
            "errors": errors,
            "action": f"/join/{token}" if token is not None else (portal_path(portal, "join") if portal else ""),
        },
        status_code=status_code,
    )


def _join_errors(error: ValidationFailed | InvalidCredentials | Throttled | Conflict) -> dict[str, str]:
    if isinstance(error, ValidationFailed):
        return {"enterprise_name" if f == "name" else f: m for f, m in field_errors(error).items()}
    if isinstance(error, InvalidCredentials | Throttled):
        return {"password": message_of(error)}
    return {JOIN_CONFLICT_FIELDS[error.code]: message_of(error)}


async def _accept(
    db: AsyncSession,
    data: dict[str, str],
    request: AnyRequest,
    services: Services,
    interconnect: Interconnect,
    *,
    token: str | None = None,
    portal: Workspace | None = None,
) -> Template | Redirect:
    form = person_form(data, "enterprise_name", "code")
    password = data.get("password", "")
    actor: Actor | None = request.scope.get("user")
    try:
        accepted: Accepted
        if token is not None and data.get("action") == "connect":
            if actor is None:
                raise NotAuthenticated()
            accepted = await interconnect.onboarding.connect_tenant(
                db, token, actor, new_person(form, password), sign_in_client(request)
            )
        elif token is not None:
            accepted = await interconnect.onboarding.accept(
                db,
                Acceptance(form["enterprise_name"], new_person(form, password)),
                sign_in_client(request),
                token=token,
            )
        else:
            assert portal is not None
            accepted = await interconnect.onboarding.accept(
                db,
                Acceptance(form["enterprise_name"], new_person(form, password)),
                sign_in_client(request),
                slug=portal.slug,
                code=form["code"],
            )
    except (ValidationFailed, InvalidCredentials, Throttled, Conflict) as error:
        if isinstance(error, Conflict) and error.code not in JOIN_CONFLICT_FIELDS:
            raise  # quota used up, a workspace connected already, …: the error page says so
        return await _join_page(
            db,
            interconnect,
            request,
            token=token,
            portal=portal,
            code=form["code"] if token is None else None,
            form=form,
            errors=_join_errors(error),
            status_code=error.status,
        )
    cookie = await open_web_session(
        db, services, interconnect, request, accepted.tenant_id, accepted.membership.identity_id
    )
    return Redirect(f"/p/{accepted.tenant_slug}/?{urlencode({'welcome': 1})}", cookies=[cookie])


@get("/join/{token:str}", opt=public(), include_in_schema=False)
async def join_by_link_form(
    token: FromPath[str], db: DB, request: AnyRequest, interconnect: InterconnectDep
) -> Template:
    """Who invites, as which partner type; the form to create the enterprise (or connect a workspace).
    A revoked, expired, used-up or mistyped link is a readable error page."""
    return await _join_page(db, interconnect, request, token=token)


@post("/join/{token:str}", opt=public(), include_in_schema=False)
async def join_by_link(
    token: FromPath[str], data: Form, db: DB, request: AnyRequest, services: ServicesDep, interconnect: InterconnectDep
) -> Template | Redirect:
    return await _accept(db, data, request, services, interconnect, token=token)


@get("/join", opt=public(), include_in_schema=False)
async def join_by_code_form(
    db: DB,
    request: AnyRequest,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
    code: FromQuery[str | None] = None,
) -> Template:
    code = (code or "").strip()[:40] or None
    return await _join_page(db, interconnect, request, portal=portal.workspace, code=code)


@post("/join", opt=public(), include_in_schema=False)
async def join_by_code(
    data: Form,
    db: DB,
    request: AnyRequest,
    services: ServicesDep,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
) -> Template | Redirect:
    return await _accept(db, data, request, services, interconnect, portal=portal.workspace)


# --- One-time links: setting a first password, or joining with the login one has ------------------


async def _setup_page(
    db: AsyncSession,
    interconnect: Interconnect,
    token: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    """The link's form; a used, expired or mistyped link is a page that offers the way on: signing in
    to the portal of the manufacturer the link names."""
    try:
        preview = await interconnect.access.setup_preview(db, token)
    except (Gone, NotFound) as error:
        return Template(
            "portal/setup.html",
            context={
                "portal": await interconnect.access.link_workspace(db, token),
                "unusable": {"title": gettext(error.title), "detail": message_of(error)},
            },
            status_code=error.status,
        )
    return Template(
        "portal/setup.html",
        context={
            "portal": preview.workspace,
            "name": preview.name,
            "has_login": preview.has_login,
            "token": token,
            "errors": errors or {},
        },
        status_code=status_code,
        headers=headers,
    )


@get("/setup/{token:str}", opt=public(), include_in_schema=False)
async def setup_form(token: FromPath[str], db: DB, interconnect: InterconnectDep) -> Template:
    return await _setup_page(db, interconnect, token)


@post("/setup/{token:str}", opt=public(), include_in_schema=False)
async def setup_password(
    token: FromPath[str], data: Form, db: DB, request: AnyRequest, services: ServicesDep, interconnect: InterconnectDep
) -> Template | Redirect:
    password = data.get("password", "")
    if data.get("action") == "accept":
        try:
            workspace, identity_id = await interconnect.access.accept_with_login(
                db, token, password, sign_in_client(request)
            )
        except (InvalidCredentials, Throttled) as error:
            headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else None
            return await _setup_page(db, interconnect, token, {"password": message_of(error)}, error.status, headers)
        except (Gone, NotFound):
            return await _setup_page(db, interconnect, token)
        cookie = await open_web_session(db, services, interconnect, request, workspace.tenant_id, identity_id)
        return Redirect(f"/p/{workspace.slug}/?{urlencode({'welcome': 1})}", cookies=[cookie])
    if password != data.get("password_confirm", ""):
        errors = {"password_confirm": gettext("The two passwords are not the same")}
        return await _setup_page(db, interconnect, token, errors, 422)
    try:
        portal = await interconnect.access.complete_setup(db, token, password)
    except ValidationFailed as error:
        return await _setup_page(db, interconnect, token, field_errors(error), 422)
    except (Gone, NotFound) as error:  # the login has a password by now: the page offers to accept with it
        errors = {"password": message_of(error)} if error.code == "password_already_set" else None
        return await _setup_page(db, interconnect, token, errors, error.status)
    return Redirect(f"/p/{portal.slug}/login?{urlencode({'password_set': 1})}")


@get("/p/{slug:str}/{rest:path}", opt=requires("partner.profile", "read"), include_in_schema=False)
async def partner_page_not_found(slug: FromPath[str], rest: FromPath[str]) -> None:
    """Any other address inside a portal: a 404 that keeps the portal around it (a route, so that the
    session is read as for every portal page; the router's own 404 knows nobody)."""
    raise NotFound()


PARTNER_PAGES: list[Any] = [
    partner_portal_router([partner_login_form, partner_login, join_by_code_form, join_by_code], public=True),
    partner_portal_router([switch_workspace]),
    partner_logout,
    join_by_link_form,
    join_by_link,
    setup_form,
    setup_password,
    partner_page_not_found,
]
