"""A pooled PostgreSQL connection is checked as the pool hands it out, in one round trip: one the server
has dropped (a restart, an idle timeout) is replaced before a request gets it, never handed out."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text

from portal.db.engine import create_engine
from portal.db.server import autocommit
from tests.conftest import make_settings


@pytest.mark.postgres_only
def test_a_connection_the_server_dropped_is_replaced_before_it_is_used(database_url: str) -> None:
    async def scenario() -> tuple[int, int, list[str]]:
        engine = create_engine(make_settings(database_url))
        sent: list[str] = []
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
        try:
            async with engine.connect() as conn:
                first = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await autocommit(database_url, f"SELECT pg_terminate_backend({first})")
            sent.clear()
            async with engine.connect() as conn:
                second = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            return first, second, sent
        finally:
            await engine.dispose()

    first, second, sent = asyncio.run(scenario())
    assert second != first
    assert sent == ["SELECT pg_backend_pid()"]  # the check itself is no statement of the request's
