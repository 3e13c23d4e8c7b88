"""Fixtures: a migrated database per lane, an app per lane, and a world of two tenants built once per lane
and put back (database and all) before every test that asks for it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.config import Settings
from portal.db import migrate
from portal.http.app import create_app
from tests import wechat
from tests.db import close_databases
from tests.lanes import LANES, SKIPPED, postgres_url, private_database
from tests.snapshot import Snapshot, take_snapshot
from tests.world import World, build_world

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
BASE_URL = "http://testserver.local"


@pytest.fixture(scope="session", params=LANES)
def lane(request: pytest.FixtureRequest) -> str:
    return request.param


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A PostgreSQL-only test (row-level security, row locks) is not made for the other lanes at all,
    rather than skipped there: under CI=true nothing is skipped."""
    elsewhere = [
        item
        for item in items
        if item.get_closest_marker("postgres_only")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("lane", "postgresql") != "postgresql"
    ]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if item not in elsewhere]


def work_unit(nodeid: str) -> str:
    """What one pytest-xdist process takes whole: a lane's tests (so each process builds one lane's world,
    once), the browser tests (one server, one browser), or a single test of no lane."""
    if nodeid.startswith("tests/e2e/"):
        return "browser"
    name = nodeid.partition(".py::")[2]  # the parameters' ids follow its first "[" (an id may hold "[" or "::")
    ids = name[name.index("[") + 1 : -1].split("-") if "[" in name else []
    return next((lane for lane in LANES if lane in ids), nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under `pytest -n N`, tests are handed out by work_unit. (pytest-xdist's own loadgroup reads groups
    off node ids it rewrites, which pytest 9.2 no longer lets it do: the lanes were silently split.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByWorkUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ByWorkUnit(config, log)


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
    close_databases()
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
        # the world's credentials are made once per lane and must outlive it
        "access_token_seconds": 4 * 3600,
        # the world's webhook endpoint (tests.world.WEBHOOK_URL): a loopback port nobody listens on; WeChat:
        # the fake's address (tests.wechat), served once a test asks for it
        "extra": {
            "WEBHOOK_ALLOW_HOSTS": "127.0.0.1:9",
            "WECHAT_API_BASE": wechat.base_url(),
            "WECHAT_OPEN_BASE": wechat.base_url(),
        },
    }
    values.update(overrides)
    return Settings.from_env({}, database_url=database_url, **values)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture(scope="session")
def built_world(app: Litestar, database_url: str) -> Iterator[tuple[World, Snapshot]]:
    """The world, built once per lane through the API, and the database as it left it."""
    with TestClient(app, base_url=BASE_URL) as builder:
        world = build_world(builder)
    snapshot = take_snapshot(database_url)
    yield world, snapshot
    snapshot.close()


@pytest.fixture
def fresh_world(app: Litestar, built_world: tuple[World, Snapshot]) -> World:
    """The database put back to the built world, and the app made to forget what it remembered of it."""
    world, snapshot = built_world
    snapshot.restore()
    app.state.services.forget_database_state()
    return copy.deepcopy(world)


@pytest.fixture
def client(app: Litestar, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """A fresh client (and cookie jar) per test; the app and its database stay for the lane. A test
    with the world gets its database back first, while the app holds no connection."""
    if "world" in request.fixturenames:
        request.getfixturevalue("fresh_world")
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def world(client: TestClient, fresh_world: World) -> World:
    return fresh_world


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "skipped", "error", "deselected"):
        for report in terminalreporter.stats.get(outcome, []):
            if outcome == "deselected" and not report.get_closest_marker("postgres_only"):
                continue  # left out with -k or -m, not for want of PostgreSQL
            nodeid = getattr(report, "nodeid", "")
            lane = next(
                (name for name in LANES if f"[{name}" in nodeid or f"-{name}]" in nodeid or f"-{name}-" in nodeid),
                "no database",
            )
            shown = "not made (PostgreSQL only)" if outcome == "deselected" else outcome
            counts.setdefault(lane, {}).setdefault(shown, 0)
            counts[lane][shown] += 1
    terminalreporter.section("tests per database lane")
    for lane in (*LANES, "no database"):
        if lane in counts:
            parts = ", ".join(f"{n} {o}" for o, n in sorted(counts[lane].items()))
            terminalreporter.write_line(f"{lane:>12}: {parts}")
    for reason in dict.fromkeys(SKIPPED):
        terminalreporter.write_line("!" * 100, red=True)
        terminalreporter.write_line(reason, red=True)
        terminalreporter.write_line("!" * 100, red=True)
