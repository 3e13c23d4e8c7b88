"""Console pages for what partner types decide: the role template of each partner type (which roles an
enterprise admin may hand out, which new members and new admins get) and the data permission matrix
(each partner type's level per data-scoped partner object, and per-enterprise overrides)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.dependencies import LinksDep, ProgrammeDep
from interconnect.links import LinkFilter, Links
from interconnect.models import EnterpriseLink, PartnerType
from interconnect.pages.programme_settings import PARENT_CHOICES, programme_settings
from interconnect.programme import Programme
from portal.errors import NotFound, ValidationFailed
from portal.http.deps import DB, ServicesDep
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.services import Services
from portal.ui.forms import MultiForm
from portal.ui.refusals import message_of
from roles.admin import RoleAdmin, TemplateRow
from roles.controllers import RoleAdminDep
from roles.models import DATA_LEVELS, DataRule
from roles.pages.labels import errors_of, many, one, parts, roles_label, roles_of_kind, scoped_objects

TEMPLATE_FLAGS = ("assignable", "member_default", "admin_default")


async def active_types(programme: Programme) -> list[PartnerType]:
    return [t for t in (await programme_settings(programme)).types if t.active]


def form_id(data: Mapping[str, Any], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(one(data, name))
    except ValueError:
        raise ValidationFailed.single(name, N_("is not known"), "unknown") from None


# --- Role templates -------------------------------------------------------------------------------


async def _templates_page(
    db: AsyncSession,
    role_admin: RoleAdmin,
    programme: Programme,
    *,
    drafts: dict[uuid.UUID, dict[str, TemplateRow]] | None = None,
    errors: dict[uuid.UUID, dict[str, str]] | None = None,
    saved: uuid.UUID | None = None,
    status_code: int = 200,
) -> Template:
    types = await active_types(programme)
    rows: dict[uuid.UUID, dict[str, TemplateRow]] = {}
    for t in types:
        rows[t.id] = {r.role_key: r for r in await role_admin.templates(t.id)}
    rows.update(drafts or {})
    return Template(
        "console/roles/templates.html",
        context={
            "types": types,
            "rows": rows,
            "roles": await roles_of_kind(db, "external"),
            "errors": errors or {},
            "saved": saved,
            "section": "templates",
        },
        status_code=status_code,
    )


@get("/console/roles/templates", opt=requires("roles", "read"), include_in_schema=False)
async def templates_page(
    db: DB,
    role_admin: RoleAdminDep,
    programme: ProgrammeDep,
    saved: FromQuery[str | None] = None,
) -> Template:
    try:
        saved_id = uuid.UUID(saved) if saved else None
    except ValueError:
        saved_id = None
    return await _templates_page(db, role_admin, programme, saved=saved_id)


@post(
    "/console/roles/templates/{partner_type_id:uuid}",
    opt=requires("roles", "update"),
    include_in_schema=False,
)
async def save_template_page(
    partner_type_id: FromPath[uuid.UUID],
    data: MultiForm,
    db: DB,
    role_admin: RoleAdminDep,
    programme: ProgrammeDep,
) -> Template | Redirect:
    """Checkboxes `assignable`, `member_default`, `admin_default` carry role keys; a role with none of
    them ticked is not in the template."""
    chosen = {flag: set(many(data, flag)) for flag in TEMPLATE_FLAGS}
    keys = sorted(set().union(*chosen.values()))
    rows = [TemplateRow(k, *(k in chosen[flag] for flag in TEMPLATE_FLAGS)) for k in keys]
    try:
        async with db.begin_nested():
            await role_admin.set_templates(partner_type_id, rows)
    except ValidationFailed as error:
        return await _templates_page(
            db,
            role_admin,
            programme,
            drafts={partner_type_id: {r.role_key: r for r in rows}},
            errors={partner_type_id: errors_of(error)},
            status_code=422,
        )
    return Redirect(f"/console/roles/templates?saved={partner_type_id}#type-{partner_type_id}")


# --- Data permissions -----------------------------------------------------------------------------


async def _data_page(
    db: AsyncSession,
    services: Services,
    role_admin: RoleAdmin,
    links: Links,
    programme: Programme,
    *,
    matrix: dict[tuple[str, str], tuple[str, bool]] | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    override_errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    rules = await role_admin.data_rules()
    types = await active_types(programme)
    cells: dict[tuple[str, str], tuple[str, bool]] = {
        (str(r.partner_type_id), r.object): (r.level, r.include_sub_enterprises)
        for r in rules
        if r.partner_type_id is not None
    }
    cells.update(matrix or {})
    overrides = [r for r in rules if r.link_id is not None]
    link_ids = {r.link_id for r in overrides}
    names: dict[uuid.UUID, str] = {}
    if link_ids:
        found = await db.execute(select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(link_ids)))
        names = {link_id: name for link_id, name in found}
    enterprises, _total = await links.search(LinkFilter(exclude_terminated=True), limit=PARENT_CHOICES)
    objects = scoped_objects(services.objects, "external")
    return Template(
        "console/roles/data.html",
        context={
            "types": types,
            "objects": objects,
            "cells": cells,
            "levels": DATA_LEVELS,
            "overrides": overrides,
            "enterprise_names": names,
            "enterprise_options": [(e.id, e.name) for e in enterprises],
            "object_options": [(o.name, gettext(o.label)) for o in objects],
            "level_options": [(level, roles_label("level", level)) for level in DATA_LEVELS],
            "form": form or {},
            "errors": errors or {},
            "override_errors": override_errors or {},
            "notice": notice,
            "section": "data",
        },
        status_code=status_code,
    )


@get("/console/roles/data", opt=requires("roles", "read"), include_in_schema=False)
async def data_page(
    db: DB,
    services: ServicesDep,
    role_admin: RoleAdminDep,
    links: LinksDep,
    programme: ProgrammeDep,
    saved: FromQuery[str | None] = None,
) -> Template:
    notice = gettext("Saved. Partners see the change on their next page.") if saved else None
    return await _data_page(db, services, role_admin, links, programme, notice=notice)


@post("/console/roles/data", opt=requires("roles", "update"), include_in_schema=False)
async def save_data_matrix_page(
    data: MultiForm,
    db: DB,
    services: ServicesDep,
    role_admin: RoleAdminDep,
    links: LinksDep,
    programme: ProgrammeDep,
) -> Template | Redirect:
    """The matrix: a select `level:<partner type id>:<object>` and a checkbox `sub:<partner type id>:<object>`
    per cell; only the cells that changed are written."""
    stored = {
        (str(r.partner_type_id), r.object): (r.level, r.include_sub_enterprises)
        for r in await role_admin.data_rules()
        if r.partner_type_id is not None
    }
    sent: dict[tuple[str, str], tuple[str, bool]] = {}
    for name in data:
        if name.startswith("level:"):
            type_id, obj = parts(name)
            sent[(type_id, obj)] = (one(data, name), bool(one(data, f"sub:{type_id}:{obj}")))
    try:
        async with db.begin_nested():
            for (type_id, obj), (level, sub) in sorted(sent.items()):
                before = stored.get((type_id, obj), ("none", False))
                if (level or "none", sub) == before:
                    continue
                try:
                    partner_type_id = uuid.UUID(type_id)
                except ValueError:
                    raise ValidationFailed.single("partner_type_id", N_("is not known"), "unknown") from None
                await role_admin.set_data_rule(
                    obj, level or None, partner_type_id=partner_type_id, include_sub_enterprises=sub
                )
    except ValidationFailed as error:
        return await _data_page(
            db, services, role_admin, links, programme, matrix=sent, errors=errors_of(error), status_code=422
        )
    return Redirect("/console/roles/data?saved=1")


@post("/console/roles/data/overrides", opt=requires("roles", "update"), include_in_schema=False)
async def save_data_override_page(
    data: MultiForm,
    db: DB,
    services: ServicesDep,
    role_admin: RoleAdminDep,
    links: LinksDep,
    programme: ProgrammeDep,
) -> Template | Redirect:
    """One enterprise's level for one object, instead of its partner type's."""
    form = {k: one(data, k) for k in ("link_id", "object", "level", "sub")}
    try:
        async with db.begin_nested():
            if not form["link_id"]:
                raise ValidationFailed.single("link_id", N_("is required"), "required")
            if not form["level"]:
                raise ValidationFailed.single("level", N_("is required"), "required")
            await role_admin.set_data_rule(
                form["object"],
                form["level"],
                link_id=form_id(data, "link_id"),
                include_sub_enterprises=bool(form["sub"]),
            )
    except ValidationFailed as error:
        return await _data_page(
            db,
            services,
            role_admin,
            links,
            programme,
            form=form,
            override_errors=errors_of(error),
            status_code=422,
        )
    except NotFound as error:
        errors = {"link_id": message_of(error)}
        return await _data_page(
            db, services, role_admin, links, programme, form=form, override_errors=errors, status_code=422
        )
    return Redirect("/console/roles/data?saved=1#overrides")


@post("/console/roles/data/overrides/remove", opt=requires("roles", "update"), include_in_schema=False)
async def remove_data_override_page(
    data: MultiForm,
    db: DB,
    role_admin: RoleAdminDep,
) -> Redirect:
    """Back to the partner type's level for this enterprise."""
    link_id = form_id(data, "link_id")
    obj = one(data, "object")
    found = await db.scalar(select(DataRule.id).where(DataRule.link_id == link_id, DataRule.object == obj))
    if found is None:
        raise NotFound(N_("No such rule"))
    await role_admin.set_data_rule(obj, None, link_id=link_id)
    return Redirect("/console/roles/data?saved=1#overrides")
