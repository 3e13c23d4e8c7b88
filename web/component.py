"""The web shell as a component: pages, templates, static files, catalogs."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component
from roles.presets import APP_KEYS
from web.console.partners import CONSOLE_PARTNER_PAGES, can, percent
from web.console.partners.enterprises import member_roles_page
from web.console.roles import CONSOLE_ROLE_PAGES, role_description, role_name, roles_label
from web.labels import label, setting_name
from web.partner_portal import PARTNER_PAGES
from web.views import PAGES

HERE = Path(__file__).resolve().parent

component = Component(
    template_globals={
        "label": label,
        "setting_name": setting_name,
        "can": can,
        "percent": percent,
        "role_name": role_name,
        "role_description": role_description,
        "roles_label": roles_label,
        # roles saved before an app was withdrawn may still name it: pages show only the apps that exist
        "app_keys": APP_KEYS,
    },
    name="web",
    order=1000,
    route_handlers=[*PAGES, *CONSOLE_PARTNER_PAGES, member_roles_page, *CONSOLE_ROLE_PAGES, *PARTNER_PAGES],
    template_dir=HERE / "templates",
    static_dir=HERE / "static",
    catalog_dir=HERE / "i18n",
)
