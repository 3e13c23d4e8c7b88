"""What browser journeys share: the live server, the browser, the demo people, and the few steps every
journey repeats (sign in on either side, fill a form, submit it and wait for the page it leads to).

The server is the real application as `portal serve` runs it, in a process of its own, on an embedded
SQLite database made for it by `portal demo`: the browser lane runs on SQLite only (the database lanes
already cover PostgreSQL below the pages). While the browser is open, the test's thread has Playwright's
event loop running, so asyncio.run (tests/db.py) is not available there: look through the pages, or
the API (`staff_api`).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal.demo import DEMO_PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Response

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out (updates, sync, field trials),
# which a closed network refuses; Playwright gives every launch a fresh empty user-data-dir of its own.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
PHONE = {"width": 390, "height": 844}
# How Chromium reports what the server's Content-Security-Policy refused (an inline script or style, a
# script or image from elsewhere): a console message, never an exception, so journeys watch for it.
CSP_VIOLATION = re.compile(r"violates the following Content Security Policy directive", re.IGNORECASE)


def csp_violation(text: str) -> bool:
    return CSP_VIOLATION.search(text) is not None


# Short enough that a missing element fails the test in seconds, long enough for a loaded machine.
TIMEOUT_MS = 15_000


@dataclass(frozen=True)
class Person:
    """A demo sign-in: `workspace` is the manufacturer's slug, on either side of the portal."""

    name: str
    login: str
    workspace: str
    password: str = DEMO_PASSWORD


# From the demo loaders (portal/demo.py, interconnect/demo.py, apps/agent/demo.py).
ACME = "acme-pumps"
ACME_ADMIN = Person("Ann Admin", "ann@acme-pumps.example", ACME)
ACME_ORDER_DESK = Person("Oscar Orders", "oscar@acme-pumps.example", ACME)
# Holds the preset channel manager role (and reads everything, as staff).
ACME_CHANNEL_MANAGER = Person("Chen Channel", "chen@acme-pumps.example", ACME)
EAST_DEALER = "East Dealer"
# East Dealer's admin holds the preset deal registrar role (the demo gives it to every enterprise admin).
EAST_DEALER_ADMIN = Person("Eve East", "eve@ed.acme-pumps.example", ACME)
EAST_DEALER_BUYER = Person("Ethan Buyer", "staff1@ed.acme-pumps.example", ACME)


def chromium_wanted() -> str:
    """The system Chromium (Debian's package), or PORTAL_TEST_CHROMIUM when set."""
    return os.environ.get("PORTAL_TEST_CHROMIUM") or CHROMIUM


def chromium_path() -> str | None:
    """The browser to drive, None when it is absent."""
    found = shutil.which(chromium_wanted())
    return found if found and os.access(found, os.X_OK) else None


@dataclass
class Server:
    url: str
    data_dir: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # uvicorn finishes open requests and runs the shutdown hooks
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(data_dir: Path) -> Server:
    """Serve the application with `portal serve --demo` on a fresh embedded database in `data_dir` (migrated
    and loaded with the demo data by that same process) on a free loopback port; returns once it answers
    /health. One worker process: the journeys need one server, not several, and a single process starts
    (imports the application) once instead of a supervisor and a worker per core."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # the environment `portal` has in tests/cli.py: an embedded database of its own in the data directory
    env = {**os.environ, "PORTAL_DATA_DIR": str(data_dir), "PORTAL_PASSWORD_PROFILE": "fast"}
    env.pop("PORTAL_DATABASE_URL", None)
    log = data_dir / "server.log"
    loaded = False
    for attempt in range(3):
        # another process may take the free port before uvicorn binds it: then try another one
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "portal.cli", "serve", "--workers", "1", "--host", "127.0.0.1"]
        command += ["--port", str(port), *(["--no-migrate"] if loaded else ["--demo"])]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env={**env, "PORTAL_BASE_URL": url}, stdout=out, stderr=subprocess.STDOUT
            )
        server = Server(url, data_dir, log, process)
        try:
            _wait_until_healthy(server, timeout=120.0)
        except BaseException:
            server.stop()
            # the demo is in the database once the process printed its logins (it does so before binding)
            loaded = loaded or "Serving on" in log.read_text()
            if attempt < 2 and "address already in use" in log.read_text().lower():
                continue
            raise
        return server
    raise AssertionError("unreachable")


def _wait_until_healthy(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"portal serve exited with {server.process.returncode}:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=2) as answer:  # noqa: S310 (loopback)
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"portal serve did not answer /health within {timeout:.0f}s:\n{server.log.read_text()}")


# --- steps in the browser ---------------------------------------------------------------------------


def fill_form(form: Locator, values: Mapping[str, str]) -> None:
    """Fill a form's fields by their `name`: text-like inputs are typed into, selects chosen by value or
    by visible label."""
    for name, value in values.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            values_offered = field.locator("option").evaluate_all("options => options.map(o => o.value)")
            if value in values_offered:
                field.select_option(value=value)
            else:
                field.select_option(label=value)
        else:
            field.fill(value)


def submit(form: Locator, button: str | None = None, *, expect_status: int | None = None) -> Response:
    """Submit `form` with its submit button (or the one named by the text `button`), wait for the page
    it leads to, and return that page's response. A response of 400 or more fails, unless it is
    `expect_status` (a form shown again with its errors is a 422)."""
    page = form.page
    target = form.get_by_role("button", name=button, exact=True) if button else form.locator('[type="submit"], button')
    with page.expect_navigation(wait_until="load") as navigation:
        target.first.click()
    response = navigation.value
    assert response is not None, "the form led to no page"
    status = response.status
    if expect_status is not None:
        assert status == expect_status, f"{response.url} answered {status}, expected {expect_status}"
    else:
        assert status < 400, f"{response.url} answered {status}: {alert_text(page)}"
    return response


def go(page: Page, path: str) -> Response:
    """Open a page by its path and require it to load."""
    response = page.goto(path)
    assert response is not None and response.status < 400, f"{path} answered {response and response.status}"
    return response


def follow(page: Page, link_text: str, *, within: str = "body") -> Response:
    """Click the link named `link_text` (inside `within`, a CSS selector) and wait for its page."""
    with page.expect_navigation(wait_until="load") as navigation:
        page.locator(within).get_by_role("link", name=link_text, exact=True).first.click()
    response = navigation.value
    assert response is not None and response.status < 400, f"{link_text!r} led to {response and response.status}"
    return response


def alert_text(page: Page) -> str:
    alerts = page.locator('[role="alert"]')
    return " | ".join(alerts.all_inner_texts()) or "(no alert on the page)"


def path_of(page: Page) -> str:
    from urllib.parse import urlsplit

    return urlsplit(page.url).path


def sign_in_as_partner(page: Page, person: Person) -> None:
    """Sign in at the manufacturer's partner portal and land on its home page."""
    go(page, f"/p/{person.workspace}/login")
    form = page.locator(f'form[action="/p/{person.workspace}/login"]')
    fill_form(form, {"login": person.login, "password": person.password})
    submit(form)
    assert path_of(page) == f"/p/{person.workspace}/", f"sign-in as {person.login} failed: {alert_text(page)}"


def sign_in_as_staff(page: Page, person: Person) -> None:
    """Sign in at the manufacturer console and land on its home page."""
    go(page, "/login")
    form = page.locator('form[action="/login"]')
    fill_form(form, {"workspace": person.workspace, "email": person.login, "password": person.password})
    submit(form)
    assert path_of(page) == "/console", f"sign-in as {person.login} failed: {alert_text(page)}"


def nav(page: Page, link_text: str) -> Response:
    """Follow a link of the page header's navigation (the menu folds away on a phone, so it is opened)."""
    toggle = page.locator("label.menu-button")
    if toggle.is_visible():
        toggle.click()
    return follow(page, link_text, within="header nav")


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when nothing sticks out)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def loaded_width(image: Locator, timeout_ms: float = 10_000) -> int:
    """The natural width of an image once the browser has loaded it (0: it could not be loaded): visible
    is not loaded, and reading the width at once races the image's request."""
    image.element_handle().wait_for_element_state("visible")
    image.page.wait_for_function("img => img.complete", arg=image.element_handle(), timeout=timeout_ms)
    return int(image.evaluate("img => img.naturalWidth"))


def table_rows(page: Page, text: str | re.Pattern[str]) -> Locator:
    """The rows of the page's list tables that contain `text`."""
    return page.locator("table.list tbody tr").filter(has_text=text)


def staff_api(page: Page, person: Person, path: str, *, method: str = "GET", data: Any = None) -> Any:
    """Call a staff API path as `person` (the API takes bearer tokens only, never the page's cookie), for
    what the console has no page for yet (GET, or `method` with the JSON body `data`); returns the JSON
    body."""
    token = page.request.post(
        "/api/auth/token", data={"workspace": person.workspace, "email": person.login, "password": person.password}
    )
    assert token.ok, f"token for {person.login}: {token.status} {token.text()}"
    answer = page.request.fetch(
        path, method=method, data=data, headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert answer.ok, f"{path}: {answer.status} {answer.text()}"
    return answer.json()


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of a key screen in the folder PORTAL_TEST_SHOTS names (nothing without it), to look
    at what a journey showed; a failing test's pages are kept anyway (conftest)."""
    folder = os.environ.get("PORTAL_TEST_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
