"""Interconnect as a component: its models, routes, pages and their templates, grants, tenant setup,
session loader and demo."""

from __future__ import annotations

from pathlib import Path

from interconnect.announcements.api import CONTROLLERS as ANNOUNCEMENT_CONTROLLERS
from interconnect.announcements.pages import PAGES as ANNOUNCEMENT_PAGES
from interconnect.announcements.widget import WIDGETS
from interconnect.cli import register_cli
from interconnect.controllers import ADMIN_CONTROLLERS
from interconnect.demo import load_partners
from interconnect.expiry import EXPIRY
from interconnect.import_controllers import IMPORT_CONTROLLERS
from interconnect.imports import STALE_IMPORTS
from interconnect.imports import SUBSCRIBER as IMPORTS
from interconnect.notices import KINDS as NOTIFICATION_KINDS
from interconnect.notices import SUBSCRIBERS
from interconnect.pages import PAGES, TEMPLATE_GLOBALS
from interconnect.partner_controllers import PARTNER_CONTROLLERS
from interconnect.programme import seed_programme
from interconnect.services import DEPENDENCIES, setup
from portal.components import Component
from portal.i18n import N_
from portal.permissions import ProtectedObject

HERE = Path(__file__).resolve().parent

OBJECTS = (
    ProtectedObject("interconnect.programme", N_("Partner programme settings"), ("read", "update")),
    ProtectedObject("interconnect.enterprises", N_("Partner enterprises"), ("read", "create", "update", "export")),
    ProtectedObject("interconnect.invitations", N_("Invitations"), ("read", "create", "update")),
    ProtectedObject("interconnect.users", N_("Partner people"), ("update",)),
    ProtectedObject(
        "partner.profile", N_("Own profile and workspaces"), ("read",), staff_view=("interconnect.enterprises",)
    ),
    ProtectedObject(
        "partner.colleagues",
        N_("Colleagues"),
        ("read", "create", "update"),
        staff_view=("interconnect.enterprises",),
    ),
)

component = Component(
    name="interconnect",
    order=100,
    model_modules=("interconnect.models", "interconnect.announcements.models"),
    route_handlers=[
        *ADMIN_CONTROLLERS,
        *IMPORT_CONTROLLERS,
        *PARTNER_CONTROLLERS,
        *ANNOUNCEMENT_CONTROLLERS,
        *PAGES,
        *ANNOUNCEMENT_PAGES,
    ],
    template_dir=HERE / "templates",
    template_globals=TEMPLATE_GLOBALS,
    tenant_setup=seed_programme,
    services_setup=setup,
    objects=OBJECTS,
    dependencies=DEPENDENCIES,
    demo=load_partners,
    cli=register_cli,
    jobs=(EXPIRY, STALE_IMPORTS),
    notification_kinds=NOTIFICATION_KINDS,
    subscribers=(IMPORTS, *SUBSCRIBERS),
    home_widgets=WIDGETS,
)
