"""sync/ as a component: the delivery tables, the scheduled job runs and outbound webhooks; `portal worker`
and `portal jobs`; the pages and API on deliveries, jobs and webhooks (with the permissions they need);
cross-tenant sync rules (sync/crosstenant); the integration API for an ERP and its keys (sync/integrations);
the outbox purge job, the "webhooks", "sync" and "integration" outbox subscribers, and the in-process worker
of the embedded default."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from portal.components import Component
from portal.services import Services
from sync.cli import register as register_cli
from sync.controllers import DeliveriesController
from sync.crosstenant.controllers import CONTROLLERS as CROSSTENANT_CONTROLLERS
from sync.crosstenant.demo import load_sync
from sync.crosstenant.forgetting import FORGET_APPLIED_JOB
from sync.crosstenant.objects import OBJECTS as CROSSTENANT_OBJECTS
from sync.crosstenant.pages import PAGES as CROSSTENANT_PAGES
from sync.crosstenant.reconcile import RECONCILE_JOB
from sync.crosstenant.subscriber import SUBSCRIBER as CROSSTENANT
from sync.crosstenant.subscriber import learn_events
from sync.delivery.labels import subscriber_label, subscriber_line
from sync.delivery.worker import in_process_worker
from sync.integrations.controllers import CONTROLLERS as INTEGRATION_CONTROLLERS
from sync.integrations.feed import SUBSCRIBER as INTEGRATION_FEED
from sync.integrations.feed import learn_objects
from sync.integrations.keys import key_scheme
from sync.integrations.objects import OBJECTS as INTEGRATION_OBJECTS
from sync.integrations.pages import PAGES as INTEGRATION_PAGES
from sync.objects import OBJECTS
from sync.pages import PAGES
from sync.pages.webhooks import PAGES as WEBHOOK_PAGES
from sync.peers.controllers import CONTROLLERS as PEER_CONTROLLERS
from sync.peers.pages import PAGES as PEER_PAGES
from sync.peers.service import paired_suppliers
from sync.peers.subscriber import SUBSCRIBER as PEERS
from sync.scheduling.api import CONTROLLERS as JOB_CONTROLLERS
from sync.scheduling.purge import purge_job
from sync.webhooks.config import WebhookConfig
from sync.webhooks.controllers import CONTROLLERS as WEBHOOK_CONTROLLERS
from sync.webhooks.objects import OBJECTS as WEBHOOK_OBJECTS
from sync.webhooks.secrets import SecretBox
from sync.webhooks.service import Webhooks
from sync.webhooks.subscriber import SUBSCRIBER as WEBHOOKS

HERE = Path(__file__).resolve().parent


def setup(services: Services) -> None:
    config = WebhookConfig.from_extra(services.settings.extra)
    services.extensions["webhooks"] = Webhooks(config, SecretBox(services.settings.secret_key))
    learn_events(services)
    learn_objects(services)
    services.sessions.register_key(key_scheme(services))


@contextlib.asynccontextmanager
async def lifespan(services: Services) -> AsyncIterator[None]:
    """The in-process worker (when the settings run one), and the webhook clients' kept-alive connections
    closed when the application stops."""
    try:
        async with in_process_worker(services):
            yield
    finally:
        await services.extensions["webhooks"].clients.aclose()


component = Component(
    name="sync",
    order=400,
    model_modules=(
        "sync.delivery.models",
        "sync.scheduling.models",
        "sync.webhooks.models",
        "sync.crosstenant.models",
        "sync.peers.models",
        "sync.integrations.models",
    ),
    route_handlers=[
        DeliveriesController,
        *JOB_CONTROLLERS,
        *WEBHOOK_CONTROLLERS,
        *CROSSTENANT_CONTROLLERS,
        *PEER_CONTROLLERS,
        *PAGES,
        *WEBHOOK_PAGES,
        *CROSSTENANT_PAGES,
        *PEER_PAGES,
        *INTEGRATION_CONTROLLERS,
        *INTEGRATION_PAGES,
    ],
    objects=(*OBJECTS, *WEBHOOK_OBJECTS, *CROSSTENANT_OBJECTS, *INTEGRATION_OBJECTS),
    template_dir=HERE / "templates",
    template_globals={"subscriber_label": subscriber_label, "subscriber_line": subscriber_line},
    services_setup=setup,
    subscribers=(WEBHOOKS, CROSSTENANT, PEERS, INTEGRATION_FEED),
    demo=load_sync,
    jobs=(purge_job(), FORGET_APPLIED_JOB, RECONCILE_JOB),
    cli=register_cli,
    lifespan=lifespan,
    extra={"purchase_suppliers": paired_suppliers},
)
