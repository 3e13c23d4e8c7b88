"""`portal worker [--concurrency N] [--batch N]`: the process that delivers outbox events to the
subscribers the components register. Run as many as the work needs, on one machine or several: they
share the work through the database. SIGTERM (or Ctrl-C) lets the batches in progress finish."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("worker", help="deliver outbox events to subscribers (run one or more)")
    parser.add_argument("--concurrency", type=int, default=2, help="batches in flight at once (default 2)")
    parser.add_argument("--batch", type=int, default=10, help="deliveries claimed per batch (default 10)")
    parser.set_defaults(func=run_worker)


def run_worker(args: argparse.Namespace) -> None:
    from portal.cli import load_settings, with_services
    from sync.delivery.engine import DeliveryConfig
    from sync.delivery.worker import delivery_worker, run_until_signalled, subscribers_of

    if args.concurrency < 1 or args.batch < 1:
        sys.exit("error: --concurrency and --batch must be at least 1")
    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    async def work(services: Any) -> None:
        worker = delivery_worker(services, concurrency=args.concurrency, config=DeliveryConfig(batch_size=args.batch))
        names = ", ".join(s.name for s in subscribers_of(services)) or "none registered"
        print(f"worker delivering to: {names}; {args.concurrency} batches of {args.batch} at a time", flush=True)
        await run_until_signalled(worker)
        print("worker stopped", flush=True)

    asyncio.run(with_services(settings, work))
