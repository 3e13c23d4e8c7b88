"""The web shell as a component: pages, templates, static files, catalogs."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component
from web.labels import label
from web.views import PAGES

HERE = Path(__file__).resolve().parent

component = Component(
    template_globals={"label": label},
    name="web",
    order=1000,
    route_handlers=PAGES,
    template_dir=HERE / "templates",
    static_dir=HERE / "static",
    catalog_dir=HERE / "i18n",
)
