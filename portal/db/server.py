"""Statements for the database server rather than a transaction (CREATE / DROP DATABASE, VACUUM): the test
lanes and the benchmarks make their scratch databases with these."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine


async def autocommit(url: str, statement: str) -> None:
    """Run `statement` on the database at `url` outside any transaction."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def on_same_server(url: str, database: str) -> str:
    """The address of another database on the server `url` points at."""
    return make_url(url).set(database=database).render_as_string(hide_password=False)
