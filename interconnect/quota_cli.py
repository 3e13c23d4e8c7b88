"""`portal tenant-quota SLUG [--enterprises N] [--users M]`: the platform operator sets a
manufacturer's interconnect quota and sees its usage."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from sqlalchemy import select

from interconnect import quotas
from portal.db.context import PUBLIC, tenant_context
from portal.errors import DomainError
from portal.identity.models import Tenant


def register(sub: Any) -> None:
    parser = sub.add_parser("tenant-quota", help="show or set a tenant's interconnect quota")
    parser.add_argument("slug")
    parser.add_argument("--enterprises", type=int, help="maximum downstream enterprises")
    parser.add_argument("--users", type=int, help="maximum external users")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> None:
    from portal.cli import load_settings, with_services
    from portal.db import migrate

    settings = load_settings()
    migrate.upgrade(settings)

    async def work(services: Any) -> quotas.Usage:
        async with services.db.session(PUBLIC) as session:
            tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == args.slug))
        if tenant_id is None:
            sys.exit(f"error: no tenant {args.slug!r}")
        async with services.db.session(tenant_context(tenant_id, channel="cli")) as session:
            current = await quotas.usage(session)
            if args.enterprises is None and args.users is None:
                return current
            return await quotas.set_limits(
                session,
                args.enterprises if args.enterprises is not None else current.max_enterprises,
                args.users if args.users is not None else current.max_external_users,
            )

    try:
        usage = asyncio.run(with_services(settings, work))
    except DomainError as exc:
        sys.exit("error: " + "; ".join(f"{e.field} {e.text}" for e in getattr(exc, "errors", [])) or exc.text)
    print(
        f"enterprises {usage.enterprises_used}/{usage.max_enterprises}, "
        f"external users {usage.external_users_used}/{usage.max_external_users}"
    )
