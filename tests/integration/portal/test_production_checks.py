"""Production refuses a PostgreSQL login that row-level security cannot hold, and serves through one that
is only a member of the application's two roles."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from portal.db.server import autocommit
from portal.errors import ConfigurationError
from portal.http.app import create_app
from tests.conftest import make_settings

STRONG_SECRET = "pX7-vQ2_mZ9kR4tB8nL1wC6yH3jD5fG0sA"


def production(url: str) -> dict[str, object]:
    return {
        "database_url": url,
        "environment": "production",
        "password_profile": "strong",
        "secret_key": STRONG_SECRET,
        "base_url": "https://portal.example",
    }


def refusal_at_start_up(app: Litestar) -> str:
    """The message the application refused to start with (the test client wraps it in a group)."""
    try:
        with TestClient(app):
            pass
    except BaseException as raised:
        found: list[BaseException] = [raised]
        while found:
            error = found.pop()
            if isinstance(error, ConfigurationError):
                return str(error)
            found.extend(getattr(error, "exceptions", ()))
        raise
    raise AssertionError("the application started")


@pytest.fixture
def serving_login(database_url: str) -> Iterator[str]:
    """A login role set up as docs/deployment.md says: a member of the two roles, owning nothing."""
    name = f"portal_web_{uuid.uuid4().hex[:8]}"
    asyncio.run(autocommit(database_url, f"CREATE ROLE {name} LOGIN NOSUPERUSER NOBYPASSRLS"))
    asyncio.run(autocommit(database_url, f"GRANT portal_app, portal_system TO {name}"))
    yield make_url(database_url).set(username=name, password=None).render_as_string(hide_password=False)
    asyncio.run(autocommit(database_url, f"DROP ROLE IF EXISTS {name}"))


@pytest.mark.postgres_only
def test_production_refuses_to_serve_through_a_superuser_that_owns_the_tables(database_url: str) -> None:
    app = create_app(make_settings(**production(database_url)))  # type: ignore[arg-type]
    refused = refusal_at_start_up(app)
    assert "superuser" in refused and "owns" in refused and "docs/deployment.md" in refused


@pytest.mark.postgres_only
def test_production_refuses_a_login_with_bypassrls(database_url: str, serving_login: str) -> None:
    asyncio.run(autocommit(database_url, f"ALTER ROLE {make_url(serving_login).username} BYPASSRLS"))
    app = create_app(make_settings(**production(serving_login)))  # type: ignore[arg-type]
    refused = refusal_at_start_up(app)
    assert "BYPASSRLS" in refused and "superuser" not in refused


@pytest.mark.postgres_only
def test_production_serves_through_a_member_of_the_application_roles(serving_login: str) -> None:
    app = create_app(make_settings(**production(serving_login)))  # type: ignore[arg-type]
    with TestClient(app, base_url="https://portal.example") as client:
        assert client.get("/health").status_code == 200
