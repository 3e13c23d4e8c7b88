"""Scheduled jobs on the workers: exactly one run per due time however many schedulers race for it (two
tasks on one pool, and two pools: two connections), failed runs retried with backoff up to a maximum,
runs of a stopped worker taken over, "run now" through the API and the console, and the jobs the
components register (auto-receive, link expiry, the outbox purge, stopped import jobs)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import undefer

from apps.ordering.jobs import AUTO_RECEIVE
from interconnect.expiry import EXPIRY
from interconnect.imports import IMPORT_REQUESTED, SUBSCRIBER, create_job, run_stored_job
from interconnect.imports.worker import STALE_IMPORTS, StillRunning
from interconnect.models import ImportJob, Invitation, SetupToken
from portal.components import load_components
from portal.config import Settings
from portal.db.context import SYSTEM, tenant_context
from portal.db.types import utcnow
from portal.i18n import Catalogs
from portal.outbox import Event, OutboxEvent, publish
from portal.schedules import ScheduledJob
from portal.services import Services
from sync.delivery.models import Delivery
from sync.scheduling import MAX_ATTEMPTS, JobRun, Schedule, SchedulerDuty, backoff, latest_due, purge_job
from sync.scheduling.duty import WORKER_STOPPED
from tests.cli import portal
from tests.integration.ordering.support import act, build_shop, ok, place
from tests.integration.web.test_pages import act_as, submit
from tests.world import World, add_user, credential, unique

T = TypeVar("T")
NOON = datetime(2026, 12, 4, 12, 0, 30, tzinfo=UTC)


def with_services(settings: Settings, work: Callable[[Services], Awaitable[T]], pools: int = 1) -> T:
    """Run `work` with services of their own (the app's pool belongs to the client's loop); with
    pools=2, `work` gets a list of two services, each with its own connection pool."""

    async def main() -> T:
        built = [
            Services.build(settings, Catalogs([], settings.languages, settings.default_language), load_components())
            for _ in range(pools)
        ]
        try:
            return await work(built[0] if pools == 1 else built)  # type: ignore[arg-type]
        finally:
            for services in built:
                await services.db.dispose()

    return asyncio.run(main())


class Counting:
    """A job body that records its calls, can fail its first `failures` calls, and takes a moment."""

    def __init__(self, failures: int = 0, items: int = 3, pause: float = 0.05) -> None:
        self.calls, self.failures, self.items, self.pause = 0, failures, items, pause

    async def __call__(self, services: Services) -> int:
        self.calls += 1
        await asyncio.sleep(self.pause)
        if self.calls <= self.failures:
            raise RuntimeError(f"failure number {self.calls}")
        return self.items


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def runs_of(services: Services, job: str) -> list[JobRun]:
    async with services.db.session(SYSTEM) as session:
        return list(
            await session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.due_at, JobRun.attempt))
        )


# --- exactly once -----------------------------------------------------------------------------------


@pytest.mark.parametrize("pools", [1, 2])
def test_schedulers_racing_on_the_same_due_times_run_each_once(settings: Settings, pools: int) -> None:
    """Two workers wake together for each of five due times: one run per due time. With pools=2 each
    worker has its own connection pool, as two processes have."""
    body = Counting()
    job = ScheduledJob(unique("race"), body, every=timedelta(minutes=5))
    clock = Clock(NOON)

    async def work(services: Any) -> list[JobRun]:
        both = services if pools == 2 else [services, services]
        duties = [SchedulerDuty(s, f"worker-{n}", jobs=[job], clock=clock) for n, s in enumerate(both)]
        for _ in range(5):
            stepped = await asyncio.gather(*(d.step() for d in duties))
            assert sorted(stepped) == [False, True]
            assert not any(await asyncio.gather(*(d.step() for d in duties)))  # nothing more is due
            clock.now += timedelta(minutes=5)
        return await runs_of(both[0], job.name)

    runs = with_services(settings, work, pools)
    assert body.calls == 5
    assert [r.due_at for r in runs] == [latest_due(job, NOON) + timedelta(minutes=5 * n) for n in range(5)]
    assert {(r.status, r.attempt, r.items, r.manual) for r in runs} == {("ok", 1, 3, False)}
    assert all(r.worker in ("worker-0", "worker-1") and r.finished_at is not None for r in runs)


@pytest.mark.parametrize("pools", [1, 2])
def test_a_crowd_of_schedulers_claims_one_due_time_once(settings: Settings, pools: int) -> None:
    body = Counting(pause=0.2)
    job = ScheduledJob(unique("crowd"), body, at=NOON.time().replace(second=0))

    async def work(services: Any) -> list[JobRun]:
        pool = services if pools == 2 else [services]
        duties = [SchedulerDuty(pool[n % len(pool)], f"w{n}", jobs=[job], clock=Clock(NOON)) for n in range(6)]
        assert sum(await asyncio.gather(*(d.step() for d in duties))) == 1
        return await runs_of(pool[0], job.name)

    runs = with_services(settings, work, pools)
    assert body.calls == 1 and len(runs) == 1
    assert runs[0].due_at == datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_a_daily_job_is_due_at_its_time_and_not_again_that_day(settings: Settings) -> None:
    body = Counting()
    job = ScheduledJob(unique("daily"), body, at=datetime(2026, 1, 1, 19, 0).time())
    clock = Clock(datetime(2026, 12, 4, 18, 59, tzinfo=UTC))

    async def work(services: Services) -> list[bool]:
        duty = SchedulerDuty(services, "w", jobs=[job], clock=clock)
        seen = [await duty.step()]  # yesterday's 19:00 is still to run: a new worker runs it
        seen.append(await duty.step())
        clock.now = datetime(2026, 12, 4, 19, 0, 1, tzinfo=UTC)
        seen.append(await duty.step())
        clock.now = datetime(2026, 12, 5, 18, 0, tzinfo=UTC)
        seen.append(await duty.step())
        return seen

    assert with_services(settings, work) == [True, False, True, False]
    assert body.calls == 2


# --- failures, retries and takeovers ----------------------------------------------------------------


def test_a_failed_run_is_retried_after_its_backoff_and_every_attempt_is_recorded(settings: Settings) -> None:
    body = Counting(failures=2, items=7)
    job = ScheduledJob(unique("flaky"), body, every=timedelta(hours=1))
    clock = Clock(NOON)

    async def work(services: Services) -> list[JobRun]:
        duty = SchedulerDuty(services, "w", jobs=[job], clock=clock)
        assert await duty.step()  # attempt 1 fails
        assert not await duty.step()  # its retry is not due yet
        clock.now += backoff(1)
        assert await duty.step()  # attempt 2 fails
        clock.now += backoff(2) - timedelta(seconds=1)
        assert not await duty.step()
        clock.now += timedelta(seconds=1)
        assert await duty.step()  # attempt 3 succeeds
        clock.now += timedelta(minutes=30)
        assert not await duty.step()
        return await runs_of(services, job.name)

    runs = with_services(settings, work)
    assert [(r.attempt, r.status, r.items) for r in runs] == [(1, "failed", None), (2, "failed", None), (3, "ok", 7)]
    assert runs[0].error == "RuntimeError: failure number 1" and runs[1].error == "RuntimeError: failure number 2"
    assert {r.due_at for r in runs} == {latest_due(job, NOON)}
    assert all(r.retry_at is None for r in runs)  # each retry was claimed
    assert body.calls == 3


def test_a_job_failing_every_time_stops_after_the_maximum_attempts(settings: Settings) -> None:
    body = Counting(failures=100)
    job = ScheduledJob(unique("broken"), body, every=timedelta(days=1))
    clock = Clock(NOON)

    async def work(services: Services) -> list[JobRun]:
        duty = SchedulerDuty(services, "w", jobs=[job], clock=clock)
        for _ in range(MAX_ATTEMPTS + 3):
            await duty.step()
            clock.now += timedelta(hours=1)
        return await runs_of(services, job.name)

    runs = with_services(settings, work)
    assert [r.attempt for r in runs] == list(range(1, MAX_ATTEMPTS + 1))
    assert {r.status for r in runs} == {"failed"} and runs[-1].retry_at is None
    assert body.calls == MAX_ATTEMPTS


def test_a_run_whose_worker_died_is_taken_over_once_its_lease_expired(settings: Settings) -> None:
    body = Counting()
    job = ScheduledJob(unique("orphan"), body, every=timedelta(hours=1))
    due = latest_due(job, NOON)

    async def work(services: Services) -> list[JobRun]:
        async with services.db.session(SYSTEM) as session:  # a worker claimed it, then was killed
            session.add(
                JobRun(
                    job=job.name,
                    due_at=due,
                    attempt=1,
                    status="running",
                    worker="killed",
                    started_at=NOON - timedelta(minutes=2),
                    lease_until=NOON + timedelta(minutes=3),
                )
            )
        clock = Clock(NOON)
        duties = [SchedulerDuty(services, f"alive-{n}", jobs=[job], clock=clock) for n in range(2)]
        assert not any(await asyncio.gather(*(d.step() for d in duties)))  # the lease still holds
        clock.now = NOON + timedelta(minutes=3, seconds=1)
        assert sorted(await asyncio.gather(*(d.step() for d in duties))) == [False, True]
        return await runs_of(services, job.name)

    runs = with_services(settings, work)
    assert (runs[0].attempt, runs[0].status, runs[0].worker) == (1, "failed", "killed")
    assert runs[0].error == WORKER_STOPPED
    assert (runs[1].attempt, runs[1].status, runs[1].worker in ("alive-0", "alive-1")) == (2, "ok", True)
    assert body.calls == 1


def test_a_running_job_keeps_its_lease_fresh(settings: Settings) -> None:
    """The heartbeat extends the lease while the job runs, so a long job is not taken over."""
    job_name = unique("long")
    seen: list[datetime | None] = []

    async def long(services: Services) -> int:
        for _ in range(3):
            await asyncio.sleep(0.25)
            async with services.db.session(SYSTEM) as session:
                seen.append(await session.scalar(select(JobRun.lease_until).where(JobRun.job == job_name)))
        return 1

    async def work(services: Services) -> None:
        duty = SchedulerDuty(
            services, "w", jobs=[ScheduledJob(job_name, long, every=timedelta(hours=1))], lease=timedelta(seconds=0.3)
        )
        assert await duty.step()

    with_services(settings, work)
    assert len(seen) == 3 and all(seen) and seen[0] < seen[-1]  # type: ignore[operator]


# --- run now, the API and the console ---------------------------------------------------------------


def test_a_workspace_reads_the_one_schedule_and_the_operator_runs_a_job_now(client: TestClient, world: World) -> None:
    """A run passes over every tenant: a workspace may read the schedule, never start one; the operator
    queues one with `portal jobs run` (Schedule.request_run) and a worker runs it."""
    admin, other = world.a.admin.bearer, world.b.admin.bearer
    names = [j["name"] for j in client.get("/api/delivery/jobs", headers=admin).json()]
    assert {"ordering.auto_receive", "interconnect.link_expiry", "sync.outbox_purge"} <= set(names)
    assert [j["name"] for j in client.get("/api/delivery/jobs", headers=other).json()] == names  # one schedule
    assert client.post("/api/delivery/jobs/sync.outbox_purge/runs", headers=admin).status_code == 405

    settings: Settings = client.app.state.services.settings
    purge = next(j for c in load_components() for j in c.jobs if j.name == "sync.outbox_purge")

    async def ask(services: Services) -> tuple[str, bool, str]:
        async with services.db.session(SYSTEM) as session:
            run, queued = await Schedule(session, [purge]).request_run(purge.name, utcnow())
            again, queued_again = await Schedule(session, [purge]).request_run(purge.name, utcnow())
            assert again.id == run.id and not queued_again  # the same minute: the same run
            return str(run.id), queued, run.status

    run_id, queued, status = with_services(settings, ask)
    assert queued and status == "queued"
    assert with_services(settings, lambda s: SchedulerDuty(s, "w", jobs=[purge]).step())
    runs = client.get("/api/delivery/jobs/sync.outbox_purge/runs", headers=other).json()
    assert (runs["limit"], runs["offset"]) == (50, 0) and runs["total"] >= 1
    done = next(r for r in runs["runs"] if r["id"] == run_id)
    # paged by limit and offset like every list of the API: a bad value is refused, not read as the first page
    one = client.get("/api/delivery/jobs/sync.outbox_purge/runs", headers=other, params={"limit": 1, "offset": 0})
    assert [r["id"] for r in one.json()["runs"]] == [runs["runs"][0]["id"]]
    for bad in ({"offset": "abc"}, {"limit": "0"}, {"limit": "abc"}, {"offset": "-1"}):
        refused = client.get("/api/delivery/jobs/sync.outbox_purge/runs", headers=other, params=bad)
        assert refused.status_code == 422 and refused.json()["code"] == "validation_failed", (bad, refused.text)
    assert done["status"] == "ok" and done["manual"] and done["finished_at"]
    assert "items" not in done  # a count over every tenant is the operator's (`portal jobs runs`)

    act_as(client, world.a.admin.cookie)
    page = client.get("/console/delivery/jobs/sync.outbox_purge")
    assert page.status_code == 200 and run_id in page.text and "Run now" not in page.text


def test_the_schedule_is_refused_without_the_permission_and_unknown_jobs_are_not_found(
    client: TestClient, world: World
) -> None:
    staff = world.a.others["staff"].bearer  # reads everything, runs nothing
    assert client.get("/api/delivery/jobs", headers=staff).status_code == 200
    manager = add_user(client, world.a.admin, f"{unique('cm')}@alpha.example", role="channel_manager")
    cm = credential(
        client, world.a.slug, manager, client.get(f"/api/users/{manager}", headers=world.a.admin.bearer).json()["email"]
    )
    assert client.get("/api/delivery/jobs", headers=cm.bearer).status_code == 403
    assert client.get("/api/delivery/jobs", headers=world.x.admin.bearer).status_code in (401, 403)  # a partner
    admin = world.a.admin.bearer
    assert client.get("/api/delivery/jobs/no.such.job/runs", headers=admin).status_code == 404
    assert client.get("/api/delivery/jobs/../../api/me/runs", headers=admin).status_code == 404


def test_staff_see_the_kind_of_error_not_its_text(client: TestClient, world: World) -> None:
    """A job's error may quote rows of any tenant: the console and the API show its kind only."""
    settings: Settings = client.app.state.services.settings
    secret = f"tenant-{uuid.uuid4().hex} row not valid"
    name = "sync.outbox_purge"

    async def failed(services: Services) -> None:
        later = utcnow() + timedelta(days=1)
        async with services.db.session(SYSTEM) as session:
            session.add(JobRun(job=name, due_at=later, attempt=1, status="failed", worker="w", requested_at=later,
                               error=f"ValueError: {secret}", retry_at=later))  # fmt: skip

    with_services(settings, failed)
    runs = client.get(f"/api/delivery/jobs/{name}/runs", headers=world.b.admin.bearer).json()["runs"]
    assert runs[0]["status"] == "failed" and runs[0]["error"] == "ValueError" and runs[0]["retry_at"]
    for path in (f"/console/delivery/jobs/{name}", "/console/delivery/jobs", f"/api/delivery/jobs/{name}/runs"):
        act_as(client, world.b.admin.cookie)
        response = client.get(path, headers=world.b.admin.bearer)
        assert response.status_code == 200 and secret not in response.text


def test_the_console_lists_the_jobs_and_starts_none(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    listing = client.get("/console/delivery/jobs")
    assert listing.status_code == 200 and "ordering.auto_receive" in listing.text
    assert 'href="/console/delivery/jobs"' in listing.text  # the menu names it for who may read it
    path = "/console/delivery/jobs/interconnect.link_expiry"
    assert client.get(path).status_code == 200 and "Run now" not in client.get(path).text
    assert submit(client, f"{path}/run", {}, form_page=path).status_code in (404, 405)


# --- the jobs the components register ---------------------------------------------------------------


def renamed(job: ScheduledJob) -> ScheduledJob:
    """The registered job under a name of its own test, so runs of earlier tests do not count."""
    return dataclasses.replace(job, name=unique(job.name))


def run_once(settings: Settings, job: ScheduledJob) -> JobRun:
    async def work(services: Services) -> JobRun:
        assert await SchedulerDuty(services, "w", jobs=[job]).step()
        (run,) = await runs_of(services, job.name)
        return run

    return with_services(settings, work)


def test_auto_receive_runs_as_a_scheduled_job(client: TestClient, world: World, settings: Settings) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    order = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)
    ok(act(client, admin, order["id"], "approve"))
    ok(act(client, admin, order["id"], "shipments", own_delivery=True), 201)
    fresh = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
    ok(act(client, admin, fresh["id"], "approve"))
    ok(act(client, admin, fresh["id"], "shipments", own_delivery=True), 201)
    from apps.ordering.models import Order

    async def ship_long_ago(services: Services) -> None:
        async with services.db.session(tenant_context(uuid.UUID(world.a.tenant_id))) as session:
            await session.execute(
                update(Order)
                .where(Order.id == uuid.UUID(order["id"]))
                .values(shipped_at=utcnow() - timedelta(days=60))
                .execution_options(synchronize_session=False)
            )

    with_services(settings, ship_long_ago)
    run = run_once(settings, renamed(AUTO_RECEIVE))
    assert (run.status, run.items) == ("ok", 1), run.error
    status = client.get(f"/api/ordering/orders/{order['id']}", headers=admin.bearer).json()["status"]
    assert status in ("received", "completed")
    assert client.get(f"/api/ordering/orders/{fresh['id']}", headers=admin.bearer).json()["status"] == "shipped"


def test_link_expiry_marks_expired_invitations_and_set_password_links(
    client: TestClient, world: World, settings: Settings
) -> None:
    from tests.world import partner_type_id

    made = {}
    for tenant in (world.a, world.b):
        body = {"kind": "link", "partner_type_id": partner_type_id(client, tenant.admin), "expires_in_days": 3}
        response = client.post("/api/interconnect/invitations", headers=tenant.admin.bearer, json=body)
        assert response.status_code == 201, response.text
        made[tenant.slug] = uuid.UUID(response.json()["id"])
    a_id = uuid.UUID(world.a.tenant_id)

    async def age(services: Services) -> uuid.UUID | None:
        async with services.db.session(tenant_context(a_id)) as session:
            await session.execute(
                update(Invitation)
                .where(Invitation.id == made[world.a.slug])
                .values(expires_at=utcnow() - timedelta(minutes=1))
                .execution_options(synchronize_session=False)
            )
            token = await session.scalar(select(SetupToken).where(SetupToken.used_at.is_(None)).limit(1))
            if token is not None:
                token.expires_at = utcnow() - timedelta(minutes=1)
            return token.id if token is not None else None

    token_id = with_services(settings, age)
    run = run_once(settings, renamed(EXPIRY))
    assert run.status == "ok" and run.items is not None and run.items >= 1 + (token_id is not None)

    listed = client.get("/api/interconnect/invitations?include_inactive=true", headers=world.a.admin.bearer).json()
    mine = next(i for i in listed if i["id"] == str(made[world.a.slug]))
    assert mine["expired_at"] is not None
    assert str(made[world.a.slug]) not in [i["id"] for i in client.get(
        "/api/interconnect/invitations", headers=world.a.admin.bearer).json()]  # fmt: skip
    theirs = client.get("/api/interconnect/invitations?include_inactive=true", headers=world.b.admin.bearer).json()
    assert next(i for i in theirs if i["id"] == str(made[world.b.slug]))["expired_at"] is None
    assert str(made[world.a.slug]) not in [i["id"] for i in theirs]

    async def token_expired(services: Services) -> bool:
        async with services.db.session(tenant_context(a_id)) as session:
            return await session.scalar(select(SetupToken.expired_at).where(SetupToken.id == token_id)) is not None

    if token_id is not None:
        assert with_services(settings, token_expired)


def test_the_purge_deletes_old_delivered_events_and_keeps_what_is_pending_dead_or_recent(
    world: World, settings: Settings
) -> None:
    a_id, b_id = uuid.UUID(world.a.tenant_id), uuid.UUID(world.b.tenant_id)
    old = utcnow() - timedelta(days=settings.outbox_retention_days + 1)
    recent = utcnow() - timedelta(days=settings.outbox_retention_days - 1)
    kept_by_hook: list[uuid.UUID] = []

    async def seed(services: Services) -> dict[str, uuid.UUID]:
        made = {}
        for tenant_id, label in ((a_id, "a"), (b_id, "b")):
            async with services.db.session(tenant_context(tenant_id)) as session:
                for state, delivered in (("old", old), ("recent", recent), ("pending", None), ("dead", old),
                                         ("hooked", old)):  # fmt: skip
                    event = publish(session, "test.purge", "test", uuid.uuid4(), {"state": state})
                    event.occurred_at, event.fanned_out = old, True
                    await session.flush()
                    session.add(
                        Delivery(
                            event_id=event.id,
                            subscriber="test",
                            event_type=event.event_type,
                            aggregate_type=event.aggregate_type,
                            aggregate_id=event.aggregate_id,
                            sequence=0,
                            status={"pending": "pending", "dead": "dead"}.get(state, "delivered"),
                            delivered_at=delivered if state not in ("pending", "dead") else None,
                        )
                    )
                    await session.flush()
                    made[f"{label}-{state}"] = event.id
        kept_by_hook.extend([made["a-hooked"], made["b-hooked"]])
        return made

    made = with_services(settings, seed)
    job = renamed(purge_job(keeps=[lambda: OutboxEvent.id.in_(kept_by_hook)]))
    run = run_once(settings, job)
    assert run.status == "ok"

    async def left(services: Services) -> set[uuid.UUID]:
        async with services.db.session(SYSTEM) as session:
            return set(await session.scalars(select(OutboxEvent.id).where(OutboxEvent.id.in_(made.values()))))

    remaining = with_services(settings, left)
    gone = {made["a-old"], made["b-old"]}
    assert remaining == set(made.values()) - gone
    assert run.items is not None and run.items >= 2


# --- import jobs on the workers ---------------------------------------------------------------------

CSV = b"name,code,partner_type\nWorker One,WK-1,dealer\nWorker Two,WK-2,dealer\n"


def queued_import(settings: Settings, tenant_id: uuid.UUID) -> tuple[uuid.UUID, Event]:
    async def work(services: Services) -> tuple[uuid.UUID, Event]:
        async with services.db.session(tenant_context(tenant_id, channel="api")) as session:
            job, _rows = await create_job(session, None, "partners.csv", CSV, "valid_rows")
            event = await session.scalar(
                select(OutboxEvent).where(
                    OutboxEvent.event_type == IMPORT_REQUESTED, OutboxEvent.aggregate_id == job.id
                )
            )
            assert event is not None and job.rows is not None
            as_delivered = Event(event.id, tenant_id, event.event_type, event.aggregate_type, event.aggregate_id,
                                 event.payload, event.occurred_at)  # fmt: skip
            return job.id, as_delivered

    return with_services(settings, work)


def import_job(settings: Settings, tenant_id: uuid.UUID, job_id: uuid.UUID) -> ImportJob:
    async def work(services: Services) -> ImportJob:
        async with services.db.session(tenant_context(tenant_id)) as session:
            job = await session.scalar(select(ImportJob).where(ImportJob.id == job_id).options(undefer(ImportJob.rows)))
            assert job is not None
            return job

    return with_services(settings, work)


def test_an_import_runs_once_on_a_worker_however_often_its_event_is_delivered(world: World, settings: Settings) -> None:
    tenant_id = uuid.UUID(world.a.tenant_id)
    job_id, event = queued_import(settings, tenant_id)
    assert SUBSCRIBER.accepts(IMPORT_REQUESTED) and not SUBSCRIBER.accepts("interconnect.link.created")

    async def deliver_twice(services: Services) -> None:
        await SUBSCRIBER.deliver(services, event)
        await SUBSCRIBER.deliver(services, event)  # at least once: a second delivery changes nothing

    with_services(settings, deliver_twice)
    job = import_job(settings, tenant_id, job_id)
    assert (job.status, job.created_count, job.skipped_count) == ("done", 2, 0), job.errors
    assert job.rows is None and job.lease_until is None  # the file's rows are not kept once it ran

    # another tenant's event naming this job finds nothing in its own tenant
    other = dataclasses.replace(event, tenant_id=uuid.UUID(world.b.tenant_id))
    assert with_services(settings, lambda s: run_stored_job(s, other.tenant_id, job_id, "api")) == "missing"


def test_an_import_whose_worker_died_fails_with_a_clear_reason_and_never_stays_running(
    world: World, settings: Settings
) -> None:
    tenant_id = uuid.UUID(world.a.tenant_id)
    job_id, event = queued_import(settings, tenant_id)

    async def claim(services: Services, lease_until: datetime) -> None:  # what a worker does, then dies
        async with services.db.session(tenant_context(tenant_id)) as session:
            await session.execute(
                update(ImportJob)
                .where(ImportJob.id == job_id)
                .values(status="running", lease_until=lease_until)
                .execution_options(synchronize_session=False)
            )

    with_services(settings, lambda s: claim(s, utcnow() + timedelta(minutes=5)))
    with pytest.raises(StillRunning):  # its lease holds: the delivery is tried again later
        with_services(settings, lambda s: SUBSCRIBER.deliver(s, event))
    assert import_job(settings, tenant_id, job_id).status == "running"

    with_services(settings, lambda s: claim(s, utcnow() - timedelta(seconds=1)))
    with_services(settings, lambda s: SUBSCRIBER.deliver(s, event))
    job = import_job(settings, tenant_id, job_id)
    assert job.status == "failed" and job.finished_at is not None and job.rows is None
    assert [e["code"] for e in job.errors] == ["worker_stopped"]
    assert "upload the file again" in job.errors[0]["message"]


def test_the_stale_imports_job_fails_imports_left_running_by_a_stopped_worker(
    client: TestClient, world: World, settings: Settings
) -> None:
    tenant_id = uuid.UUID(world.a.tenant_id)
    stuck, _ = queued_import(settings, tenant_id)
    alive, _ = queued_import(settings, tenant_id)

    async def mark(services: Services) -> None:
        async with services.db.session(tenant_context(tenant_id)) as session:
            for job_id, lease in ((stuck, -1), (alive, 5)):
                await session.execute(
                    update(ImportJob)
                    .where(ImportJob.id == job_id)
                    .values(status="running", lease_until=utcnow() + timedelta(minutes=lease))
                    .execution_options(synchronize_session=False)
                )

    with_services(settings, mark)
    run = run_once(settings, renamed(STALE_IMPORTS))
    assert run.status == "ok" and run.items == 1
    assert import_job(settings, tenant_id, stuck).status == "failed"
    assert import_job(settings, tenant_id, alive).status == "running"
    shown = client.get(f"/api/interconnect/imports/{stuck}", headers=world.a.admin.bearer).json()
    assert shown["status"] == "failed" and shown["errors"][0]["code"] == "worker_stopped"
    assert client.get(f"/api/interconnect/imports/{stuck}", headers=world.b.admin.bearer).status_code == 404


def test_the_operator_lists_runs_and_runs_a_job_from_the_command_line(tmp_path: Path) -> None:
    listed = portal(tmp_path, "jobs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "ordering.auto_receive: daily at 19:00 UTC" in listed.stdout and "sync.outbox_purge" in listed.stdout
    ran = portal(tmp_path, "jobs", "run", "interconnect.link_expiry")
    assert ran.returncode == 0 and "interconnect.link_expiry: ok, 0 items" in ran.stdout, ran.stdout + ran.stderr
    runs = portal(tmp_path, "jobs", "runs", "interconnect.link_expiry")
    assert "1 runs of interconnect.link_expiry" in runs.stdout and "(run now) attempt 1: ok" in runs.stdout
