"""SQLite's writers queue at the write gate (portal.db.write_gate) before they ask SQLite for its lock: in one
process by an asyncio lock, between processes by a lock on a file beside the database. Two engines on one
file stand for two worker processes (each opens the file lock through a description of its own)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from portal.db.engine import WRITES, Database
from tests.conftest import make_settings

# A bound on each wait below, not a pause: every step is signalled.
BOUND = 20


def _database(path: Path) -> Database:
    return Database(make_settings(f"sqlite+aiosqlite:///{path}"))


def test_writers_of_two_processes_queue_at_the_gate_and_all_get_through(tmp_path: Path) -> None:
    async def main() -> list[int]:
        one, other = _database(tmp_path / "gate.db"), _database(tmp_path / "gate.db")
        try:
            async with one.engine.begin() as conn:
                await conn.execute(text("CREATE TABLE written (n INTEGER, engine TEXT)"))
            holding, release = asyncio.Event(), asyncio.Event()

            async def holder() -> None:
                async with one.engine.begin() as conn:
                    await conn.execute(text("INSERT INTO written VALUES (0, 'one')"))
                    holding.set()
                    await release.wait()

            async def writer(db: Database, n: int) -> None:
                async with db.engine.begin() as conn:
                    await conn.execute(text("INSERT INTO written VALUES (:n, 'w')"), {"n": n})
                    await asyncio.sleep(0)  # the event loop turns while the writer holds the lock

            held = asyncio.create_task(holder())
            await asyncio.wait_for(holding.wait(), BOUND)
            writers = [asyncio.create_task(writer(one if n % 2 else other, n)) for n in range(1, 17)]
            await asyncio.sleep(0)
            assert not any(w.done() for w in writers)  # the holder's transaction is still open
            release.set()
            await asyncio.wait_for(asyncio.gather(held, *writers), BOUND)
            async with other.engine.connect() as conn:
                conn = await conn.execution_options(**{WRITES: False})
                return sorted((await conn.execute(text("SELECT n FROM written"))).scalars())
        finally:
            await one.dispose()
            await other.dispose()

    assert asyncio.run(main()) == list(range(17))


def test_the_gate_opens_when_a_transaction_fails_or_rolls_back(tmp_path: Path) -> None:
    class Refused(Exception):
        pass

    async def main() -> int:
        db = _database(tmp_path / "gate.db")
        try:
            async with db.engine.begin() as conn:
                await conn.execute(text("CREATE TABLE written (n INTEGER NOT NULL)"))
            with pytest.raises(Refused):
                async with db.engine.begin() as conn:
                    await conn.execute(text("INSERT INTO written VALUES (1)"))
                    raise Refused
            with pytest.raises(Exception, match="NOT NULL"):
                async with db.engine.begin() as conn:
                    await conn.execute(text("INSERT INTO written VALUES (NULL)"))
            async with db.engine.connect() as conn:
                await conn.execute(text("INSERT INTO written VALUES (2)"))
                await conn.rollback()
            async with db.engine.begin() as conn:
                await conn.execute(text("INSERT INTO written VALUES (3)"))
            async with db.engine.begin() as conn:
                return (await conn.execute(text("SELECT sum(n) FROM written"))).scalar_one()
        finally:
            await db.dispose()

    assert asyncio.run(asyncio.wait_for(main(), BOUND)) == 3
