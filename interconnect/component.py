"""Interconnect as a component: its models, routes, grants, tenant setup, session loader and demo."""

from __future__ import annotations

from interconnect.cli import register_cli
from interconnect.controllers import ADMIN_CONTROLLERS
from interconnect.demo import load_partners
from interconnect.import_controllers import IMPORT_CONTROLLERS
from interconnect.partner_controllers import PARTNER_CONTROLLERS
from interconnect.programme import seed_programme
from interconnect.services import DEPENDENCIES, setup
from portal.components import Component
from portal.permissions import ANY

# External roles until the roles package makes them configurable per upstream.
GRANTS = (
    ("external", "enterprise_admin", "partner.colleagues", ANY),
    ("external", "member", "partner.profile", "read"),
    ("external", "individual", "partner.profile", "read"),
)

component = Component(
    name="interconnect",
    order=100,
    model_modules=("interconnect.models",),
    route_handlers=[*ADMIN_CONTROLLERS, *IMPORT_CONTROLLERS, *PARTNER_CONTROLLERS],
    tenant_setup=seed_programme,
    services_setup=setup,
    permission_grants=GRANTS,
    dependencies=DEPENDENCIES,
    demo=load_partners,
    cli=register_cli,
)
