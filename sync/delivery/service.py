"""What staff see of their tenant's deliveries and what they may do: the overview (per subscriber, and
the last 24 hours hour by hour), filtered lists, one delivery with its event and attempts, and replay.
Every query runs in the request's tenant context, so another tenant's deliveries do not exist here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.audit import record_action
from portal.db.types import utcnow
from portal.errors import Conflict, NotFound
from portal.i18n import N_
from portal.outbox import OutboxEvent
from sync.delivery.engine import wake_workers
from sync.delivery.models import Delivery, DeliveryAttempt

# What a delivery looks like from the console: waiting for its first attempt, retrying after failures,
# delivered, or dead (failed for good, waiting for someone to replay it).
STATES = ("pending", "retrying", "delivered", "dead")
HOURS = 24


@dataclass(frozen=True)
class Filters:
    subscriber: str | None = None
    state: str | None = None
    event_type: str | None = None
    aggregate_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass
class SubscriberFigures:
    subscriber: str
    pending: int = 0
    retrying: int = 0
    dead: int = 0
    delivered: int = 0


@dataclass(frozen=True)
class HourFigures:
    start: datetime
    delivered: int
    failed: int


@dataclass
class Overview:
    subscribers: list[SubscriberFigures]
    hours: list[HourFigures] = field(default_factory=list)

    @property
    def failing(self) -> list[SubscriberFigures]:
        """Subscribers with dead or retrying deliveries: what someone should look at."""
        return [s for s in self.subscribers if s.dead or s.retrying]


@dataclass(frozen=True)
class DeliveryDetail:
    delivery: Delivery
    event: OutboxEvent
    attempts: list[DeliveryAttempt]


def state_of(delivery: Delivery) -> str:
    """Retrying: pending after a failed attempt (its error kept until it is delivered or replayed)."""
    if delivery.status == "pending":
        return "retrying" if delivery.last_error is not None else "pending"
    return delivery.status


class Deliveries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def overview(self, now: datetime | None = None) -> Overview:
        now = now or utcnow()
        pending = Delivery.status == "pending"
        rows = await self.session.execute(
            select(
                Delivery.subscriber,
                func.sum(case((pending & Delivery.last_error.is_(None), 1), else_=0)),
                func.sum(case((pending & Delivery.last_error.is_not(None), 1), else_=0)),
                func.sum(case((Delivery.status == "dead", 1), else_=0)),
                func.sum(case((Delivery.status == "delivered", 1), else_=0)),
            )
            .group_by(Delivery.subscriber)
            .order_by(Delivery.subscriber)
        )
        subscribers = [
            SubscriberFigures(name, int(p or 0), int(r or 0), int(d or 0), int(ok or 0)) for name, p, r, d, ok in rows
        ]
        return Overview(subscribers, await self.hours(now))

    async def hours(self, now: datetime) -> list[HourFigures]:
        """Attempts of the last 24 hours by the hour they finished in: delivered, and failed (retried,
        dead or lost). Bucketed here rather than in SQL, so both databases count alike."""
        end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        start = end - timedelta(hours=HOURS)
        delivered = [0] * HOURS
        failed = [0] * HOURS
        rows = await self.session.execute(
            select(DeliveryAttempt.finished_at, DeliveryAttempt.outcome).where(
                DeliveryAttempt.finished_at >= start, DeliveryAttempt.outcome != "late"
            )
        )
        for finished, outcome in rows:
            index = int((finished - start).total_seconds() // 3600)
            if 0 <= index < HOURS:
                if outcome == "delivered":
                    delivered[index] += 1
                else:
                    failed[index] += 1
        return [HourFigures(start + timedelta(hours=i), delivered[i], failed[i]) for i in range(HOURS)]

    def _filtered(self, filters: Filters) -> Select[tuple[Delivery]]:
        query = select(Delivery)
        if filters.subscriber:
            query = query.where(Delivery.subscriber == filters.subscriber)
        if filters.state == "pending":
            query = query.where(Delivery.status == "pending", Delivery.last_error.is_(None))
        elif filters.state == "retrying":
            query = query.where(Delivery.status == "pending", Delivery.last_error.is_not(None))
        elif filters.state in ("delivered", "dead"):
            query = query.where(Delivery.status == filters.state)
        if filters.event_type:
            query = query.where(Delivery.event_type == filters.event_type)
        if filters.aggregate_id is not None:
            query = query.where(Delivery.aggregate_id == filters.aggregate_id)
        if filters.since is not None:
            query = query.where(Delivery.created_at >= filters.since)
        if filters.until is not None:
            query = query.where(Delivery.created_at < filters.until)
        return query

    async def page(self, filters: Filters, limit: int, offset: int = 0) -> tuple[list[Delivery], int]:
        query = self._filtered(filters)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(
            query.order_by(Delivery.created_at.desc(), Delivery.sequence.desc(), Delivery.subscriber)
            .limit(limit)
            .offset(offset)
        )
        return list(rows), total

    async def subscriber_names(self) -> list[str]:
        return list(await self.session.scalars(select(Delivery.subscriber).distinct().order_by(Delivery.subscriber)))

    async def event_types(self) -> list[str]:
        return list(await self.session.scalars(select(Delivery.event_type).distinct().order_by(Delivery.event_type)))

    async def _get(self, delivery_id: uuid.UUID) -> Delivery:
        delivery = await self.session.scalar(select(Delivery).where(Delivery.id == delivery_id))
        if delivery is None:
            raise NotFound(N_("No such delivery"), code="delivery_not_found")
        return delivery

    async def detail(self, delivery_id: uuid.UUID) -> DeliveryDetail:
        delivery = await self._get(delivery_id)
        event = (await self.session.scalars(select(OutboxEvent).where(OutboxEvent.id == delivery.event_id))).one()
        attempts = list(
            await self.session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery.id)
                .order_by(DeliveryAttempt.number.desc(), DeliveryAttempt.finished_at.desc())
            )
        )
        return DeliveryDetail(delivery, event, attempts)

    async def replay(self, delivery_id: uuid.UUID) -> Delivery:
        """A dead delivery goes back to pending with a fresh retry budget; a delivered one is sent again.
        One still pending is refused: it is already going to be delivered. The attempts go on counting
        (the log's numbers continue), and the replay is in the audit log: who, when, which delivery."""
        delivery = await self._get(delivery_id)
        if delivery.status == "pending":
            raise Conflict(N_("This delivery is still waiting to be delivered"), code="delivery_pending")
        now = utcnow()
        was = {"status": delivery.status, "attempts": delivery.attempts, "last_error": delivery.last_error}
        replayed = await self.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery.id, Delivery.status == delivery.status)
            .values(
                status="pending",
                attempt_base=Delivery.attempts,
                next_attempt_at=now,
                last_error=None,  # what went wrong stays in the attempt log
                lease_owner=None,
                lease_expires_at=None,
                delivered_at=None,
                updated_at=now,
            )
            .returning(Delivery.id)
            .execution_options(synchronize_session=False)
        )
        if replayed.first() is None:  # someone replayed it a moment ago
            raise Conflict(N_("This delivery is still waiting to be delivered"), code="delivery_pending")
        record_action(
            self.session,
            delivery,
            "replay",
            {"event_id": delivery.event_id, "subscriber": delivery.subscriber, "replayed": was},
        )
        await wake_workers(self.session)
        await self.session.refresh(delivery)
        return delivery
