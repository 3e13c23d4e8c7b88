"""A worker process for the fault test and the benchmark: the real delivery engine and worker that
`portal worker` runs, with one subscriber that POSTs each event to a receiver on a loopback port.

    python -m tests.delivery_runner --database-url URL --receiver http://127.0.0.1:PORT/events
        [--concurrency 2] [--batch 10] [--connections 10] [--timeout 0.3] [--max-attempts 40] [--retry-base 0.05]

Prints "ready <worker id>" once running; SIGTERM stops it gracefully (exit 0)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import httpx

from portal.components import import_models, load_components
from portal.config import Settings
from portal.i18n import Catalogs
from portal.outbox import Event, PermanentFailure, Subscriber
from portal.services import Services
from sync.delivery.engine import DeliveryConfig
from sync.delivery.transport import transport
from sync.delivery.worker import delivery_worker, run_event_loop, run_until_signalled


def receiver_subscriber(url: str, client: httpx.AsyncClient, connections: int) -> Subscriber:
    target = httpx.URL(url)  # parsed once, not per request
    headers = {"Content-Type": "application/json"}
    # as many requests at once as the pool has connections: requests queued inside httpcore's pool cost CPU
    # each time a connection frees (it scans every queued request and checks every connection)
    gate = asyncio.Semaphore(connections)

    async def deliver(_services: Services, event: Event) -> None:
        body = {
            "id": str(event.id),
            "tenant_id": str(event.tenant_id),
            "aggregate_id": str(event.aggregate_id),
            "payload": event.payload,
        }
        content = json.dumps(body, separators=(",", ":")).encode()  # encoded once, sent as bytes
        async with gate:
            response = await client.post(target, content=content, headers=headers)
        if 400 <= response.status_code < 500:
            raise PermanentFailure(f"HTTP {response.status_code} from the receiver")
        response.raise_for_status()

    return Subscriber("receiver", lambda kind: kind.startswith("fault."), deliver)


async def main(args: argparse.Namespace) -> None:
    settings = Settings.from_env({}, database_url=args.database_url, environment="test", password_profile="fast")
    components = load_components()
    import_models(components)
    services = Services.build(settings, Catalogs([], settings.languages, settings.default_language), components)
    config = DeliveryConfig(
        batch_size=args.batch,
        timeout_seconds=args.timeout,
        lease_margin_seconds=args.lease_margin,
        max_attempts=args.max_attempts,
        retry_base_seconds=args.retry_base,
        retry_cap_seconds=1.0,
    )
    # httpcore's pool costs CPU per request in proportion to its connections: ten keep a batch's attempts
    # in flight at about half the CPU per request of one connection per attempt in flight
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
    # the engine bounds each attempt with its own timeout
    async with httpx.AsyncClient(timeout=60.0, transport=transport(limits)) as client:
        worker = delivery_worker(
            services,
            concurrency=args.concurrency,
            config=config,
            subscribers=[receiver_subscriber(args.receiver, client, args.connections)],
            poll_seconds=args.poll,
            worker_id=f"runner-{os.getpid()}",
            schedule=False,
        )
        print(f"ready runner-{os.getpid()}", flush=True)
        try:
            await run_until_signalled(worker)
        finally:
            await services.db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--receiver", required=True)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=0.3)
    parser.add_argument("--lease-margin", type=float, default=1.0)
    parser.add_argument("--max-attempts", type=int, default=40)
    parser.add_argument("--retry-base", type=float, default=0.05)
    parser.add_argument("--poll", type=float, default=0.1)
    parser.add_argument("--profile", help="write a cProfile of the run to this file when it stops")
    arguments = parser.parse_args()
    if arguments.profile:
        import cProfile

        profiler = cProfile.Profile()
        try:
            profiler.runcall(run_event_loop, main(arguments))
        finally:
            profiler.dump_stats(arguments.profile)
    else:
        run_event_loop(main(arguments))
