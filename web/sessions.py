"""The console's page of where the staff member is signed in (/console/sessions): every live session of theirs in
this workspace (browsers, tokens of the API), with a sign-out for each. The same service as `/api/sessions` and the
partner portal's page (portal.identity.signed_in)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.http.context import SESSION_COOKIE
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_, gettext
from portal.identity.signed_in import sessions_of, sign_out_of
from portal.permissions import not_delegated, signed_in

PATH = "/console/sessions"
STAFF = not_delegated(signed_in("internal"))
NOTICES = {"signed-out": N_("That session is signed out.")}


@get(PATH, opt=STAFF, include_in_schema=False)
async def staff_sessions_page(db: DB, actor: CurrentActor, done: FromQuery[str | None] = None) -> Template:
    notice = NOTICES.get(done or "")
    return Template(
        "console/sessions.html",
        context={"sessions": await sessions_of(db, actor), "notice": gettext(notice) if notice else None},
    )


@post(PATH + "/{session_id:uuid}/sign-out", opt=STAFF, include_in_schema=False)
async def staff_sign_out_page(session_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor) -> Redirect:
    await sign_out_of(db, actor, session_id)
    if session_id == actor.session_id:  # this browser's own: off to sign in, its cookie gone
        return Redirect("/login", cookies=[Cookie(key=SESSION_COOKIE, value="", max_age=0, path="/")])
    return Redirect(f"{PATH}?done=signed-out")


PAGES: list[Any] = [Router("/", route_handlers=[staff_sessions_page, staff_sign_out_page])]
