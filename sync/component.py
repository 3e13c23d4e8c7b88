"""Sync as a component: the delivery tables, `portal worker`, the delivery pages and API (with the
permission they need), and the in-process worker of the embedded default."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component
from sync.cli import register as register_cli
from sync.controllers import DeliveriesController
from sync.delivery.worker import in_process_worker
from sync.objects import OBJECTS
from sync.pages import PAGES

HERE = Path(__file__).resolve().parent

component = Component(
    name="sync",
    order=400,
    model_modules=("sync.delivery.models",),
    route_handlers=[DeliveriesController, *PAGES],
    objects=OBJECTS,
    template_dir=HERE / "templates",
    cli=register_cli,
    lifespan=in_process_worker,
)
