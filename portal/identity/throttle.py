"""Login throttling shared by every process through the database: after N failures for one account
(or M from one address) inside the lockout window, logins are refused until the window passes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db.types import utcnow
from portal.errors import Throttled
from portal.identity.models import LoginThrottle


@dataclass(frozen=True, slots=True)
class ThrottleKey:
    key: str
    limit: int


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class LoginThrottler:
    def __init__(self, lockout_seconds: int, per_account: int, per_address: int) -> None:
        self.window = timedelta(seconds=lockout_seconds)
        self.per_account, self.per_address = per_account, per_address

    def keys(self, workspace: str, login: str, ip_address: str | None) -> list[ThrottleKey]:
        keys = [ThrottleKey(_hash(f"account:{workspace.lower()}:{login.lower()}"), self.per_account)]
        if ip_address:
            keys.append(ThrottleKey(_hash(f"address:{ip_address}"), self.per_address))
        return keys

    async def ensure_allowed(self, session: AsyncSession, keys: list[ThrottleKey]) -> None:
        now = utcnow()
        rows = (await session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_([k.key for k in keys])))).all()
        waits = [
            int((r.locked_until - now).total_seconds()) + 1 for r in rows if r.locked_until and r.locked_until > now
        ]
        if waits:
            raise Throttled(max(waits))

    async def record_failure(self, session: AsyncSession, keys: list[ThrottleKey]) -> None:
        now = utcnow()
        dialect = session.bind.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        for k in keys:
            stmt = insert(LoginThrottle).values(key=k.key, failures=1, window_started_at=now)
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[LoginThrottle.key],
                    set_={"failures": LoginThrottle.failures + 1},
                )
            )
            row = (await session.scalars(select(LoginThrottle).where(LoginThrottle.key == k.key))).one()
            await session.refresh(row)
            if row.window_started_at < now - self.window:
                row.failures, row.window_started_at, row.locked_until = 1, now, None
            if row.failures >= k.limit:
                row.locked_until = _later(row.locked_until, now + self.window)

    async def clear_account(self, session: AsyncSession, keys: list[ThrottleKey]) -> None:
        await session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys[0].key))


def _later(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None or candidate > current else current
