"""A dealer buyer signs in to the manufacturer's phone app: the app opens the partner portal's authorization
page, the buyer signs in and allows it on a phone-sized consent page, and the browser takes the code back to
the app (a loopback address here, as a native app listens on), which exchanges it for a token."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ACME,
    ACME_ADMIN,
    EAST_DEALER_BUYER,
    Server,
    fill_form,
    horizontal_overflow,
    submit,
)


def test_a_buyer_allows_the_phone_app_on_the_consent_page(open_page: Callable[..., Page], live_server: Server) -> None:
    admin = open_page()
    signed_in = admin.request.post(
        "/api/auth/token",
        data={"workspace": ACME, "email": ACME_ADMIN.login, "password": ACME_ADMIN.password},
    )
    assert signed_in.ok, signed_in.text()
    bearer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    port = urlsplit(live_server.url).port
    # the app listens on localhost: another origin than the portal's 127.0.0.1, so the consent page's policy
    # must let the browser follow the answer there
    redirect_uri = f"http://localhost:{port}/health"
    registration = {
        "name": f"Acme Partner {uuid.uuid4().hex[:4]}",
        "kind": "public",
        "redirect_uris": [redirect_uri],
        "scopes": ["profile", "ordering"],
    }
    made = admin.request.post("/api/channels/oauth-clients", data=registration, headers=bearer)
    assert made.status == 201, made.text()
    client_id = made.json()["client"]["id"]

    verifier, state = generate_token(48), generate_token(20)
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "profile ordering",
        "state": state,
        "code_challenge": create_s256_code_challenge(verifier),
        "code_challenge_method": "S256",
    }
    phone = open_page(phone=True)
    phone.goto(f"/p/{ACME}/oauth/authorize?{urlencode(query)}")
    # not signed in: the portal's sign-in, then back to the request
    form = phone.locator(f'form[action="/p/{ACME}/login"]')
    fill_form(form, {"login": EAST_DEALER_BUYER.login, "password": EAST_DEALER_BUYER.password})
    submit(form)
    expect(phone.locator("h1")).to_contain_text(f"Allow {registration['name']} to act for you?")
    expect(phone.locator(".scopes li")).to_have_count(2)
    assert horizontal_overflow(phone) == 0, "the consent page is wider than the phone"
    submit(phone.locator('form[action*="/oauth/authorize?"]'), "Allow")

    landed = urlsplit(phone.url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == redirect_uri
    answer = {k: v[0] for k, v in parse_qs(landed.query).items()}
    assert answer["state"] == state and answer["iss"].endswith(f"/p/{ACME}")
    token = phone.request.post(
        f"/api/oauth/{ACME}/token",
        form={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
    )
    assert token.ok, token.text()
    me = phone.request.get("/api/partner/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.ok and me.json()["display_name"] == EAST_DEALER_BUYER.name
