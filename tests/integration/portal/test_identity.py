"""Sign-up, tokens, sessions and throttling through the JSON API."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient

from portal.config import Settings
from portal.http.app import create_app
from tests.conftest import make_settings
from tests.world import PASSWORD, World, api_login, unique


def test_sign_up_reports_every_invalid_field_and_creates_nothing(client: TestClient) -> None:
    slug = unique("signup")
    response = client.post(
        "/api/signup",
        json={"company_name": " ", "slug": slug, "admin_name": "A", "email": "not-an-email", "password": "short"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {e["field"] for e in body["errors"]} == {"company_name", "email", "password"}
    # nothing was half-created: the slug is still free
    ok = client.post(
        "/api/signup",
        json={"company_name": "Fine", "slug": slug, "admin_name": "A", "email": "a@fine.example", "password": PASSWORD},
    )
    assert ok.status_code == 201


def test_sign_up_refuses_a_taken_or_reserved_slug(client: TestClient, world: World) -> None:
    for slug, code in ((world.a.slug, "taken"), ("console", "reserved"), ("-bad-", "invalid")):
        response = client.post(
            "/api/signup",
            json={"company_name": "X", "slug": slug, "admin_name": "X", "email": "x@x.example", "password": PASSWORD},
        )
        assert response.status_code == 422, slug
        assert response.json()["errors"][0] == {
            "field": "slug",
            "code": code,
            "message": response.json()["errors"][0]["message"],
        }


def test_token_grants_access_and_wrong_password_does_not(client: TestClient, world: World) -> None:
    me = client.get("/api/me", headers=world.a.admin.bearer)
    assert me.status_code == 200
    assert me.json()["tenant"]["slug"] == world.a.slug
    wrong = client.post(
        "/api/auth/token", json={"workspace": world.a.slug, "email": world.a.admin.email, "password": "wrong" * 3}
    )
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "invalid_credentials"
    # another tenant's workspace with this admin's email: same answer, no hint which part was wrong
    other = client.post(
        "/api/auth/token", json={"workspace": world.b.slug, "email": world.a.admin.email, "password": PASSWORD}
    )
    assert other.status_code == 401
    assert other.json()["detail"] == wrong.json()["detail"]


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(client: TestClient, world: World) -> None:
    access, refresh = api_login(client, world.a.slug, world.a.admin.email)
    first = client.post("/api/auth/refresh", json={"refresh_token": refresh})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != refresh
    assert client.get("/api/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}).status_code == 200
    reused = client.post("/api/auth/refresh", json={"refresh_token": refresh})
    assert reused.status_code == 401
    assert reused.json()["code"] == "refresh_token_reused"
    # the whole family is gone: the new refresh token and both access tokens stop working
    assert client.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {rotated['access_token']}"}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_logout_ends_the_tokens_at_once(client: TestClient, world: World) -> None:
    access, refresh = api_login(client, world.a.slug, world.a.admin.email)
    headers = {"Authorization": f"Bearer {access}"}
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/me", headers=headers).status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    assert client.get("/api/me", headers=world.a.admin.bearer).status_code == 200  # other sessions live on


def test_disabling_a_user_ends_sessions_and_tokens_and_enabling_needs_a_new_login(
    client: TestClient, world: World
) -> None:
    staff = world.a.others["staff"]
    assert client.get("/api/me", headers=staff.bearer).status_code == 200
    off = client.patch(f"/api/users/{staff.user_id}", headers=world.a.admin.bearer, json={"status": "disabled"})
    assert off.status_code == 200
    assert client.get("/api/me", headers=staff.bearer).status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": staff.refresh_token}).status_code == 401
    login = client.post("/api/auth/token", json={"workspace": world.a.slug, "email": staff.email, "password": PASSWORD})
    assert login.status_code == 401
    on = client.patch(f"/api/users/{staff.user_id}", headers=world.a.admin.bearer, json={"status": "active"})
    assert on.status_code == 200
    assert client.get("/api/me", headers=staff.bearer).status_code == 401  # revoked sessions stay revoked
    assert api_login(client, world.a.slug, staff.email)


def test_admin_cannot_disable_or_demote_themselves(client: TestClient, world: World) -> None:
    me = world.a.admin
    assert client.patch(f"/api/users/{me.user_id}", headers=me.bearer, json={"status": "disabled"}).status_code == 409
    assert client.patch(f"/api/users/{me.user_id}", headers=me.bearer, json={"roles": ["staff"]}).status_code == 409


def test_staff_role_may_read_but_not_change(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"]
    assert client.get("/api/users", headers=staff.bearer).status_code == 200
    response = client.post(
        "/api/users", headers=staff.bearer, json={"email": "n@x.example", "display_name": "N", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_login_is_throttled_after_repeated_failures(client: TestClient, world: World, settings: Settings) -> None:
    body = {"workspace": world.b.slug, "email": world.b.admin.email, "password": "wrong password!"}
    statuses = [client.post("/api/auth/token", json=body).status_code for _ in range(settings.login_failures_allowed)]
    assert statuses == [401] * settings.login_failures_allowed
    locked = client.post("/api/auth/token", json={**body, "password": PASSWORD})  # even the right password
    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    assert int(locked.headers["retry-after"]) > 0
    # other accounts are not locked out by it
    assert api_login(client, world.a.slug, world.a.admin.email)


def test_tampered_or_foreign_tokens_are_refused(client: TestClient, world: World) -> None:
    token = world.a.admin.token
    header, payload, signature = token.split(".")
    for bad in (
        f"{header}.{payload}.{signature[:-2]}xx",  # tampered signature
        f"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.",  # alg "none"
        "garbage",
        world.a.admin.refresh_token,  # a refresh token is not an access token
    ):
        response = client.get("/api/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
    # a page cookie never authenticates the API
    assert client.get("/api/me", headers={"Cookie": f"portal_session={world.a.admin.cookie}"}).status_code == 401


def test_session_cookie_is_secure_behind_tls(database_url: str) -> None:
    app = create_app(make_settings(database_url, base_url="https://portal.example"))
    with TestClient(app, base_url="https://portal.example") as tls_client:
        slug = unique("tls")
        page = tls_client.get("/signup")
        token = page.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        response = tls_client.post(
            "/signup",
            data={
                "company_name": "TLS Co",
                "slug": slug,
                "admin_name": "T",
                "email": f"t@{slug}.example",
                "password": PASSWORD,
                "locale": "en",
                "_csrf_token": token,
            },
            follow_redirects=False,
        )
        assert response.status_code in (302, 303), response.text
        cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "portal_session" in v)
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "secure", "samesite=lax"} <= attributes
        assert uuid.UUID(cookie.split("=", 1)[1].split(".")[0])  # the tenant travels in the cookie, nothing else
