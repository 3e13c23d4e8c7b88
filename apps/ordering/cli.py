"""`portal ordering auto-receive [--workspace S] [--days N]`: orders shipped longer ago than each
tenant's setting (or N days) are received on the dealer's behalf, and completed when already paid. Run
it daily (cron, a systemd timer); the console's order desk can also run it for its own tenant."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from sqlalchemy import select

from apps.ordering import workflow
from apps.ordering.system import upstream_orders
from portal.db.context import PUBLIC, tenant_context
from portal.identity.models import Tenant


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
        async with services.db.session(PUBLIC) as session:
            query = select(Tenant.id, Tenant.slug).order_by(Tenant.slug)
            if args.workspace:
                query = query.where(Tenant.slug == args.workspace)
            tenants = list(await session.execute(query))
        done = []
        for tenant_id, slug in tenants:
            async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
                orders = await upstream_orders(services, session, tenant_id)
                received = await workflow.auto_receive(orders, args.days)
                done.append((slug, [o.number for o in received]))
        return done

    for slug, numbers in asyncio.run(with_services(settings, work)):
        print(f"{slug}: {len(numbers)} received" + (f" ({', '.join(numbers)})" if numbers else ""))
