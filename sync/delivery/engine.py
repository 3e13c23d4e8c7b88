"""The delivery engine: fans new outbox events out to the subscribers that accept them, claims due
deliveries in batches under a lease, runs each attempt and records what came of it.

Guarantees, on both databases:
- a claim takes only the head of each (tenant, subscriber, aggregate) line: a delivery waits while an
  earlier one of the same aggregate and subscriber is pending, so a subscriber gets an aggregate's events
  in the order they were written (a dead one steps out of the line; replaying it sends it again later);
- a claimed delivery carries a lease (owner + expiry, longer than an attempt may last): nobody else
  claims it until the lease runs out, so two live workers never run the same attempt, and a worker
  killed mid-batch loses nothing (its deliveries become claimable again when the lease expires);
- a result is written only while (lease owner, attempt number) still name the attempt that produced it:
  a worker that finishes after its lease was taken over writes nothing but a "late" line in the log.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED` (workers skip each other's rows instead of queueing);
SQLite's claim runs under `BEGIN IMMEDIATE` (the database's one write lock), with the same conditional
UPDATE. Fan-out is serialised on PostgreSQL by a transaction-level advisory lock, so deliveries are
made in sequence order.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, and_, any_, bindparam, false, insert, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from portal.db.context import SYSTEM
from portal.db.types import utcnow
from portal.outbox import Event, OutboxEvent, PermanentFailure, Subscriber, split_line
from sync.delivery.models import Delivery, DeliveryAttempt

if TYPE_CHECKING:
    from portal.services import Services

log = logging.getLogger("portal.delivery")

# LISTEN/NOTIFY channels: new outbox events (a trigger on outbox_events), new or replayed deliveries.
OUTBOX_CHANNEL = "portal_outbox"
DELIVERIES_CHANNEL = "portal_deliveries"
# pg_advisory_xact_lock key of the fan-out ("portal", "fanout")
FAN_OUT_LOCK = 0x706F7274616C0001
ERROR_LENGTH = 2000
CLAIM_PLAN = (
    "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true), "
    "set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true), "
    "set_config('enable_sort', 'off', true)"
)


@dataclass(frozen=True)
class DeliveryConfig:
    """`timeout_seconds` bounds one attempt; the lease outlasts it by `lease_margin_seconds`, so a live
    worker always finishes (or abandons) an attempt before anyone else may claim it."""

    batch_size: int = 10
    timeout_seconds: float = 30.0
    lease_margin_seconds: float = 30.0
    max_attempts: int = 10
    retry_base_seconds: float = 10.0
    retry_cap_seconds: float = 3600.0
    fan_out_batch: int = 500

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout_seconds + self.lease_margin_seconds)


def retry_delay(attempts: int, config: DeliveryConfig, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: the n-th failure waits base·2^(n-1) (at most the cap), drawn
    between half and all of it, so deliveries that failed together do not all come back together."""
    ceiling = min(config.retry_cap_seconds, config.retry_base_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=ceiling * (0.5 + (rng or random).random() / 2))


def new_worker_id(prefix: str = "worker") -> str:
    import os
    import socket

    return f"{prefix}:{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _error_text(exc: BaseException) -> str:
    message = str(exc).strip()
    text_ = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text_[:ERROR_LENGTH]


@dataclass(frozen=True)
class Claimed:
    tenant_id: uuid.UUID
    id: uuid.UUID
    subscriber: str
    attempt: int
    event: Event


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    error: str | None  # None: delivered
    permanent: bool = False


class DeliveryEngine:
    """One worker's view of the queue: `worker_id` names it in leases and in the attempt log."""

    def __init__(
        self,
        services: Services,
        subscribers: Sequence[Subscriber],
        config: DeliveryConfig | None = None,
        worker_id: str | None = None,
        on_new_deliveries: Callable[[], None] | None = None,
    ) -> None:
        self.services = services
        self.subscribers = {s.name: s for s in subscribers}
        self.config = config or DeliveryConfig()
        self.worker_id = worker_id or new_worker_id()
        self.on_new_deliveries = on_new_deliveries
        self.postgres = services.db.dialect == "postgresql"
        self.rng = random.Random()  # noqa: S311 (jitter, not a secret)

    # fan-out ---------------------------------------------------------------------------------------

    async def fan_out(self) -> int:
        """Make the deliveries of up to `fan_out_batch` new events, oldest first; the number of events."""
        async with self.services.db.session(SYSTEM) as session:
            if self.postgres:
                await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FAN_OUT_LOCK})
            rows = (
                await session.execute(
                    select(
                        OutboxEvent.tenant_id,
                        OutboxEvent.id,
                        OutboxEvent.event_type,
                        OutboxEvent.aggregate_type,
                        OutboxEvent.aggregate_id,
                        OutboxEvent.sequence,
                    )
                    .where(OutboxEvent.fanned_out == false())
                    .order_by(OutboxEvent.sequence)
                    .limit(self.config.fan_out_batch)
                )
            ).all()
            if not rows:
                return 0
            now = utcnow()
            made = [
                {
                    "tenant_id": row.tenant_id,
                    "event_id": row.id,
                    "subscriber": subscriber.name,
                    "event_type": row.event_type,
                    "aggregate_type": row.aggregate_type,
                    "aggregate_id": row.aggregate_id,
                    "sequence": row.sequence,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for row in rows
                for subscriber in self.subscribers.values()
                if subscriber.accepts(row.event_type)
            ]
            if made:
                await session.execute(insert(Delivery.__table__), made)
                if self.postgres:
                    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": DELIVERIES_CHANNEL})
            # by sequence (indexed, drawn once per event); one array parameter on PostgreSQL
            sequences = [r.sequence for r in rows]
            chosen = (
                OutboxEvent.sequence == any_(bindparam("sequences", sequences, type_=ARRAY(BigInteger)))
                if self.postgres
                else OutboxEvent.sequence.in_(sequences)
            )
            await session.execute(
                update(OutboxEvent)
                .where(chosen, OutboxEvent.fanned_out == false())
                .values(fanned_out=True)
                .execution_options(synchronize_session=False)
            )
        if made and self.on_new_deliveries is not None:
            self.on_new_deliveries()
        return len(rows)

    # claim -----------------------------------------------------------------------------------------

    async def claim(self) -> list[Claimed]:
        now = utcnow()
        line = aliased(Delivery)
        head_of_line = (
            select(line.sequence)
            .where(
                line.tenant_id == Delivery.tenant_id,
                line.subscriber == Delivery.subscriber,
                line.aggregate_type == Delivery.aggregate_type,
                line.aggregate_id == Delivery.aggregate_id,
                line.status == "pending",
            )
            .order_by(line.sequence)
            .limit(1)
            .correlate(Delivery)
            .scalar_subquery()
        )
        claimable = and_(
            Delivery.status == "pending",
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_expires_at.is_(None), Delivery.lease_expires_at < now),
        )
        # in the order of the due index, so the scan stops at the batch's last delivery: a delivery
        # waiting behind an earlier one of its line costs one probe of the line index
        query = (
            select(Delivery.tenant_id, Delivery.id, Delivery.lease_owner, Delivery.attempts, Delivery.lease_expires_at)
            .where(claimable, Delivery.sequence == head_of_line)
            .order_by(Delivery.next_attempt_at)
            .limit(self.config.batch_size)
        )
        if self.postgres:
            query = query.with_for_update(skip_locked=True, of=Delivery)
        async with self.services.db.session(SYSTEM) as session:
            if self.postgres:
                # The plan this claim needs whatever the statistics say (a fresh or just-filled table has
                # none worth the name): walk the due index, probe the line index per row. A hash or merge
                # anti-join reads every pending delivery on every claim; a sequential scan on the inner
                # side reads them for every row.
                await session.execute(text(CLAIM_PLAN))
            candidates = (await session.execute(query)).all()
            if not candidates:
                return []
            keys = [(c.tenant_id, c.id) for c in candidates]
            taken = (
                await session.execute(
                    update(Delivery)
                    .where(tuple_(Delivery.tenant_id, Delivery.id).in_(keys), claimable)
                    .values(
                        lease_owner=self.worker_id,
                        lease_expires_at=now + self.config.lease,
                        attempts=Delivery.attempts + 1,
                        updated_at=now,
                    )
                    .returning(
                        Delivery.tenant_id, Delivery.id, Delivery.event_id, Delivery.subscriber, Delivery.attempts
                    )
                    .execution_options(synchronize_session=False)
                )
            ).all()
            if not taken:
                return []
            took = {(t.tenant_id, t.id) for t in taken}
            lost = [
                {
                    "tenant_id": c.tenant_id,
                    "delivery_id": c.id,
                    "number": c.attempts,
                    "worker": c.lease_owner,
                    "started_at": c.lease_expires_at - self.config.lease,
                    "finished_at": c.lease_expires_at,
                    "duration_ms": int(self.config.lease.total_seconds() * 1000),
                    "outcome": "lost",
                    "error": f"the worker {c.lease_owner} stopped before finishing; its lease expired",
                }
                for c in candidates
                if (c.tenant_id, c.id) in took and c.lease_owner is not None and c.lease_expires_at is not None
            ]
            if lost:
                await session.execute(insert(DeliveryAttempt), lost)
            events = {
                (e.tenant_id, e.id): e
                for e in await session.scalars(
                    select(OutboxEvent).where(
                        tuple_(OutboxEvent.tenant_id, OutboxEvent.id).in_([(t.tenant_id, t.event_id) for t in taken])
                    )
                )
            }
        return [
            Claimed(
                t.tenant_id,
                t.id,
                t.subscriber,
                t.attempts,
                _event_of(events[(t.tenant_id, t.event_id)]),
            )
            for t in taken
        ]

    # attempts --------------------------------------------------------------------------------------

    async def attempt(self, claimed: Claimed) -> Outcome:
        started, clock = utcnow(), time.perf_counter()
        error, permanent = None, False
        try:
            await asyncio.wait_for(self._delivering(claimed), self.config.timeout_seconds)
        except PermanentFailure as exc:
            error, permanent = (str(exc) or type(exc).__name__)[:ERROR_LENGTH], True
        except TimeoutError:
            error = f"timed out after {self.config.timeout_seconds:g} s"
        except Exception as exc:
            error = _error_text(exc)
        duration = int((time.perf_counter() - clock) * 1000)
        return Outcome(claimed, started, utcnow(), duration, error, permanent)

    def _delivering(self, claimed: Claimed) -> Awaitable[None]:
        """The subscriber's call for this delivery: `deliver`, or `deliver_to` for one of its own lines."""
        name, key = split_line(claimed.subscriber)
        subscriber = self.subscribers.get(name)
        if subscriber is not None and key is None:
            return subscriber.deliver(self.services, claimed.event)
        if subscriber is not None and key is not None and subscriber.deliver_to is not None:
            return subscriber.deliver_to(self.services, claimed.event, key)
        raise LookupError(f"no subscriber named {claimed.subscriber!r} runs in this worker")

    async def finish(self, outcomes: Sequence[Outcome]) -> None:
        """Write each outcome while its attempt still holds the lease; log every attempt."""
        if not outcomes:
            return
        now = utcnow()
        log_rows: list[dict[str, Any]] = []
        async with self.services.db.session(SYSTEM) as session:
            delivered = [o for o in outcomes if o.error is None]
            written: set[tuple[uuid.UUID, uuid.UUID]] = set()
            if delivered:
                rows = await session.execute(
                    update(Delivery)
                    .where(
                        tuple_(Delivery.tenant_id, Delivery.id, Delivery.attempts).in_(
                            [(o.claimed.tenant_id, o.claimed.id, o.claimed.attempt) for o in delivered]
                        ),
                        Delivery.lease_owner == self.worker_id,
                        Delivery.status == "pending",
                    )
                    .values(
                        status="delivered",
                        delivered_at=now,
                        last_error=None,
                        lease_owner=None,
                        lease_expires_at=None,
                        updated_at=now,
                    )
                    .returning(Delivery.tenant_id, Delivery.id)
                    .execution_options(synchronize_session=False)
                )
                written |= {(r.tenant_id, r.id) for r in rows}
            failed = [o.claimed for o in outcomes if o.error is not None]
            # attempts made before the last replay: the budget and the backoff count from there
            bases: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
            if failed:
                bases = {
                    (r.tenant_id, r.id): r.attempt_base
                    for r in await session.execute(
                        select(Delivery.tenant_id, Delivery.id, Delivery.attempt_base).where(
                            tuple_(Delivery.tenant_id, Delivery.id).in_([(c.tenant_id, c.id) for c in failed])
                        )
                    )
                }

            def tries(c: Claimed) -> int:
                return c.attempt - bases.get((c.tenant_id, c.id), 0)

            for outcome in outcomes:
                if outcome.error is None:
                    continue
                c = outcome.claimed
                dead = outcome.permanent or tries(c) >= self.config.max_attempts
                result = await session.execute(
                    update(Delivery)
                    .where(
                        Delivery.tenant_id == c.tenant_id,
                        Delivery.id == c.id,
                        Delivery.attempts == c.attempt,
                        Delivery.lease_owner == self.worker_id,
                        Delivery.status == "pending",
                    )
                    .values(
                        status="dead" if dead else "pending",
                        next_attempt_at=now if dead else now + retry_delay(tries(c), self.config, self.rng),
                        last_error=outcome.error,
                        lease_owner=None,
                        lease_expires_at=None,
                        updated_at=now,
                    )
                    .returning(Delivery.id)
                    .execution_options(synchronize_session=False)
                )
                if result.first() is not None:
                    written.add((c.tenant_id, c.id))
            for outcome in outcomes:
                c = outcome.claimed
                if (c.tenant_id, c.id) not in written:
                    kind = "late"
                elif outcome.error is None:
                    kind = "delivered"
                else:
                    kind = "dead" if outcome.permanent or tries(c) >= self.config.max_attempts else "failed"
                log_rows.append(
                    {
                        "tenant_id": c.tenant_id,
                        "delivery_id": c.id,
                        "number": c.attempt,
                        "worker": self.worker_id,
                        "started_at": outcome.started_at,
                        "finished_at": outcome.finished_at,
                        "duration_ms": outcome.duration_ms,
                        "outcome": kind,
                        "error": outcome.error,
                    }
                )
            await session.execute(insert(DeliveryAttempt), log_rows)
        for row in log_rows:
            if row["outcome"] == "late":
                log.warning(
                    "delivery %s: attempt %s finished after its lease was taken over", row["delivery_id"], row["number"]
                )

    async def deliver_batch(self) -> int:
        """Claim a batch, run its attempts side by side (one per aggregate line, so order holds) and
        record them; how many were claimed."""
        claimed = await self.claim()
        if not claimed:
            return 0
        outcomes = await asyncio.gather(*(self.attempt(c) for c in claimed))
        await self.finish(outcomes)
        return len(claimed)


def _event_of(row: OutboxEvent) -> Event:
    return Event(
        id=row.id,
        tenant_id=row.tenant_id,
        event_type=row.event_type,
        aggregate_type=row.aggregate_type,
        aggregate_id=row.aggregate_id,
        payload=row.payload,
        occurred_at=row.occurred_at,
    )


async def wake_workers(session: AsyncSession) -> None:
    """Tell every listening worker that deliveries became due (PostgreSQL; sent when `session` commits)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": DELIVERIES_CHANNEL})
