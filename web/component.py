"""The web shell as a component: its pages (landing, sign-up, sign-in, console home, workspace settings,
staff users), base layouts, error pages, static files and the language catalogs."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component
from web.views import PAGES

HERE = Path(__file__).resolve().parent

component = Component(
    name="web",
    order=1000,
    route_handlers=PAGES,
    template_dir=HERE / "templates",
    static_dir=HERE / "static",
    catalog_dir=HERE / "i18n",
)
