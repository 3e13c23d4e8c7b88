"""Cross-tenant sync within one deployment on PostgreSQL, each figure beside its goal, in one run:

    .venv/bin/python -m benchmarks.sync [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--changes 1000] [--samples 50] [--workers 2] [--concurrency 4] [--batch 10] [--keep]

A scratch database (dropped at the end unless --keep), migrated, with the demo data: Acme Pumps' catalog
flows to North Supply's own workspace under the demo's active rule. The workers are `portal worker`
processes connecting through a login that is only a member of the application's roles, as in production.

    propagation   --changes new products published at Acme in one go (each with its event, as the catalog
                  admin does), then the same products renamed, each applied at North Supply by --workers
                  worker processes from the moment they are ready (goal: ≥ 300 changes/s with 2 workers)
    latency       with the queue idle and one worker listening, --samples renames one at a time, each from
                  its commit to the moment North Supply's product carries the new name (goal: median ≤ 500 ms)
    memory        the peak resident memory (VmHWM) of each worker process
    backfill      --objects products added at Acme in bulk (no events; the tables then analysed, as autovacuum
                  does after such a load), then a backfill of the catalog rule
                  (what activating it asks for) carried out by one worker, from its start to the backfill
                  being done (goal: 100,000 products ≤ 60 s), with that worker's peak memory
    reconciliation  then a reconciliation of the same rule (every mapped product compared on both sides),
                  by one worker, from its start to the run being done (goal: 100,000 objects ≤ 60 s),
                  with its drift (0 expected) and that worker's peak memory

`--parts` chooses what runs (default all: propagation,latency,backfill,reconciliation; reconciliation
needs backfill). Not measured here: across deployments.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, insert, select, text, update

from apps.ordering.models import Product
from apps.ordering.syncing import product_changed
from benchmarks.delivery import peak_mib, stop
from benchmarks.support import autocommit, scratch_database, serving_login
from portal.cli import with_services
from portal.config import Settings, normalise_database_url
from portal.db import migrate
from portal.db.context import PUBLIC, SYSTEM, tenant_context
from portal.db.types import utcnow
from portal.demo import load_demo
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


def settings_for(url: str, data_dir: str) -> Settings:
    return Settings.from_env({}, database_url=url, environment="test", password_profile="fast", data_dir=Path(data_dir))


def start_workers(
    url: str, data_dir: str, count: int, args: argparse.Namespace
) -> tuple[list[subprocess.Popen[str]], float]:
    """`count` worker processes, started together; and when the first was ready (from then on it delivers,
    so a rate is measured from that moment)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_ENV": "test",
        "PORTAL_DATA_DIR": data_dir,
    }
    command = [sys.executable, "-m", "portal.cli", "worker", "--concurrency", str(args.concurrency)]
    processes = [
        subprocess.Popen(
            [*command, "--batch", str(args.batch)],
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
        first_ready = first_ready or time.monotonic()
    assert first_ready is not None
    return processes, first_ready


async def tenant_ids(services: Services) -> tuple[uuid.UUID, uuid.UUID]:
    async with services.db.session(PUBLIC) as session:
        rows = dict((await session.execute(select(Tenant.slug, Tenant.id))).all())
    return rows[UPSTREAM], rows[DOWNSTREAM]


async def settled(services: Services) -> None:
    """Wait until nothing waits for delivery (what the demo published included)."""
    while True:
        async with services.db.session(PUBLIC) as session:
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


async def propagation(
    services: Services, serve_url: str, data_dir: str, args: argparse.Namespace, suffix: str, skus: list[str]
) -> tuple[float, list[float]]:
    upstream, downstream = await tenant_ids(services)
    await publish_products(services, upstream, skus, suffix)
    processes, started = await asyncio.to_thread(start_workers, serve_url, data_dir, args.workers, args)
    deadline = started + 900
    wanted = {sku: f"Bench {sku} {suffix}" for sku in skus}
    while time.monotonic() < deadline:
        names = await downstream_names(services, downstream, skus)
        if all(names.get(sku) == name for sku, name in wanted.items()):
            break
        await asyncio.sleep(0.05)
    took = time.monotonic() - started
    peaks = [peak_mib(p.pid) for p in processes]
    await asyncio.to_thread(stop, processes)
    names = await downstream_names(services, downstream, skus)
    arrived = sum(names.get(sku) == name for sku, name in wanted.items())
    if arrived < len(skus):
        raise RuntimeError(f"only {arrived} of {len(skus)} changes arrived")
    return len(skus) / took, peaks


async def latency(services: Services, serve_url: str, data_dir: str, args: argparse.Namespace) -> list[float]:
    upstream, downstream = await tenant_ids(services)
    sku = f"LAT-{uuid.uuid4().hex[:8]}"
    await publish_products(services, upstream, [sku], "0")
    processes, _ready = await asyncio.to_thread(start_workers, serve_url, data_dir, 1, args)
    try:
        while (await downstream_names(services, downstream, [sku])).get(sku) != f"Bench {sku} 0":  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        times = []
        for sample in range(1, args.samples + 1):
            await asyncio.sleep(0.2)  # the queue idle again, the worker waiting
            await publish_products(services, upstream, [sku], str(sample))
            committed = time.monotonic()
            arrived = f"Bench {sku} {sample}"
            while (await downstream_names(services, downstream, [sku])).get(sku) != arrived:  # noqa: ASYNC110
                await asyncio.sleep(0.002)
            times.append((time.monotonic() - committed) * 1000)
        return times
    finally:
        await asyncio.to_thread(stop, processes)


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


async def timed_on_one_worker(
    services: Services, serve_url: str, data_dir: str, args: argparse.Namespace, done: object
) -> tuple[float, float]:
    """Start one worker, wait until `done()` says the job ended; (seconds from the worker ready, its peak)."""
    processes, started = await asyncio.to_thread(start_workers, serve_url, data_dir, 1, args)
    try:
        while not await done():  # type: ignore[operator]
            if time.monotonic() - started > 1800:
                raise RuntimeError("not done within 30 minutes")
            await asyncio.sleep(0.2)
        took = time.monotonic() - started
        return took, peak_mib(processes[0].pid)
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

    took, peak = await timed_on_one_worker(services, serve_url, data_dir, args, finished)
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

    took, peak = await timed_on_one_worker(services, serve_url, data_dir, args, finished)
    async with services.db.session(ctx) as session:
        run = await session.scalar(select(SyncReconciliation).where(SyncReconciliation.id == run_id))
    assert run is not None
    return took, peak, run


def line(label: str, figure: str, goal: str, met: bool | None) -> None:
    verdict = "" if met is None else ("met" if met else "MISSED")
    print(f"{label:<34} {figure:>16}   goal {goal:<22} {verdict}")


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
            print(f"\nsync within one deployment, PostgreSQL, {args.workers} worker processes, batch {args.batch}")
            if "propagation" in parts:
                skus = [f"BENCH-{i:06d}" for i in range(args.changes)]
                created, created_peaks = await propagation(services, serve_url, data_dir, args, "a", skus)
                await settled(services)
                renamed, renamed_peaks = await propagation(services, serve_url, data_dir, args, "b", skus)
                await settled(services)
                line("new products propagated", f"{created:,.0f} /s", "≥ 300 /s", created >= 300)
                line("renamed products propagated", f"{renamed:,.0f} /s", "≥ 300 /s", renamed >= 300)
                peaks = created_peaks + renamed_peaks
                line("worker peak memory", f"{max(peaks):,.0f} MiB", "(printed)", None)
            if "latency" in parts:
                times = await latency(services, serve_url, data_dir, args)
                median = statistics.median(times)
                p99 = sorted(times)[max(0, int(len(times) * 0.99) - 1)]
                line("commit to applied, median", f"{median:,.0f} ms", "≤ 500 ms", median <= 500)
                line("commit to applied, p99", f"{p99:,.0f} ms", "(none)", None)
            if "backfill" in parts:
                took, peak, mapped = await backfill(services, serve_url, data_dir, args)
                await settled(services)
                label = f"backfill of {args.objects:,} products"
                line(label, f"{took:,.1f} s", "≤ 60 s", took <= 60)
                line("  records mapped afterwards", f"{mapped:,}", "(printed)", None)
                line("  worker peak memory", f"{peak:,.0f} MiB", "(printed)", None)
            if "reconciliation" in parts:
                took, peak, run = await reconciliation(services, serve_url, data_dir, args)
                label = f"reconciliation of {run.compared:,} mapped"
                line(label, f"{took:,.1f} s", "≤ 60 s", took <= 60)
                drift = run.missing + run.extra + run.different
                line("  drift found", f"{drift:,}", "0", drift == 0)
                line("  worker peak memory", f"{peak:,.0f} MiB", "(printed)", None)

        await with_services(settings_for(owner_url, data_dir), work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--parts", default="propagation,latency,backfill,reconciliation")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    server = normalise_database_url(args.url)
    with (
        tempfile.TemporaryDirectory(prefix="bench-sync-") as data_dir,
        scratch_database(server, f"portal_bench_sync_{os.getpid()}", reuse=False, keep=args.keep) as url,
    ):
        asyncio.run(_run(url, args, data_dir))


if __name__ == "__main__":
    main()
