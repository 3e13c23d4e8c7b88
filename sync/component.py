"""sync/ as a component: the scheduled job runs (their table, the outbox purge job, the console pages
and API on them) and the permission that guards them."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component
from portal.i18n import N_
from portal.permissions import ProtectedObject
from sync.cli import register as register_cli
from sync.pages import PAGES
from sync.scheduling.api import CONTROLLERS
from sync.scheduling.purge import purge_job

HERE = Path(__file__).resolve().parent

OBJECTS = (ProtectedObject("delivery.job", N_("Scheduled jobs"), ("read", "run")),)

component = Component(
    name="sync",
    order=400,
    model_modules=("sync.scheduling.models",),
    route_handlers=[*CONTROLLERS, *PAGES],
    template_dir=HERE / "templates",
    objects=OBJECTS,
    jobs=(purge_job(),),
    cli=register_cli,
)
