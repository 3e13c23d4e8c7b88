"""The "webhooks" subscriber: every public event goes to each active endpoint of its tenant subscribed
to its type, each endpoint on its own line.

Endpoints are rows a tenant adds at any time, while subscribers are registered when the application
starts; so the subscriber's own delivery of an event only opens one line per endpoint that should receive
it (sync.delivery.lines): a delivery named "webhooks:<endpoint id>", which the workers claim, retry with
backoff, kill after the maximum and let staff replay like any other. Per-aggregate order therefore holds
per endpoint, and an endpoint that fails, times out or is dead holds back its own line only: the tenant's
other endpoints get the aggregate's later events meanwhile.

One line's attempt sends one request (`deliver_to`) and logs it in the webhook delivery log, numbered
after the endpoint's earlier requests for the event. The outcome for the worker: 2xx → delivered; worth
retrying (5xx, 408, 425, 429, timeout, connection, TLS, DNS) → DeliveryFailed, retried; anything else
(another 4xx, a redirect, a forbidden address, 410) → PermanentFailure, dead at once. An endpoint
disabled or deleted since its line was opened takes nothing (the line ends delivered); one added after
the event occurred gets no line for it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.db.context import tenant_context
from portal.i18n import N_
from portal.outbox import Event, PermanentFailure, Subscriber
from sync.delivery.lines import open_lines
from sync.webhooks.events import is_public
from sync.webhooks.models import WebhookEndpoint
from sync.webhooks.service import SUBSCRIBER_NAME, Webhooks, body_of, disable_if_gone

if TYPE_CHECKING:
    from portal.services import Services

NAME = SUBSCRIBER_NAME
CHANNEL = "webhooks"


class DeliveryFailed(Exception):
    """The endpoint did not take the event; the worker retries its line."""


async def deliver(services: Services, event: Event) -> None:
    """Open a line for each endpoint that should receive the event."""
    ctx = tenant_context(event.tenant_id, channel=CHANNEL)
    async with services.db.session(ctx) as session:
        endpoints = [
            e.id
            for e in await session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
            if event.event_type in e.event_types and e.created_at <= event.occurred_at
        ]
        await open_lines(session, event, NAME, [str(e) for e in sorted(endpoints)])


async def deliver_to(services: Services, event: Event, key: str) -> None:
    """Send the event to one endpoint (the line's key) and log the request."""
    webhooks: Webhooks = services.extensions["webhooks"]
    endpoint_id = uuid.UUID(key)
    ctx = tenant_context(event.tenant_id, channel=CHANNEL)
    async with services.db.session(ctx, write=False) as session:
        endpoint = await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
        if endpoint is None or not endpoint.active:
            return
        target = webhooks.target(endpoint)
    body = body_of(event)
    result, headers = await webhooks.send(target, event.id, event.event_type, body)
    async with services.db.session(ctx) as session:
        attempt = await webhooks.next_attempt(session, event.id, target.id)
        webhooks.record(session, target, event.id, event.event_type, body, "event", attempt, result, headers)
        await disable_if_gone(session, target.id, result)
    if result.outcome == "failed":
        raise DeliveryFailed(f"{target.url}: {result.error}"[:1900])
    if result.outcome == "refused":
        raise PermanentFailure(f"{target.url}: {result.error}"[:1900])


SUBSCRIBER = Subscriber(name=NAME, accepts=is_public, deliver=deliver, label=N_("Webhooks"), deliver_to=deliver_to)
