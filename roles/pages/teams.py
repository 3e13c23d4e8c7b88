"""Console pages for the upstream's own staff teams: who a "team" data scope covers, and which regions a
"region" data scope opens to them."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.response import Redirect, Template

from portal.errors import ValidationFailed
from portal.http.deps import DB, StaffDep
from portal.i18n import N_
from portal.identity.accounts import Staff
from portal.permissions import requires
from portal.ui.forms import MultiForm
from roles.admin import RoleAdmin
from roles.controllers import RoleAdminDep
from roles.pages.labels import errors_of, many, one
from roles.pages.partner_rules import form_id

STAFF_CHOICES = 500


async def _teams_page(
    role_admin: RoleAdmin,
    staff: Staff,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    member_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    users, _total = await staff.list(limit=STAFF_CHOICES)
    regions = await role_admin.regions()
    return Template(
        "console/roles/teams.html",
        context={
            "teams": await role_admin.teams(),
            "regions": regions,
            "region_names": {r.id: r.name for r in regions},
            "team_regions": await role_admin.team_regions(),
            "users": users,
            "user_names": {u.id: u.display_name for u in users},
            "form": form or {},
            "errors": errors or {},
            "member_errors": member_errors or {},
            "section": "teams",
        },
        status_code=status_code,
    )


@get("/console/roles/teams", opt=requires("roles", "read"), include_in_schema=False)
async def teams_page(role_admin: RoleAdminDep, staff: StaffDep) -> Template:
    return await _teams_page(role_admin, staff)


@post("/console/roles/teams", opt=requires("roles", "update"), include_in_schema=False)
async def add_team_page(data: MultiForm, db: DB, role_admin: RoleAdminDep, staff: StaffDep) -> Template | Redirect:
    form = {"name": one(data, "name")}
    try:
        async with db.begin_nested():
            team = await role_admin.add_team(form["name"])
    except ValidationFailed as error:
        return await _teams_page(role_admin, staff, form=form, errors=errors_of(error), status_code=422)
    return Redirect(f"/console/roles/teams#team-{team.id}")


@post("/console/roles/teams/members", opt=requires("roles", "update"), include_in_schema=False)
async def team_members_page(data: MultiForm, db: DB, role_admin: RoleAdminDep, staff: StaffDep) -> Template | Redirect:
    """Replace a team's members (`team_id`, checkboxes `user_ids`)."""
    team_id = form_id(data, "team_id")
    try:
        user_ids = [uuid.UUID(v) for v in many(data, "user_ids")]
    except ValueError:
        user_ids = None
    try:
        async with db.begin_nested():
            if user_ids is None:
                raise ValidationFailed.single("user_ids", N_("No such user"), "not_found")
            await role_admin.set_team_members(team_id, user_ids)
    except ValidationFailed as error:
        member_errors = {str(team_id): "; ".join(errors_of(error).values())}
        return await _teams_page(role_admin, staff, member_errors=member_errors, status_code=422)
    return Redirect(f"/console/roles/teams#team-{team_id}")


@post("/console/roles/teams/regions", opt=requires("roles", "update"), include_in_schema=False)
async def team_regions_page(data: MultiForm, db: DB, role_admin: RoleAdminDep, staff: StaffDep) -> Template | Redirect:
    """Replace the regions a team covers (`team_id`, checkboxes `region_ids`)."""
    team_id = form_id(data, "team_id")
    try:
        region_ids = [uuid.UUID(v) for v in many(data, "region_ids")]
    except ValueError:
        region_ids = None
    try:
        async with db.begin_nested():
            if region_ids is None:
                raise ValidationFailed.single("region_ids", N_("No such region"), "not_found")
            await role_admin.set_team_regions(team_id, region_ids)
    except ValidationFailed as error:
        member_errors = {str(team_id): "; ".join(errors_of(error).values())}
        return await _teams_page(role_admin, staff, member_errors=member_errors, status_code=422)
    return Redirect(f"/console/roles/teams#team-{team_id}")
