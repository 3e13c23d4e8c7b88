"""Console pages for the roles themselves: the list of staff and partner roles, creating a role, and the
role editor (name, partner apps, grants, field rules, staff data scopes, included roles, delete)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from portal.errors import Conflict, ValidationFailed
from portal.home import CHANNELS
from portal.http.deps import DB, ServicesDep
from portal.i18n import N_, gettext
from portal.permissions import ANY, requires
from portal.services import Services
from portal.ui.forms import MultiForm
from portal.ui.refusals import message_of
from roles.admin import RoleAdmin, RoleSpec, RoleView
from roles.controllers import RoleAdminDep
from roles.models import INTERNAL_SCOPES, ROLE_KINDS
from roles.pages.labels import (
    RESERVED_KEYS,
    action_columns,
    audience_objects,
    errors_of,
    flat,
    many,
    one,
    parts,
    scoped_objects,
)
from roles.presets import PARTNER_APPS

FIELD_CHOICES = ("read_write", "read_only", "hidden")


# --- The list of roles and creating one -----------------------------------------------------------


async def _list_page(
    role_admin: RoleAdmin,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    views = await role_admin.list()
    return Template(
        "console/roles/list.html",
        context={
            "staff_roles": [v for v in views if v.role.kind == "internal"],
            "partner_roles": [v for v in views if v.role.kind == "external"],
            "form": form or {"kind": "internal"},
            "errors": errors or {},
            "kinds": ROLE_KINDS,
            "section": "roles",
        },
        status_code=status_code,
    )


@get("/console/roles", opt=requires("roles", "read"), include_in_schema=False)
async def roles_page(role_admin: RoleAdminDep) -> Template:
    return await _list_page(role_admin)


@post("/console/roles", opt=requires("roles", "update"), include_in_schema=False)
async def create_role_page(data: MultiForm, db: DB, role_admin: RoleAdminDep) -> Template | Redirect:
    form = flat(data, ("key", "name", "kind"))
    form["key"] = form["key"].lower()
    try:
        if form["key"] in RESERVED_KEYS:
            raise ValidationFailed.single("key", N_("is reserved; choose another key"), "reserved")
        async with db.begin_nested():
            await role_admin.create(form["key"], form["kind"], RoleSpec(name=form["name"]))
    except ValidationFailed as error:
        return await _list_page(role_admin, form, errors_of(error), 422)
    return Redirect(f"/console/roles/{form['key']}?created=1")


# --- The role editor ------------------------------------------------------------------------------


@dataclass
class Draft:
    """What the editor shows: the stored role, or what was sent when it was refused."""

    name: str
    description: str
    apps: set[str] = field(default_factory=set)
    grants: set[tuple[str, str]] = field(default_factory=set)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    scopes: dict[str, str] = field(default_factory=dict)
    includes: set[str] = field(default_factory=set)
    # partner roles: the composed channels' widget keys in order (a channel left out: not composed)
    home: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, view: RoleView) -> Draft:
        return cls(
            name=view.role.name,
            description=view.role.description or "",
            apps=set(view.role.apps or ()),
            grants=set(view.grants),
            fields={o: dict(rules) for o, rules in view.fields.items()},
            scopes=dict(view.scopes),
            includes=set(view.includes),
            home={channel: list(keys) for channel, keys in (view.role.home or {}).items()},
        )

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> Draft:
        """The editor's form: `grant` values "object:action", `field:<object>:<field>` selects,
        `scope:<object>` selects, `apps` and `includes` checkboxes."""
        grants = set()
        for value in many(data, "grant"):
            obj, _sep, action = value.rpartition(":")
            if obj and action:
                grants.add((obj, action))
        fields: dict[str, dict[str, str]] = {}
        scopes: dict[str, str] = {}
        for name in data:
            if name.startswith("field:"):
                obj, field_name = parts(name)
                access = one(data, name)
                if obj and field_name and access and access != "read_write":
                    fields.setdefault(obj, {})[field_name] = access
            elif name.startswith("scope:"):
                scope = one(data, name)
                if scope:
                    scopes[name.removeprefix("scope:")] = scope
        return cls(
            name=one(data, "name"),
            description=one(data, "description"),
            apps=set(many(data, "apps")),
            grants=grants,
            fields=fields,
            scopes=scopes,
            includes=set(many(data, "includes")),
            home=home_of_form(data),
        )

    def spec(self, kind: str) -> RoleSpec:
        external = kind == "external"
        return RoleSpec(
            name=self.name,
            description=self.description,
            apps=sorted(self.apps) if external else None,
            grants=sorted(self.grants),
            fields=self.fields,
            scopes=None if external else self.scopes,
            includes=sorted(self.includes),
            home=self.home if external else None,
        )


def home_of_form(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The home section: `compose:<channel>` checked composes that channel, from the `home:<channel>:<key>`
    position selects (a widget without a position is not shown; equal positions keep the list's order)."""
    home: dict[str, list[str]] = {}
    for channel in CHANNELS:
        if not one(data, f"compose:{channel}"):
            continue
        placed = []
        for name in data:
            prefix = f"home:{channel}:"
            position = one(data, name) if name.startswith(prefix) else ""
            if position.isdigit():
                placed.append((int(position), len(placed), name.removeprefix(prefix)))
        home[channel] = [key for _position, _seen, key in sorted(placed)]
    return home


async def _editor_page(
    services: Services,
    role_admin: RoleAdmin,
    key: str,
    *,
    draft: Draft | None = None,
    errors: dict[str, str] | None = None,
    alert: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    views = await role_admin.list()
    view = next((v for v in views if v.role.key == key), None)
    if view is None:
        await role_admin.get(key)  # raises the readable "No such role"
    assert view is not None
    role = view.role
    objects = audience_objects(services.objects, role.kind)
    return Template(
        "console/roles/edit.html",
        context={
            "view": view,
            "role": role,
            "draft": draft or Draft.of(view),
            "objects": objects,
            "columns": action_columns(objects),
            "field_objects": [o for o in objects if o.fields],
            "field_choices": FIELD_CHOICES,
            "scope_objects": [] if role.kind == "external" else scoped_objects(services.objects, "internal"),
            "scope_choices": ("", *INTERNAL_SCOPES),
            "include_choices": [v.role for v in views if v.role.kind == role.kind and v.role.key != role.key],
            "apps": PARTNER_APPS,
            "channels": CHANNELS if role.kind == "external" else (),
            "widgets": list(services.home_widgets.values()),
            "any": ANY,
            "errors": errors or {},
            "alert": alert,
            "notice": notice,
            "section": "roles",
        },
        status_code=status_code,
    )


@get("/console/roles/{key:str}", opt=requires("roles", "read"), include_in_schema=False)
async def role_page(
    key: FromPath[str],
    services: ServicesDep,
    role_admin: RoleAdminDep,
    saved: FromQuery[str | None] = None,
    created: FromQuery[str | None] = None,
) -> Template:
    notice = None
    if created:
        notice = gettext("The role was created. Choose what it may do, then save.")
    elif saved:
        notice = gettext("Saved. People holding this role have the change on their next page.")
    return await _editor_page(services, role_admin, key, notice=notice)


@post("/console/roles/{key:str}", opt=requires("roles", "update"), include_in_schema=False)
async def update_role_page(
    key: FromPath[str], data: MultiForm, db: DB, services: ServicesDep, role_admin: RoleAdminDep
) -> Template | Redirect:
    role = (await role_admin.get(key)).role
    draft = Draft.read(data)
    try:
        async with db.begin_nested():
            await role_admin.update(role.key, draft.spec(role.kind))
    except ValidationFailed as error:
        page_errors = errors_of(error)
        return await _editor_page(services, role_admin, role.key, draft=draft, errors=page_errors, status_code=422)
    except Conflict as error:  # the administrator role keeps every permission
        alert = message_of(error)
        return await _editor_page(services, role_admin, role.key, draft=draft, alert=alert, status_code=error.status)
    return Redirect(f"/console/roles/{role.key}?saved=1")


@post("/console/roles/{key:str}/delete", opt=requires("roles", "update"), include_in_schema=False)
async def delete_role_page(
    key: FromPath[str], db: DB, services: ServicesDep, role_admin: RoleAdminDep
) -> Template | Redirect:
    try:
        async with db.begin_nested():
            await role_admin.delete(key)
    except Conflict as error:  # a preset role, or people still hold it
        alert = message_of(error)
        return await _editor_page(services, role_admin, key, alert=alert, status_code=error.status)
    return Redirect("/console/roles")
