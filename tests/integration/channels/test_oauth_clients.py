"""A workspace's admin registers OAuth clients, changes and disables them and rotates secrets, through the API
and the console; another workspace sees none of them (the isolation harness sweeps every route too)."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from tests.integration.channels.oauth import Endpoints, OAuthError, application, register, sign_in_with
from tests.world import World, csrf_token

API = "/api/channels/oauth-clients"


def test_clients_are_checked_when_registered(client: TestClient, world: World) -> None:
    admin = world.a.admin.bearer

    def refused(body: dict[str, object]) -> dict[str, str]:
        answer = client.post(API, headers=admin, json=body)
        assert answer.status_code == 422, answer.text
        return {e["field"]: e["code"] for e in answer.json()["errors"]}

    base = {"name": "Planner", "kind": "confidential", "redirect_uris": ["https://planner.example/cb"]}
    assert refused({**base, "scopes": []}) == {"scopes": "required"}
    assert refused({**base, "scopes": ["billing"]}) == {"scopes": "unknown"}
    assert refused({**base, "scopes": ["profile"], "redirect_uris": []}) == {"redirect_uris": "required"}
    for uri in ("http://planner.example/cb", "com.example.app:/cb", "https://planner.example/cb#x", "/relative"):
        assert refused({**base, "scopes": ["profile"], "redirect_uris": [uri]}) == {"redirect_uris": "invalid"}
    assert refused({**base, "kind": "public", "scopes": ["profile"], "redirect_uris": ["myapp:/cb"]}) == {
        "redirect_uris": "invalid"
    }
    assert refused({**base, "kind": "shared", "scopes": ["profile"]}) == {"kind": "invalid"}
    # what a phone app may register
    public = {"name": "App", "kind": "public", "scopes": ["profile", "agent"]}
    uris = ["com.example.app:/oauth/callback", "http://127.0.0.1:8123/cb", "https://app.example/cb"]
    made = client.post(API, headers=admin, json={**public, "redirect_uris": uris})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["client_secret"] is None
    assert body["client"]["channel"] == "mobile" and body["client"]["redirect_uris"] == uris


def test_a_secret_is_shown_once_and_rotating_it_ends_the_old_one(client: TestClient, world: World) -> None:
    client_id, secret = register(client, world.a.admin, kind="confidential", scopes=("profile",))
    assert secret is not None
    shown = client.get(f"{API}/{client_id}", headers=world.a.admin.bearer).json()
    assert "secret" not in str(shown).replace("secret_rotated_at", "") and shown["channel"] == "oauth"
    rotated = client.post(f"{API}/{client_id}/rotate-secret", headers=world.a.admin.bearer)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert new_secret != secret
    old = application(client, client_id, secret, scope="profile")
    try:
        sign_in_with(client, old, world.a.slug, world.x.admin.cookie)
        raise AssertionError("the old secret still works")
    except OAuthError as refused:
        assert refused.error == "invalid_client"
    new = application(client, client_id, new_secret, scope="profile")
    assert sign_in_with(client, new, world.a.slug, world.x.admin.cookie)["scope"] == "profile"
    public_id, _none = register(client, world.a.admin)
    no_secret = client.post(f"{API}/{public_id}/rotate-secret", headers=world.a.admin.bearer)
    assert no_secret.status_code == 409 and no_secret.json()["code"] == "public_client"


def test_taking_a_scope_away_ends_the_clients_tokens(client: TestClient, world: World) -> None:
    client_id, _none = register(client, world.a.admin)
    app = application(client, client_id)
    sign_in_with(client, app, world.a.slug, world.x.admin.cookie)
    renamed = client.patch(f"{API}/{client_id}", headers=world.a.admin.bearer, json={"name": "Acme app 2"})
    assert renamed.status_code == 200 and app.get("/api/partner/me").status_code == 200
    narrowed = client.patch(f"{API}/{client_id}", headers=world.a.admin.bearer, json={"scopes": ["profile"]})
    assert narrowed.status_code == 200 and narrowed.json()["scopes"] == ["profile"]
    assert app.get("/api/partner/me").status_code == 401


def test_another_workspace_sees_none_of_them(client: TestClient, world: World) -> None:
    client_id = world.ids["oauth_client"]
    assert client.get(API, headers=world.b.admin.bearer).json() == []
    assert client.get(f"{API}/{client_id}", headers=world.b.admin.bearer).status_code == 404
    assert client.get(API, headers=world.a.admin.bearer).json()[0]["id"] == client_id
    # staff who may read but not change
    staff = world.a.others["staff"].bearer
    assert client.get(f"{API}/{client_id}", headers=staff).status_code == 200
    assert client.patch(f"{API}/{client_id}", headers=staff, json={"status": "disabled"}).status_code == 403


def test_the_console_registers_and_edits_clients(client: TestClient, world: World) -> None:
    client.cookies.set("portal_session", world.a.admin.cookie)
    listing = client.get("/console/channels/oauth-clients")
    assert listing.status_code == 200 and "Harbour planner" in listing.text
    token = csrf_token(client, "/console/channels/oauth-clients")
    form = {
        "_csrf_token": token,
        "name": "Field service app",
        "kind": "confidential",
        "channel": "oauth",
        "redirect_uris": ["https://field.example/cb", ""],
        "scopes": ["profile", "ordering"],
    }
    made = client.post("/console/channels/oauth-clients", data=form)
    assert made.status_code == 201, made.text
    secret = re.search(r'<code class="secret">(pcs_[^<]+)</code>', made.text)
    assert secret, "the new secret is shown once"
    assert f"/api/oauth/{world.a.slug}/token" in made.text and "oauth-authorization-server" in made.text
    client_id = re.search(r"/console/channels/oauth-clients/([0-9a-f-]{36})/rotate", made.text)
    assert client_id
    page = client.get(f"/console/channels/oauth-clients/{client_id.group(1)}")
    assert page.status_code == 200 and "pcs_" not in page.text
    wrong = client.post(
        f"/console/channels/oauth-clients/{client_id.group(1)}",
        data={**form, "redirect_uris": ["http://field.example/cb"], "active": "on"},
    )
    assert wrong.status_code == 422 and "https" in wrong.text
    saved = client.post(
        f"/console/channels/oauth-clients/{client_id.group(1)}",
        data={**form, "name": "Field app", "active": "on"},
        follow_redirects=False,
    )
    assert saved.status_code in (302, 303)
    shown = client.get(f"{API}/{client_id.group(1)}", headers=world.a.admin.bearer).json()
    assert shown["name"] == "Field app" and shown["status"] == "active"
    rotated = client.post(f"/console/channels/oauth-clients/{client_id.group(1)}/rotate", data={"_csrf_token": token})
    assert rotated.status_code == 201 or rotated.status_code == 200
    assert "pcs_" in rotated.text
    # the console's menu names the page for those who may read it
    assert 'href="/console/channels/oauth-clients"' in client.get("/console").text
    assert Endpoints(world.a.slug).token in made.text
