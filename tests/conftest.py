"""Fixtures: a migrated database per lane, an app per lane, and a world of two tenants per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.config import Settings
from portal.db import migrate
from portal.http.app import create_app
from tests.lanes import LANES, SKIPPED, postgres_url, private_database
from tests.world import World, build_world

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
BASE_URL = "http://testserver.local"


@pytest.fixture(scope="session", params=LANES)
def lane(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    marked = request.node.get_closest_marker("postgres_only") and "lane" in request.fixturenames
    if marked and request.getfixturevalue("lane") != "postgresql":
        pytest.skip("PostgreSQL only (row-level security and row locks)")


@pytest.fixture(scope="session")
def database_url(lane: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    container, drop = None, None
    if lane == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'portal.db'}"
    else:
        url, container = postgres_url()
        url, drop = private_database(url)
    migrate.upgrade(make_settings(url))
    yield url
    if drop is not None:
        drop()
    if container is not None:
        container.stop()  # type: ignore[attr-defined]


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "password_profile": "fast",
        "secret_key": TEST_SECRET,
        "base_url": BASE_URL,
        # every test signs in from one address: only the per-account limit is under test
        "login_address_failures_allowed": 1_000_000,
        "data_dir": Path("var/test"),
    }
    values.update(overrides)
    return Settings.from_env({}, database_url=database_url, **values)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient]:
    """A fresh client (and cookie jar) per test; the app and its database stay for the lane."""
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            lane = next(
                (name for name in LANES if f"[{name}" in nodeid or f"-{name}]" in nodeid or f"-{name}-" in nodeid),
                "no database",
            )
            counts.setdefault(lane, {}).setdefault(outcome, 0)
            counts[lane][outcome] += 1
    terminalreporter.section("tests per database lane")
    for lane in (*LANES, "no database"):
        if lane in counts:
            parts = ", ".join(f"{n} {o}" for o, n in sorted(counts[lane].items()))
            terminalreporter.write_line(f"{lane:>12}: {parts}")
    for reason in dict.fromkeys(SKIPPED):
        terminalreporter.write_line("!" * 100, red=True)
        terminalreporter.write_line(reason, red=True)
        terminalreporter.write_line("!" * 100, red=True)
