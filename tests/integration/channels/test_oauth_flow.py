"""An application signs a partner in through OAuth 2.1 and acts for them through the partner API, exactly as
the partner's own password-issued token would; driven by Authlib's own httpx client."""

from __future__ import annotations

import re
from urllib.parse import quote

from authlib.oauth2 import rfc8414
from litestar.testing import TestClient

from tests.conftest import BASE_URL
from tests.integration.channels.oauth import (
    APP_REDIRECT,
    Endpoints,
    application,
    authorize,
    browse,
    consent,
    register,
    sign_in_with,
)
from tests.world import PASSWORD, World, csrf_token


def test_the_workspace_publishes_its_metadata(client: TestClient, world: World) -> None:
    slug = world.a.slug
    response = client.get(f"/.well-known/oauth-authorization-server/p/{slug}")
    assert response.status_code == 200, response.text
    metadata = rfc8414.AuthorizationServerMetadata(response.json())
    metadata.validate()  # RFC 8414, as Authlib checks it
    assert metadata["issuer"] == f"{BASE_URL}/p/{slug}"
    assert metadata["authorization_endpoint"] == Endpoints(slug).authorize
    assert metadata["token_endpoint"] == Endpoints(slug).token
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert metadata["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert "implicit" not in str(metadata) and "password" not in metadata["grant_types_supported"]
    assert client.get("/.well-known/oauth-authorization-server/p/no-such-workspace").status_code == 404


def test_a_phone_app_signs_a_partner_in_and_acts_with_their_permissions(client: TestClient, world: World) -> None:
    slug, partner = world.a.slug, world.x.admin
    client_id, secret = register(client, world.a.admin)
    assert secret is None  # a public client has none
    app = application(client, client_id)
    done = authorize(client, app, slug, cookie=None)
    # not signed in: the partner portal's sign-in, and back to the very request
    assert done.response.status_code in (302, 303)
    browse(client, None)
    landing = client.get(done.location, follow_redirects=False)
    assert landing.headers["location"].startswith(f"/p/{slug}/login?next=")
    login_page = client.get(landing.headers["location"])
    next_target = re.search(rf'action="/p/{slug}/login">.*?name="next" value="([^"]+)"', login_page.text, re.DOTALL)
    assert next_target and "code_challenge=" in next_target.group(1).replace("&amp;", "&")
    signed_in = client.post(
        f"/p/{slug}/login",
        data={
            "login": partner.email,
            "password": PASSWORD,
            "next": next_target.group(1).replace("&amp;", "&"),
            "_csrf_token": csrf_token(client, f"/p/{slug}/login"),
        },
        follow_redirects=False,
    )
    assert signed_in.status_code in (302, 303), signed_in.text
    answered = consent(client, signed_in.headers["location"])
    assert answered.status_code == 303, answered.text
    location = answered.headers["location"]
    assert location.startswith(APP_REDIRECT + "?") and f"state={done.state}" in location
    assert f"iss={quote(f'{BASE_URL}/p/{slug}', safe='')}" in location  # RFC 9207

    token = app.fetch_token(Endpoints(slug).token, authorization_response=location, code_verifier=done.verifier)
    assert token["token_type"] == "Bearer" and token["scope"] == "profile ordering"
    assert 0 < token["expires_in"] <= 4 * 3600 and token["refresh_token"].startswith("prt_")

    # the same actor as the partner's own token
    me = app.get("/api/partner/me")
    assert me.status_code == 200, me.text
    assert me.json() == client.get("/api/partner/me", headers=partner.bearer).json()
    orders = app.get("/api/partner/ordering/orders")
    assert orders.status_code == 200
    assert orders.json() == client.get("/api/partner/ordering/orders", headers=partner.bearer).json()

    # a refresh rotates the refresh token and hands out a working access token
    old_refresh = token["refresh_token"]
    refreshed = app.refresh_token(Endpoints(slug).token)
    assert refreshed["refresh_token"] != old_refresh and refreshed["scope"] == "profile ordering"
    assert app.get("/api/partner/me").status_code == 200

    # revoking ends the family: access and refresh tokens alike
    assert app.revoke_token(Endpoints(slug).revoke, token=refreshed["refresh_token"]).status_code == 200
    assert app.get("/api/partner/me").status_code == 401


def test_a_server_app_authenticates_and_its_consent_is_remembered(client: TestClient, world: World) -> None:
    slug = world.a.slug
    client_id, secret = register(client, world.a.admin, kind="confidential", scopes=("profile",))
    assert secret and secret.startswith("pcs_")
    app = application(client, client_id, secret, scope="profile")
    token = sign_in_with(client, app, slug, world.x.admin.cookie)
    assert token["scope"] == "profile"

    # introspection, for a resource server (a confidential client)
    found = app.introspect_token(Endpoints(slug).introspect, token=token["access_token"]).json()
    assert found["active"] is True and found["scope"] == "profile" and found["client_id"] == client_id
    assert found["sub"] == world.x.admin.user_id and found["token_type"] == "Bearer"
    assert found["iss"] == f"{BASE_URL}/p/{slug}" and found["channel"] == "oauth"

    # the second time, the same person is not asked again: the code comes at once
    again = authorize(client, app, slug, world.x.admin.cookie)
    assert again.response.status_code in (302, 303) and "code=" in again.location

    # a public client is asked every time
    public_id, _none = register(client, world.a.admin, scopes=("profile",))
    phone = application(client, public_id, scope="profile")
    sign_in_with(client, phone, slug, world.x.admin.cookie)
    asked = client.get(
        phone.create_authorization_url(Endpoints(slug).authorize, code_verifier="v" * 43)[0], follow_redirects=False
    )
    assert asked.status_code == 200 and "Allow" in asked.text


def test_a_token_reaches_only_the_scopes_granted(client: TestClient, world: World) -> None:
    client_id, _none = register(client, world.a.admin)
    app = application(client, client_id, scope="profile")
    token = sign_in_with(client, app, world.a.slug, world.x.admin.cookie)
    assert token["scope"] == "profile"
    assert app.get("/api/partner/me").status_code == 200
    refused = app.get("/api/partner/ordering/orders")
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    # the partner's own token reaches it
    assert client.get("/api/partner/ordering/orders", headers=world.x.admin.bearer).status_code == 200
    # never an application's, whatever its scopes: other manufacturers, new credentials, the person's apps
    for method, path in (
        ("GET", "/api/partner/workspaces"),
        ("POST", f"/api/partner/workspaces/{world.a.slug}/token"),
        ("GET", "/api/partner/oauth-grants"),
    ):
        answer = app.request(method, path)
        assert answer.status_code == 403 and answer.json()["code"] == "insufficient_scope", (path, answer.text)
        assert client.request(method, path, headers=world.x.admin.bearer).status_code == 200, path


def test_the_audit_log_names_the_channel(client: TestClient, world: World) -> None:
    client_id, _none = register(client, world.a.admin)
    app = application(client, client_id)
    sign_in_with(client, app, world.a.slug, world.x.admin.cookie)
    made = app.post(
        "/api/partner/ordering/addresses",
        json={"label": "Phone dock", "recipient": "Dock office", "phone": "555-0199", "address": "Pier 9"},
    )
    assert made.status_code == 201, made.text
    entries = client.get(f"/api/audit?object_id={made.json()['id']}", headers=world.a.admin.bearer).json()
    assert [e["channel"] for e in entries] == ["mobile"]
    assert entries[0]["actor_id"] == world.x.admin.user_id


def test_the_consent_page_speaks_chinese(client: TestClient, world: World) -> None:
    client_id, _none = register(client, world.a.admin, name="阿克米伙伴")
    app = application(client, client_id)
    url, _state = app.create_authorization_url(Endpoints(world.a.slug).authorize, code_verifier="v" * 43)
    browse(client, world.x.admin.cookie)
    page = client.get(url, headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert "允许" in page.text and "阿克米伙伴" in page.text and "订货" in page.text
    # the answer to its form is redirected to the app: the page's policy lets the browser follow it there
    assert "form-action 'self' com.example.partnerapp:;" in page.headers["content-security-policy"]
    english = client.get(url, headers={"Accept-Language": "en"})
    assert "Allow" in english.text and "Ordering" in english.text
    # the language switch keeps the request
    assert f'value="/p/{world.a.slug}/oauth/authorize?' in page.text
    assert quote(world.a.slug) in page.text


def test_a_partner_sees_their_apps_and_signs_out_of_one(client: TestClient, world: World) -> None:
    client_id, secret = register(client, world.a.admin, kind="confidential", name="Harbour planner 2")
    app = application(client, client_id, secret)
    sign_in_with(client, app, world.a.slug, world.x.admin.cookie)
    grants = client.get("/api/partner/oauth-grants", headers=world.x.admin.bearer).json()
    assert [(g["client_name"], g["channel"], g["scopes"]) for g in grants] == [
        ("Harbour planner 2", "oauth", ["profile", "ordering"])
    ]
    # nobody else's list shows it, and nobody else can end it
    assert client.get("/api/partner/oauth-grants", headers=world.y.admin.bearer).json() == []
    grant_id = grants[0]["id"]
    other = client.delete(f"/api/partner/oauth-grants/{grant_id}", headers=world.y.admin.bearer)
    assert other.status_code == 404 and app.get("/api/partner/me").status_code == 200
    # the page lists it; signing out there stops the app at once and forgets the consent
    browse(client, world.x.admin.cookie)
    page = client.get(f"/p/{world.a.slug}/apps")
    assert page.status_code == 200 and "Harbour planner 2" in page.text
    signed_out = client.post(
        f"/p/{world.a.slug}/apps/{grant_id}/sign-out",
        data={"_csrf_token": csrf_token(client, f"/p/{world.a.slug}/apps")},
        follow_redirects=False,
    )
    assert signed_out.status_code in (302, 303), signed_out.text
    assert app.get("/api/partner/me").status_code == 401
    assert client.get("/api/partner/oauth-grants", headers=world.x.admin.bearer).json() == []
    asked = authorize(client, app, world.a.slug, world.x.admin.cookie)
    assert asked.response.status_code == 303  # the consent page was shown again, and answered


def test_a_phone_app_listening_on_loopback_may_use_any_port(client: TestClient, world: World) -> None:
    client_id, _none = register(client, world.a.admin, redirect_uris=("http://127.0.0.1/oauth/callback",))
    app = application(client, client_id, redirect_uri="http://127.0.0.1:53122/oauth/callback")
    token = sign_in_with(client, app, world.a.slug, world.x.admin.cookie)
    assert token["scope"] == "profile ordering"
    # only the port: another path or host is another address
    for elsewhere in ("http://127.0.0.1:53122/other", "http://127.0.0.2:53122/oauth/callback"):
        stranger = application(client, client_id, redirect_uri=elsewhere)
        assert authorize(client, stranger, world.a.slug, world.x.admin.cookie).response.status_code == 400
