"""Interconnect quotas, moved only by conditional UPDATE: under any concurrency the used counter can
never pass the maximum (PostgreSQL re-checks the WHERE clause after waiting for the row lock)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.models import InterconnectQuota
from portal.errors import QuotaExceeded, ValidationFailed
from portal.i18n import N_


@dataclass(frozen=True, slots=True)
class Usage:
    max_enterprises: int
    enterprises_used: int
    max_external_users: int
    external_users_used: int


async def usage(session: AsyncSession) -> Usage:
    q = (await session.scalars(select(InterconnectQuota))).one()
    return Usage(q.max_enterprises, q.enterprises_used, q.max_external_users, q.external_users_used)


async def reserve(session: AsyncSession, *, enterprises: int = 0, users: int = 0) -> None:
    """Take slots in the actor's tenant, or refuse with a clear quota error and change nothing."""
    q = InterconnectQuota
    for n, used, limit, message in (
        (
            enterprises,
            q.enterprises_used,
            q.max_enterprises,
            N_("The quota of %(max)s partner enterprises is used up; ask the platform to raise it"),
        ),
        (
            users,
            q.external_users_used,
            q.max_external_users,
            N_("The quota of %(max)s external users is used up; ask the platform to raise it"),
        ),
    ):
        if not n:
            continue
        done = await session.execute(
            update(q).where(used + n <= limit).values({used: used + n}).execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            current = await usage(session)
            maximum = current.max_enterprises if used is q.enterprises_used else current.max_external_users
            raise QuotaExceeded(message, max=maximum)


async def release(session: AsyncSession, *, enterprises: int = 0, users: int = 0) -> None:
    q = InterconnectQuota
    await session.execute(
        update(q)
        .values(
            enterprises_used=q.enterprises_used - enterprises,
            external_users_used=q.external_users_used - users,
        )
        .execution_options(synchronize_session=False)
    )


async def set_limits(session: AsyncSession, max_enterprises: int, max_external_users: int) -> Usage:
    current = await usage(session)
    if max_enterprises < current.enterprises_used or max_external_users < current.external_users_used:
        raise ValidationFailed.single("max_enterprises", N_("cannot be lower than what is already used"))
    quota = (await session.scalars(select(InterconnectQuota))).one()
    quota.max_enterprises, quota.max_external_users = max_enterprises, max_external_users
    await session.flush()
    return await usage(session)
