"""A worker process for the sync fault test: the real delivery worker `portal worker` runs, with every
subscriber the components register, on the settings a test deployment uses (its database, its address, the
test secret, loopback peers allowed), and retries due soon (so a run under faults ends in seconds).

    python -m tests.sync_worker_runner --database-url URL --base-url http://127.0.0.1:PORT
        [--concurrency 2] [--batch 10] [--timeout 8] [--lease-margin 2] [--max-attempts 500] [--retry-base 0.2]

Prints "ready <worker id>" once running (its leases carry that id); SIGTERM stops it gracefully (exit 0)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from portal.cli import with_services
from sync.delivery.engine import DeliveryConfig
from sync.delivery.worker import delivery_worker, run_event_loop, run_until_signalled
from tests.conftest import make_settings


def main(args: argparse.Namespace) -> None:
    settings = make_settings(args.database_url, base_url=args.base_url, extra={"WEBHOOK_ALLOW_HOSTS": "127.0.0.1"})
    config = DeliveryConfig(
        batch_size=args.batch,
        timeout_seconds=args.timeout,
        lease_margin_seconds=args.lease_margin,
        max_attempts=args.max_attempts,
        retry_base_seconds=args.retry_base,
        retry_cap_seconds=1.0,
    )
    worker_id = f"sync-runner-{os.getpid()}"

    async def work(services: Any) -> None:
        worker = delivery_worker(
            services, concurrency=args.concurrency, config=config, poll_seconds=0.2, worker_id=worker_id, schedule=False
        )
        print(f"ready {worker_id}", flush=True)
        await run_until_signalled(worker)

    run_event_loop(with_services(settings, work))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=8.0)
    parser.add_argument("--lease-margin", type=float, default=2.0)
    parser.add_argument("--max-attempts", type=int, default=500)
    parser.add_argument("--retry-base", type=float, default=0.2)
    main(parser.parse_args())
