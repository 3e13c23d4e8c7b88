"""The two database lanes every database test runs on: SQLite (embedded default) and PostgreSQL.

PostgreSQL comes from PORTAL_TEST_DATABASE_URL, else from testcontainers when a Docker engine answers;
with neither, the lane is skipped with a loud reason, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from portal.config import normalise_database_url

LANES = ("sqlite", "postgresql")
SKIPPED: list[str] = []


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def postgres_url() -> tuple[str, object | None]:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url), None
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:
        reason = (
            "PostgreSQL lane NOT RUN: PORTAL_TEST_DATABASE_URL is unset and no Docker engine answers "
            f"for testcontainers ({type(exc).__name__}). Set PORTAL_TEST_DATABASE_URL to run it."
        )
        SKIPPED.append(reason)
        if in_ci():
            pytest.fail(reason + " Under CI=true the PostgreSQL lane is required.", pytrace=False)
        pytest.skip(reason)
    from testcontainers.postgres import PostgresContainer

    container = PostgresContainer("postgres:16-alpine", driver=None).start()
    return normalise_database_url(container.get_connection_url()), container


def reset_postgres(url: str) -> None:
    """Start from an empty schema, so the migrations (the only way a schema is made) run in full."""

    async def reset() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())
