"""sync/ as a component: the delivery tables and the scheduled job runs, `portal worker` and `portal jobs`,
the pages and API on deliveries and jobs (with the permissions they need), the outbox purge job, and the
in-process worker of the embedded default."""

from __future__ import annotations

from pathlib import Path

from portal.components import Component
from sync.cli import register as register_cli
from sync.controllers import DeliveriesController
from sync.delivery.worker import in_process_worker
from sync.objects import OBJECTS
from sync.pages import PAGES
from sync.scheduling.api import CONTROLLERS as JOB_CONTROLLERS
from sync.scheduling.purge import purge_job

HERE = Path(__file__).resolve().parent

component = Component(
    name="sync",
    order=400,
    model_modules=("sync.delivery.models", "sync.scheduling.models"),
    route_handlers=[DeliveriesController, *JOB_CONTROLLERS, *PAGES],
    objects=OBJECTS,
    template_dir=HERE / "templates",
    jobs=(purge_job(),),
    cli=register_cli,
    lifespan=in_process_worker,
)
