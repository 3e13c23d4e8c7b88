"""Console pages for invitations: invitation links and invite codes with their QR codes, create and
revoke."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.dependencies import InvitationsDep, LinksDep, ProgrammeDep
from interconnect.invitations import Invitations, NewInvitation, check_limits
from interconnect.links import LinkFilter, Links
from interconnect.models import Invitation
from interconnect.pages.programme_settings import PARENT_CHOICES, programme_settings, tenant_slug
from interconnect.programme import Programme
from interconnect.services import InterconnectDep
from portal.errors import NotFound, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.permissions import requires
from portal.ui.forms import Form, check_all, form_int, form_uuid, required_uuid, uuid_or_none
from portal.ui.labels import setting_name
from portal.ui.qr import qr_svg
from portal.ui.refusals import field_errors, message_of


@dataclass(frozen=True, slots=True)
class InvitationRow:
    invitation: Invitation
    url: str  # the link to open (an invitation link, or the portal's join page with the code filled in)
    qr: str


async def _invitations_page(
    db: AsyncSession,
    actor: CurrentActor,
    interconnect: InterconnectDep,
    invitations: Invitations,
    links: Links,
    programme: Programme,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    created: uuid.UUID | None = None,
    status_code: int = 200,
) -> Template:
    slug = await tenant_slug(db, actor)
    rows = []
    listed = await invitations.list()
    for invitation in listed:
        if invitation.kind == "link":
            url = interconnect.invitation_url(invitation.tenant_id, invitation.id)
        else:
            url = f"{interconnect.base_url}/p/{slug}/join?{urlencode({'code': invitation.code})}"
        rows.append(InvitationRow(invitation, url, qr_svg(url)))
    choices, _total = await links.search(LinkFilter(exclude_terminated=True), limit=PARENT_CHOICES)
    parent_names = await links.names({i.parent_id for i in listed if i.parent_id})
    settings = await programme_settings(programme)
    return Template(
        "console/partners/invitations.html",
        context={
            "rows": rows,
            "form": form or {"kind": "link"},
            "errors": errors or {},
            "alert": alert,
            "created": created,
            "settings": settings,
            "parents": parent_names,
            "type_options": [(t.id, setting_name(t.name)) for t in settings.types if t.active],
            "tier_options": [(t.id, setting_name(t.name)) for t in settings.tiers],
            "parent_options": [(p.id, p.name) for p in choices],
            "join_page": f"{interconnect.base_url}/p/{slug}/join",
            "section": "invitations",
        },
        status_code=status_code,
    )


@get("/console/partners/invitations", opt=requires("interconnect.invitations", "read"), include_in_schema=False)
async def invitations_page(
    db: DB,
    actor: CurrentActor,
    interconnect: InterconnectDep,
    invitations: InvitationsDep,
    links: LinksDep,
    programme: ProgrammeDep,
    created: FromQuery[str | None] = None,
) -> Template:
    return await _invitations_page(
        db, actor, interconnect, invitations, links, programme, created=uuid_or_none(created)
    )


@post("/console/partners/invitations", opt=requires("interconnect.invitations", "create"), include_in_schema=False)
async def create_invitation_page(
    data: Form,
    db: DB,
    actor: CurrentActor,
    interconnect: InterconnectDep,
    invitations: InvitationsDep,
    links: LinksDep,
    programme: ProgrammeDep,
) -> Template | Redirect:
    """An invitation link (default: one use, 14 days) or an invite code (default: unlimited uses)."""
    form = {k: data.get(k, "").strip() for k in ("kind", "partner_type", "tier", "parent", "max_uses", "days", "note")}
    try:
        async with db.begin_nested():
            read: dict[str, Any] = {}
            check_all(
                lambda: read.setdefault("partner_type", required_uuid(data, "partner_type")),
                lambda: read.setdefault("max_uses", form_int(data, "max_uses")),
                lambda: read.setdefault("days", form_int({"expires_in_days": form["days"]}, "expires_in_days")),
                lambda: check_limits(read.get("max_uses"), read.get("days")),
            )
            invitation = await invitations.create(
                NewInvitation(
                    form["kind"] or "link",
                    read["partner_type"],
                    form_uuid(data, "tier", "tier"),
                    form_uuid(data, "parent", "parent"),
                    read["max_uses"],
                    read["days"],
                    form["note"] or None,
                )
            )
    except ValidationFailed as error:
        errors = {"days" if f == "expires_in_days" else f: m for f, m in field_errors(error).items()}
        return await _invitations_page(
            db, actor, interconnect, invitations, links, programme, form=form, errors=errors, status_code=422
        )
    except NotFound as error:  # the chosen parent enterprise is gone
        return await _invitations_page(
            db,
            actor,
            interconnect,
            invitations,
            links,
            programme,
            form=form,
            errors={"parent": message_of(error)},
            status_code=422,
        )
    return Redirect(f"/console/partners/invitations?created={invitation.id}#invitation-{invitation.id}")


@post(
    "/console/partners/invitations/{invitation_id:uuid}/revoke",
    opt=requires("interconnect.invitations", "update"),
    include_in_schema=False,
)
async def revoke_invitation_page(invitation_id: FromPath[uuid.UUID], invitations: InvitationsDep) -> Redirect:
    await invitations.revoke(invitation_id)
    return Redirect("/console/partners/invitations")
