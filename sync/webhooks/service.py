"""Webhook endpoints and their delivery log, for the console and the API; sending one request, for the
subscriber, pings and replays.

Pings and replays (`Webhooks.ping`, `Webhooks.replay`) wait for a receiver that may take seconds, so
they run two short units of work of their own, one before and one after the request, instead of the
request's: no transaction (on SQLite: the one write lock) is held while a receiver is being waited for.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.audit import record_action
from portal.db.context import actor_context
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.ids import uuid7
from portal.outbox import Event, line_name
from sync.delivery.models import Delivery
from sync.webhooks import addresses, sender, signing
from sync.webhooks.addresses import Refused
from sync.webhooks.config import WebhookConfig
from sync.webhooks.events import PING, PUBLIC_EVENT_TYPES
from sync.webhooks.models import OUTCOMES, WebhookDelivery, WebhookEndpoint
from sync.webhooks.secrets import SecretBox, new_secret

MAX_DESCRIPTION = 500
MAX_URL = 2000
# The outbox subscriber's name; each endpoint's deliveries are its line "webhooks:<endpoint id>".
SUBSCRIBER_NAME = "webhooks"


@dataclass(frozen=True, slots=True)
class Target:
    """What sending to an endpoint needs, read in a unit of work that is over before the request."""

    id: uuid.UUID
    url: str
    secrets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    endpoint_id: uuid.UUID | None = None
    outcome: str | None = None
    event_type: str | None = None
    event_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


def body_of(event: Event) -> bytes:
    document = {
        "id": str(event.id),
        "type": event.event_type,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "tenant": str(event.tenant_id),
        "aggregate": {"type": event.aggregate_type, "id": str(event.aggregate_id)},
        "data": event.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode()


class Webhooks:
    """The process-wide part: settings, the key endpoint secrets are sealed with, and the HTTP clients."""

    def __init__(self, config: WebhookConfig, box: SecretBox) -> None:
        self.config = config
        self.box = box
        # kept-alive connections per endpoint host, per event loop (a worker's, a web process's)
        self.clients = sender.Clients()

    def target(self, endpoint: WebhookEndpoint, now: datetime | None = None) -> Target:
        now = now or utcnow()
        secrets = [self.box.open(endpoint.id, endpoint.secret)]
        expires = endpoint.previous_secret_expires_at
        if endpoint.previous_secret and expires is not None and expires > now:
            secrets.append(self.box.open(endpoint.id, endpoint.previous_secret))
        return Target(endpoint.id, endpoint.url, tuple(secrets))

    async def send(
        self, target: Target, event_id: uuid.UUID, event_type: str, body: bytes
    ) -> tuple[sender.Result, dict[str, str]]:
        headers = {
            signing.EVENT_ID_HEADER: str(event_id),
            signing.EVENT_TYPE_HEADER: event_type,
            signing.SIGNATURE_HEADER: signing.signature_header(target.secrets, body),
        }
        try:
            destination = addresses.parse(target.url, self.config)
        except Refused as refused:
            return sender.Result("refused", error=str(refused)), headers
        return await sender.send(destination, body, headers, self.config, self.clients), headers

    @staticmethod
    def record(
        session: AsyncSession,
        target: Target,
        event_id: uuid.UUID,
        event_type: str,
        body: bytes,
        trigger: str,
        attempt: int,
        result: sender.Result,
        headers: dict[str, str],
    ) -> WebhookDelivery:
        shown = {**headers, signing.SIGNATURE_HEADER: _masked(headers[signing.SIGNATURE_HEADER])}
        row = WebhookDelivery(
            id=uuid7(),
            endpoint_id=target.id,
            event_id=event_id,
            event_type=event_type,
            trigger=trigger,
            attempt=attempt,
            outcome=result.outcome,
            url=target.url,
            request_headers=shown,
            request_body=body.decode(),
            response_status=result.status,
            response_excerpt=result.excerpt,
            latency_ms=result.latency_ms,
            error=(result.error or "")[:1000] or None,
        )
        session.add(row)
        return row

    @staticmethod
    async def next_attempt(session: AsyncSession, event_id: uuid.UUID, endpoint_id: uuid.UUID) -> int:
        last = await session.scalar(
            select(func.max(WebhookDelivery.attempt)).where(
                WebhookDelivery.event_id == event_id, WebhookDelivery.endpoint_id == endpoint_id
            )
        )
        return (last or 0) + 1

    async def ping(self, db: Database, actor: Actor, endpoint_id: uuid.UUID) -> dict[str, Any]:
        """Send a `webhook.ping` to the endpoint now (even a disabled one: it is how one checks a fix)."""
        async with db.session(actor_context(actor), write=False) as session:
            target = self.target(await _endpoint(session, endpoint_id))
        event_id = uuid7()
        data = {"endpoint_id": str(endpoint_id)}
        event = Event(event_id, actor.tenant_id, PING, "webhook_endpoint", endpoint_id, data, utcnow())
        body = body_of(event)
        result, headers = await self.send(target, event_id, PING, body)
        async with db.session_for(actor) as session:
            row = self.record(session, target, event_id, PING, body, "ping", 1, result, headers)
            await disable_if_gone(session, target.id, result)
            await session.flush()
            return delivery_out(row)

    async def replay(self, db: Database, actor: Actor, delivery_id: uuid.UUID) -> dict[str, Any]:
        """Send one logged delivery again, as it was (same event id and body), newly signed, numbered
        after the endpoint's earlier requests for the event; the audit log says who replayed which."""
        async with db.session(actor_context(actor), write=False) as session:
            original = await _delivery(session, delivery_id)
            endpoint = await _endpoint(session, original.endpoint_id)
            if not endpoint.active:
                raise Conflict(N_("This endpoint is disabled: enable it before replaying a delivery"), code="disabled")
            target = self.target(endpoint)
            event_id, event_type, body = original.event_id, original.event_type, original.request_body.encode()
            await _refuse_while_on_its_way(session, event_id, endpoint.id)
        result, headers = await self.send(target, event_id, event_type, body)
        async with db.session_for(actor) as session:
            attempt = await self.next_attempt(session, event_id, target.id)
            row = self.record(session, target, event_id, event_type, body, "replay", attempt, result, headers)
            await disable_if_gone(session, target.id, result)
            record_action(
                session,
                original,
                "replay",
                {"replay_id": row.id, "event_id": event_id, "endpoint_id": target.id, "attempt": attempt},
            )
            await session.flush()
            return delivery_out(row)


async def _refuse_while_on_its_way(session: AsyncSession, event_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
    """An event whose delivery to the endpoint is still pending (a retry scheduled, an attempt under way, or
    waiting behind an earlier event of its record) will be sent by the workers: sending it by hand as well
    would deliver it twice, so the replay is refused, saying when the next attempt is due."""
    line = await session.scalar(
        select(Delivery).where(
            Delivery.event_id == event_id, Delivery.subscriber == line_name(SUBSCRIBER_NAME, str(endpoint_id))
        )
    )
    if line is not None and line.status == "pending":
        raise Conflict(
            N_(
                "This event is still on its way to this endpoint: its next attempt is due at %(when)s, so "
                "sending it again now would deliver it twice. Replay it once that delivery has succeeded or "
                "failed for good."
            ),
            code="delivery_pending",
            when=line.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        )


def _masked(header: str) -> str:
    """The log shows that a delivery was signed and when, not the signatures themselves."""
    return ",".join(p if p.startswith("t=") else p.split("=", 1)[0] + "=…" for p in header.split(","))


async def disable_if_gone(session: AsyncSession, endpoint_id: uuid.UUID, result: sender.Result) -> None:
    """A receiver answering 410 Gone says the endpoint is no more: it is disabled, with that reason."""
    if result.gone:
        endpoint = await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
        if endpoint is not None and endpoint.active:
            endpoint.active = False
            endpoint.disabled_reason = "410 Gone"


async def _endpoint(session: AsyncSession, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    if endpoint is None:
        raise NotFound(N_("No such webhook endpoint"))
    return endpoint


async def _delivery(session: AsyncSession, delivery_id: uuid.UUID) -> WebhookDelivery:
    row = await session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id))
    if row is None:
        raise NotFound(N_("No such webhook delivery"))
    return row


def endpoint_out(endpoint: WebhookEndpoint) -> dict[str, Any]:
    now = utcnow()
    expires = endpoint.previous_secret_expires_at
    overlap = expires if endpoint.previous_secret and expires is not None and expires > now else None
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "previous_secret_valid_until": overlap,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def delivery_out(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": row.id,
        "endpoint_id": row.endpoint_id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "trigger": row.trigger,
        "attempt": row.attempt,
        "outcome": row.outcome,
        "url": row.url,
        "response_status": row.response_status,
        "latency_ms": row.latency_ms,
        "error": row.error,
        "created_at": row.created_at,
    }


def delivery_detail(row: WebhookDelivery) -> dict[str, Any]:
    return {
        **delivery_out(row),
        "request_headers": dict(row.request_headers),
        "request_body": row.request_body,
        "response_excerpt": row.response_excerpt,
    }


class Endpoints:
    """A tenant's endpoints and log, in the request's unit of work (the actor's tenant)."""

    def __init__(self, session: AsyncSession, actor: Actor, webhooks: Webhooks) -> None:
        self.session = session
        self.actor = actor
        self.webhooks = webhooks

    async def list(self) -> list[WebhookEndpoint]:
        return list(await self.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.created_at)))

    async def get(self, endpoint_id: uuid.UUID) -> WebhookEndpoint:
        return await _endpoint(self.session, endpoint_id)

    async def _checked(self, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        errors: list[FieldError] = []
        checked: dict[str, Any] = {}
        if "url" in values or creating:
            url = str(values.get("url") or "").strip()
            if not url:
                errors.append(FieldError("url", N_("Enter the address to send events to"), "required"))
            elif len(url) > MAX_URL:
                errors.append(FieldError("url", N_("At most %(n)s characters"), "too_long", {"n": MAX_URL}))
            else:
                try:
                    await addresses.check(url, self.webhooks.config)
                    checked["url"] = url
                except Refused as refused:
                    errors.append(FieldError("url", refused.message, "refused", refused.params))
        if "event_types" in values or creating:
            chosen = list(dict.fromkeys(values.get("event_types") or []))
            unknown = [t for t in chosen if t not in PUBLIC_EVENT_TYPES]
            if not chosen:
                errors.append(FieldError("event_types", N_("Choose at least one event type"), "required"))
            elif unknown:
                errors.append(
                    FieldError("event_types", N_("Unknown event type: %(type)s"), "unknown", {"type": unknown[0]})
                )
            checked["event_types"] = chosen
        if "description" in values:
            description = (values["description"] or "").strip()
            if len(description) > MAX_DESCRIPTION:
                errors.append(
                    FieldError("description", N_("At most %(n)s characters"), "too_long", {"n": MAX_DESCRIPTION})
                )
            checked["description"] = description or None
        if "active" in values:
            checked["active"] = bool(values["active"])
        if errors:
            raise ValidationFailed(errors)
        return checked

    async def create(self, values: dict[str, Any]) -> tuple[WebhookEndpoint, str]:
        """The new endpoint and its secret, which is shown this once and never again."""
        checked = await self._checked(values, creating=True)
        count = await self.session.scalar(select(func.count()).select_from(WebhookEndpoint))
        if (count or 0) >= self.webhooks.config.max_endpoints:
            raise Conflict(
                N_("A workspace may have at most %(n)s webhook endpoints"),
                code="too_many",
                n=self.webhooks.config.max_endpoints,
            )
        endpoint_id, secret = uuid7(), new_secret()
        endpoint = WebhookEndpoint(
            id=endpoint_id,
            url=checked["url"],
            event_types=checked["event_types"],
            description=checked.get("description"),
            active=checked.get("active", True),
            secret=self.webhooks.box.seal(endpoint_id, secret),
            created_by=self.actor.user_id,
        )
        self.session.add(endpoint)
        await self.session.flush()
        return endpoint, secret

    async def update(self, endpoint_id: uuid.UUID, values: dict[str, Any]) -> WebhookEndpoint:
        endpoint = await self.get(endpoint_id)
        checked = await self._checked(values, creating=False)
        for name, value in checked.items():
            setattr(endpoint, name, value)
        if checked.get("active"):
            endpoint.disabled_reason = None
        await self.session.flush()
        return endpoint

    async def delete(self, endpoint_id: uuid.UUID) -> None:
        """The endpoint, its log and its finished outbox line; a pending delivery of the line may be in a
        worker's hands: it finds the endpoint gone, sends nothing and ends delivered."""
        endpoint = await self.get(endpoint_id)
        await self.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
        await self.session.execute(
            delete(Delivery).where(
                Delivery.subscriber == line_name(SUBSCRIBER_NAME, str(endpoint.id)), Delivery.status != "pending"
            )
        )
        await self.session.delete(endpoint)
        await self.session.flush()

    async def rotate(self, endpoint_id: uuid.UUID) -> tuple[WebhookEndpoint, str]:
        """A new secret, shown this once; the one it replaces still signs deliveries until the overlap
        ends, so receivers can switch without missing one. Rotating again within the overlap drops the
        oldest: only the last two secrets are ever valid."""
        endpoint = await self.get(endpoint_id)
        secret = new_secret()
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = utcnow() + self.webhooks.config.rotation_overlap
        endpoint.secret = self.webhooks.box.seal(endpoint.id, secret)
        await self.session.flush()
        return endpoint, secret

    async def deliveries(
        self, f: DeliveryFilter, limit: int = 50, offset: int = 0
    ) -> tuple[list[WebhookDelivery], int]:
        query = select(WebhookDelivery)
        if f.endpoint_id is not None:
            query = query.where(WebhookDelivery.endpoint_id == f.endpoint_id)
        if f.outcome in OUTCOMES:
            query = query.where(WebhookDelivery.outcome == f.outcome)
        if f.event_type:
            query = query.where(WebhookDelivery.event_type == f.event_type)
        if f.event_id is not None:
            query = query.where(WebhookDelivery.event_id == f.event_id)
        if f.since is not None:
            query = query.where(WebhookDelivery.created_at >= f.since)
        if f.until is not None:
            query = query.where(WebhookDelivery.created_at < f.until)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit).offset(offset)
        )
        return list(rows), total or 0

    async def delivery(self, delivery_id: uuid.UUID) -> WebhookDelivery:
        return await _delivery(self.session, delivery_id)
