"""Console pages for sharing rules: records of a partner object matching a condition, shared with an
enterprise, a partner type, a tier or the holders of a partner role, for viewing or also for changing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.dependencies import LinksDep, ProgrammeDep
from interconnect.links import LinkFilter, Links
from interconnect.pages.programme_settings import PARENT_CHOICES, programme_settings
from interconnect.programme import Programme
from portal.errors import NotFound, ValidationFailed
from portal.http.deps import DB, ServicesDep
from portal.i18n import N_, gettext
from portal.permissions import requires
from portal.services import Services
from portal.ui.forms import MultiForm
from portal.ui.labels import setting_name
from roles.admin import RoleAdmin, SharingSpec
from roles.controllers import RoleAdminDep
from roles.models import RECORD_ACCESS, SHARING_OPERATORS, SHARING_TARGETS, SharingRule
from roles.pages.labels import (
    errors_of,
    object_columns,
    one,
    role_name,
    roles_label,
    roles_of_kind,
    scoped_objects,
)
from roles.pages.partner_rules import form_id

FORM_FIELDS = ("name", "object", "field", "operator", "value", "target", "access", "active")


def spec_of(form: Mapping[str, str]) -> SharingSpec:
    """The form's target is one select of "<kind>:<id or role key>"; a separate `target_kind` wins."""
    kind = form.get("target_kind", "")
    target = form["target"]
    if not kind:
        kind, _sep, target = target.partition(":")
    value: Any = form["value"]
    if form["operator"] == "in":
        value = [v.strip() for v in value.split(",") if v.strip()]
    return SharingSpec(
        name=form["name"],
        object=form["object"],
        field=form["field"],
        operator=form["operator"],
        value=value,
        target_kind=kind,
        target=target,
        access=form["access"] or "read",
        active=form["active"] == "yes",
    )


def value_text(rule: SharingRule) -> str:
    return ", ".join(str(v) for v in rule.value) if isinstance(rule.value, list) else str(rule.value)


async def _sharing_page(
    db: AsyncSession,
    services: Services,
    role_admin: RoleAdmin,
    links: Links,
    programme: Programme,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    settings = await programme_settings(programme)
    enterprises, _total = await links.search(LinkFilter(exclude_terminated=True), limit=PARENT_CHOICES)
    partner_roles = await roles_of_kind(db, "external")
    targets = {
        "enterprise": [(str(e.id), e.name) for e in enterprises],
        "partner_type": [(str(t.id), setting_name(t.name)) for t in settings.types],
        "tier": [(str(t.id), setting_name(t.name)) for t in settings.tiers],
        "role": [(r.key, role_name(r)) for r in partner_roles],
    }
    target_names = {(kind, value): text for kind, pairs in targets.items() for value, text in pairs}
    objects = scoped_objects(services.objects, "external")
    return Template(
        "console/roles/sharing.html",
        context={
            "rules": await role_admin.sharing_rules(),
            "objects": objects,
            "columns": {o.name: object_columns(o) for o in objects},
            "labels": {o.name: o.label for o in services.objects.values()},
            "object_options": [(o.name, gettext(o.label)) for o in objects],
            "operator_options": [(op, roles_label("operator", op)) for op in SHARING_OPERATORS],
            "access_options": [(a, roles_label("access", a)) for a in RECORD_ACCESS],
            "target_kinds": SHARING_TARGETS,
            "targets": targets,
            "target_names": target_names,
            "value_text": value_text,
            "form": form or {"active": "yes", "access": "read", "operator": "eq"},
            "errors": errors or {},
            "section": "sharing",
        },
        status_code=status_code,
    )


@get("/console/roles/sharing", opt=requires("roles", "read"), include_in_schema=False)
async def sharing_page(
    db: DB,
    services: ServicesDep,
    role_admin: RoleAdminDep,
    links: LinksDep,
    programme: ProgrammeDep,
) -> Template:
    return await _sharing_page(db, services, role_admin, links, programme)


@post("/console/roles/sharing", opt=requires("roles", "update"), include_in_schema=False)
async def add_sharing_page(
    data: MultiForm,
    db: DB,
    services: ServicesDep,
    role_admin: RoleAdminDep,
    links: LinksDep,
    programme: ProgrammeDep,
) -> Template | Redirect:
    form = {k: one(data, k) for k in (*FORM_FIELDS, "target_kind")}
    try:
        async with db.begin_nested():
            await role_admin.add_sharing_rule(spec_of(form))
    except ValidationFailed as error:
        errors = errors_of(error)
        if "target_kind" in errors:  # the page chooses kind and target in one select
            errors["target"] = "; ".join(filter(None, (errors.pop("target_kind"), errors.get("target"))))
        return await _sharing_page(
            db, services, role_admin, links, programme, form=form, errors=errors, status_code=422
        )
    return Redirect("/console/roles/sharing")


@post("/console/roles/sharing/toggle", opt=requires("roles", "update"), include_in_schema=False)
async def toggle_sharing_page(
    data: MultiForm,
    role_admin: RoleAdminDep,
) -> Redirect:
    """Switch a rule on or off (`rule_id`), keeping everything else of it."""
    rule_id = form_id(data, "rule_id")
    rule = next((r for r in await role_admin.sharing_rules() if r.id == rule_id), None)
    if rule is None:
        raise NotFound(N_("No such sharing rule"))
    kept = {k: getattr(rule, k) for k in SharingSpec.__slots__}
    await role_admin.update_sharing_rule(rule_id, SharingSpec(**{**kept, "active": not rule.active}))
    return Redirect("/console/roles/sharing")


@post("/console/roles/sharing/delete", opt=requires("roles", "update"), include_in_schema=False)
async def delete_sharing_page(
    data: MultiForm,
    role_admin: RoleAdminDep,
) -> Redirect:
    await role_admin.delete_sharing_rule(form_id(data, "rule_id"))
    return Redirect("/console/roles/sharing")
