"""Seeing the partner portal through one partner user's eyes (optionally as one role only), read-only.

The administrator's own session stays as it is: the preview is a separate session, marked with who
opened it, carried by a cookie the browser sends only under /p/, and refused every write by the guard.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from litestar import post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect
from sqlalchemy import select

from interconnect.access import USER_KIND, active_membership
from portal.db.types import utcnow
from portal.errors import NotFound, ValidationFailed
from portal.http.context import PREVIEW_COOKIE, PREVIEW_PATH
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.identity.sessions import revoke_session
from portal.permissions import SIGNED_IN
from roles.models import Role
from roles.policy import PREVIEW_PERMISSION

PREVIEW_LIFETIME = timedelta(hours=1)
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@post("/console/roles/preview", opt={"permission": PREVIEW_PERMISSION}, include_in_schema=False)
async def start_preview(data: Form, db: DB, actor: CurrentActor, services: ServicesDep) -> Redirect:
    try:
        membership_id = uuid.UUID(str(data.get("membership_id", "")))
    except ValueError:
        raise ValidationFailed.single("membership_id", N_("must be an id"), "invalid") from None
    found = await active_membership(db, membership_id=membership_id)
    if found is None:
        raise NotFound(N_("No such active partner user"))
    role = (data.get("role") or "").strip() or None
    if role is not None and await db.scalar(select(Role.id).where(Role.key == role, Role.kind == "external")) is None:
        raise ValidationFailed.single("role", N_("%(key)s is not a role for this kind of user"), key=role)
    opened = services.sessions.open(db, actor.tenant_id, membership_id, USER_KIND, "web")
    opened.session.preview_by, opened.session.preview_role = actor.user_id, role
    opened.session.expires_at = utcnow() + PREVIEW_LIFETIME
    slug = (await db.scalars(select(Tenant.slug).where(Tenant.id == actor.tenant_id))).one()
    cookie = Cookie(
        key=PREVIEW_COOKIE,
        value=opened.credential,
        max_age=int(PREVIEW_LIFETIME.total_seconds()),
        httponly=True,
        secure=services.settings.secure_cookies,
        samesite="lax",
        path=PREVIEW_PATH,
    )
    return Redirect(f"/p/{slug}/", cookies=[cookie])


@post("/p/{slug:str}/preview/end", opt={"permission": SIGNED_IN}, include_in_schema=False)
async def end_preview(slug: FromPath[str], db: DB, actor: CurrentActor) -> Redirect:
    if actor.preview and actor.session_id is not None:
        await revoke_session(db, actor.session_id, "preview_ended")
    return Redirect("/console/roles", cookies=[Cookie(key=PREVIEW_COOKIE, value="", max_age=0, path=PREVIEW_PATH)])


PREVIEW_PAGES = [start_preview, end_preview]
