"""The upstream admin console for roles and data permissions: staff and partner roles and their editor,
role templates per partner type, the data permission matrix, sharing rules and staff teams.

Pages call `roles.admin.RoleAdmin` inside the request's unit of work; every change it makes moves the
tenant's policy version, so people have it on their next page. A refused form is re-rendered with its
field errors; everything else goes to the one error mapper.

The package: editor (list, create, edit, delete), partner_rules (templates, data matrix and overrides),
sharing, teams and shared; CONSOLE_ROLE_PAGES lists every page for the web component.
"""

from __future__ import annotations

from typing import Any

from web.console.roles.editor import create_role_page, delete_role_page, role_page, roles_page, update_role_page
from web.console.roles.explain import explain_page
from web.console.roles.partner_rules import (
    data_page,
    remove_data_override_page,
    save_data_matrix_page,
    save_data_override_page,
    save_template_page,
    templates_page,
)
from web.console.roles.shared import role_description, role_name, roles_label
from web.console.roles.sharing import add_sharing_page, delete_sharing_page, sharing_page, toggle_sharing_page
from web.console.roles.teams import add_team_page, team_members_page, teams_page

__all__ = ["CONSOLE_ROLE_PAGES", "role_description", "role_name", "roles_label"]

CONSOLE_ROLE_PAGES: list[Any] = [
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
    role_page,
    update_role_page,
    delete_role_page,
]
