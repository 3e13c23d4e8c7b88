"""Cross-tenant sync on PostgreSQL, within one deployment and across two, each figure beside its goal, in one run:

    .venv/bin/python -m benchmarks.sync [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--changes 1000] [--samples 50] [--workers 2] [--concurrency 4] [--batch 10] [--products 100000]
        [--line-batches 1,100] [--parts propagation,latency,across,backfill,reconciliation] [--keep]

A scratch database (dropped at the end unless --keep), migrated, with the demo data: Acme Pumps' catalog
flows to North Supply's own workspace under the demo's active rule. The workers are `portal worker`
processes connecting through a login that is only a member of the application's roles, as in production.
Each part starts once nothing waits for delivery (the demo's own work included).

    propagation   --changes new products published at Acme in one go (each with its event, as the catalog
                  admin does), then the same products renamed, each applied at North Supply by --workers
                  worker processes from the moment they are ready (goal: ≥ 300 changes/s with 2 workers)
    latency       with the queue idle and one worker listening, --samples renames one at a time, each from
                  its commit to the moment North Supply's product carries the new name (goal: median ≤ 500 ms)
    across        the same two figures when the partner's workspace runs on another deployment, printed beside
                  them (no goal): a second scratch database, both deployments served by `portal serve` on
                  loopback ports, paired through their APIs as the two admins do (a pairing code, then a
                  catalog rule of Borealis Valves, the demo's other manufacturer, for the pairing); the
                  upstream's --workers `portal worker` processes send signed requests to the partner's
                  inbound endpoint, and the partner's deployment runs a worker of its own; the propagation
                  once per --line-batches value (the most changes a worker sends in one request: 1 is one
                  request per change), printed side by side, the latency with the last
    memory        the peak resident memory (VmHWM) of each worker process
    backfill      --products products added at Acme in bulk (no events; the tables then analysed, as autovacuum
                  does after such a load), then a backfill of the catalog rule (what activating it asks for)
                  carried out by --workers workers (its batches taken side by side), from their start to the
                  backfill being done (goal: 100,000 products ≤ 60 s with 2 workers), with the workers'
                  highest peak memory
    reconciliation  then a reconciliation of the same rule (every mapped product compared on both sides),
                  by one worker, from its start to the run being done (goal: 100,000 objects ≤ 60 s),
                  with its drift (0 expected) and that worker's peak memory

`--parts` chooses what runs (default all; reconciliation needs backfill).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from apps.ordering.models import Product
from apps.ordering.syncing import product_changed
from benchmarks.delivery import peak_mib, stop
from benchmarks.support import autocommit, on_same_server, scratch_database, serving_login
from interconnect.models import EnterpriseLink
from portal.cli import with_services
from portal.config import Settings, normalise_database_url
from portal.db import migrate
from portal.db.context import PUBLIC, SYSTEM, tenant_context
from portal.db.types import utcnow
from portal.demo import DEMO_PASSWORD, DEMO_TENANTS, load_demo
from portal.identity.models import Tenant
from portal.ids import uuid7
from portal.outbox import publish
from portal.services import Services
from sync.crosstenant import reconcile
from sync.crosstenant.demo import UPSTREAM, WORKSPACE
from sync.crosstenant.models import SyncBackfill, SyncMapping, SyncReconciliation, SyncRule
from sync.crosstenant.subscriber import BACKFILL_REQUESTED
from sync.scheduling import JobRun, latest_due

ROOT = Path(__file__).resolve().parent.parent
DOWNSTREAM = WORKSPACE[1]
ACROSS_UPSTREAM = DEMO_TENANTS[1]  # Borealis Valves


def settings_for(url: str, data_dir: str) -> Settings:
    return Settings.from_env({}, database_url=url, environment="test", password_profile="fast", data_dir=Path(data_dir))


def deployment_env(url: str, data_dir: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_ENV": "test",
        "PORTAL_DATA_DIR": data_dir,
        **(extra or {}),
    }


def start_workers(
    url: str, data_dir: str, count: int, args: argparse.Namespace, extra: dict[str, str] | None = None
) -> tuple[list[subprocess.Popen[str]], float]:
    """`count` worker processes, started together; and when the first was ready (from then on it delivers,
    so a rate is measured from that moment). `extra`: the deployment's own settings (across deployments)."""
    env = deployment_env(url, data_dir, extra)
    command = [sys.executable, "-m", "portal.cli", "worker", "--concurrency", str(args.concurrency)]
    processes = [
        subprocess.Popen(
            [*command, "--batch", str(args.batch), "--line-batch", str(getattr(args, "line_batch", 1))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        for _ in range(count)
    ]
    first_ready = None
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.readline()
        while line and not line.startswith("worker delivering"):
            line = process.stdout.readline()
        if not line:
            raise RuntimeError("a worker did not start: " + process.stdout.read())
        # what it writes from now on is read and dropped: a full pipe would stop the worker at its next log
        # line, in the middle of whatever it was sending to the database
        threading.Thread(target=drain, args=(process.stdout,), daemon=True).start()
        first_ready = first_ready or time.monotonic()
    assert first_ready is not None
    return processes, first_ready


def drain(stream: Any) -> None:
    for _line in stream:
        pass


async def tenant_ids(services: Services) -> tuple[uuid.UUID, uuid.UUID]:
    async with services.db.session(PUBLIC) as session:
        rows = dict((await session.execute(select(Tenant.slug, Tenant.id))).all())
    return rows[UPSTREAM], rows[DOWNSTREAM]


async def settled(services: Services) -> None:
    """Wait until nothing waits for delivery (what the demo published included). Read in the system
    context: in the public one, row-level security hides every tenant's events and deliveries."""
    while True:
        async with services.db.session(SYSTEM) as session:
            waiting = await session.scalar(
                text(
                    "SELECT (SELECT count(*) FROM outbox_events WHERE NOT fanned_out)"
                    " + (SELECT count(*) FROM outbox_deliveries WHERE status = 'pending')"
                )
            )
        if not waiting:
            return
        await asyncio.sleep(0.2)


async def downstream_names(services: Services, downstream: uuid.UUID, skus: list[str]) -> dict[str, str]:
    async with services.db.session(tenant_context(downstream, channel="cli")) as session:
        rows = await session.execute(select(Product.sku, Product.name).where(Product.sku.in_(skus)))
        return dict(rows.all())


async def publish_products(services: Services, upstream: uuid.UUID, skus: list[str], suffix: str) -> None:
    """Create the products (or rename them to end in `suffix`), each with its event, 200 per transaction."""
    for start in range(0, len(skus), 200):
        chunk = skus[start : start + 200]
        async with services.db.session(tenant_context(upstream, channel="cli")) as session:
            found = await session.execute(select(Product.sku, Product.id).where(Product.sku.in_(chunk)))
            existing = dict(found.all())
            for sku in chunk:
                if sku in existing:
                    await session.execute(
                        update(Product).where(Product.id == existing[sku]).values(name=f"Bench {sku} {suffix}")
                    )
                    product_changed(session, existing[sku])
                else:
                    product = Product(sku=sku, name=f"Bench {sku} {suffix}")
                    session.add(product)
                    await session.flush()
                    product_changed(session, product.id)


class Side:
    """Where changes are made and where they are looked for: the upstream tenant here, a reader of the
    partner's names by SKU (North Supply's workspace here, or the partner's workspace on its own deployment)
    and the settings the upstream's workers need (across deployments: its address and secret)."""

    def __init__(
        self,
        upstream: uuid.UUID,
        names: Callable[[list[str]], Awaitable[dict[str, str]]],
        extra: dict[str, str] | None = None,
    ) -> None:
        self.upstream, self.names, self.extra = upstream, names, extra


async def within_deployment(services: Services) -> Side:
    upstream, downstream = await tenant_ids(services)
    return Side(upstream, lambda skus: downstream_names(services, downstream, skus))


async def propagation(
    services: Services,
    serve_url: str,
    data_dir: str,
    args: argparse.Namespace,
    suffix: str,
    skus: list[str],
    side: Side,
) -> tuple[float, list[float]]:
    await publish_products(services, side.upstream, skus, suffix)
    processes, started = await asyncio.to_thread(start_workers, serve_url, data_dir, args.workers, args, side.extra)
    deadline = started + 900
    wanted = {sku: f"Bench {sku} {suffix}" for sku in skus}
    while time.monotonic() < deadline:
        names = await side.names(skus)
        if all(names.get(sku) == name for sku, name in wanted.items()):
            break
        await asyncio.sleep(0.05)
    took = time.monotonic() - started
    peaks = [peak_mib(p.pid) for p in processes]
    # the workers stop once nothing waits for them (a delivery retrying after a fault would otherwise stay
    # pending with no worker left, and the next part wait for it forever)
    await settled(services)
    await asyncio.to_thread(stop, processes)
    names = await side.names(skus)
    arrived = sum(names.get(sku) == name for sku, name in wanted.items())
    if arrived < len(skus):
        raise RuntimeError(f"only {arrived} of {len(skus)} changes arrived")
    return len(skus) / took, peaks


async def latency(
    services: Services, serve_url: str, data_dir: str, args: argparse.Namespace, side: Side
) -> list[float]:
    sku = f"LAT-{uuid.uuid4().hex[:8]}"
    await publish_products(services, side.upstream, [sku], "0")
    processes, _ready = await asyncio.to_thread(start_workers, serve_url, data_dir, 1, args, side.extra)
    try:
        while (await side.names([sku])).get(sku) != f"Bench {sku} 0":  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        times = []
        for sample in range(1, args.samples + 1):
            await asyncio.sleep(0.2)  # the queue idle again, the worker waiting
            await publish_products(services, side.upstream, [sku], str(sample))
            committed = time.monotonic()
            arrived = f"Bench {sku} {sample}"
            while (await side.names([sku])).get(sku) != arrived:  # noqa: ASYNC110
                await asyncio.sleep(0.002)
            times.append((time.monotonic() - committed) * 1000)
        return times
    finally:
        await asyncio.to_thread(stop, processes)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(url: str, data_dir: str, port: int, extra: dict[str, str]) -> Iterator[str]:
    """`portal serve` (one process) for a deployment on a loopback port; its address once it answers."""
    env = deployment_env(url, data_dir, {**extra, "PORTAL_HOST": "127.0.0.1", "PORTAL_PORT": str(port)})
    log = Path(data_dir) / f"serve-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.cli", "serve", "--no-migrate", "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(address + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("a deployment did not start: " + log.read_text()[-2000:])
            time.sleep(0.2)
        yield address
    finally:
        process.terminate()
        process.wait(timeout=60)


async def api(http: httpx.AsyncClient, method: str, url: str, token: str | None = None, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.request(method, url, headers=headers, **kwargs)
    if response.status_code >= 300:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:500]}")
    return response.json()


async def token_of(http: httpx.AsyncClient, address: str, workspace: str, email: str, password: str) -> str:
    found = await api(
        http, "POST", address + "/api/auth/token", json={"workspace": workspace, "email": email, "password": password}
    )
    return str(found["access_token"])


async def pair_deployments(
    services: Services, http: httpx.AsyncClient, upstream_address: str, partner_address: str
) -> tuple[uuid.UUID, uuid.UUID]:
    """Through both deployments' APIs, as the two admins do: the partner's workspace made on its deployment,
    an enterprise of Borealis Valves for it, a pairing code, the pairing, and an active catalog rule for
    the pairing. (Borealis Valves, the demo's other manufacturer, has no rule within the deployment, so its
    workers do only this.) The upstream tenant's id and the partner workspace's."""
    password = secrets.token_urlsafe(16)
    slug = f"remote-{uuid.uuid4().hex[:8]}"
    email = f"admin@{slug}.example"
    made = await api(
        http,
        "POST",
        partner_address + "/api/signup",
        json={
            "company_name": "Remote Partner",
            "slug": slug,
            "admin_name": "Remo",
            "email": email,
            "password": password,
        },
    )
    partner_tenant = uuid.UUID(made["tenant"]["id"])
    partner_token = await token_of(http, partner_address, slug, email, password)
    upstream = ACROSS_UPSTREAM
    upstream_token = await token_of(http, upstream_address, upstream.slug, upstream.admin[1], DEMO_PASSWORD)
    types = await api(http, "GET", upstream_address + "/api/interconnect/partner-types", upstream_token)
    made = await api(
        http,
        "POST",
        upstream_address + "/api/interconnect/enterprises",
        upstream_token,
        json={"name": "Remote Partner", "partner_type_id": types[0]["id"]},
    )
    link_id = uuid.UUID(made["enterprise"]["id"])
    async with services.db.session(PUBLIC) as session:
        upstream_id = await session.scalar(select(Tenant.id).where(Tenant.slug == upstream.slug))
    assert upstream_id is not None
    if made["enterprise"]["status"] != "active":  # the partner accepting its invitation, as the tests do
        async with services.db.session(tenant_context(upstream_id, channel="cli")) as session:
            await session.execute(update(EnterpriseLink).where(EnterpriseLink.id == link_id).values(status="active"))
    code = await api(
        http, "POST", upstream_address + "/api/sync/peer-codes", upstream_token, json={"link_id": str(link_id)}
    )
    await api(
        http,
        "POST",
        partner_address + "/api/sync/peers",
        partner_token,
        json={"upstream_url": upstream_address, "code": code["code"]},
    )
    rule = await api(
        http,
        "POST",
        upstream_address + "/api/sync/rules",
        upstream_token,
        json={"link_id": str(link_id), "object": "ordering.product", "name": "Catalog over there"},
    )
    await api(http, "POST", upstream_address + f"/api/sync/rules/{rule['id']}/activate", upstream_token)
    return upstream_id, partner_tenant


def partner_names(
    partner_owner_url: str, partner_tenant: uuid.UUID
) -> Callable[[list[str]], Awaitable[dict[str, str]]]:
    """The partner's product names by SKU, read on its own database (as its owner: no context needed)."""
    engine = create_async_engine(partner_owner_url, pool_size=2)

    async def names(skus: list[str]) -> dict[str, str]:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT sku, name FROM ordering_products WHERE tenant_id = :t AND sku = ANY(:skus)"),
                {"t": partner_tenant, "skus": skus},
            )
            return {sku: name for sku, name in rows}

    names.engine = engine  # type: ignore[attr-defined]
    return names


async def across(
    services: Services, serve_url: str, data_dir: str, args: argparse.Namespace
) -> tuple[dict[int, tuple[float, float]], list[float], list[float]]:
    """The same propagation and latency when the partner's workspace runs on another deployment: a second
    database (its own scratch database on the same server, reached through the same production login), both
    deployments served by `portal serve` on loopback ports, the upstream's `portal worker` processes sending
    signed requests to the partner's inbound endpoint, and a worker of the partner's own."""
    name = f"portal_bench_sync_peer_{os.getpid()}"
    await autocommit(args.owner_url, f'CREATE DATABASE "{name}"')
    partner_owner = on_same_server(args.owner_url, name)
    partner_serve = make_url(serve_url).set(database=name).render_as_string(hide_password=False)
    partner_dir = tempfile.mkdtemp(prefix="peer-", dir=data_dir)
    names = None
    try:
        await asyncio.to_thread(migrate.upgrade, settings_for(partner_owner, partner_dir))
        ports = free_port(), free_port()
        upstream_extra = {
            "PORTAL_BASE_URL": f"http://127.0.0.1:{ports[0]}",
            "PORTAL_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
            "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        }
        partner_extra = {
            "PORTAL_BASE_URL": f"http://127.0.0.1:{ports[1]}",
            "PORTAL_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
            "PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        }
        with (
            serving(serve_url, data_dir, ports[0], upstream_extra) as upstream_address,
            serving(partner_serve, partner_dir, ports[1], partner_extra) as partner_address,
        ):
            async with httpx.AsyncClient(timeout=60) as http:
                upstream, partner_tenant = await pair_deployments(services, http, upstream_address, partner_address)
            names = partner_names(partner_owner, partner_tenant)
            side = Side(upstream, names, upstream_extra)
            theirs, _ready = await asyncio.to_thread(start_workers, partner_serve, partner_dir, 1, args, partner_extra)
            try:
                # the activation's backfill (the demo's catalog of Borealis Valves) over first
                ours, _ready = await asyncio.to_thread(start_workers, serve_url, data_dir, 1, args, upstream_extra)
                await settled(services)
                await asyncio.to_thread(stop, ours)
                rates: dict[int, tuple[float, float]] = {}
                peaks: list[float] = []
                for line_batch in args.line_batches:
                    args.line_batch = line_batch
                    skus = [f"XD{line_batch}-{i:06d}" for i in range(args.changes)]
                    created, more = await propagation(services, serve_url, data_dir, args, "a", skus, side)
                    peaks += more
                    await settled(services)
                    renamed, more = await propagation(services, serve_url, data_dir, args, "b", skus, side)
                    peaks += more
                    await settled(services)
                    rates[line_batch] = (created, renamed)
                times = await latency(services, serve_url, data_dir, args, side)
            finally:
                await asyncio.to_thread(stop, theirs)
        return rates, times, peaks
    finally:
        if names is not None:
            await names.engine.dispose()  # type: ignore[attr-defined]
        if not args.keep:
            await autocommit(args.owner_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def daily_reconciliation_done(services: Services) -> None:
    """Record today's daily reconciliation as run, so the workers started here compare only when asked."""
    now = utcnow()
    async with services.db.session(SYSTEM) as session:
        session.add(
            JobRun(
                job=reconcile.RECONCILE_JOB.name,
                due_at=latest_due(reconcile.RECONCILE_JOB, now),
                status="ok",
                finished_at=now,
            )
        )


async def bulk_products(services: Services, upstream: uuid.UUID, count: int, owner_url: str) -> None:
    """`count` products at Acme written in bulk, without events: only a backfill brings them over. Then
    the tables are analysed, as autovacuum does after such a load: with the statistics of an empty
    catalog the planner would sort the whole catalog for every batch read in id order."""
    for start in range(0, count, 5000):
        rows = [
            {"tenant_id": upstream, "id": uuid7(), "sku": f"BULK-{i:06d}", "name": f"Bulk pump {i}"}
            for i in range(start, min(count, start + 5000))
        ]
        async with services.db.session(tenant_context(upstream, channel="cli")) as session:
            await session.execute(insert(Product.__table__), rows)
    await autocommit(owner_url, "ANALYZE")


async def catalog_rule(services: Services, upstream: uuid.UUID) -> uuid.UUID:
    async with services.db.session(tenant_context(upstream, channel="cli")) as session:
        rule_id = await session.scalar(select(SyncRule.id).where(SyncRule.object == "ordering.product"))
    assert rule_id is not None, "the demo has no catalog rule"
    return rule_id


async def timed_on_workers(
    services: Services, serve_url: str, data_dir: str, args: argparse.Namespace, done: object, count: int = 1
) -> tuple[float, float]:
    """Start `count` workers, wait until `done()` says the job ended; (seconds from the first worker ready,
    the highest peak of theirs)."""
    processes, started = await asyncio.to_thread(start_workers, serve_url, data_dir, count, args)
    try:
        while not await done():  # type: ignore[operator]
            if time.monotonic() - started > 1800:
                raise RuntimeError("not done within 30 minutes")
            await asyncio.sleep(0.2)
        took = time.monotonic() - started
        return took, max(peak_mib(p.pid) for p in processes)
    finally:
        await asyncio.to_thread(stop, processes)


async def backfill(
    services: Services, serve_url: str, data_dir: str, args: argparse.Namespace
) -> tuple[float, float, int]:
    upstream, _downstream = await tenant_ids(services)
    await bulk_products(services, upstream, args.objects, args.owner_url)
    rule_id = await catalog_rule(services, upstream)
    ctx = tenant_context(upstream, channel="cli")
    async with services.db.session(ctx) as session:
        job = SyncBackfill(rule_id=rule_id)
        session.add(job)
        await session.flush()
        publish(session, BACKFILL_REQUESTED, "sync.rule", rule_id, {"backfill": str(job.id)})
        job_id = job.id

    async def finished() -> bool:
        async with services.db.session(ctx) as session:
            status = await session.scalar(select(SyncBackfill.status).where(SyncBackfill.id == job_id))
        if status == "failed":
            raise RuntimeError("the backfill failed")
        return status == "done"

    took, peak = await timed_on_workers(services, serve_url, data_dir, args, finished, args.workers)
    async with services.db.session(ctx) as session:
        mapped = await session.scalar(
            select(func.count()).select_from(SyncMapping).where(SyncMapping.rule_id == rule_id)
        )
    return took, peak, int(mapped or 0)


async def reconciliation(
    services: Services, serve_url: str, data_dir: str, args: argparse.Namespace
) -> tuple[float, float, SyncReconciliation]:
    upstream, _downstream = await tenant_ids(services)
    rule_id = await catalog_rule(services, upstream)
    ctx = tenant_context(upstream, channel="cli")
    async with services.db.session(ctx) as session:
        rule = await session.scalar(select(SyncRule).where(SyncRule.id == rule_id).with_for_update())
        assert rule is not None
        run_id = (await reconcile.start(session, rule)).id

    async def finished() -> bool:
        async with services.db.session(ctx) as session:
            status = await session.scalar(select(SyncReconciliation.status).where(SyncReconciliation.id == run_id))
        if status == "failed":
            raise RuntimeError("the reconciliation failed")
        return status == "done"

    took, peak = await timed_on_workers(services, serve_url, data_dir, args, finished)
    async with services.db.session(ctx) as session:
        run = await session.scalar(select(SyncReconciliation).where(SyncReconciliation.id == run_id))
    assert run is not None
    return took, peak, run


def line(label: str, here: str, there: str, goal: str, met: bool | None) -> None:
    """A figure within one deployment and (where measured) across two, with its goal and verdict."""
    verdict = "" if met is None else ("met" if met else "MISSED")
    print(f"{label:<32} {here:>15} {there:>15}   {goal:<24} {verdict}", flush=True)


def quantiles(times: list[float]) -> tuple[float, float]:
    return statistics.median(times), sorted(times)[max(0, int(len(times) * 0.99) - 1)]


async def _run(owner_url: str, args: argparse.Namespace, data_dir: str) -> None:
    args.owner_url = owner_url
    settings = settings_for(owner_url, data_dir)
    await asyncio.to_thread(migrate.upgrade, settings)
    async with serving_login(owner_url) as serve_url:

        async def work(services: Services) -> None:
            await daily_reconciliation_done(services)
            await load_demo(services)
            processes, _ready = await asyncio.to_thread(start_workers, serve_url, data_dir, 1, args)
            await settled(services)  # the demo's own events and the catalog's backfill
            await asyncio.to_thread(stop, processes)
            parts = set(args.parts.split(","))
            here = await within_deployment(services)
            figures: dict[str, Any] = {}
            if "propagation" in parts:
                skus = [f"BENCH-{i:06d}" for i in range(args.changes)]
                figures["created"], peaks = await propagation(services, serve_url, data_dir, args, "a", skus, here)
                await settled(services)
                figures["renamed"], more = await propagation(services, serve_url, data_dir, args, "b", skus, here)
                await settled(services)
                figures["peak"] = max(peaks + more)
            if "latency" in parts:
                figures["latency"] = await latency(services, serve_url, data_dir, args, here)
            if "across" in parts:
                rates, times, peaks = await across(services, serve_url, data_dir, args)
                created, renamed = rates[args.line_batches[-1]]
                figures["across"] = (created, renamed, times, max(peaks))
                figures["across_rates"] = rates
            print(
                f"\nsync on PostgreSQL, {args.workers} worker processes (1 for latency and reconciliation),"
                f" batch {args.batch}, across deployments ≤ {args.line_batches[-1]} changes per request"
            )
            print(f"{'':<32} {'one deployment':>15} {'two deployments':>15}   goal")
            there = figures.get("across")
            if "created" in figures or there:
                for key, label, index in (("created", "new products", 0), ("renamed", "renamed products", 1)):
                    rate = figures.get(key)
                    mine = "-" if rate is None else f"{rate:,.0f} /s"
                    other = f"{there[index]:,.0f} /s" if there else "-"
                    met = None if rate is None else rate >= 300
                    line(f"{label} propagated", mine, other, "≥ 300 /s (one deployment)", met)
                    for line_batch, pair in figures.get("across_rates", {}).items():
                        shown = "one request each" if line_batch == 1 else f"≤ {line_batch} per request"
                        line(f"  across, {shown}", "-", f"{pair[index]:,.0f} /s", "(printed)", None)
                mine = f"{figures['peak']:,.0f} MiB" if "peak" in figures else "-"
                other = f"{there[3]:,.0f} MiB" if there else "-"
                line("  worker peak memory", mine, other, "(printed)", None)
            if "latency" in figures or there:
                near = quantiles(figures["latency"]) if "latency" in figures else None
                far = quantiles(there[2]) if there else None
                goal = "≤ 500 ms (one deployment)"
                mine = f"{near[0]:,.0f} ms" if near else "-"
                other = f"{far[0]:,.0f} ms" if far else "-"
                line("commit to applied, median", mine, other, goal, None if near is None else near[0] <= 500)
                mine = f"{near[1]:,.0f} ms" if near else "-"
                other = f"{far[1]:,.0f} ms" if far else "-"
                line("commit to applied, p99", mine, other, "(printed)", None)
            if "backfill" in parts:
                took, peak, mapped = await backfill(services, serve_url, data_dir, args)
                await settled(services)
                line(f"backfill of {args.objects:,} products", f"{took:,.1f} s", "-", "≤ 60 s", took <= 60)
                line("  records mapped afterwards", f"{mapped:,}", "-", "(printed)", None)
                line("  worker peak memory", f"{peak:,.0f} MiB", "-", "(printed)", None)
            if "reconciliation" in parts:
                took, peak, run = await reconciliation(services, serve_url, data_dir, args)
                line(f"reconciliation of {run.compared:,} mapped", f"{took:,.1f} s", "-", "≤ 60 s", took <= 60)
                drift = run.missing + run.extra + run.different
                line("  drift found", f"{drift:,}", "-", "0", drift == 0)
                line("  worker peak memory", f"{peak:,.0f} MiB", "-", "(printed)", None)

        await with_services(settings_for(owner_url, data_dir), work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--products", "--objects", dest="objects", type=int, default=100_000)
    parser.add_argument("--line-batches", default="1,100", help="changes per request across deployments, each run")
    parser.add_argument("--parts", default="propagation,latency,across,backfill,reconciliation")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    args.line_batches = [int(n) for n in args.line_batches.split(",") if n.strip()] or [100]
    server = normalise_database_url(args.url)
    with (
        tempfile.TemporaryDirectory(prefix="bench-sync-") as data_dir,
        scratch_database(server, f"portal_bench_sync_{os.getpid()}", reuse=False, keep=args.keep) as url,
    ):
        asyncio.run(_run(url, args, data_dir))


if __name__ == "__main__":
    main()
