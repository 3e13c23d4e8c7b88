"""Delivery of outbox events on PostgreSQL, each figure beside its goal, in one run:

    .venv/bin/python -m benchmarks.delivery [--url postgresql://postgres@127.0.0.1:5432/postgres]
        [--writes 2000] [--events 5000] [--samples 200] [--concurrency 4] [--batch 10] [--connections 10] [--keep]

A scratch database (dropped at the end unless --keep), migrated; one tenant; the workers connect through
a login that is only a member of the application's roles, as in production.

    write cost    one transaction inserting a row, with its outbox event (publish) against the same
                  insert without it, alternating, --writes each (goal: at most 1.3 times)
    throughput    --events events delivered to a local receiver (HTTP on a loopback port, always 200)
                  by 1 and then 2 worker processes at --batch per claim and --concurrency batches in
                  flight each, from the moment the workers are ready (goal: ≥ 1,000 events/s with 2);
                  beside it the CPU time the workers, and the receiver, spent per event (the figure
                  other work on the machine moves least)
    latency       with the queue idle and one worker listening, --samples single events, each from its
                  commit to its receipt (goal: median ≤ 100 ms)
    memory        the peak resident memory (VmHWM) of each worker process

The worker processes are tests/delivery_runner.py: the engine and worker `portal worker` runs (on uvloop),
with a subscriber that POSTs each event, JSON-encoded once, through one httpx client per worker process
(keep-alive, --connections to the receiver, on the workers' asyncio transport, sync/delivery/transport.py).
The receiver (tests/receiver.py) runs in a process of its own: a bare asyncio protocol with httptools'
parser on uvloop, answering 200 at once on kept-alive connections and writing the applied ids out in bulk,
so it is not what the figure measures (its CPU per event is printed; a threaded http.server, as before,
cost a thread per connection). As threads of this process it would share one interpreter lock with the
measuring loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from benchmarks.support import scratch_database, serving_login
from portal.config import Settings, normalise_database_url
from portal.db import migrate
from portal.db.context import PUBLIC, tenant_context
from portal.db.engine import Database
from portal.outbox import publish
from tests.receiver import Ledger, receiver_process

ROOT = Path(__file__).resolve().parent.parent
TABLE = "bench_changes"


def settings_for(url: str) -> Settings:
    return Settings.from_env({}, database_url=url, environment="test", password_profile="fast")


async def make_tenant(db: Database) -> uuid.UUID:
    tenant_id = uuid.uuid4()
    async with db.session(PUBLIC) as session:
        await session.execute(
            text(
                "INSERT INTO tenants (id, slug, name, status, default_locale, created_at, updated_at) "
                "VALUES (:id, :slug, 'Bench', 'active', 'en', now(), now())"
            ),
            {"id": tenant_id, "slug": f"bench-{tenant_id.hex[:8]}"},
        )
    return tenant_id


async def write_cost(db: Database, tenant_id: uuid.UUID, writes: int) -> tuple[float, float]:
    """Median milliseconds per transaction: (insert only, insert + outbox event)."""
    ctx = tenant_context(tenant_id)
    insert = text(f"INSERT INTO {TABLE} (tenant_id, id, value) VALUES (:t, :i, :v)")  # noqa: S608 (a constant)
    plain: list[float] = []
    with_event: list[float] = []
    for i in range(writes * 2):
        evented = i % 2 == 1
        started = time.perf_counter()
        async with db.session(ctx) as session:
            row_id = uuid.uuid4()
            await session.execute(insert, {"t": tenant_id, "i": row_id, "v": i})
            if evented:
                publish(session, "bench.changed", "bench", row_id, {"value": i})
        (with_event if evented else plain).append((time.perf_counter() - started) * 1000)
    return statistics.median(plain), statistics.median(with_event)


async def publish_many(db: Database, tenant_id: uuid.UUID, count: int, kind: str = "fault.bench") -> None:
    ctx = tenant_context(tenant_id)
    for start in range(0, count, 500):
        async with db.session(ctx) as session:
            for i in range(start, min(count, start + 500)):
                publish(session, kind, "bench", uuid.uuid4(), {"i": i})


def start_worker(url: str, receiver: str, args: argparse.Namespace, extra: Sequence[str] = ()) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.delivery_runner",
            "--database-url",
            url,
            "--receiver",
            receiver,
            "--concurrency",
            str(args.concurrency),
            "--batch",
            str(args.batch),
            "--timeout",
            "10",
            "--poll",
            "1.0",
            "--connections",
            str(args.connections),
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("ready"):
        raise RuntimeError(line + process.stdout.read())
    return process


def stop(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.communicate(timeout=60)


def peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    rate: float  # events per second
    peaks: list[float]  # MiB per worker
    worker_ms: float  # worker CPU per event, all workers together
    receiver_ms: float  # receiver CPU per event


async def throughput(db: Database, tenant_id: uuid.UUID, url: str, workers: int, args: argparse.Namespace) -> Run:
    ledger = Ledger()
    await publish_many(db, tenant_id, args.events)
    with receiver_process(ledger) as receiver:
        processes = [await asyncio.to_thread(start_worker, url, receiver, args) for _ in range(workers)]
        watched = [p.pid for p in processes] + [ledger.process_id or 0]
        before = [cpu_seconds(pid) for pid in watched]
        started = time.monotonic()
        deadline = started + 600
        while len(ledger.applied) < args.events and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        took = time.monotonic() - started
        spent = [cpu_seconds(pid) - b for pid, b in zip(watched, before, strict=True)]
        peaks = [peak_mib(p.pid) for p in processes]
        stop(processes)
    if len(ledger.applied) < args.events:
        raise RuntimeError(f"only {len(ledger.applied)} of {args.events} events arrived")
    per_event = 1000 / args.events
    return Run(args.events / took, peaks, sum(spent[:-1]) * per_event, spent[-1] * per_event)


async def latency(db: Database, tenant_id: uuid.UUID, ledger: Ledger, samples: int) -> list[float]:
    ctx = tenant_context(tenant_id)
    found: list[float] = []
    for i in range(samples):
        async with db.session(ctx) as session:
            event = publish(session, "fault.latency", "bench", uuid.uuid4(), {"i": i})
            await session.flush()
            event_id = str(event.id)
        committed = time.monotonic()
        while event_id not in ledger.applied:  # noqa: ASYNC110 (a thread copies the receiver's lines)
            await asyncio.sleep(0.001)
        found.append((ledger.applied[event_id] - committed) * 1000)
        await asyncio.sleep(0.02)  # an idle queue between samples
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10, help="kept-alive connections per worker")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    server = normalise_database_url(args.url)
    name = f"portal_bench_delivery_{os.getpid()}"
    with scratch_database(server, name, reuse=False, keep=args.keep) as owner_url:
        migrate.upgrade(settings_for(owner_url))
        asyncio.run(_table(owner_url))
        asyncio.run(_run(owner_url, args))


async def _table(owner_url: str) -> None:
    db = Database(settings_for(owner_url))
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                text(f"CREATE TABLE {TABLE} (tenant_id uuid, id uuid, value integer, PRIMARY KEY (tenant_id, id))")
            )
            await conn.execute(text(f"GRANT SELECT, INSERT ON {TABLE} TO portal_app, portal_system"))
    finally:
        await db.dispose()


async def _run(owner_url: str, args: argparse.Namespace) -> None:
    """Each figure is printed as soon as it is measured, beside its goal."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\nPostgreSQL delivery, {cores} cores (load average {os.getloadavg()[0]:.1f} at the start)", flush=True)
    print(f"{'':<48} {'figure':>14}   goal", flush=True)

    def row(label: str, figure: str, goal: str = "") -> None:
        print(f"{label:<48} {figure:>14}   {goal}", flush=True)

    async with serving_login(owner_url) as url:
        db = Database(settings_for(url))
        try:
            owner = Database(settings_for(owner_url))
            tenant_id = await make_tenant(owner)
            await owner.dispose()
            plain, evented = await write_cost(db, tenant_id, args.writes)
            row("write: insert only, median per transaction", f"{plain:.2f} ms")
            row("write: insert + outbox event", f"{evented:.2f} ms")
            row("write: ratio", f"{evented / plain:.2f}x", "<= 1.3x")
            one = await throughput(db, tenant_id, url, 1, args)
            row(f"throughput, 1 worker (batch {args.batch}, {args.concurrency} in flight)", f"{one.rate:.0f} ev/s")
            two = await throughput(db, tenant_id, url, 2, args)
            row("throughput, 2 worker processes", f"{two.rate:.0f} ev/s", ">= 1,000 ev/s")
            row("worker CPU per event (1 worker, 2 workers)", f"{one.worker_ms:.2f}, {two.worker_ms:.2f} ms")
            row("receiver CPU per event (1 worker, 2 workers)", f"{one.receiver_ms:.2f}, {two.receiver_ms:.2f} ms")
            row("peak RSS per worker (1-worker run)", ", ".join(f"{p:.0f}" for p in one.peaks) + " MiB")
            row("peak RSS per worker (2-worker run)", ", ".join(f"{p:.0f}" for p in two.peaks) + " MiB")
            ledger = Ledger()
            with receiver_process(ledger) as receiver:
                worker = await asyncio.to_thread(start_worker, url, receiver, args)
                await asyncio.sleep(1.0)
                found = await latency(db, tenant_id, ledger, args.samples)
                stop([worker])
            found.sort()
            p99 = found[min(len(found) - 1, int(len(found) * 0.99))]
            row("latency commit->receipt, idle queue: median", f"{statistics.median(found):.1f} ms", "<= 100 ms")
            row("latency commit->receipt, idle queue: p99", f"{p99:.1f} ms")
        finally:
            await db.dispose()
    print(f"(load average {os.getloadavg()[0]:.1f} at the end)", flush=True)


if __name__ == "__main__":
    main()
