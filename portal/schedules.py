"""Scheduled jobs: periodic work a component registers (`Component.jobs`), run by the workers in sync/
exactly once per due time across every worker process, each run recorded with its outcome."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from portal.db.context import PUBLIC
from portal.identity.models import Tenant

if TYPE_CHECKING:
    from portal.services import Services


@dataclass(frozen=True)
class ScheduledJob:
    """`run` does one pass over every tenant (opening the transactions it needs) and returns how many
    items it handled; raising marks the run failed, and it is retried. A job is due every `every`;
    with `at`, once a day at that UTC time instead."""

    name: str
    run: Callable[[Services], Awaitable[int]]
    every: timedelta = timedelta(days=1)
    at: time | None = None


async def for_each_tenant(services: Services, work: Callable[[uuid.UUID], Awaitable[int]]) -> int:
    """A job's one pass over every tenant, in the order of their slugs: what `work` handled in each, summed.
    `work` opens the transactions it needs in its tenant's context."""
    async with services.db.session(PUBLIC) as session:
        tenants = list(await session.scalars(select(Tenant.id).order_by(Tenant.slug)))
    return sum([await work(tenant_id) for tenant_id in tenants])
