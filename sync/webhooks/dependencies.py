"""The webhook services for a request: `endpoints` (the request's unit of work) and `webhooks` (the
process-wide sender that pings and replays use), named once by the API controller and the pages' router."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from portal.http.deps import DB, CurrentActor
from portal.services import Services
from sync.webhooks.service import Endpoints, Webhooks


def provide_webhooks(services: NamedDependency[Services]) -> Webhooks:
    return services.extensions["webhooks"]


def provide_endpoints(db: DB, actor: CurrentActor, webhooks: NamedDependency[Webhooks]) -> Endpoints:
    return Endpoints(db, actor, webhooks)


DEPENDENCIES = {
    "webhooks": Provide(provide_webhooks, sync_to_thread=False),
    "endpoints": Provide(provide_endpoints, sync_to_thread=False),
}

EndpointsDep = NamedDependency[Endpoints]
WebhooksDep = NamedDependency[Webhooks]
