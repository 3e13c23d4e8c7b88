"""The "webhooks" subscriber: every public event goes to each active endpoint of its tenant subscribed
to its type.

One subscriber for all endpoints, not one per endpoint: subscribers are registered by components when
the application starts, endpoints are rows a tenant adds at any time. Each endpoint's outcome is logged
per (event, endpoint), and a retry of the event sends only to the endpoints that have not yet answered
(succeeded, or refused for good): a healthy endpoint receives each event once however often a failing
one makes the event retry. The cost: while one endpoint keeps failing, the workers' per-aggregate order
holds back that aggregate's later events for the tenant's other endpoints too, until the event is
delivered or dead (with its reasons); the others' aggregates are not held.

The outcome for the worker: nothing left to retry and nothing refused → delivered; some endpoint
failed in a way worth retrying (5xx, timeout, connection, TLS) → an exception, retried with backoff;
nothing worth retrying but some refused (4xx, redirect, forbidden address) → PermanentFailure.
An endpoint added after the event occurred does not receive it, even when it is retried or replayed.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from portal.db.context import tenant_context
from portal.i18n import N_
from portal.outbox import Event, PermanentFailure, Subscriber
from sync.webhooks.events import is_public
from sync.webhooks.models import WebhookDelivery, WebhookEndpoint
from sync.webhooks.service import Webhooks, body_of, disable_if_gone

if TYPE_CHECKING:
    from portal.services import Services

NAME = "webhooks"
CHANNEL = "webhooks"


class DeliveryFailed(Exception):
    """Some endpoints did not take the event yet; the worker retries, and only they are sent to again."""


async def deliver(services: Services, event: Event) -> None:
    webhooks: Webhooks = services.extensions["webhooks"]
    ctx = tenant_context(event.tenant_id, channel=CHANNEL)
    async with services.db.session(ctx, write=False) as session:
        answered = set(
            await session.scalars(
                select(WebhookDelivery.endpoint_id).where(
                    WebhookDelivery.event_id == event.id, WebhookDelivery.outcome.in_(("succeeded", "refused"))
                )
            )
        )
        endpoints = [
            e
            for e in await session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))
            if event.event_type in e.event_types and e.id not in answered and e.created_at <= event.occurred_at
        ]
        if not endpoints:
            return
        attempts: dict[uuid.UUID, int] = {
            endpoint_id: last
            for endpoint_id, last in await session.execute(
                select(WebhookDelivery.endpoint_id, func.max(WebhookDelivery.attempt))
                .where(WebhookDelivery.event_id == event.id)
                .group_by(WebhookDelivery.endpoint_id)
            )
        }
        targets = [webhooks.target(e) for e in endpoints]
    body = body_of(event)
    results = await asyncio.gather(*(webhooks.send(t, event.id, event.event_type, body) for t in targets))
    async with services.db.session(ctx) as session:
        for target, (result, headers) in zip(targets, results, strict=True):
            attempt = attempts.get(target.id, 0) + 1
            webhooks.record(session, target, event.id, event.event_type, body, "event", attempt, result, headers)
            await disable_if_gone(session, target.id, result)
    failed = [f"{t.url}: {r.error}" for t, (r, _h) in zip(targets, results, strict=True) if r.outcome == "failed"]
    refused = [f"{t.url}: {r.error}" for t, (r, _h) in zip(targets, results, strict=True) if r.outcome == "refused"]
    if failed:
        raise DeliveryFailed("; ".join(failed)[:1900])
    if refused:
        raise PermanentFailure("; ".join(refused)[:1900])


SUBSCRIBER = Subscriber(name=NAME, accepts=is_public, deliver=deliver, label=N_("Webhooks"))
