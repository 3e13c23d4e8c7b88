"""A lane's database kept as it was once the world was built, and put back before every test that uses it.

PostgreSQL: every table is copied into a schema of its own (`world_snapshot`) next to `public`; putting it
back empties the tables and copies the rows back in one transaction with foreign keys and triggers off
(`session_replication_role = replica`), and sets the sequences back. SQLite: the file is copied with
SQLite's backup API, which (unlike a file copy) takes the WAL into account. Either way the app's pool
must hold no connection in a transaction, which is so between tests (each test client's shutdown disposes
of the pool).
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Protocol

import asyncpg
from sqlalchemy.engine import make_url

SCHEMA = "world_snapshot"
LEFT_ALONE = ("alembic_version",)  # written by migrations only


class Snapshot(Protocol):
    def restore(self) -> None: ...

    def close(self) -> None: ...


def take_snapshot(database_url: str) -> Snapshot:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        return SqliteSnapshot(url.database)
    return PostgresSnapshot(url.set(drivername="postgresql").render_as_string(hide_password=False))


class SqliteSnapshot:
    """The copy is an in-memory database: restoring it is one page copy of a few hundred kilobytes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.copy = sqlite3.connect(":memory:")
        live = sqlite3.connect(path)
        try:
            live.backup(self.copy)
        finally:
            live.close()

    def restore(self) -> None:
        live = sqlite3.connect(self.path)
        try:
            self.copy.backup(live)
        finally:
            live.close()

    def close(self) -> None:
        self.copy.close()


class PostgresSnapshot:
    """One connection kept open for the lane, on an event loop of its own, so a restore is one round trip."""

    def __init__(self, dsn: str) -> None:
        self.runner = asyncio.Runner()
        self.conn: asyncpg.Connection = self.runner.run(asyncpg.connect(dsn))
        self.script = self.runner.run(self._take())

    async def _take(self) -> str:
        tables = [
            r["tablename"]
            for r in await self.conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            if r["tablename"] not in LEFT_ALONE
        ]
        sequences = await self.conn.fetch(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
        )
        # table and sequence names come from the catalog, not from input
        copies = "".join(f'CREATE TABLE {SCHEMA}."{t}" AS TABLE public."{t}";' for t in tables)
        await self.conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA};{copies}")
        empty = "".join(f'DELETE FROM public."{t}";' for t in tables)  # noqa: S608
        refill = "".join(f'INSERT INTO public."{t}" TABLE {SCHEMA}."{t}";' for t in tables)
        rewind = "".join(
            f"SELECT setval('public.\"{s['sequencename']}\"', {s['last_value'] or 1}, {s['last_value'] is not None});"
            for s in sequences
        )
        return f"BEGIN; SET LOCAL session_replication_role = replica; {empty}{refill}{rewind} COMMIT;"

    def restore(self) -> None:
        self.runner.run(self.conn.execute(self.script))

    def close(self) -> None:
        self.runner.run(self.conn.close())
        self.runner.close()
