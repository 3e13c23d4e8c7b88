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
from sqlalchemy.engine import make_url

from portal.config import normalise_database_url
from portal.db.server import autocommit, on_same_server

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
    name = f"{make_url(url).database}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(autocommit(url, f'CREATE DATABASE "{name}"'))
    except Exception:
        asyncio.run(autocommit(url, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        return url, lambda: None
    return on_same_server(url, name), lambda: asyncio.run(
        autocommit(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    )
