"""Roles as a component: its tables, the access policy it installs, its routes, pages and their templates,
and tenant setup."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component
from portal.i18n import N_
from portal.permissions import ProtectedObject
from portal.services import Services
from roles import defaults  # noqa: F401  (registers the default-roles flush hook)
from roles.controllers import ROLE_CONTROLLERS
from roles.pages import PAGES, TEMPLATE_GLOBALS
from roles.policy import RolePolicy
from roles.preview import PREVIEW_PAGES
from roles.seed import seed_roles
from roles.widgets import WIDGETS

HERE = Path(__file__).resolve().parent
OBJECTS = (ProtectedObject("roles", N_("Roles and data permissions"), ("read", "update")),)


def setup(services: Services) -> None:
    services.use_access_policy(RolePolicy(services.objects))


component = Component(
    name="roles",
    order=200,
    model_modules=("roles.models",),
    tenant_setup=seed_roles,
    services_setup=setup,
    objects=OBJECTS,
    route_handlers=[*ROLE_CONTROLLERS, *PREVIEW_PAGES, *PAGES],
    template_dir=HERE / "templates",
    home_widgets=WIDGETS,
    template_globals=TEMPLATE_GLOBALS,
)
