"""Sign-in flows count their attempt outside the request's unit of work (it must survive a rollback)
and do everything else in it: with or without a session already in the browser, on either database,
right or wrong password, each answers at once (no request waits on its own transaction's lock or
connection: SQLite's busy timeout and the pool's timeout are both 30 s)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from httpx import Response
from litestar.testing import TestClient

from tests.integration.web.test_pages import act_as, submit
from tests.integration.web.test_partner_pages import new_enterprise
from tests.world import PASSWORD, World, partner_web_login, web_login

PROMPT = 10.0  # seconds: far below either 30 s timeout, far above a slow machine's sign-in
WRONG = "not the password at all 123"
REDIRECTS = (302, 303)


def timed(send: Callable[[], Response]) -> Response:
    started = time.monotonic()
    response = send()
    assert time.monotonic() - started < PROMPT, "the request waited on itself"
    return response


def browser(client: TestClient, world: World, who: str) -> None:
    """A fresh browser holding no session, a staff member's of A, or a partner's of A."""
    cookie = {
        "nobody": None,
        "staff": lambda: web_login(client, world.a.slug, world.a.admin.email),
        "partner": lambda: partner_web_login(client, world.a.slug, world.x.admin.email),
    }[who]
    act_as(client, cookie() if cookie else None)


@pytest.mark.parametrize("who", ["nobody", "staff", "partner"])
def test_staff_sign_in_page_answers_at_once(client: TestClient, world: World, who: str) -> None:
    for password, expected in ((WRONG, (401,)), (PASSWORD, REDIRECTS)):
        browser(client, world, who)
        form = {"workspace": world.a.slug, "email": world.a.admin.email, "password": password, "next": "/console"}
        response = timed(lambda form=form: submit(client, "/login", form))  # type: ignore[misc]
        assert response.status_code in expected, response.text


@pytest.mark.parametrize("who", ["nobody", "staff", "partner"])
def test_partner_sign_in_page_answers_at_once(client: TestClient, world: World, who: str) -> None:
    path = f"/p/{world.a.slug}/login"
    for password, expected in ((WRONG, (401,)), (PASSWORD, REDIRECTS)):
        browser(client, world, who)
        form = {"login": world.x.admin.email, "password": password}
        response = timed(lambda form=form: submit(client, path, form))  # type: ignore[misc]
        assert response.status_code in expected, response.text


@pytest.mark.parametrize("who", ["nobody", "staff", "partner"])
def test_accepting_a_link_with_ones_login_answers_at_once(client: TestClient, world: World, who: str) -> None:
    created = new_enterprise(client, world, "b", admin_email=world.x.admin.email)
    path = "/setup/" + created["setup_url"].rsplit("/", 1)[1]
    for password, expected in ((WRONG, (401,)), (PASSWORD, REDIRECTS)):
        browser(client, world, who)
        form = {"action": "accept", "password": password}
        response = timed(lambda form=form: submit(client, path, form))  # type: ignore[misc]
        assert response.status_code in expected, response.text
    assert response.headers["location"].startswith(f"/p/{world.b.slug}/")


@pytest.mark.parametrize("bearer", [False, True])
def test_token_sign_ins_answer_at_once(client: TestClient, world: World, bearer: bool) -> None:
    act_as(client, None)
    headers = world.a.admin.bearer if bearer else {}
    staff = {"workspace": world.a.slug, "email": world.a.admin.email}
    partner = {"workspace": world.a.slug, "login": world.x.admin.email}
    for path, body in (("/api/auth/token", staff), ("/api/partner/auth/token", partner)):
        for password, expected in ((WRONG, 401), (PASSWORD, 200)):
            response = timed(
                lambda path=path, body=body, password=password: client.post(  # type: ignore[misc]
                    path, json={**body, "password": password}, headers=headers
                )
            )
            assert response.status_code == expected, response.text
