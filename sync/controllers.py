"""The delivery API under /api/deliveries: the overview, the filtered list, one delivery with its event
and attempts, and replay. The same service as the console pages, in the caller's tenant only."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery

from portal.http.inputs import Limit, Offset
from portal.permissions import requires
from sync.delivery.models import Delivery
from sync.delivery.service import DeliveryDetail, Filters, Overview, state_of
from sync.dependencies import DEPENDENCIES, DeliveriesDep
from sync.objects import DELIVERY
from sync.schemas import (
    AttemptOut,
    DeliveryDetailOut,
    DeliveryOut,
    DeliveryPage,
    EventOut,
    HourOut,
    OverviewOut,
    SubscriberFiguresOut,
)


def delivery_out(d: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        event_id=d.event_id,
        subscriber=d.subscriber,
        event_type=d.event_type,
        aggregate_type=d.aggregate_type,
        aggregate_id=d.aggregate_id,
        status=d.status,
        state=state_of(d),
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        last_error=d.last_error,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
    )


def detail_out(detail: DeliveryDetail) -> DeliveryDetailOut:
    e = detail.event
    return DeliveryDetailOut(
        delivery=delivery_out(detail.delivery),
        event=EventOut(e.id, e.event_type, e.aggregate_type, e.aggregate_id, e.occurred_at, e.payload),
        attempts=[
            AttemptOut(a.number, a.outcome, a.worker, a.started_at, a.finished_at, a.duration_ms, a.error)
            for a in detail.attempts
        ],
    )


def overview_out(overview: Overview) -> OverviewOut:
    return OverviewOut(
        subscribers=[
            SubscriberFiguresOut(s.subscriber, s.pending, s.retrying, s.dead, s.delivered) for s in overview.subscribers
        ],
        hours=[HourOut(h.start, h.delivered, h.failed) for h in overview.hours],
    )


class DeliveriesController(Controller):
    path = "/api/deliveries"
    tags = ["deliveries"]
    dependencies = DEPENDENCIES

    @get("/", opt=requires(DELIVERY, "read"))
    async def list_deliveries(
        self,
        deliveries: DeliveriesDep,
        subscriber: FromQuery[str | None] = None,
        status: FromQuery[Literal["pending", "retrying", "delivered", "dead"] | None] = None,
        event_type: FromQuery[str | None] = None,
        aggregate_id: FromQuery[uuid.UUID | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> DeliveryPage:
        """Newest first. `status`: pending (no attempt yet), retrying (failed, will try again), delivered,
        dead (failed for good); `since`/`until` bound when the delivery was made."""
        filters = Filters(
            subscriber or None,
            status,
            event_type or None,
            aggregate_id,
            since,
            until,
        )
        rows, total = await deliveries.page(filters, limit, offset)
        return DeliveryPage([delivery_out(d) for d in rows], total, limit, offset)

    @get("/overview", opt=requires(DELIVERY, "read"))
    async def overview(self, deliveries: DeliveriesDep) -> OverviewOut:
        """Per subscriber: pending, retrying, dead and delivered; and attempts of the last 24 hours by hour."""
        return overview_out(await deliveries.overview())

    @get("/{delivery_id:uuid}", opt=requires(DELIVERY, "read"))
    async def get_delivery(self, delivery_id: FromPath[uuid.UUID], deliveries: DeliveriesDep) -> DeliveryDetailOut:
        """The delivery, its event (with the payload) and every attempt, newest first."""
        return detail_out(await deliveries.detail(delivery_id))

    @post("/{delivery_id:uuid}/replay", opt=requires(DELIVERY, "replay", problems=(404, 409)), status_code=200)
    async def replay(self, delivery_id: FromPath[uuid.UUID], deliveries: DeliveriesDep) -> DeliveryOut:
        """Send a dead or delivered delivery again: back to pending with a fresh retry budget, its attempts
        numbered on (the replay is audited). A delivery still pending is refused (409)."""
        return delivery_out(await deliveries.replay(delivery_id))
