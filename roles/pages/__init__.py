"""Roles' pages. The upstream admin console for roles and data permissions: staff and partner roles and their editor,
role templates per partner type, the data permission matrix, sharing rules and staff teams.

Pages call `roles.admin.RoleAdmin` inside the request's unit of work; every change it makes moves the
tenant's policy version, so people have it on their next page. A refused form is re-rendered with its
field errors; everything else goes to the one error mapper.

The package: editor (list, create, edit, delete), partner_rules (templates, data matrix and overrides),
sharing, teams, explain, labels (stored codes and role names as shown) and people (people with their
roles: the enterprise page, a partner's home, colleagues); PAGES lists every page for the roles component.
"""

from __future__ import annotations

from typing import Any

from litestar import Router

from interconnect.dependencies import DEPENDENCIES as INTERCONNECT_DEPENDENCIES
from portal.http.deps import STAFF_DEPENDENCIES
from roles.controllers import DEPENDENCIES as ROLE_DEPENDENCIES
from roles.pages.editor import create_role_page, delete_role_page, role_page, roles_page, update_role_page
from roles.pages.explain import explain_page
from roles.pages.labels import role_description, role_name, roles_label
from roles.pages.partner_rules import (
    data_page,
    remove_data_override_page,
    save_data_matrix_page,
    save_data_override_page,
    save_template_page,
    templates_page,
)
from roles.pages.people import PEOPLE_PAGES
from roles.pages.sharing import add_sharing_page, delete_sharing_page, sharing_page, toggle_sharing_page
from roles.pages.teams import add_team_page, team_members_page, team_regions_page, teams_page
from roles.presets import APP_KEYS

__all__ = ["PAGES", "TEMPLATE_GLOBALS"]

CONSOLE_PAGES: list[Any] = [
    roles_page,
    create_role_page,
    templates_page,
    save_template_page,
    data_page,
    save_data_matrix_page,
    save_data_override_page,
    remove_data_override_page,
    sharing_page,
    add_sharing_page,
    toggle_sharing_page,
    delete_sharing_page,
    teams_page,
    add_team_page,
    explain_page,
    team_members_page,
    team_regions_page,
    role_page,
    update_role_page,
    delete_role_page,
]
PAGES: list[Any] = [
    # the console's pages at their full paths, with the services they take named once for all of them
    Router(
        path="/",
        route_handlers=CONSOLE_PAGES,
        dependencies={
            **ROLE_DEPENDENCIES,
            **STAFF_DEPENDENCIES,
            "links": INTERCONNECT_DEPENDENCIES["links"],
            "programme": INTERCONNECT_DEPENDENCIES["programme"],
        },
    ),
    *PEOPLE_PAGES,
]
TEMPLATE_GLOBALS: dict[str, Any] = {
    "role_name": role_name,
    "role_description": role_description,
    "roles_label": roles_label,
    # roles saved before an app was withdrawn may still name it: pages show only the apps that exist
    "app_keys": APP_KEYS,
}
