"""The delivery engine on both databases: every accepted event reaches its subscriber once, in its
aggregate's order; failures are retried with backoff up to a maximum and then dead with the last error;
an expired lease is taken over and the late worker's result is ignored."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from litestar import Litestar
from sqlalchemy import select

from portal.config import Settings
from portal.db.context import SYSTEM, tenant_context
from portal.db.engine import Database
from portal.outbox import Event, OutboxEvent, PermanentFailure
from portal.services import Services
from sync.delivery.engine import DeliveryConfig, DeliveryEngine, retry_delay
from sync.delivery.models import Delivery, DeliveryAttempt
from sync.delivery.service import Deliveries
from tests.integration.sync.support import FAST, Recorder, drain, publish_events, run_engine
from tests.world import World


async def deliveries_of(db: Database, subscriber: str) -> list[Delivery]:
    async with db.session(SYSTEM) as session:
        return list(
            await session.scalars(select(Delivery).where(Delivery.subscriber == subscriber).order_by(Delivery.sequence))
        )


async def attempts_of(db: Database, delivery_id: uuid.UUID) -> list[DeliveryAttempt]:
    async with db.session(SYSTEM) as session:
        return list(
            await session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.number)
            )
        )


def test_each_accepting_subscriber_gets_every_event_once_in_aggregate_order(
    app: Litestar, settings: Settings, world: World
) -> None:
    x, y = uuid.uuid4(), uuid.uuid4()
    everything, picky = Recorder("everything"), Recorder("picky", prefix="test.b")
    # the first event of x fails twice: the later events of x wait behind it, y goes on
    everything.fail = lambda e, n: RuntimeError("receiver down") if e.payload["n"] == 1 and n <= 2 else None

    async def work(services: Services, db: Database) -> None:
        await publish_events(db, world.a.tenant_id, [("test.a", x, {"n": 1}), ("test.b", y, {"n": 1})])
        await publish_events(db, world.a.tenant_id, [("test.b", x, {"n": 2}), ("test.a", x, {"n": 3})])
        await publish_events(db, world.b.tenant_id, [("test.a", y, {"n": 2})])
        engine = DeliveryEngine(services, [everything.subscriber(), picky.subscriber()], FAST)
        await drain(engine)
        delivered = await deliveries_of(db, "everything")
        assert [d.status for d in delivered] == ["delivered"] * 5
        first = next(d for d in delivered if d.aggregate_id == x and d.attempts == 3)
        assert [a.outcome for a in await attempts_of(db, first.id)] == ["failed", "failed", "delivered"]
        async with db.session(SYSTEM) as session:
            assert all(await session.scalars(select(OutboxEvent.fanned_out)))

    run_engine(app, settings, work)
    assert [e.payload["n"] for e in everything.received if e.aggregate_id == x] == [1, 2, 3]
    assert len(everything.received) == len({e.id for e in everything.received}) == 5
    assert {(str(e.tenant_id), e.payload["n"]) for e in everything.received if e.aggregate_id == y} == {
        (world.a.tenant_id, 1),
        (world.b.tenant_id, 2),
    }
    assert sorted(e.event_type for e in picky.received) == ["test.b", "test.b"]


def test_a_subscriber_that_takes_events_together_gets_them_per_tenant_and_one_failure_holds_back_no_other(
    app: Litestar, settings: Settings, world: World
) -> None:
    batch = Recorder("batch")
    a_ids, b_ids = [uuid.uuid4() for _ in range(5)], [uuid.uuid4() for _ in range(2)]
    # the third of tenant A's events fails the first two times it is seen: the group it came in fails, the
    # others of that group are delivered on their own at once, and it is retried alone
    batch.fail = lambda e, n: RuntimeError("bad record") if e.aggregate_id == a_ids[2] and n <= 2 else None

    async def work(services: Services, db: Database) -> None:
        await publish_events(db, world.a.tenant_id, [("test.a", i, {}) for i in a_ids])
        await publish_events(db, world.b.tenant_id, [("test.a", i, {}) for i in b_ids])
        engine = DeliveryEngine(services, [batch.subscriber(together=True)], FAST)
        await drain(engine)
        delivered = await deliveries_of(db, "batch")
        assert [d.status for d in delivered] == ["delivered"] * 7
        failing = next(d for d in delivered if d.aggregate_id == a_ids[2])
        assert [a.outcome for a in await attempts_of(db, failing.id)] == ["failed", "delivered"]
        other = next(d for d in delivered if d.aggregate_id == a_ids[0])
        assert [a.outcome for a in await attempts_of(db, other.id)] == ["delivered"]

    run_engine(app, settings, work)
    assert sorted(len(g) for g in batch.groups) == [2, 5]
    assert all(len({e.tenant_id for e in group}) == 1 for group in batch.groups)
    assert sorted(str(e.aggregate_id) for e in batch.received) == sorted(map(str, a_ids + b_ids))


def test_failures_back_off_then_go_dead_with_the_last_error(app: Litestar, settings: Settings, world: World) -> None:
    always = Recorder("always-failing")
    always.fail = lambda _e, n: ConnectionError(f"refused, try {n}")
    config = replace(FAST, max_attempts=3)

    async def work(services: Services, db: Database) -> None:
        await publish_events(db, world.a.tenant_id, [("test.a", uuid.uuid4(), {})])
        engine = DeliveryEngine(services, [always.subscriber()], config)
        await drain(engine)
        [dead] = await deliveries_of(db, "always-failing")
        assert (dead.status, dead.attempts) == ("dead", 3)
        assert dead.last_error == "ConnectionError: refused, try 3"
        assert [a.outcome for a in await attempts_of(db, dead.id)] == ["failed", "failed", "dead"]
        # replayed: a fresh budget of attempts, numbered on from the ones before
        async with db.session(tenant_context(dead.tenant_id)) as session:
            await Deliveries(session).replay(dead.id)
        await drain(engine)
        [dead] = await deliveries_of(db, "always-failing")
        assert (dead.status, dead.attempts, dead.last_error) == ("dead", 6, "ConnectionError: refused, try 6")
        logged = [(a.number, a.outcome) for a in await attempts_of(db, dead.id)]
        assert logged == [(1, "failed"), (2, "failed"), (3, "dead"), (4, "failed"), (5, "failed"), (6, "dead")]

    run_engine(app, settings, work)


def test_a_permanent_failure_is_dead_at_once(app: Litestar, settings: Settings, world: World) -> None:
    refused = Recorder("refused")
    refused.fail = lambda _e, _n: PermanentFailure("HTTP 410 from https://example.test/hook")

    async def work(services: Services, db: Database) -> None:
        await publish_events(db, world.a.tenant_id, [("test.a", uuid.uuid4(), {})])
        await drain(DeliveryEngine(services, [refused.subscriber()], FAST))
        [dead] = await deliveries_of(db, "refused")
        assert (dead.status, dead.attempts, dead.last_error) == ("dead", 1, "HTTP 410 from https://example.test/hook")

    run_engine(app, settings, work)


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    config = DeliveryConfig(retry_base_seconds=10, retry_cap_seconds=300)
    for attempts, ceiling in ((1, 10), (2, 20), (3, 40), (6, 300), (20, 300)):
        delays = {retry_delay(attempts, config) for _ in range(50)}
        assert all(timedelta(seconds=ceiling / 2) <= d <= timedelta(seconds=ceiling) for d in delays)
        assert len(delays) > 1  # jittered


def test_an_expired_lease_is_taken_over_and_the_late_result_is_ignored(
    app: Litestar, settings: Settings, world: World
) -> None:
    slow, quick = Recorder("line"), Recorder("line")
    # a lease long enough that a loaded machine still claims twice within it, short enough to wait out
    short = replace(FAST, timeout_seconds=1.0, lease_margin_seconds=0.5)

    async def work(services: Services, db: Database) -> None:
        await publish_events(db, world.a.tenant_id, [("test.a", uuid.uuid4(), {})])
        first = DeliveryEngine(services, [slow.subscriber()], short, worker_id="first")
        second = DeliveryEngine(services, [quick.subscriber()], short, worker_id="second")
        await first.fan_out()
        [claimed] = await first.claim()  # ...and the first worker hangs
        assert await second.claim() == []  # leased: nobody else may run it
        await asyncio.sleep(1.6)
        assert await second.deliver_batch() == 1  # lease expired: taken over and delivered
        late = await first.attempt(claimed)
        await first.finish([replace(late, error="TimeoutError")])
        [delivery] = await deliveries_of(db, "line")
        assert (delivery.status, delivery.attempts, delivery.lease_owner) == ("delivered", 2, None)
        log = [(a.number, a.worker, a.outcome) for a in await attempts_of(db, delivery.id)]
        assert sorted(log) == [(1, "first", "late"), (1, "first", "lost"), (2, "second", "delivered")]

    run_engine(app, settings, work)
    assert len(quick.received) == 1


@pytest.mark.postgres_only
def test_concurrent_claims_never_take_the_same_delivery(app: Litestar, settings: Settings, world: World) -> None:
    async def work(services: Services, db: Database) -> None:
        await publish_events(db, world.a.tenant_id, [("test.a", uuid.uuid4(), {"i": i}) for i in range(60)])
        engines = [DeliveryEngine(services, [Recorder().subscriber()], FAST, worker_id=f"w{i}") for i in range(4)]
        await engines[0].fan_out()
        claims = await asyncio.gather(*(e.claim() for e in engines for _ in range(2)))
        ids = [c.id for batch in claims for c in batch]
        assert len(ids) == len(set(ids)) == 60

    run_engine(app, settings, work)


def test_events_nobody_accepts_are_fanned_out_to_no_one(app: Litestar, settings: Settings, world: World) -> None:
    async def work(services: Services, db: Database) -> None:
        await publish_events(db, world.a.tenant_id, [("other.kind", uuid.uuid4(), {})])
        engine = DeliveryEngine(services, [Recorder().subscriber()], FAST)
        await drain(engine)
        assert await deliveries_of(db, "recorder") == []

    run_engine(app, settings, work)
    _ = Event  # the type the recorder receives
