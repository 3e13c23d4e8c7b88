"""Direct database access for tests that check the layers below HTTP (tenancy hooks, RLS, outbox)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from portal.config import Settings
from portal.db.engine import Database

T = TypeVar("T")


def run_with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on a Database of its own, in its own event loop (the app's pool belongs to the client's)."""

    async def main() -> T:
        db = Database(settings)
        try:
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())
