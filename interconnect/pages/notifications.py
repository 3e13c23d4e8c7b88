"""The partner portal's notification pages: the signed-in person's inbox and preferences at
/p/{slug}/notifications, and resetting a forgotten password from the portal's sign-in page
(/p/{slug}/login/forgot, then the emailed link /p/{slug}/reset/{token})."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from interconnect.services import InterconnectDep
from portal.errors import DomainError, Gone, NotFound, Throttled, ValidationFailed
from portal.http.context import sign_in_client
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.i18n import current_language
from portal.permissions import public, signed_in
from portal.ui.forms import Form, MultiForm, form_values
from portal.ui.paging import page_number, paging
from portal.ui.refusals import field_errors, message_of

PAGE_SIZE = 20
PARTNER = signed_in("external")


@get("/notifications", opt=PARTNER, include_in_schema=False)
async def partner_inbox(
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
    portal: CurrentPortal,
    unread_only: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    inbox = services.notifications.inbox(db, actor)
    number = page_number(page)
    entries, total = await inbox.list(
        current_language(), unread_only=bool(unread_only), limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    base = portal.path("notifications")
    return Template(
        "portal/notifications/inbox.html",
        context={
            **portal.frame,
            "entries": entries,
            "total": total,
            "unread": await inbox.unread(),
            "unread_only": bool(unread_only),
            "paging": paging(base, {"unread_only": unread_only}, number, total, PAGE_SIZE),
            "base": base,
        },
    )


@post("/notifications/{notification_id:uuid}/read", opt=PARTNER, include_in_schema=False)
async def partner_mark_read(
    notification_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor, services: ServicesDep, portal: CurrentPortal
) -> Redirect:
    await services.notifications.inbox(db, actor).mark_read(notification_id)
    return Redirect(portal.path("notifications"))


@post("/notifications/read-all", opt=PARTNER, include_in_schema=False)
async def partner_mark_all_read(db: DB, actor: CurrentActor, services: ServicesDep, portal: CurrentPortal) -> Redirect:
    await services.notifications.inbox(db, actor).mark_all_read()
    return Redirect(portal.path("notifications"))


@get("/notifications/preferences", opt=PARTNER, include_in_schema=False)
async def partner_preferences(
    db: DB, actor: CurrentActor, services: ServicesDep, portal: CurrentPortal, saved: FromQuery[str | None] = None
) -> Template:
    return Template(
        "portal/notifications/preferences.html",
        context={
            **portal.frame,
            "choices": await services.notifications.preferences(db, actor).choices(),
            "configured": await services.notifications.offered(db, "external"),
            "base": portal.path("notifications"),
            "saved": bool(saved),
        },
    )


@post("/notifications/preferences", opt=PARTNER, include_in_schema=False)
async def partner_save_preferences(
    data: MultiForm, db: DB, actor: CurrentActor, services: ServicesDep, portal: CurrentPortal
) -> Redirect:
    await services.notifications.preferences(db, actor).save(set(form_values(data, "on")))
    return Redirect(portal.path("notifications/preferences?saved=1"))


# --- Forgotten password ------------------------------------------------------------------------


@get("/login/forgot", opt=public(), include_in_schema=False)
async def partner_forgot_form(services: ServicesDep, portal: CurrentPortal) -> Template:
    return Template(
        "portal/forgot.html",
        context={**portal.frame, "form": {}, "sent": False, "error": None, "channels": services.notifications.channels},
    )


@post("/login/forgot", opt=public(), include_in_schema=False)
async def partner_forgot(
    data: Form,
    db: DB,
    services: ServicesDep,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
    request: Request[Any, Any, Any],
) -> Template:
    form = {"login": data.get("login", "").strip()}
    context: dict[str, Any] = {
        **portal.frame,
        "form": form,
        "sent": False,
        "error": None,
        "channels": services.notifications.channels,
    }
    try:
        target = await interconnect.resets.ask(db, portal.workspace.tenant_id, form["login"], sign_in_client(request))
    except Throttled as error:
        context["error"] = message_of(error)
        return Template(
            "portal/forgot.html", context=context, status_code=429, headers={"Retry-After": str(error.retry_after)}
        )
    context["sent"] = True
    # the link is made and sent after the answer, which so takes the same time for any login
    background = None if target is None else BackgroundTask(interconnect.resets.send, target)
    return Template("portal/forgot.html", context=context, background=background)


def _reset_refused(portal: CurrentPortal, error: DomainError) -> Template:
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else None
    return Template(
        "portal/reset.html",
        context={**portal.frame, "error": message_of(error), "token": None},
        status_code=error.status,
        headers=headers,
    )


@get("/reset/{token:str}", opt=public(), include_in_schema=False)
async def partner_reset_form(
    token: FromPath[str],
    db: DB,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
    request: Request[Any, Any, Any],
) -> Template:
    try:
        await interconnect.resets.check(db, portal.workspace.tenant_id, token, sign_in_client(request))
    except (NotFound, Gone, Throttled) as error:
        return _reset_refused(portal, error)
    return Template("portal/reset.html", context={**portal.frame, "token": token, "errors": {}, "error": None})


@post("/reset/{token:str}", opt=public(), include_in_schema=False)
async def partner_reset(
    token: FromPath[str],
    data: Form,
    db: DB,
    interconnect: InterconnectDep,
    portal: CurrentPortal,
    request: Request[Any, Any, Any],
) -> Template:
    client = sign_in_client(request)
    try:
        await interconnect.resets.complete(db, portal.workspace.tenant_id, token, data.get("password", ""), client)
    except ValidationFailed as error:
        return Template(
            "portal/reset.html",
            context={**portal.frame, "token": token, "errors": field_errors(error), "error": None},
            status_code=422,
        )
    except (NotFound, Gone, Throttled) as error:
        return _reset_refused(portal, error)
    return Template("portal/reset.html", context={**portal.frame, "done": True, "token": None, "error": None})


NOTIFICATION_PAGES: list[Any] = [
    partner_portal_router(
        [partner_inbox, partner_mark_read, partner_mark_all_read, partner_preferences, partner_save_preferences]
    ),
    partner_portal_router([partner_forgot_form, partner_forgot, partner_reset_form, partner_reset], public=True),
]
