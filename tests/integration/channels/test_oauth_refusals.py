"""What the OAuth server refuses, as RFC 6749, 7636, 7009, 7662 and 9700 ask, and what ends a token at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from channels.oauth.models import AuthorizationCode
from channels.oauth.purge import purge_codes
from portal.config import Settings
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.db.types import utcnow
from tests.db import run_with_database
from tests.integration.channels.oauth import (
    APP_REDIRECT,
    Endpoints,
    OAuthError,
    application,
    authorize,
    browse,
    register,
    sign_in_with,
)
from tests.world import World, partner_web_login


def code_and_verifier(client: TestClient, world: World, app: object) -> tuple[str, str]:
    done = authorize(client, app, world.a.slug, world.x.admin.cookie)  # type: ignore[arg-type]
    assert done.response.status_code == 303, done.response.text
    return done.location, done.verifier


def oauth_error(work: object) -> str:
    with pytest.raises(OAuthError) as refused:
        work()  # type: ignore[operator]
    return str(refused.value.error)


def test_a_wrong_verifier_is_refused(client: TestClient, world: World) -> None:
    app = application(client, register(client, world.a.admin)[0])
    location, _verifier = code_and_verifier(client, world, app)
    token = Endpoints(world.a.slug).token
    wrong = "w" * 64
    assert oauth_error(lambda: app.fetch_token(token, authorization_response=location, code_verifier=wrong)) == (
        "invalid_grant"
    )
    # and no verifier at all
    location, _verifier = code_and_verifier(client, world, app)
    assert oauth_error(lambda: app.fetch_token(token, authorization_response=location)) == "invalid_request"


def test_a_code_works_once_and_its_second_use_ends_what_the_first_gave(client: TestClient, world: World) -> None:
    app = application(client, register(client, world.a.admin)[0])
    location, verifier = code_and_verifier(client, world, app)
    token = Endpoints(world.a.slug).token
    app.fetch_token(token, authorization_response=location, code_verifier=verifier)
    assert app.get("/api/partner/me").status_code == 200
    replayed = oauth_error(lambda: app.fetch_token(token, authorization_response=location, code_verifier=verifier))
    assert replayed == "invalid_grant"
    assert app.get("/api/partner/me").status_code == 401  # the family made from the code is revoked


def test_redirect_uris_must_match_exactly(client: TestClient, world: World) -> None:
    client_id, _none = register(client, world.a.admin)
    # a redirect URI the client did not register: no redirect, a page saying so
    stranger = application(client, client_id, redirect_uri="com.example.partnerapp:/oauth/callback/../evil")
    done = authorize(client, stranger, world.a.slug, world.x.admin.cookie)
    assert done.response.status_code == 400 and "location" not in done.response.headers
    assert "cannot be answered" in done.response.text
    # a code issued for one URI, exchanged naming another
    app = application(client, client_id)
    location, verifier = code_and_verifier(client, world, app)
    app.redirect_uri = APP_REDIRECT + "2"
    token = Endpoints(world.a.slug).token
    assert oauth_error(lambda: app.fetch_token(token, authorization_response=location, code_verifier=verifier)) == (
        "invalid_grant"
    )


def test_an_expired_code_is_refused(client: TestClient, world: World, settings: Settings) -> None:
    app = application(client, register(client, world.a.admin)[0])
    location, verifier = code_and_verifier(client, world, app)

    async def expire(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            await session.execute(update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1)))

    run_with_database(settings, expire)
    token = Endpoints(world.a.slug).token
    assert oauth_error(lambda: app.fetch_token(token, authorization_response=location, code_verifier=verifier)) == (
        "invalid_grant"
    )

    # kept a day past its expiry (a second use is still recognised), then purged by the scheduled job
    async def left(db: Database) -> int:
        async with db.session(SYSTEM) as session:
            return len((await session.scalars(select(AuthorizationCode))).all())

    services = client.app.state.services
    assert client.blocking_portal.call(purge_codes, services) == 0 and run_with_database(settings, left) == 1

    async def age(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            await session.execute(update(AuthorizationCode).values(expires_at=utcnow() - timedelta(days=2)))

    run_with_database(settings, age)
    assert client.blocking_portal.call(purge_codes, services) == 1 and run_with_database(settings, left) == 0


def test_a_client_of_one_workspace_is_unknown_in_another(client: TestClient, world: World) -> None:
    client_id, secret = register(client, world.a.admin, kind="confidential")
    app = application(client, client_id, secret)
    # B's authorization endpoint, with B's own partner... there is none: A's partner is not B's, and A's client is
    # not B's either: the page says so, and nothing goes to the client's address
    browse(client, world.x.admin.cookie)
    url, _state = app.create_authorization_url(Endpoints(world.b.slug).authorize, code_verifier="v" * 43)
    answer = client.get(url, follow_redirects=False)
    assert answer.status_code in (302, 303) and "/login" in answer.headers["location"]
    # B's token endpoint does not know A's client, however good its secret
    location, verifier = code_and_verifier(client, world, app)
    b_token = Endpoints(world.b.slug).token
    refused = oauth_error(lambda: app.fetch_token(b_token, authorization_response=location, code_verifier=verifier))
    assert refused == "invalid_client"
    b_introspect = client.post(Endpoints(world.b.slug).introspect, data={"token": "x"}, auth=(client_id, secret))
    assert b_introspect.status_code == 401 and b_introspect.json()["error"] == "invalid_client"


def test_plain_pkce_and_no_pkce_are_refused(client: TestClient, world: World) -> None:
    client_id, _none = register(client, world.a.admin)
    app = application(client, client_id)
    app.code_challenge_method = None  # the request is written by hand below
    browse(client, world.x.admin.cookie)
    for pkce in ({"code_challenge": "p" * 43, "code_challenge_method": "plain"}, {"code_challenge": "p" * 43}, {}):
        url, state = app.create_authorization_url(Endpoints(world.a.slug).authorize, **pkce)
        answer = client.get(url, follow_redirects=False)
        # the client and its redirect URI are known: the error goes back to it, with no code
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(APP_REDIRECT + "?") and "error=invalid_request" in location
        assert f"state={state}" in location and "code=" not in location


def test_a_refused_consent_tells_the_client(client: TestClient, world: World) -> None:
    app = application(client, register(client, world.a.admin)[0])
    denied = authorize(client, app, world.a.slug, world.x.admin.cookie, decision="deny")
    assert denied.response.status_code == 303 and denied.params["error"] == "access_denied"


def test_reusing_a_spent_refresh_token_ends_the_family(client: TestClient, world: World) -> None:
    app = application(client, register(client, world.a.admin)[0])
    first = sign_in_with(client, app, world.a.slug, world.x.admin.cookie)
    token = Endpoints(world.a.slug).token
    second = app.refresh_token(token)
    assert app.get("/api/partner/me").status_code == 200
    # the first refresh token again (a copy someone kept): refused, and the whole family ends
    assert oauth_error(lambda: app.refresh_token(token, refresh_token=first["refresh_token"])) == "invalid_grant"
    assert oauth_error(lambda: app.refresh_token(token, refresh_token=second["refresh_token"])) == "invalid_grant"
    assert app.get("/api/partner/me", headers={"Authorization": f"Bearer {second['access_token']}"}).status_code == 401
    # nor does the password sign-in's refresh accept an OAuth refresh token
    plain = client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert plain.status_code == 401


def test_introspection_reports_revoked_and_foreign_tokens_inactive(client: TestClient, world: World) -> None:
    server_id, secret = register(client, world.a.admin, kind="confidential")
    resource_server = application(client, server_id, secret)
    app = application(client, register(client, world.a.admin)[0])
    token = sign_in_with(client, app, world.a.slug, world.x.admin.cookie)
    endpoints = Endpoints(world.a.slug)

    def active(value: str) -> bool:
        answer = resource_server.introspect_token(endpoints.introspect, token=value)
        assert answer.status_code == 200, answer.text
        return bool(answer.json()["active"])

    assert active(token["access_token"]) and active(token["refresh_token"])
    assert not active(world.x.admin.token)  # the password sign-in's token is no client's
    assert not active("not-a-token")
    assert app.revoke_token(endpoints.revoke, token=token["access_token"]).status_code == 200
    assert not active(token["access_token"]) and not active(token["refresh_token"])
    # a public client may not introspect
    public = client.post(endpoints.introspect, data={"token": token["access_token"], "client_id": app.client_id})
    assert public.status_code == 401 and public.json()["error"] == "invalid_client"
    # revoking something unknown is answered 200 and changes nothing
    assert app.revoke_token(endpoints.revoke, token="prt_nothing").status_code == 200


def test_a_suspended_enterprise_or_disabled_person_stops_at_once(client: TestClient, world: World) -> None:
    server_id, secret = register(client, world.a.admin, kind="confidential")
    resource_server = application(client, server_id, secret)
    app = application(client, register(client, world.a.admin)[0])
    token = sign_in_with(client, app, world.a.slug, world.x.admin.cookie)
    endpoints = Endpoints(world.a.slug)
    suspended = client.post(
        f"/api/interconnect/enterprises/{world.x.link_id}/status",
        headers=world.a.admin.bearer,
        json={"status": "suspended", "reason": "audit"},
    )
    assert suspended.status_code == 200, suspended.text
    assert app.get("/api/partner/me").status_code == 401
    assert resource_server.introspect_token(endpoints.introspect, token=token["access_token"]).json() == {
        "active": False
    }
    assert oauth_error(lambda: app.refresh_token(endpoints.token)) == "invalid_grant"

    # a person disabled by their manufacturer: the same, at once
    colleague = world.x.people["colleague"]
    phone = application(client, register(client, world.a.admin)[0])
    reactivated = client.post(
        f"/api/interconnect/enterprises/{world.x.link_id}/status",
        headers=world.a.admin.bearer,
        json={"status": "active", "reason": "done"},
    )
    assert reactivated.status_code == 200, reactivated.text
    # suspending the enterprise ended its people's web sessions too: the colleague signs in again
    sign_in_with(client, phone, world.a.slug, partner_web_login(client, world.a.slug, colleague.email))
    assert phone.get("/api/partner/me").status_code == 200
    disabled = client.patch(
        f"/api/interconnect/users/{colleague.user_id}", headers=world.a.admin.bearer, json={"status": "disabled"}
    )
    assert disabled.status_code == 200, disabled.text
    assert phone.get("/api/partner/me").status_code == 401


def test_disabling_a_client_ends_its_tokens(client: TestClient, world: World) -> None:
    client_id, _none = register(client, world.a.admin)
    app = application(client, client_id)
    sign_in_with(client, app, world.a.slug, world.x.admin.cookie)
    assert app.get("/api/partner/me").status_code == 200
    changed = client.patch(
        f"/api/channels/oauth-clients/{client_id}", headers=world.a.admin.bearer, json={"status": "disabled"}
    )
    assert changed.status_code == 200 and changed.json()["status"] == "disabled"
    assert app.get("/api/partner/me").status_code == 401
    # and it can sign nobody in any more
    url, _state = app.create_authorization_url(Endpoints(world.a.slug).authorize, code_verifier="v" * 43)
    browse(client, world.x.admin.cookie)
    assert client.get(url, follow_redirects=False).status_code == 400


def test_no_implicit_or_password_grant(client: TestClient, world: World) -> None:
    client_id, secret = register(client, world.a.admin, kind="confidential")
    endpoints = Endpoints(world.a.slug)
    for grant in (
        {"grant_type": "password", "username": world.x.admin.email, "password": "x"},
        {"grant_type": "client_credentials"},
    ):
        answer = client.post(endpoints.token, data=grant, auth=(client_id, secret))
        assert answer.status_code == 400 and answer.json()["error"] == "unsupported_grant_type", answer.text
    app = application(client, client_id, secret)
    url, _state = app.create_authorization_url(endpoints.authorize, response_type="token")
    browse(client, world.x.admin.cookie)
    implicit = client.get(url, follow_redirects=False)
    assert implicit.status_code == 302 and "error=unsupported_response_type" in implicit.headers["location"]
    assert "access_token" not in implicit.headers["location"]
    assert uuid.UUID(client_id)
