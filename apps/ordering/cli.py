"""`portal ordering auto-receive [--workspace S] [--days N]`: orders shipped longer ago than each
tenant's setting (or N days) are received on the dealer's behalf, and completed when already paid. Run
it by hand when needed: the workers run the same pass daily (the scheduled job `ordering.auto_receive`),
and the console's order desk can also run it for its own tenant."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from apps.ordering.jobs import receive_everywhere


def register(sub: Any) -> None:
    parser = sub.add_parser("ordering", help="the ordering app's scheduled work")
    actions = parser.add_subparsers(dest="ordering_action", required=True)
    receive = actions.add_parser("auto-receive", help="receive orders shipped more than the set days ago")
    receive.add_argument("--workspace", help="one tenant's slug (default: every tenant)")
    receive.add_argument("--days", type=int, help="instead of each tenant's own setting")
    receive.set_defaults(func=run_auto_receive)


def run_auto_receive(args: argparse.Namespace) -> None:
    from portal.cli import load_settings, with_services
    from portal.db import migrate

    settings = load_settings()
    migrate.upgrade(settings)

    async def work(services: Any) -> list[tuple[str, list[str]]]:
        return await receive_everywhere(services, workspace=args.workspace, days=args.days, channel="cli")

    for slug, numbers in asyncio.run(with_services(settings, work)):
        print(f"{slug}: {len(numbers)} received" + (f" ({', '.join(numbers)})" if numbers else ""))
