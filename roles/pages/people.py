"""Pages where partner people and their roles meet: the console's enterprise page (its people and the
partner roles they hold), a partner's home (their roles and the apps they may open) and an enterprise
admin's colleagues page (adding people and giving them roles).

They live with roles, not with interconnect's pages, because roles sits above interconnect: the lowest
feature that knows both people and roles.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.dependencies import DEPENDENCIES, LinksDep, PeopleDep, ProgrammeDep
from interconnect.links import Links
from interconnect.models import LINK_TRANSITIONS
from interconnect.pages.partner_portal import JOIN_CONFLICT_FIELDS, new_person, person_form
from interconnect.pages.programme_settings import programme_settings
from interconnect.pages.workspace import CurrentPortal, PortalContext, partner_portal_router
from interconnect.people import People
from interconnect.programme import Programme
from interconnect.services import InterconnectDep
from portal.actor import Actor
from portal.errors import (
    Conflict,
    DomainError,
    NotFound,
    Throttled,
    ValidationFailed,
)
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.identity.signed_in import end_sessions_of
from portal.permissions import requires
from portal.services import Services
from portal.ui.forms import Form, MultiForm, form_values
from portal.ui.refusals import field_errors, message_of, refusal_of
from roles.home import home_of
from roles.models import Role
from roles.pages.labels import role_name
from roles.policy import assignable_roles


async def _enterprise_page(
    db: AsyncSession,
    services: Services,
    links: Links,
    people: People,
    programme: Programme,
    link_id: uuid.UUID,
    *,
    role_error: tuple[uuid.UUID, str] | None = None,
    status_code: int = 200,
) -> Template:
    link = await links.get(link_id)
    members, members_total = await people.list(link.id, limit=200)
    held = await services.permissions.roles_of(db, [m.id for m, _identity in members])
    partner_roles = list(
        await db.scalars(select(Role).where(Role.kind == "external").order_by(Role.preset.desc(), Role.name))
    )
    roles = {
        "held": {m.id: sorted(held.get(m.id, frozenset())) for m, _identity in members},
        "by_key": {r.key: r for r in partner_roles},
        "choices": partner_roles,
        "prefix": f"/console/partners/{link.id}/members/",
        "error_for": role_error[0] if role_error else None,
        "error": role_error[1] if role_error else None,
    }
    return Template(
        "console/partners/enterprise.html",
        context={
            "link": link,
            "parent": await links.get(link.parent_id) if link.parent_id else None,
            "children": await links.children(link.id),
            "history": await links.history_with_names(link.id),
            "members": members,
            "members_total": members_total,
            # the people a preview can be opened as (members are (membership, identity) pairs)
            "active_members": [m for m, _identity in members if m.status == "active"],
            "member_roles": roles,
            "settings": await programme_settings(programme),
            "transitions": LINK_TRANSITIONS.get(link.status, frozenset()),
            "section": "enterprises",
        },
        status_code=status_code,
    )


@get(
    "/console/partners/enterprises/{link_id:uuid}",
    opt=requires("interconnect.enterprises", "read"),
    include_in_schema=False,
)
async def enterprise_page(
    link_id: FromPath[uuid.UUID],
    db: DB,
    services: ServicesDep,
    links: LinksDep,
    people: PeopleDep,
    programme: ProgrammeDep,
) -> Template:
    return await _enterprise_page(db, services, links, people, programme, link_id)


@post(
    "/console/partners/{link_id:uuid}/members/{membership_id:uuid}/roles",
    opt=requires("interconnect.users", "update"),
    include_in_schema=False,
)
async def member_roles_page(
    link_id: FromPath[uuid.UUID],
    membership_id: FromPath[uuid.UUID],
    data: MultiForm,
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
    links: LinksDep,
    people: PeopleDep,
    programme: ProgrammeDep,
) -> Template | Redirect:
    """Replace the partner roles of one person of this enterprise (`roles` checkboxes, or one `role`).
    The upstream may give any partner role; the role template only limits enterprise admins."""
    link = await links.get(link_id)
    membership = await people.get(membership_id, link_id=link.id, only_link=True)
    try:
        async with db.begin_nested():
            await services.permissions.assign(db, actor, membership.id, "external", form_values(data, "roles", "role"))
    except (ValidationFailed, Conflict) as error:
        role_error = (membership.id, refusal_of(error))
        status = error.status
        return await _enterprise_page(
            db, services, links, people, programme, link.id, role_error=role_error, status_code=status
        )
    return Redirect(f"/console/partners/enterprises/{link.id}#person-{membership.id}")


@get("/", opt=requires("partner.profile", "read"), include_in_schema=False)
async def partner_home(
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
    links: LinksDep,
    portal: CurrentPortal,
    welcome: FromQuery[str | None] = None,
) -> Template:
    enterprise = await links.get(actor.enterprise_id) if actor.enterprise_id else None
    roles = list(await db.scalars(select(Role).where(Role.key.in_(actor.roles), Role.kind == "external")))
    return Template(
        "portal/home.html",
        context={
            **portal.frame,
            "enterprise": enterprise,
            "welcome": welcome,
            "roles": sorted(roles, key=role_name),
            "widgets": await home_of(db, actor, services, "web"),
        },
    )


# --- Colleagues (enterprise admins) ---------------------------------------------------------------


async def _colleagues_page(
    db: DB,
    actor: Actor,
    services: Services,
    links: Links,
    people: People,
    portal: PortalContext,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    added: tuple[str, str | None] | None = None,
    role_error: tuple[uuid.UUID, str] | None = None,
    signed_out: int | None = None,
    status_code: int = 200,
) -> Template:
    if actor.enterprise_id is None:
        raise NotFound()
    enterprise = await links.get(actor.enterprise_id)
    members, total = await people.list(actor.enterprise_id, limit=200)
    held = await services.permissions.roles_of(db, [m.id for m, _identity in members])
    partner_roles = {r.key: r for r in await db.scalars(select(Role).where(Role.kind == "external"))}
    offered = await assignable_roles(db, actor.partner_type_id)
    roles = {
        "held": {
            m.id: sorted(held.get(m.id, frozenset()), key=lambda k: role_name(partner_roles.get(k)))
            for m, _i in members
        },
        "by_key": partner_roles,
        "choices": sorted((partner_roles[k] for k in offered if k in partner_roles), key=role_name),
        "prefix": portal.path("colleagues/"),
        "error_for": role_error[0] if role_error else None,
        "error": role_error[1] if role_error else None,
    }
    return Template(
        "portal/colleagues.html",
        context={
            **portal.frame,
            "enterprise": enterprise,
            "people": members,
            "total": total,
            "form": form or {},
            "errors": errors or {},
            "alert": alert,
            "added": added,
            "roles": roles,
            "signed_out": signed_out,
        },
        status_code=status_code,
    )


@get("/colleagues", opt=requires("partner.colleagues", "read"), include_in_schema=False)
async def colleagues_page(
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
    links: LinksDep,
    people: PeopleDep,
    portal: CurrentPortal,
    ended: FromQuery[str | None] = None,
) -> Template:
    """The enterprise's people; `ended`: how many sessions a sign-out everywhere just ended (a count to show,
    read only when it is a small number)."""
    count = int(ended) if ended is not None and ended.isascii() and ended.isdigit() and len(ended) <= 6 else None
    return await _colleagues_page(db, actor, services, links, people, portal, signed_out=count)


@post("/colleagues", opt=requires("partner.colleagues", "create"), include_in_schema=False)
async def add_colleague_page(
    data: Form,
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
    interconnect: InterconnectDep,
    links: LinksDep,
    people: PeopleDep,
    portal: CurrentPortal,
) -> Template:
    """Add a colleague within the quota; a new person gets a one-time set-password link, shown once."""
    form = person_form(data, "title", "admin")
    admin = form["admin"] == "yes"
    page = functools.partial(_colleagues_page, db, actor, services, links, people, portal, form=form)
    try:
        async with db.begin_nested():
            membership, identity, credential = await people.add_colleague(actor, new_person(form), admin=admin)
            handover = (
                None
                if credential is None
                else await interconnect.hand_over(db, membership, identity, credential, by=actor)
            )
    except ValidationFailed as error:
        return await page(errors=field_errors(error), status_code=422)
    except Throttled as error:  # too many invitations sent lately
        return await page(alert=message_of(error), status_code=error.status)
    except Conflict as error:  # quota used up, a person already connected, …
        if error.code in JOIN_CONFLICT_FIELDS:
            return await page(errors={JOIN_CONFLICT_FIELDS[error.code]: message_of(error)}, status_code=409)
        return await page(alert=message_of(error), status_code=error.status)
    added = (form["display_name"], handover.url if handover else None, handover.sent_to if handover else None)
    return await page(form=None, added=added, status_code=201)


@post(
    "/colleagues/{membership_id:uuid}/status",
    opt=requires("partner.colleagues", "update"),
    include_in_schema=False,
)
async def colleague_status_page(
    membership_id: FromPath[uuid.UUID],
    data: Form,
    db: DB,
    actor: CurrentActor,
    people: PeopleDep,
    portal: CurrentPortal,
) -> Redirect:
    """Disable (ends their sessions at once) or enable a colleague of one's own enterprise."""
    await people.set_colleague_status(actor, membership_id, data.get("status", ""))
    return Redirect(portal.path("colleagues"))


@post(
    "/colleagues/{membership_id:uuid}/sign-out",
    opt=requires("partner.colleagues", "update"),
    include_in_schema=False,
)
async def colleague_sign_out_page(
    membership_id: FromPath[uuid.UUID], db: DB, actor: CurrentActor, people: PeopleDep, portal: CurrentPortal
) -> Redirect:
    """Sign a colleague of one's own enterprise out of this workspace everywhere (they may sign in again)."""
    membership = await people.colleague(actor, membership_id)
    ended = await end_sessions_of(db, membership)
    return Redirect(portal.path("colleagues") + f"?ended={ended}#person-{membership.id}")


@post(
    "/colleagues/{membership_id:uuid}/roles",
    opt=requires("partner.colleagues", "update"),
    include_in_schema=False,
)
async def colleague_roles_page(
    membership_id: FromPath[uuid.UUID],
    data: MultiForm,
    db: DB,
    actor: CurrentActor,
    services: ServicesDep,
    links: LinksDep,
    people: PeopleDep,
    portal: CurrentPortal,
) -> Template | Redirect:
    """Change a colleague's roles among those the partner type's template lets an enterprise admin give
    (`roles` checkboxes, or one `role`). Roles the manufacturer gave outside the template stay."""
    if actor.enterprise_id is None:
        raise NotFound()
    membership = await people.get(membership_id, link_id=actor.enterprise_id, only_link=True)
    try:
        async with db.begin_nested():
            await services.permissions.assign(db, actor, membership.id, "external", form_values(data, "roles", "role"))
    except DomainError as error:  # refused: not in the template, one's own roles, …
        role_error = (membership.id, refusal_of(error))
        return await _colleagues_page(
            db, actor, services, links, people, portal, role_error=role_error, status_code=error.status
        )
    return Redirect(portal.path("colleagues") + f"#person-{membership.id}")


PEOPLE_PAGES: list[Any] = [
    # the console's pages at their full paths, with interconnect's services named once for both
    Router(path="/", route_handlers=[enterprise_page, member_roles_page], dependencies=DEPENDENCIES),
    partner_portal_router(
        [
            partner_home,
            colleagues_page,
            add_colleague_page,
            colleague_status_page,
            colleague_sign_out_page,
            colleague_roles_page,
        ],
        dependencies=DEPENDENCIES,
    ),
]
