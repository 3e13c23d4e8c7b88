"""The webhook API under /api/webhooks: endpoints, their secrets, pings, the delivery log and replays."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.idempotent import shown_once
from portal.http.inputs import Limit, Offset
from portal.i18n import gettext
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from sync.webhooks.dependencies import DEPENDENCIES, EndpointsDep, WebhooksDep
from sync.webhooks.events import PUBLIC_EVENT_TYPES
from sync.webhooks.objects import ENDPOINT
from sync.webhooks.schemas import (
    DeliveryDetail,
    DeliveryOut,
    DeliveryPage,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EventTypeOut,
    SecretOut,
)
from sync.webhooks.service import DeliveryFilter, delivery_detail, delivery_out, endpoint_out


class WebhooksController(Controller):
    """Endpoints receive the event types they subscribe to, signed (see docs/webhooks.md)."""

    path = "/api/webhooks"
    tags = ["webhooks"]
    dependencies = DEPENDENCIES

    @get("/event-types", opt=requires(ENDPOINT, "read"))
    async def event_types(self) -> list[EventTypeOut]:
        """The event types an endpoint may subscribe to, described in the asker's language."""
        return [EventTypeOut(type=t, description=gettext(d)) for t, d in PUBLIC_EVENT_TYPES.items()]

    @get("/endpoints", opt=requires(ENDPOINT, "read"))
    async def list_endpoints(self, endpoints: EndpointsDep) -> list[EndpointOut]:
        return typed([endpoint_out(e) for e in await endpoints.list()], list[EndpointOut])

    @post("/endpoints", opt={**requires(ENDPOINT, "create"), **shown_once("secret")})
    async def create_endpoint(self, data: JSONBody[EndpointIn], db: DB, endpoints: EndpointsDep) -> EndpointCreated:
        """The URL must be https and resolve to public addresses only. The answer carries the endpoint's
        signing secret: it is shown this once. Send an Idempotency-Key header to make retries safe."""
        endpoint, secret = await endpoints.create(sent(data))
        return typed({"endpoint": endpoint_out(endpoint), "secret": secret}, EndpointCreated)

    @get("/endpoints/{endpoint_id:uuid}", opt=requires(ENDPOINT, "read"))
    async def get_endpoint(self, endpoint_id: FromPath[uuid.UUID], endpoints: EndpointsDep) -> EndpointOut:
        return typed(endpoint_out(await endpoints.get(endpoint_id)), EndpointOut)

    @patch("/endpoints/{endpoint_id:uuid}", opt=requires(ENDPOINT, "update"))
    async def update_endpoint(
        self, endpoint_id: FromPath[uuid.UUID], data: JSONBody[EndpointPatch], endpoints: EndpointsDep
    ) -> EndpointOut:
        """Change the fields sent; `active: false` disables the endpoint (nothing is sent to it)."""
        return typed(endpoint_out(await endpoints.update(endpoint_id, sent(data))), EndpointOut)

    @delete("/endpoints/{endpoint_id:uuid}", opt=requires(ENDPOINT, "delete"))
    async def delete_endpoint(self, endpoint_id: FromPath[uuid.UUID], endpoints: EndpointsDep) -> None:
        """The endpoint and its delivery log."""
        await endpoints.delete(endpoint_id)

    @post("/endpoints/{endpoint_id:uuid}/rotate-secret", opt=requires(ENDPOINT, "update"), status_code=200)
    async def rotate_secret(self, endpoint_id: FromPath[uuid.UUID], endpoints: EndpointsDep) -> SecretOut:
        """A new secret, shown this once; the replaced one keeps signing beside it for the overlap period."""
        endpoint, secret = await endpoints.rotate(endpoint_id)
        return typed({"endpoint": endpoint_out(endpoint), "secret": secret}, SecretOut)

    @post("/endpoints/{endpoint_id:uuid}/ping", opt=requires(ENDPOINT, "update"), status_code=200)
    async def ping(
        self, endpoint_id: FromPath[uuid.UUID], services: ServicesDep, actor: CurrentActor, webhooks: WebhooksDep
    ) -> DeliveryOut:
        """Send a signed `webhook.ping` event now and answer with its logged outcome."""
        return typed(await webhooks.ping(services.db, actor, endpoint_id), DeliveryOut)

    @get("/deliveries", opt=requires(ENDPOINT, "read"))
    async def list_deliveries(
        self,
        endpoints: EndpointsDep,
        endpoint_id: FromQuery[uuid.UUID | None] = None,
        outcome: FromQuery[Literal["succeeded", "failed", "refused"] | None] = None,
        event_type: FromQuery[str | None] = None,
        event_id: FromQuery[uuid.UUID | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> DeliveryPage:
        """Newest first. `outcome`: succeeded, failed (will be retried) or refused (will not)."""
        f = DeliveryFilter(endpoint_id, outcome, event_type, event_id, since, until)
        rows, total = await endpoints.deliveries(f, limit, offset)
        return typed(
            {"items": [delivery_out(r) for r in rows], "total": total, "limit": limit, "offset": offset},
            DeliveryPage,
        )

    @get("/deliveries/{webhook_delivery_id:uuid}", opt=requires(ENDPOINT, "read"))
    async def get_delivery(self, webhook_delivery_id: FromPath[uuid.UUID], endpoints: EndpointsDep) -> DeliveryDetail:
        """The request as sent (signatures masked) and the start of the answer."""
        return typed(delivery_detail(await endpoints.delivery(webhook_delivery_id)), DeliveryDetail)

    @post(
        "/deliveries/{webhook_delivery_id:uuid}/replay",
        opt=requires(ENDPOINT, "update", problems=(404, 409)),
        status_code=200,
    )
    async def replay(
        self,
        webhook_delivery_id: FromPath[uuid.UUID],
        services: ServicesDep,
        actor: CurrentActor,
        webhooks: WebhooksDep,
    ) -> DeliveryOut:
        """Send the delivery's event again, newly signed, with the same event id; answers the new attempt.
        Refused (409) while the event's delivery to the endpoint is still pending (a retry scheduled): the
        workers will send it, and sending it now as well would deliver it twice."""
        return typed(await webhooks.replay(services.db, actor, webhook_delivery_id), DeliveryOut)


CONTROLLERS = [WebhooksController]
