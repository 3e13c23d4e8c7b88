"""The partner portal's page of where the person is signed in (/p/{slug}/sessions): every live session of theirs
in this workspace, on every channel, with a sign-out for each. The same service as `/api/partner/sessions`."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from portal.errors import PermissionDenied
from portal.http.context import SESSION_COOKIE
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_, gettext
from portal.identity.signed_in import sessions_of, sign_out_of
from portal.permissions import signed_in

PARTNER = signed_in("external")
NOTICES = {"signed-out": N_("That session is signed out.")}


@get("/sessions", opt=PARTNER, include_in_schema=False)
async def sessions_page(
    db: DB, actor: CurrentActor, portal: CurrentPortal, done: FromQuery[str | None] = None
) -> Template:
    notice = NOTICES.get(done or "")
    return Template(
        "portal/sessions.html",
        context={
            **portal.frame,
            "sessions": await sessions_of(db, actor),
            "notice": gettext(notice) if notice else None,
        },
    )


@post("/sessions/{session_id:uuid}/sign-out", opt=PARTNER, include_in_schema=False)
async def sign_out_page(
    session_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor, portal: CurrentPortal
) -> Redirect:
    if actor.preview:
        raise PermissionDenied(N_("This is a read-only preview"), code="preview_read_only")
    await sign_out_of(db, actor, session_id)
    if session_id == actor.session_id:  # this browser's own: off to sign in, its cookie gone
        return Redirect(portal.path("login"), cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])
    return Redirect(portal.path("sessions?done=signed-out"))


SESSION_PAGES: list[Any] = [partner_portal_router([sessions_page, sign_out_page])]
