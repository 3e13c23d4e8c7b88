"""The browser lane: the real server, a headless system Chromium driven by Playwright, a fresh browser
context (own cookies) for each person in a test, and screenshots when a test fails.

Without Chromium the lane is skipped with a loud reason; under CI=true it is a failure.
It runs once, on SQLite: the `live_server` fixture is the lane, so its tests are counted there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.support import (
    CHROMIUM_ARGS,
    PHONE,
    TIMEOUT_MS,
    Server,
    chromium_path,
    chromium_wanted,
    csp_violation,
    serve,
)
from tests.lanes import SKIPPED, in_ci

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

OPENED = pytest.StashKey[list["Page"]]()
ERRORS = pytest.StashKey[list[str]]()
TMP = pytest.StashKey[pytest.TempPathFactory]()
REPORT = pytest.StashKey[pytest.TestReport]()
SERVER = pytest.StashKey[Server]()


def _not_run(reason: str) -> None:
    reason = f"Browser lane NOT RUN: {reason}"
    SKIPPED.append(reason)
    if in_ci():
        pytest.fail(reason + " Under CI=true the browser lane is required.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session", autouse=True)
def chromium() -> str:
    """Checked before anything else in the lane, so a machine without a browser starts no server. (The
    playwright package itself comes with the dev extras, which bootstrap.py always installs.)"""
    path = chromium_path()
    if path is None:
        wanted = chromium_wanted()
        _not_run(f"no Chromium at {wanted} (apt-get install chromium chromium-driver, or set PORTAL_TEST_CHROMIUM).")
    assert path is not None
    return path


@pytest.fixture(scope="session", params=["sqlite"])
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The application served by `portal serve` on the demo data, one server for the whole session: each
    journey makes what it looks for (a deal with a unique name) rather than counting on a clean slate."""
    server = serve(tmp_path_factory.mktemp("e2e-server"))
    yield server
    server.stop()


# Playwright's sync API keeps an event loop running in this thread while it is started, and the rest
# of the suite calls asyncio.run: so the driver and its browser live only while tests/e2e runs.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium, args=list(CHROMIUM_ARGS), headless=True)
    yield launched
    launched.close()


@pytest.fixture
def open_page(
    browser: Browser, live_server: Server, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Page]]:
    """Opens a page in a browser context of its own (one per person: their own cookies), on the live
    server's base URL, in English; `phone=True` makes it a 390x844 touch phone, other keyword arguments
    go to `browser.new_context`. Uncaught JavaScript errors and anything the content security policy
    refused on any of them fail the test."""
    opened: list[Page] = []
    errors: list[str] = []
    request.node.stash[OPENED] = opened
    request.node.stash[ERRORS] = errors
    request.node.stash[TMP] = tmp_path_factory
    request.node.stash[SERVER] = live_server
    contexts = []

    def open_one(*, phone: bool = False, **options: Any) -> Page:
        settings: dict[str, Any] = {"base_url": live_server.url, "locale": "en-US"}
        if phone:
            settings.update(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)
        settings.update(options)
        context = browser.new_context(**settings)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: errors.append(f"{page.url}: {message.text}") if csp_violation(message.text) else None,
        )
        opened.append(page)
        return page

    yield open_one
    for context in contexts:
        context.close()
    report = request.node.stash.get(REPORT, None)
    if errors and report is not None and report.passed:
        pytest.fail(
            "uncaught JavaScript errors or content security policy violations:\n" + "\n".join(errors), pytrace=False
        )


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    return open_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """When a test fails, screenshot every page it opened (while they are still open) into a temporary
    directory, and name the files, the current URLs and any JavaScript errors in the report, with the
    end of the server's log."""
    report: pytest.TestReport = yield
    if report.when != "call":
        return report
    item.stash[REPORT] = report
    opened = item.stash.get(OPENED, [])
    if not report.failed or not opened:
        return report
    folder = item.stash[TMP].mktemp("e2e-failure-" + re.sub(r"[^\w.-]+", "-", item.name)[:60])
    lines = []
    for number, page in enumerate(opened, start=1):
        shot = folder / f"page-{number}.png"
        try:
            page.screenshot(path=str(shot), full_page=True)
            lines.append(f"{page.url}\n  -> {shot}")
        except Exception as exc:  # a page that closed or crashed still leaves its URL in the report
            lines.append(f"{page.url}\n  (no screenshot: {type(exc).__name__}: {exc})")
    lines.extend(f"JavaScript error: {error}" for error in item.stash.get(ERRORS, []))
    report.sections.append(("browser pages at the failure", "\n".join(lines)))
    if SERVER in item.stash:
        server = item.stash[SERVER]
        report.sections.append((f"server log ({server.log})", server.log_tail()))
    return report
