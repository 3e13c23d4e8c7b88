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

PostgreSQL claims with `FOR UPDATE SKIP LOCKED` (workers skip each other's rows instead of queueing),
locking, leasing and reading a batch with its events in one statement; SQLite's claim runs under
`BEGIN IMMEDIATE` (the database's one write lock), reading the same batch, then leasing it. A batch's
results are written in one UPDATE and its attempts logged in one INSERT, on both. Fan-out is serialised
on PostgreSQL by a transaction-level advisory lock, so deliveries are made in sequence order.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    column,
    false,
    func,
    insert,
    null,
    or_,
    select,
    text,
    tuple_,
    update,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

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
    # how long a batch's attempts may lag behind its first one before the batch is recorded without them
    # (deliver_batch), and how many such slow attempts one engine lets run on at most
    linger_after_seconds: float = 0.25
    max_lingering: int = 100
    # the most heads of one line sent together to a subscriber that takes several in one request
    # (`deliver_many_to`): a claim that took one goes on to claim more of that line's heads, up to this;
    # 1 (the default) sends each on its own: a paired deployment applies a batch's changes one by one under
    # its pairing's lock, so concurrent batches queue there and, on a busy receiver, outlast the read timeout
    line_batch: int = 1

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


def _result_text(error: BaseException | None) -> str | None:
    """An event's own result from a call that sent several: None when delivered."""
    if error is None:
        return None
    if isinstance(error, PermanentFailure):
        return (str(error) or type(error).__name__)[:ERROR_LENGTH]
    return _error_text(error)


@dataclass(frozen=True)
class Claimed:
    tenant_id: uuid.UUID
    id: uuid.UUID
    subscriber: str
    attempt: int
    event: Event
    # attempts made before the last replay: the retry budget and the backoff count from there
    attempt_base: int = 0

    @property
    def tries(self) -> int:
        return self.attempt - self.attempt_base


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
        # attempts of earlier batches still running (slow receivers), each recorded when it ends
        self._lingering: set[asyncio.Future[None]] = set()

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

    async def claim(self, line: tuple[uuid.UUID, str] | None = None, limit: int | None = None) -> list[Claimed]:
        """Up to `limit` (the batch size) due heads of lines; with `line` (tenant, subscriber column), of that
        one line only."""
        now = utcnow()
        params: dict[str, Any] = {
            "now": now,
            "batch": limit or self.config.batch_size,
            "owner": self.worker_id,
            "expires": now + self.config.lease,
        }
        if line is not None:
            params.update(tenant=line[0], line=line[1])
        async with self.services.db.session(SYSTEM) as session:
            if self.postgres and line is None:
                # The plan this claim needs whatever the statistics say (a queue table's are stale more often
                # than not): walk the due index in order, and find each line's head in the line index (the
                # only index that yields a line in sequence order, so with sorting off nothing else serves).
                await session.execute(text(CLAIM_PLAN))
                taken = (await session.execute(_CLAIM_PG, params)).all()
            elif self.postgres:
                taken = (await session.execute(_CLAIM_LINE_PG, params)).all()
            else:
                taken = await _claim_sqlite(session, params, _DUE if line is None else _DUE_LINE)
            lost = [
                {
                    "tenant_id": t.tenant_id,
                    "delivery_id": t.id,
                    "number": t.attempts - 1,
                    "worker": t.previous_owner,
                    "started_at": t.previous_expiry - self.config.lease,
                    "finished_at": t.previous_expiry,
                    "duration_ms": int(self.config.lease.total_seconds() * 1000),
                    "outcome": "lost",
                    "error": f"the worker {t.previous_owner} stopped before finishing; its lease expired",
                }
                for t in taken
                if t.previous_owner is not None and t.previous_expiry is not None
            ]
            if lost:
                await session.execute(insert(_ATTEMPTS), lost)
        return [
            Claimed(
                t.tenant_id,
                t.id,
                t.subscriber,
                t.attempts,
                Event(
                    id=t.event_id,
                    tenant_id=t.tenant_id,
                    event_type=t.event_type,
                    aggregate_type=t.aggregate_type,
                    aggregate_id=t.aggregate_id,
                    payload=t.payload,
                    occurred_at=t.occurred_at,
                ),
                t.attempt_base,
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
        """Write the batch's results in one statement, each only while its attempt still holds the lease,
        and log every attempt in a second."""
        if not outcomes:
            return
        now = utcnow()
        kinds = [self._kind(o) for o in outcomes]
        results = [
            {
                "tenant_id": o.claimed.tenant_id,
                "id": o.claimed.id,
                "attempts": o.claimed.attempt,
                "status": "pending" if kind == "failed" else kind,
                "next_attempt_at": now + retry_delay(o.claimed.tries, self.config, self.rng)
                if kind == "failed"
                else now,
                # never None: SQLAlchemy renders a None in VALUES as a NULL literal, and caches the statement
                # by its shape alone
                "last_error": o.error or "",
            }
            for o, kind in zip(outcomes, kinds, strict=True)
        ]
        async with self.services.db.session(SYSTEM) as session:
            if self.postgres:
                columns = {key: [r[key] for r in results] for key in results[0]}
                finished = await session.execute(_FINISH_PG, {**columns, "owner": self.worker_id, "now": now})
            else:
                finished = await session.execute(_finish_statement(results), {"owner": self.worker_id, "now": now})
            written = {(r.tenant_id, r.id) for r in finished}
            log_rows = [
                {
                    "tenant_id": o.claimed.tenant_id,
                    "delivery_id": o.claimed.id,
                    "number": o.claimed.attempt,
                    "worker": self.worker_id,
                    "started_at": o.started_at,
                    "finished_at": o.finished_at,
                    "duration_ms": o.duration_ms,
                    "outcome": kind if (o.claimed.tenant_id, o.claimed.id) in written else "late",
                    "error": o.error,
                }
                for o, kind in zip(outcomes, kinds, strict=True)
            ]
            await session.execute(insert(_ATTEMPTS), log_rows)
        for row in log_rows:
            if row["outcome"] == "late":
                log.warning(
                    "delivery %s: attempt %s finished after its lease was taken over", row["delivery_id"], row["number"]
                )

    def _kind(self, outcome: Outcome) -> str:
        """What the attempt comes to if its lease still holds: delivered, failed (to be retried) or dead."""
        if outcome.error is None:
            return "delivered"
        if outcome.permanent or outcome.claimed.tries >= self.config.max_attempts:
            return "dead"
        return "failed"

    async def deliver_batch(self) -> int:
        """Claim a batch, run its attempts side by side (each heads its own line, so order holds) and
        record them in one write; how many were claimed.

        A slow receiver holds back its own line only: once the batch's first attempt has ended, the others
        get `linger_after_seconds` or three times as long as that one took, whichever is longer; what has
        ended by then is recorded, and the attempts still running go on in the background (still under their
        lease, bounded by the attempt timeout), each recorded when it ends, while the caller claims the next
        batch. At most `max_lingering` attempts go on like that; beyond, the next claim waits for one."""
        while len(self._lingering) >= self.config.max_lingering:
            await asyncio.wait(self._lingering, return_when=asyncio.FIRST_COMPLETED)
        claimed = await self.claim()
        if not claimed:
            return 0
        claimed += await self._more_of_lines(claimed)
        loop = asyncio.get_running_loop()
        started = loop.time()
        running = {asyncio.ensure_future(self._attempts(group)) for group in self._groups(claimed)}
        done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        if running:
            window = max(self.config.linger_after_seconds, 3 * (loop.time() - started))
            more, running = await asyncio.wait(running, timeout=window)
            done |= more
        # in the order claimed, as the attempt log has always been written
        order = {c.id: i for i, c in enumerate(claimed)}
        outcomes = [o for t in done for o in t.result()]
        await self.finish(sorted(outcomes, key=lambda o: order[o.claimed.id]))
        for task in running:
            self._linger(task)
        return len(claimed)

    def _sent_together(self, claimed: Claimed) -> bool:
        """Whether the delivery is a line's of a subscriber that takes a line's heads in one request."""
        name, key = split_line(claimed.subscriber)
        subscriber = self.subscribers.get(name)
        return (
            key is not None
            and subscriber is not None
            and subscriber.deliver_many_to is not None
            and self.config.line_batch > 1
        )

    async def _more_of_lines(self, claimed: Sequence[Claimed]) -> list[Claimed]:
        """For each line of a subscriber that takes several heads in one request, the line's other due heads
        (other aggregates), up to `line_batch` in all: one request carries them instead of one each."""
        taken = Counter((c.tenant_id, c.subscriber) for c in claimed if self._sent_together(c))
        more: list[Claimed] = []
        for line, count in taken.items():
            if count < self.config.line_batch:
                more += await self.claim(line, self.config.line_batch - count)
        return more

    def _groups(self, claimed: Sequence[Claimed]) -> list[list[Claimed]]:
        """The batch as the attempts to run side by side: one per delivery, except that the deliveries of a
        subscriber that applies events together (`deliver_many`) go as one attempt per tenant, and those of
        one line of a subscriber that sends several in one request (`deliver_many_to`) as one per line."""
        together: dict[tuple[str, uuid.UUID], list[Claimed]] = {}
        groups: list[list[Claimed]] = []
        for c in claimed:
            subscriber = self.subscribers.get(c.subscriber)
            if (subscriber is not None and subscriber.deliver_many is not None) or self._sent_together(c):
                key = (c.subscriber, c.tenant_id)
                if key not in together:
                    together[key] = []
                    groups.append(together[key])
                together[key].append(c)
            else:
                groups.append([c])
        return groups

    async def _attempts(self, group: Sequence[Claimed]) -> list[Outcome]:
        """One delivery's attempt, or a group's: applied together, and when that fails, each on its own
        (side by side), so the failure is the one event's alone and the others are delivered."""
        if len(group) == 1:
            return [await self.attempt(group[0])]
        if self._sent_together(group[0]):
            return await self._line_attempts(group)
        subscriber = self.subscribers[group[0].subscriber]
        assert subscriber.deliver_many is not None
        started, clock = utcnow(), time.perf_counter()
        try:
            events = [c.event for c in group]
            # half an attempt's time, so that trying each on its own after a failure still ends within the lease
            await asyncio.wait_for(subscriber.deliver_many(self.services, events), self.config.timeout_seconds / 2)
        except Exception:
            log.debug("%s: %d events applied together failed; each is tried on its own", subscriber.name, len(group))
            return list(await asyncio.gather(*(self.attempt(c) for c in group)))
        duration = int((time.perf_counter() - clock) * 1000)
        finished = utcnow()
        return [Outcome(c, started, finished, duration, None) for c in group]

    async def _line_attempts(self, group: Sequence[Claimed]) -> list[Outcome]:
        """A line's heads in one call of `deliver_many_to`, each with its own result; when the call itself
        fails, each is tried on its own (side by side)."""
        name, key = split_line(group[0].subscriber)
        subscriber = self.subscribers[name]
        assert subscriber.deliver_many_to is not None and key is not None
        started, clock = utcnow(), time.perf_counter()
        try:
            events = [c.event for c in group]
            results = await asyncio.wait_for(
                subscriber.deliver_many_to(self.services, events, key), self.config.timeout_seconds / 2
            )
            if len(results) != len(group):
                raise RuntimeError(f"{name}: {len(results)} results for {len(group)} events")
        except Exception:
            log.debug("%s: %d events sent together failed; each is tried on its own", name, len(group))
            return list(await asyncio.gather(*(self.attempt(c) for c in group)))
        duration = int((time.perf_counter() - clock) * 1000)
        finished = utcnow()
        return [
            Outcome(c, started, finished, duration, _result_text(error), isinstance(error, PermanentFailure))
            for c, error in zip(group, results, strict=True)
        ]

    def _linger(self, attempt: asyncio.Future[list[Outcome]]) -> None:
        async def record() -> None:
            try:
                await self.finish(await attempt)
            except Exception:
                # its lease runs out and another attempt is made: at least once, as after a crash
                log.exception("recording a slow delivery attempt failed")

        task = asyncio.ensure_future(record())
        self._lingering.add(task)
        task.add_done_callback(self._lingering.discard)

    async def settle(self) -> None:
        """Wait until every attempt still going on in the background has ended and been recorded."""
        while self._lingering:
            await asyncio.wait(set(self._lingering))


_DELIVERIES = Delivery.__table__
_ATTEMPTS = DeliveryAttempt.__table__
_EVENTS = OutboxEvent.__table__


def _due(one_line: bool = False) -> Select[Any]:
    """Due pending deliveries that head their line (tenant, subscriber, aggregate: the lowest pending
    sequence), in the order of the due index, so the scan stops at the batch's last delivery; with `one_line`,
    those of one tenant and subscriber column only (the `tenant` and `line` parameters)."""
    d = _DELIVERIES
    line = d.alias("line")
    head_of_line = (
        select(line.c.sequence)
        .where(
            line.c.tenant_id == d.c.tenant_id,
            line.c.subscriber == d.c.subscriber,
            line.c.aggregate_type == d.c.aggregate_type,
            line.c.aggregate_id == d.c.aggregate_id,
            line.c.status == "pending",
        )
        .order_by(line.c.sequence)
        .limit(1)
        .correlate(d)
        .scalar_subquery()
    )
    now = bindparam("now", type_=d.c.next_attempt_at.type)
    query = select(d.c.tenant_id, d.c.id, d.c.lease_owner, d.c.lease_expires_at).where(
        d.c.status == "pending",
        d.c.next_attempt_at <= now,
        or_(d.c.lease_expires_at.is_(None), d.c.lease_expires_at < now),
        d.c.sequence == head_of_line,
    )
    if one_line:
        query = query.where(
            d.c.tenant_id == bindparam("tenant", type_=d.c.tenant_id.type),
            d.c.subscriber == bindparam("line", type_=d.c.subscriber.type),
        )
    return query.order_by(d.c.next_attempt_at).limit(bindparam("batch", type_=Integer()))


def _lease() -> dict[str, Any]:
    d = _DELIVERIES
    now = bindparam("now", type_=d.c.updated_at.type)
    return {
        "lease_owner": bindparam("owner", type_=d.c.lease_owner.type),
        "lease_expires_at": bindparam("expires", type_=d.c.lease_expires_at.type),
        "attempts": d.c.attempts + 1,
        "updated_at": now,
    }


def _event_columns(taken: Any) -> list[Any]:
    e = _EVENTS
    return [
        taken.c.tenant_id,
        taken.c.id,
        taken.c.event_id,
        taken.c.subscriber,
        taken.c.attempts,
        taken.c.attempt_base,
        taken.c.previous_owner,
        taken.c.previous_expiry,
        e.c.event_type,
        e.c.aggregate_type,
        e.c.aggregate_id,
        e.c.payload,
        e.c.occurred_at,
    ]


def _claim_postgresql(one_line: bool = False) -> Select[Any]:
    """The whole claim in one statement: lock a batch (skipping rows other workers hold), lease it, and
    read its events."""
    d = _DELIVERIES
    picked = _due(one_line).with_for_update(skip_locked=True, of=d).cte("picked")
    taken = (
        update(d)
        .where(d.c.tenant_id == picked.c.tenant_id, d.c.id == picked.c.id)
        .values(_lease())
        .returning(
            d.c.tenant_id,
            d.c.id,
            d.c.event_id,
            d.c.subscriber,
            d.c.attempts,
            d.c.attempt_base,
            picked.c.lease_owner.label("previous_owner"),
            picked.c.lease_expires_at.label("previous_expiry"),
        )
        .cte("taken")
    )
    e = _EVENTS
    return select(*_event_columns(taken)).join_from(
        taken, e, and_(e.c.tenant_id == taken.c.tenant_id, e.c.id == taken.c.event_id)
    )


_CLAIM_PG = _claim_postgresql()
_CLAIM_LINE_PG = _claim_postgresql(one_line=True)
_DUE = _due()
_DUE_LINE = _due(one_line=True)


async def _claim_sqlite(session: AsyncSession, params: dict[str, Any], due: Select[Any] = _DUE) -> Sequence[Any]:
    """SQLite: the transaction holds the database's one write lock from its start, so the batch read
    first is still unclaimed when it is leased."""
    d, e = _DELIVERIES, _EVENTS
    picked = {(r.tenant_id, r.id): r for r in await session.execute(due, params)}
    if not picked:
        return []
    taken = await session.execute(
        update(d)
        .where(tuple_(d.c.tenant_id, d.c.id).in_(list(picked)))
        .values(_lease())
        .returning(d.c.tenant_id, d.c.id, d.c.event_id, d.c.subscriber, d.c.attempts, d.c.attempt_base),
        params,
    )
    leased = taken.all()
    events = {
        (ev.tenant_id, ev.id): ev
        for ev in await session.execute(
            select(
                e.c.tenant_id,
                e.c.id,
                e.c.event_type,
                e.c.aggregate_type,
                e.c.aggregate_id,
                e.c.payload,
                e.c.occurred_at,
            ).where(tuple_(e.c.tenant_id, e.c.id).in_({(t.tenant_id, t.event_id) for t in leased}))
        )
    }
    return [
        _Taken(
            t.tenant_id,
            t.id,
            t.event_id,
            t.subscriber,
            t.attempts,
            t.attempt_base,
            picked[(t.tenant_id, t.id)].lease_owner,
            picked[(t.tenant_id, t.id)].lease_expires_at,
            ev.event_type,
            ev.aggregate_type,
            ev.aggregate_id,
            ev.payload,
            ev.occurred_at,
        )
        for t in leased
        for ev in (events[(t.tenant_id, t.event_id)],)
    ]


class _Taken(NamedTuple):
    tenant_id: uuid.UUID
    id: uuid.UUID
    event_id: uuid.UUID
    subscriber: str
    attempts: int
    attempt_base: int
    previous_owner: str | None
    previous_expiry: datetime | None
    event_type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    payload: dict[str, Any]
    occurred_at: datetime


def _finish_statement(results: list[dict[str, Any]]) -> Any:
    """One UPDATE for a batch's results (a VALUES list joined on the deliveries), written only where
    (lease owner, attempt number) still name the attempt; returns the deliveries it wrote."""
    d = _DELIVERIES
    outcome = (
        values(
            column("tenant_id", d.c.tenant_id.type),
            column("id", d.c.id.type),
            column("attempts", d.c.attempts.type),
            column("status", d.c.status.type),
            column("next_attempt_at", d.c.next_attempt_at.type),
            column("last_error", d.c.last_error.type),
            name="outcome",
        )
        .data([tuple(r.values()) for r in results])
        .cte("outcome")
    )
    now = bindparam("now", type_=d.c.updated_at.type)
    return (
        update(d)
        .where(
            d.c.tenant_id == outcome.c.tenant_id,
            d.c.id == outcome.c.id,
            d.c.attempts == outcome.c.attempts,
            # Only pending deliveries carry a lease (every write that ends one clears it), so no status test:
            # with one, stale statistics made the planner probe a status index per row instead of the key.
            d.c.lease_owner == bindparam("owner", type_=d.c.lease_owner.type),
        )
        .values(
            status=outcome.c.status,
            next_attempt_at=outcome.c.next_attempt_at,
            last_error=func.nullif(outcome.c.last_error, ""),
            delivered_at=case((outcome.c.status == "delivered", now), else_=null()),
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
        .returning(d.c.tenant_id, d.c.id)
    )


# PostgreSQL: the same UPDATE with the batch as one array per column (unnest), so that it is one statement
# whatever the batch: compiled once and prepared once per connection, where a VALUES list of n rows is a
# new statement to compile for every batch.
_FINISH_PG = text(
    """
    UPDATE outbox_deliveries AS d
    SET status = o.status,
        next_attempt_at = o.next_attempt_at,
        last_error = nullif(o.last_error, ''),
        delivered_at = CASE WHEN o.status = 'delivered' THEN :now END,
        lease_owner = NULL,
        lease_expires_at = NULL,
        updated_at = :now
    FROM unnest(:tenant_id, :id, :attempts, :status, :next_attempt_at, :last_error)
        AS o(tenant_id, id, attempts, status, next_attempt_at, last_error)
    WHERE d.tenant_id = o.tenant_id AND d.id = o.id AND d.attempts = o.attempts AND d.lease_owner = :owner
    RETURNING d.tenant_id, d.id
    """
).bindparams(
    bindparam("tenant_id", type_=ARRAY(Uuid())),
    bindparam("id", type_=ARRAY(Uuid())),
    bindparam("attempts", type_=ARRAY(Integer())),
    bindparam("status", type_=ARRAY(String())),
    bindparam("next_attempt_at", type_=ARRAY(DateTime(timezone=True))),
    bindparam("last_error", type_=ARRAY(String())),
    bindparam("owner", type_=String()),
    bindparam("now", type_=DateTime(timezone=True)),
)


async def wake_workers(session: AsyncSession) -> None:
    """Tell every listening worker that deliveries became due (PostgreSQL; sent when `session` commits)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": DELIVERIES_CHANNEL})
