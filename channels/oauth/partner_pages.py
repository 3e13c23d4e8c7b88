"""The partner portal's page of the applications a person is signed in to (`/p/<workspace>/apps`), with a
sign-out for each: the same services as `/api/partner/oauth-grants`."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from channels.oauth.grants import grants_of, sign_out_of
from channels.oauth.scopes import scope_label
from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from portal.errors import PermissionDenied
from portal.http.deps import DB, CurrentActor
from portal.i18n import N_, gettext
from portal.permissions import signed_in


@get("/apps", opt=signed_in("external"), include_in_schema=False)
async def apps_page(db: DB, actor: CurrentActor, portal: CurrentPortal, done: FromQuery[str | None] = None) -> Template:
    grants = await grants_of(db, actor)
    return Template(
        "channels/portal/apps.html",
        context={
            **portal.frame,
            "grants": grants,
            "scope_labels": {s: scope_label(s) for g in grants for s in g.scopes},
            "notice": gettext(N_("You are signed out of the application.")) if done == "signed-out" else None,
        },
    )


@post("/apps/{grant_id:uuid}/sign-out", opt=signed_in("external"), include_in_schema=False)
async def sign_out_page(grant_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor, portal: CurrentPortal) -> Redirect:
    if actor.preview:
        raise PermissionDenied(N_("This is a read-only preview"), code="preview_read_only")
    await sign_out_of(db, actor, grant_id)
    return Redirect(portal.path("apps?done=signed-out"))


PAGES = [partner_portal_router([apps_page, sign_out_page])]
