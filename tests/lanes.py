"""The two database lanes every database test runs on: SQLite (embedded default) and PostgreSQL.

PostgreSQL comes from PORTAL_TEST_DATABASE_URL, else from testcontainers when a Docker engine answers;
with neither, the lane is skipped with a loud reason, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
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


def private_database(url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database for this test session, so runs in parallel never share one, and the migrations
    (the only way a schema is made) run in full. Falls back to emptying the given database when the
    role may not create databases."""
    base = make_url(url)
    name = f"{base.database}_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def admin(statement: str) -> None:
        engine = create_async_engine(base, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except Exception:
        asyncio.run(admin("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        return url, lambda: None
    private = base.set(database=name).render_as_string(hide_password=False)
    return private, lambda: asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
