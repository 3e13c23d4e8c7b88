"""Delivery under faults, on PostgreSQL: a receiver that fails 30% of requests at random and sometimes
answers too late, two worker OS processes running the real engine, one of them killed with SIGKILL
mid-run. Every event arrives, none is applied twice, each aggregate's order holds, nothing is left.

FAULT_EVENTS events: 1,000 by default, so the suite stays quick on a small shared machine; the issue's
5,000 run with `PORTAL_FAULT_EVENTS=5000` (docs/deployment.md gives the figures of such a run)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.config import Settings
from portal.db.context import SYSTEM, tenant_context
from portal.db.engine import Database
from portal.outbox import OutboxEvent, publish
from sync.delivery.models import Delivery, DeliveryAttempt
from tests.receiver import Ledger, running_receiver
from tests.world import World

FAULT_EVENTS = int(os.environ.get("PORTAL_FAULT_EVENTS", "1000"))
AGGREGATES = 200
KIND = "fault.happened"  # what tests/delivery_runner.py's subscriber takes
ROOT = Path(__file__).resolve().parents[3]


async def publish_fault_events(settings: Settings, tenants: list[str]) -> set[str]:
    """FAULT_EVENTS events over AGGREGATES aggregates split between the tenants, each aggregate's
    events numbered 1, 2, 3… in the order written; in transactions of 250."""
    db = Database(settings)
    ids: set[str] = set()
    aggregates = [(tenants[i % len(tenants)], uuid.uuid4()) for i in range(AGGREGATES)]
    counters = [0] * AGGREGATES
    try:
        for start in range(0, FAULT_EVENTS, 250):
            by_tenant: dict[str, list[tuple[uuid.UUID, int]]] = {}
            for i in range(start, min(FAULT_EVENTS, start + 250)):
                k = i % AGGREGATES
                counters[k] += 1
                by_tenant.setdefault(aggregates[k][0], []).append((aggregates[k][1], counters[k]))
            for tenant, rows in by_tenant.items():
                async with db.session(tenant_context(uuid.UUID(tenant))) as session:
                    events = [
                        publish(session, "fault.happened", "fault.aggregate", aggregate, {"n": n})
                        for aggregate, n in rows
                    ]
                    await session.flush()
                    ids |= {str(event.id) for event in events}
    finally:
        await db.dispose()
    return ids


async def holds_leases(settings: Settings, pid: int) -> bool:
    """Is the worker process `pid` running an attempt now (a pending delivery under its unexpired lease)?"""
    db = Database(settings)
    try:
        async with db.session(SYSTEM) as session:
            held = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.status == "pending",
                    Delivery.lease_owner == f"runner-{pid}",
                    Delivery.lease_expires_at > func.now(),
                )
            )
        return bool(held)
    finally:
        await db.dispose()


async def queue_state(settings: Settings, ids: set[str]) -> dict[str, int]:
    """Where this run's events stand (`ids`: other tests may have left deliveries of their own)."""
    mine = [uuid.UUID(i) for i in ids]
    db = Database(settings)
    try:
        async with db.session(SYSTEM) as session:
            unfanned = await session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.fanned_out.is_(False))
            )
            statuses = dict(
                (
                    await session.execute(
                        select(Delivery.status, func.count())
                        .where(Delivery.subscriber == "receiver", Delivery.event_id.in_(mine))
                        .group_by(Delivery.status)
                    )
                ).all()
            )
            outcomes = dict(
                (
                    await session.execute(
                        select(DeliveryAttempt.outcome, func.count()).group_by(DeliveryAttempt.outcome)
                    )
                ).all()
            )
            errors = (
                await session.execute(
                    select(DeliveryAttempt.error, func.count())
                    .where(DeliveryAttempt.error.is_not(None))
                    .group_by(DeliveryAttempt.error)
                    .order_by(func.count().desc())
                    .limit(4)
                )
            ).all()
        return {
            "unfanned": unfanned or 0,
            **statuses,
            **{f"attempts_{k}": v for k, v in outcomes.items()},
            **{f"error {e[:80]!r}": n for e, n in errors},
        }
    finally:
        await db.dispose()


def start_worker(url: str, receiver: str) -> subprocess.Popen[str]:
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
            "4",
            "--batch",
            "10",
            "--timeout",
            "1.0",
            "--lease-margin",
            "2.0",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("ready"), line + process.stdout.read()
    return process


@pytest.mark.postgres_only
def test_every_event_arrives_once_in_order_through_faults_and_a_killed_worker(settings: Settings, world: World) -> None:
    ledger = Ledger(failure_rate=0.30, slow_rate=0.02, slow_seconds=1.2)
    ids = asyncio.run(publish_fault_events(settings, [world.a.tenant_id, world.b.tenant_id]))
    assert len(ids) == FAULT_EVENTS
    with running_receiver(ledger) as receiver:
        started = time.monotonic()
        first = start_worker(settings.database_url, receiver)
        second = start_worker(settings.database_url, receiver)
        try:
            while len(ledger.applied) < FAULT_EVENTS // 3 and time.monotonic() - started < 60:
                time.sleep(0.05)
            # mid-run, at a moment the worker holds leases (between two batches it holds none)
            while not asyncio.run(holds_leases(settings, first.pid)) and time.monotonic() - started < 90:
                time.sleep(0.01)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            deadline = time.monotonic() + 30 + FAULT_EVENTS / 10
            while time.monotonic() < deadline:
                state = asyncio.run(queue_state(settings, ids))
                if state["unfanned"] == 0 and not state.get("pending") and len(ledger.applied) >= FAULT_EVENTS:
                    break
                time.sleep(0.5)
            took = time.monotonic() - started
            second.send_signal(signal.SIGTERM)
            out, _ = second.communicate(timeout=30)
            assert second.returncode == 0, out
        finally:
            for process in (first, second):
                if process.poll() is None:
                    process.kill()
    state = asyncio.run(queue_state(settings, ids))
    print(
        f"\n{FAULT_EVENTS} events in {took:.1f} s; receiver: {ledger.failed} failed, {ledger.slow} slow, "
        f"{ledger.duplicates} duplicates; queue: {state}"
    )
    assert set(ledger.applied) == ids  # every event arrived, and only these
    assert ledger.out_of_order == []  # each aggregate's events in the order written
    assert state["unfanned"] == 0 and state.get("delivered") == FAULT_EVENTS
    assert not state.get("pending") and not state.get("dead")
    assert ledger.failed > FAULT_EVENTS * 0.2  # the faults did happen
    assert state.get("attempts_lost", 0) >= 1  # the killed worker's leases expired and were taken over
