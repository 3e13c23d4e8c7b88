"""Direct database access for tests that check the layers below HTTP (tenancy hooks, RLS, outbox)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from portal.config import Settings
from portal.db.engine import Database

T = TypeVar("T")

# One Database per URL, on an event loop of its own kept for the run (the app's pool belongs to the test
# client's loop): a check that reads 60 tables costs a fifth of what it does on a new connection, whose
# statements must all be prepared again. Its connections are idle between calls, so putting a lane's world
# back is not held up by them.
_loop: asyncio.Runner | None = None
_databases: dict[str, Database] = {}


def run_with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the test side's Database for the settings' URL."""
    global _loop
    if _loop is None:
        _loop = asyncio.Runner()
    db = _databases.get(settings.database_url)
    if db is None:
        db = _databases[settings.database_url] = Database(settings)
    return _loop.run(work(db))


def close_databases() -> None:
    """Dispose of the test side's Databases, so that a lane's private database can be dropped."""
    while _databases:
        assert _loop is not None
        _loop.run(_databases.popitem()[1].dispose())
