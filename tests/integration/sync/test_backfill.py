"""A catalog backfill within one deployment, cut into batches (`sync.backfill.batch`, one event each): two
workers take its batches side by side, every product arrives once with its progress shown, a replayed
batch changes nothing, and a batch that fails part way is delivered again, whole, without duplicating or
losing a product. Nothing of it reaches another tenant."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from portal.services import Services
from sync.crosstenant import subscriber
from sync.delivery.engine import DeliveryConfig, DeliveryEngine
from sync.delivery.worker import subscribers_of
from tests.integration.sync.test_crosstenant import new_product, product
from tests.world import TenantWorld, World, background_jobs_ended, connect_workspace, unique

BATCH_EVENT = "sync.backfill.batch"


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(subscriber, "COPY_BATCH", 2)
    yield


def catalog(client: TestClient, tenant: TenantWorld, prefix: str) -> list[dict[str, Any]]:
    found = client.get(
        "/api/ordering/products", headers=tenant.admin.bearer, params={"q": prefix, "limit": 100}
    ).json()["items"]
    return [p for p in found if p["sku"].startswith(prefix)]


def activate(client: TestClient, world: World, link_id: str) -> dict[str, Any]:
    created = client.post(
        "/api/sync/rules",
        headers=world.a.admin.bearer,
        json={"link_id": link_id, "object": "ordering.product", "name": "Catalog"},
    )
    assert created.status_code == 201, created.text
    rule = created.json()
    activated = client.post(f"/api/sync/rules/{rule['id']}/activate", headers=world.a.admin.bearer)
    assert activated.status_code == 202, activated.text
    return rule


def batch_deliveries(client: TestClient, world: World) -> list[dict[str, Any]]:
    return client.get(
        "/api/deliveries",
        headers=world.a.admin.bearer,
        params={"subscriber": "sync", "event_type": BATCH_EVENT, "limit": 100},
    ).json()["items"]


def two_workers(client: TestClient) -> None:
    """Two delivery engines (two workers) taking deliveries one at a time, side by side, until none is left."""
    services: Services = client.app.state.services

    async def run(name: str) -> None:
        engine = DeliveryEngine(services, subscribers_of(services), DeliveryConfig(batch_size=1), worker_id=name)
        idle = 0
        while idle < 20:  # a second of nothing to do (the other may still be planning the batches)
            done = await engine.fan_out() + await engine.deliver_batch()
            idle = 0 if done else idle + 1
            await asyncio.sleep(0.05)
        await engine.settle()

    async def both() -> None:
        await asyncio.wait_for(asyncio.gather(run("worker-one"), run("worker-two")), 90)

    client.blocking_portal.call(both)


@pytest.mark.usefixtures("small_batches")
def test_a_backfill_runs_as_batches_two_workers_take_side_by_side(client: TestClient, world: World) -> None:
    a = world.a
    prefix = unique("BF")
    made = [new_product(client, a, sku=f"{prefix}-{n}") for n in range(7)]
    north, link_id = connect_workspace(client, a, "north")
    assert background_jobs_ended(client)  # the products' own events, before the rule: only the backfill copies
    rule = activate(client, world, link_id)
    two_workers(client)
    assert background_jobs_ended(client)

    detail = client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()
    [backfill] = detail["backfills"]
    assert backfill["status"] == "done" and backfill["percent"] == 100, backfill
    assert backfill["done"] == backfill["total"] >= len(made) and backfill["applied"] >= len(made)
    copied = catalog(client, north, prefix)
    assert sorted(p["sku"] for p in copied) == sorted(p["sku"] for p in made)  # each once
    deliveries = batch_deliveries(client, world)
    assert len(deliveries) >= 4 and all(d["status"] == "delivered" for d in deliveries)
    workers = set()
    for delivery in deliveries:
        found = client.get(f"/api/deliveries/{delivery['id']}", headers=a.admin.bearer).json()
        workers |= {attempt["worker"] for attempt in found["attempts"]}
    assert workers == {"worker-one", "worker-two"}

    # a batch delivered again (a replay) changes nothing: the event is applied once under the rule
    one = copied[0]
    audit = client.get("/api/audit", headers=north.admin.bearer, params={"object_id": one["id"]}).json()
    for delivery in deliveries:
        replayed = client.post(f"/api/deliveries/{delivery['id']}/replay", headers=a.admin.bearer)
        assert replayed.status_code == 200, replayed.text
    assert background_jobs_ended(client)
    assert client.get("/api/audit", headers=north.admin.bearer, params={"object_id": one["id"]}).json() == audit
    assert sorted(p["sku"] for p in catalog(client, north, prefix)) == sorted(p["sku"] for p in made)
    again = client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()
    assert again["mapped"] == detail["mapped"] and again["backfills"] == detail["backfills"]

    # nobody else sees any of it
    assert catalog(client, world.b, prefix) == []
    assert client.get(f"/api/sync/rules/{rule['id']}", headers=world.b.admin.bearer).status_code == 404


@pytest.mark.usefixtures("small_batches")
def test_a_batch_that_fails_part_way_is_applied_again_whole_and_nothing_twice(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = world.a
    prefix = unique("BF")
    made = [new_product(client, a, sku=f"{prefix}-{n}") for n in range(6)]
    north, link_id = connect_workspace(client, a, "north")
    assert background_jobs_ended(client)
    applying = subscriber.apply_records
    calls = {"n": 0}

    async def fails_once(*args: Any, **kwargs: Any) -> Any:
        # the third batch's records are written, then its transaction breaks (a worker killed mid-batch)
        done = await applying(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionResetError("the worker stopped")
        return done

    monkeypatch.setattr(subscriber, "apply_records", fails_once)
    rule = activate(client, world, link_id)
    assert background_jobs_ended(client)
    detail = client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()
    [backfill] = detail["backfills"]
    # the failed batch is tried again on its own at once, or waits for its retry (the progress shows the rest)
    assert backfill["status"] == "done" or 0 < backfill["done"] < backfill["total"], backfill
    for _ in range(40):
        time.sleep(0.5)
        assert background_jobs_ended(client)
        detail = client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()
        [backfill] = detail["backfills"]
        if backfill["status"] != "running":
            break
    assert calls["n"] > 3  # the failed batch was applied again
    assert backfill["status"] == "done" and backfill["done"] == backfill["total"], backfill
    assert backfill["applied"] >= len(made)
    copied = catalog(client, north, prefix)
    assert sorted(p["sku"] for p in copied) == sorted(p["sku"] for p in made)
    for each in copied:  # made once: one "create" entry each
        audit = client.get("/api/audit", headers=north.admin.bearer, params={"object_id": each["id"]}).json()
        assert [e["action"] for e in audit].count("create") == 1
    assert product(client, world.b, made[0]["sku"]) is None


@pytest.mark.usefixtures("small_batches")
def test_a_claim_takes_the_head_of_each_lane_and_each_range_is_applied_once(client: TestClient, world: World) -> None:
    """The batches are dealt into lanes (outbox lines): one worker's claim takes the head of each and
    applies them side by side; each range is applied once, by one delivery."""
    a = world.a
    prefix = unique("BF")
    made = [new_product(client, a, sku=f"{prefix}-{n}") for n in range(9)]
    north, link_id = connect_workspace(client, a, "north")
    assert background_jobs_ended(client)
    rule = activate(client, world, link_id)
    assert background_jobs_ended(client)
    [backfill] = client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()["backfills"]
    assert backfill["status"] == "done" and backfill["done"] == backfill["total"], backfill
    assert sorted(p["sku"] for p in catalog(client, north, prefix)) == sorted(p["sku"] for p in made)
    deliveries = batch_deliveries(client, world)
    assert len(deliveries) == -(-backfill["total"] // 2)  # one per range of 2
    assert len({d["aggregate_id"] for d in deliveries}) == subscriber.LANES
