"""The console's notification pages: the signed-in staff member's inbox and preferences, and the
template preview (every kind in each language, rendered with sample values)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.i18n import current_language
from portal.notifications.render import LANGUAGES
from portal.permissions import requires, signed_in
from portal.ui.forms import MultiForm, form_values
from portal.ui.paging import page_number, paging

PAGE_SIZE = 20
BASE = "/console/notifications"
STAFF = signed_in("internal")


@get(BASE, opt=STAFF, include_in_schema=False)
async def inbox_page(
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
    request: Request[Any, Any, Any],
    unread_only: FromQuery[str | None] = None,
    page: FromQuery[str | None] = None,
) -> Template:
    inbox = services.notifications.inbox(db, actor)
    number = page_number(page)
    entries, total = await inbox.list(
        current_language(), unread_only=bool(unread_only), limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE
    )
    return Template(
        "console/notifications/inbox.html",
        context={
            "entries": entries,
            "total": total,
            "unread": await inbox.unread(),
            "unread_only": bool(unread_only),
            "paging": paging(BASE, {"unread_only": unread_only}, number, total, PAGE_SIZE),
            "base": BASE,
        },
    )


@post(BASE + "/{notification_id:uuid}/read", opt=STAFF, include_in_schema=False)
async def mark_read(
    notification_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor, services: ServicesDep
) -> Redirect:
    await services.notifications.inbox(db, actor).mark_read(notification_id)
    return Redirect(BASE)


@post(BASE + "/read-all", opt=STAFF, include_in_schema=False)
async def mark_all_read(db: DB, actor: CurrentActor, services: ServicesDep) -> Redirect:
    await services.notifications.inbox(db, actor).mark_all_read()
    return Redirect(BASE)


@get(BASE + "/preferences", opt=STAFF, include_in_schema=False)
async def preferences_page(
    db: DB, actor: CurrentActor, services: ServicesDep, saved: FromQuery[str | None] = None
) -> Template:
    return Template(
        "console/notifications/preferences.html",
        context={
            "choices": await services.notifications.preferences(db, actor).choices(),
            "configured": await services.notifications.offered(db, "internal"),
            "base": BASE,
            "saved": bool(saved),
        },
    )


@post(BASE + "/preferences", opt=STAFF, include_in_schema=False)
async def save_preferences(data: MultiForm, db: DB, actor: CurrentActor, services: ServicesDep) -> Redirect:
    await services.notifications.preferences(db, actor).save(set(form_values(data, "on")))
    return Redirect(BASE + "/preferences?saved=1")


@get("/console/notifications/templates", opt=requires("workspace", "read"), include_in_schema=False)
async def template_preview(
    services: ServicesDep, kind: FromQuery[str | None] = None, language: FromQuery[str | None] = None
) -> Template:
    """Every kind of notification, and one of them rendered in one language with its sample values,
    as the email (subject, text, HTML), the SMS and the inbox entry."""
    notifier = services.notifications
    kinds = notifier.kinds.all()
    chosen = notifier.kinds.get(kind or "") or (kinds[0] if kinds else None)
    lang = language if language in LANGUAGES else current_language()
    rendered = None
    if chosen is not None:
        sample = dict(chosen.sample)
        if chosen.security:
            sample.setdefault("link", f"{services.settings.base_url}/…/sample-one-time-link")
        rendered = notifier.renderer.render(chosen, lang, sample)
    return Template(
        "console/notifications/templates.html",
        context={
            "kinds": kinds,
            "chosen": chosen,
            "language": lang,
            "languages": LANGUAGES,
            "rendered": rendered,
            "section": "settings",
        },
    )


PAGES = [
    Router(
        "/",
        route_handlers=[inbox_page, mark_read, mark_all_read, preferences_page, save_preferences, template_preview],
    )
]
