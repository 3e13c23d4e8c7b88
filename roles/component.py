"""Roles as a component: its tables, the access policy it installs, its routes, pages and their templates,
and tenant setup."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component
from portal.i18n import N_
from portal.permissions import ProtectedObject
from portal.services import Services
from roles import defaults  # noqa: F401  (registers the default-roles flush hook)
from roles.approvals import component as approvals
from roles.controllers import ROLE_CONTROLLERS
from roles.pages import PAGES, TEMPLATE_GLOBALS
from roles.policy import RolePolicy
from roles.preview import PREVIEW_PAGES
from roles.seed import seed_roles
from roles.widgets import WIDGETS

HERE = Path(__file__).resolve().parent
OBJECTS = (ProtectedObject("roles", N_("Roles and data permissions"), ("read", "update")), *approvals.OBJECTS)


def setup(services: Services) -> None:
    services.use_access_policy(RolePolicy(services.objects))
    approvals.setup(services)


component = Component(
    name="roles",
    order=200,
    model_modules=("roles.models", *approvals.MODEL_MODULES),
    tenant_setup=seed_roles,
    services_setup=setup,
    objects=OBJECTS,
    route_handlers=[*ROLE_CONTROLLERS, *PREVIEW_PAGES, *PAGES, *approvals.ROUTES],
    template_dir=HERE / "templates",
    home_widgets=WIDGETS,
    template_globals={**TEMPLATE_GLOBALS, **approvals.TEMPLATE_GLOBALS},
    # the approvals engine (roles/approvals): notices to approvers when a step becomes theirs, and to who
    # edits flows when a waiting step's person can no longer take it
    notification_kinds=approvals.NOTIFICATION_KINDS,
    subscribers=approvals.NOTICE_SUBSCRIBERS,
    jobs=approvals.JOBS,
)
