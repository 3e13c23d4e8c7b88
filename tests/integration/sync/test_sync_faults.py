"""Cross-tenant sync across two deployments under faults, on PostgreSQL. The partner (North, on a second
deployment with its own database) places purchase orders with its manufacturer (Acme, the test's
application) while: two worker processes of North's deployment deliver them and one is killed with SIGKILL
while it holds leases; Acme's deployment is stopped for a while and started again; a fault-injecting proxy
in front of each deployment fails 30% of the requests between them (503, dropped connections, answers
lost after arriving) and delivers some twice; a product is edited on both sides at once under a rule
holding its name for a person and letting the manufacturer's description win. Afterwards: each purchase
order is one sales order, each status came back, the concurrent edit is resolved or queued, the partner's
catalog agrees with what the rule sends, and a reconciliation across the deployments finds no drift.
Seeded: the same run, the same faults."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from portal.db import migrate
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.http.app import create_app
from sync.delivery.models import Delivery, DeliveryAttempt
from tests.conftest import make_settings
from tests.integration.ordering.support import price_list, staff, stock
from tests.integration.sync.deployment import Served, free_port
from tests.integration.sync.faulty_proxy import FaultyProxy
from tests.integration.sync.test_peers import RETRY_AT_ONCE, new_product, partner_workspace, remote_link, work
from tests.lanes import postgres_url, private_database
from tests.world import TenantWorld, World

SEED = 20261205
# the manufacturer's side sends statuses a few to a request: batches go through the faults too, and there
# are requests enough for the faults to fall on
IN_SMALL_BATCHES = replace(RETRY_AT_ONCE, line_batch=3)
ORDERS = 40
ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.postgres_only


class Remote:
    """North's deployment: served on its own port, reached by Acme through a faulty proxy (its address)."""

    def __init__(self, served: Served, proxy: FaultyProxy, settings: Any) -> None:
        self.served, self.proxy, self.settings = served, proxy, settings

    @property
    def client(self) -> TestClient:
        return self.served.client


@pytest.fixture
def remote(lane: str) -> Iterator[Remote]:
    url, _container = postgres_url()
    url, drop = private_database(url)
    migrate.upgrade(make_settings(url))
    port = free_port()
    proxy = FaultyProxy(f"http://127.0.0.1:{port}", seed=SEED + 1).start()
    settings = make_settings(url, base_url=proxy.url, extra={"WEBHOOK_ALLOW_HOSTS": "127.0.0.1"})
    try:
        with TestClient(create_app(settings), base_url=f"http://127.0.0.1:{port}") as client:
            served = Served(client, port)
            served.start()
            try:
                yield Remote(served, proxy, settings)
            finally:
                served.stop()
    finally:
        proxy.close()
        drop()


@pytest.fixture
def upstream(client: TestClient) -> Iterator[tuple[Served, FaultyProxy]]:
    """Acme's deployment served on a loopback port (allowed to send to loopback peers), behind a faulty proxy."""
    import dataclasses

    webhooks = client.app.state.services.extensions["webhooks"]
    config = webhooks.config
    webhooks.config = dataclasses.replace(config, allow_hosts=frozenset({"127.0.0.1"}))
    served = Served(client)
    served.start()
    proxy = FaultyProxy(served.url, seed=SEED).start()
    try:
        yield served, proxy
    finally:
        proxy.close()
        served.stop()
        webhooks.config = config


def start_worker(remote: Remote, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.sync_worker_runner",
                "--database-url",
                remote.settings.database_url,
                "--base-url",
                remote.proxy.url,
                "--timeout",
                "8",
                "--lease-margin",
                "2",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    deadline = time.monotonic() + 60
    while b"ready" not in log.read_bytes():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)
    return process


def on(settings: Any, query: Any) -> Any:
    async def run() -> Any:
        db = Database(settings)
        try:
            async with db.session(SYSTEM, write=False) as session:
                return await session.scalar(query)
        finally:
            await db.dispose()

    return asyncio.run(run())


def holds_leases(settings: Any, pid: int) -> bool:
    """Is worker `pid` sending purchase orders now (a delivery of the pairing's line under its lease)?"""
    held = (
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.status == "pending",
            Delivery.subscriber.like("peers:%"),  # a purchase order on its way to the manufacturer
            Delivery.lease_owner == f"sync-runner-{pid}",
            Delivery.lease_expires_at > func.now(),
        )
    )
    return bool(on(settings, held))


def edit_product(client: TestClient, tenant: TenantWorld, product_id: str, whose: str) -> Any:
    return client.patch(
        f"/api/ordering/products/{product_id}",
        headers=tenant.admin.bearer,
        json={"name": f"{whose} name", "description": f"{whose} text"},
    )


def line_left(settings: Any, pairing_id: str | None = None) -> dict[str, int]:
    """The deliveries of pairing lines not delivered yet, by status (of one pairing's line, or all)."""
    line = Delivery.subscriber == f"peers:{pairing_id}" if pairing_id else Delivery.subscriber.like("peers:%")

    async def run() -> dict[str, int]:
        db = Database(settings)
        try:
            async with db.session(SYSTEM, write=False) as session:
                query = select(Delivery.status, func.count()).where(line, Delivery.status != "delivered")
                return dict((await session.execute(query.group_by(Delivery.status))).all())
        finally:
            await db.dispose()

    return asyncio.run(run())


def test_purchase_orders_catalog_and_statuses_come_through_faults_between_two_deployments(
    client: TestClient, world: World, upstream: tuple[Served, FaultyProxy], remote: Remote
) -> None:
    rng = random.Random(SEED)
    acme_served, acme_proxy = upstream
    a = world.a
    north = partner_workspace(remote.served, "north")

    # paired through the proxies; Acme's catalog (three products, priced, in stock) and the purchasing rules
    link_id = remote_link(client, a, north.name)
    code = client.post("/api/sync/peer-codes", headers=a.admin.bearer, json={"link_id": link_id}).json()["code"]
    paired = remote.client.post(
        "/api/sync/peers", headers=north.admin.bearer, json={"upstream_url": acme_proxy.url, "code": code}
    )
    assert paired.status_code == 201, paired.text
    made = [new_product(client, a, description=f"Made {n}") for n in range(3)]
    price_list(client, a.admin, [{"product_id": p["id"], "unit_price": f"{10 + n}.00"} for n, p in enumerate(made)])
    warehouse = staff(client, a.admin, "GET", "/warehouses").json()[0]["id"]
    for p in made:
        stock(client, a.admin, warehouse, p["id"], 100_000)
    catalog = client.post(
        "/api/sync/rules",
        headers=a.admin.bearer,
        json={"link_id": link_id, "object": "ordering.product", "name": "Catalog", "policies": {"name": "hold"}},
    )
    assert catalog.status_code == 201, catalog.text
    rules = [catalog.json()["id"]]
    for obj in ("ordering.purchase_order", "ordering.purchase_order_status"):
        rule = client.post(
            "/api/sync/rules", headers=a.admin.bearer, json={"link_id": link_id, "object": obj, "name": obj}
        )
        assert rule.status_code == 201, rule.text
        rules.append(rule.json()["id"])
    for rule_id in rules:
        assert client.post(f"/api/sync/rules/{rule_id}/activate", headers=a.admin.bearer).status_code == 202
    work(client)
    theirs = {
        p["sku"]: p
        for p in remote.client.get("/api/ordering/products", headers=north.admin.bearer, params={"limit": 200}).json()[
            "items"
        ]
    }
    assert set(theirs) >= {p["sku"] for p in made}, theirs

    acme_settings = client.app.state.services.settings
    acme_pairing = next(
        p["id"] for p in client.get("/api/sync/peers", headers=a.admin.bearer).json() if p["link_id"] == link_id
    )

    # the faults begin: both proxies fail 30% of the requests and duplicate some; two workers at North
    acme_proxy.faulty = remote.proxy.faulty = True
    logs = Path(tempfile.mkdtemp(prefix="sync-faults-"))
    workers = [start_worker(remote, logs / f"worker-{n}.log") for n in range(2)]
    started = time.monotonic()
    placed: list[dict[str, Any]] = []
    approved: set[str] = set()
    shipped: set[str] = set()
    killed: subprocess.Popen[bytes] | None = None
    edited = made[0]

    def place(n: int) -> None:
        lines = [
            {"product_id": theirs[p["sku"]]["id"], "quantity": rng.randint(1, 5)}
            for p in rng.sample(made, rng.randint(1, 3))
        ]
        sent = remote.client.post(
            "/api/ordering/purchase-orders",
            headers=north.admin.bearer,
            json={"supplier_id": a.tenant_id, "lines": lines, "ship_to": f"Quay {n}"},
        )
        assert sent.status_code == 201, sent.text
        placed.append(sent.json())

    def sales_orders() -> dict[str, list[dict[str, Any]]]:
        found = client.get("/api/ordering/orders", headers=a.admin.bearer, params={"limit": 200, "status": "all"})
        assert found.status_code == 200, found.text
        by_po: dict[str, list[dict[str, Any]]] = {}
        for order in found.json()["items"]:
            if order.get("po_number"):
                by_po.setdefault(order["po_number"], []).append(order)
        return by_po

    def manufacturer_acts() -> None:
        """Acme approves some of the orders that arrived and ships some of those, then its workers run."""
        for number, orders in sorted(sales_orders().items()):
            so = orders[0]
            if len(approved) < 8 and number not in approved and so["status"] == "submitted":
                assert staff(client, a.admin, "POST", f"/orders/{so['id']}/approve", json={}).status_code == 200
                approved.add(number)
            elif len(shipped) < 4 and number in approved and number not in shipped and so["status"] == "approved":
                done = staff(client, a.admin, "POST", f"/orders/{so['id']}/shipments", json={"own_delivery": True})
                assert done.status_code == 201, done.text
                shipped.add(number)
        work(client, passes=4, config=IN_SMALL_BATCHES)

    try:
        for n in range(ORDERS):
            place(n)
            if n == 10:
                # a worker killed while it holds leases (between two batches it holds none); the other
                # takes its deliveries over once their leases expire
                deadline = time.monotonic() + 30
                holder = None
                while holder is None and time.monotonic() < deadline:
                    holder = next((w for w in workers if holds_leases(remote.settings, w.pid)), None)
                assert holder is not None, "no worker took the purchase orders"
                holder.send_signal(signal.SIGKILL)
                holder.wait(10)
                killed = holder
            if n == 15:
                # the same product edited on both sides at once: the name held for a person, the
                # description the manufacturer's
                edits = [
                    (remote.client, north, theirs[edited["sku"]]["id"], "North's"),
                    (client, a, edited["id"], "Acme's"),
                ]
                with ThreadPoolExecutor(2) as pool:
                    both = list(pool.map(lambda edit: edit_product(*edit), edits))
                assert [r.status_code for r in both] == [200, 200], [r.text for r in both]
            if n == 20:
                acme_served.stop()  # Acme's deployment down while orders keep coming
            if n == 30:
                time.sleep(2)
                acme_served.start()
            if n % 5 == 4 and acme_served.server is not None:
                manufacturer_acts()

        # until every order is placed once and every status came back (bounded)
        deadline = time.monotonic() + 90
        while True:
            manufacturer_acts()
            by_po = sales_orders()
            ours = {
                p["number"]: p
                for p in remote.client.get(
                    "/api/ordering/purchase-orders", headers=north.admin.bearer, params={"limit": 200}
                ).json()["items"]
            }
            settled = all(
                len(by_po.get(p["number"], [])) == 1
                and ours[p["number"]]["status"] == by_po[p["number"]][0]["status"]
                and ours[p["number"]]["sales_order_number"] == by_po[p["number"]][0]["number"]
                for p in placed
            )
            # and nothing left on either side's line (the killed worker's deliveries taken over)
            left = line_left(remote.settings), line_left(acme_settings, acme_pairing)
            if settled and len(approved) >= 8 and len(shipped) >= 4 and left == ({}, {}):
                break
            assert time.monotonic() < deadline, (
                {
                    p["number"]: (ours[p["number"]]["status"], [o["status"] for o in by_po.get(p["number"], [])])
                    for p in placed
                },
                left,
                acme_proxy.fates,
                remote.proxy.fates,
                [f.read_text()[-2000:] for f in sorted(logs.iterdir())],
            )
            time.sleep(0.3)
        took = time.monotonic() - started
        survivor = next(w for w in workers if w is not killed)
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(30) == 0, [f.read_text()[-2000:] for f in sorted(logs.iterdir())]
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
    print(
        f"\n{ORDERS} purchase orders in {took:.1f} s; to Acme: {dict(acme_proxy.fates)}; "
        f"to North: {dict(remote.proxy.fates)}"
    )

    # the faults did happen: the killed worker held leases, which the other took over; requests failed
    assert killed is not None and killed.returncode == -signal.SIGKILL
    taken_over = (
        select(func.count())
        .select_from(DeliveryAttempt)
        .where(DeliveryAttempt.outcome == "lost", DeliveryAttempt.worker == f"sync-runner-{killed.pid}")
    )
    assert on(remote.settings, taken_over) >= 1
    assert acme_proxy.fates["down"] >= 1  # the manufacturer's deployment was down when orders were sent
    for proxy in (acme_proxy, remote.proxy):
        failed = proxy.fates["503"] + proxy.fates["dropped"] + proxy.fates["answer_lost"]
        assert failed >= 3 and proxy.fates["duplicated"] >= 1, proxy.fates

    # every purchase order once as a sales order, each status back (the shipped ones too)
    by_po = sales_orders()
    assert all(len(by_po[p["number"]]) == 1 for p in placed)
    assert len({by_po[p["number"]][0]["id"] for p in placed}) == ORDERS
    statuses = {
        p["number"]: remote.client.get(f"/api/ordering/purchase-orders/{p['id']}", headers=north.admin.bearer).json()[
            "status"
        ]
        for p in placed
    }
    assert sum(s == "shipped" for s in statuses.values()) == len(shipped) >= 4
    assert sum(s == "approved" for s in statuses.values()) == len(approved) - len(shipped)

    # the concurrent edit: the name held in North's queue with both values, the description Acme's
    held = remote.client.get("/api/sync/conflicts", headers=north.admin.bearer, params={"status": "held"}).json()
    assert [(c["field"], c["upstream_value"], c["downstream_value"]) for c in held["items"]] == [
        ("name", "Acme's name", "North's name")
    ], held
    # zero drift: North's catalog holds each product the rule sends once, with the mapped values (its own
    # name where a conflict is held for a person)
    work(client)
    mine_now = [
        p
        for p in remote.client.get("/api/ordering/products", headers=north.admin.bearer, params={"limit": 200}).json()[
            "items"
        ]
    ]
    for n, p in enumerate(made):
        ours_p = [q for q in mine_now if q["sku"] == p["sku"]]
        assert len(ours_p) == 1, ours_p
        acme = client.get(f"/api/ordering/products/{p['id']}", headers=a.admin.bearer).json()
        expected = {
            f: acme[f] for f in ("sku", "name", "unit", "pack_size", "min_order_quantity", "description", "image_url")
        }
        if p is edited:
            expected["name"] = "North's name"
            assert acme["description"] == "Acme's text"
        assert {f: ours_p[0][f] for f in expected} == expected
        assert Decimal(ours_p[0]["cost_price"]) == Decimal(f"{10 + n}.00")
    # and a reconciliation across the deployments, asked through the faulty proxy (a question not answered
    # is asked again), finds no drift: the held name is the policy's outcome, not drift
    started = client.post(f"/api/sync/rules/{rules[0]}/reconcile", headers=a.admin.bearer)
    assert started.status_code == 202, started.text
    work(client)
    report = client.get(f"/api/sync/reconciliations/{started.json()['id']}", headers=a.admin.bearer).json()
    run = report["reconciliation"]
    assert run["status"] == "done" and run["drift"] == 0 and run["compared"] >= len(made), report
    # world B sees none of it
    assert client.get("/api/sync/rules", headers=world.b.admin.bearer).json() == []
    assert all(
        o.get("po_number") is None
        for o in client.get(
            "/api/ordering/orders", headers=world.b.admin.bearer, params={"limit": 200, "status": "all"}
        ).json()["items"]
    )
