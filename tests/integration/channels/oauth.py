"""An application driving the OAuth flow against the test app, with Authlib's own httpx client: the partner's
browser is the test client (with the partner's session cookie), the application an `OAuth2Client` whose
requests go through the same app."""

from __future__ import annotations

import html
import re
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import authlib.deprecate  # noqa: F401  (installs Authlib's own warning filter before ours below)
from authlib.common.security import generate_token
from litestar.testing import TestClient
from litestar.testing.transport import TestClientTransport

from tests.conftest import BASE_URL
from tests.world import Credential

with warnings.catch_warnings():  # Authlib prefers the httpx2 package; httpx is what the project depends on
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError

__all__ = ["OAuthError"]

APP_REDIRECT = "com.example.partnerapp:/oauth/callback"
SERVER_REDIRECT = "https://planner.example/callback"


def register(
    client: TestClient,
    admin: Credential,
    *,
    kind: str = "public",
    scopes: tuple[str, ...] = ("profile", "ordering"),
    redirect_uris: tuple[str, ...] | None = None,
    name: str = "Acme partner app",
) -> tuple[str, str | None]:
    """A client registered by the workspace's admin: its client_id and (confidential) secret."""
    uris = redirect_uris or ((APP_REDIRECT,) if kind == "public" else (SERVER_REDIRECT,))
    response = client.post(
        "/api/channels/oauth-clients",
        headers=admin.bearer,
        json={"name": name, "kind": kind, "redirect_uris": list(uris), "scopes": list(scopes)},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["client"]["id"], body["client_secret"]


@dataclass(frozen=True)
class Endpoints:
    slug: str

    @property
    def authorize(self) -> str:
        return f"{BASE_URL}/p/{self.slug}/oauth/authorize"

    @property
    def token(self) -> str:
        return f"{BASE_URL}/api/oauth/{self.slug}/token"

    @property
    def revoke(self) -> str:
        return f"{BASE_URL}/api/oauth/{self.slug}/revoke"

    @property
    def introspect(self) -> str:
        return f"{BASE_URL}/api/oauth/{self.slug}/introspect"


def application(
    client: TestClient,
    client_id: str,
    secret: str | None = None,
    *,
    redirect_uri: str | None = None,
    scope: str = "profile ordering",
) -> OAuth2Client:
    """The application: Authlib's httpx client, its requests served by the test app."""
    return OAuth2Client(
        client_id=client_id,
        client_secret=secret,
        redirect_uri=redirect_uri or (SERVER_REDIRECT if secret else APP_REDIRECT),
        scope=scope,
        code_challenge_method="S256",
        base_url=BASE_URL,
        transport=TestClientTransport(client),
    )


def browse(client: TestClient, cookie: str | None) -> None:
    """The partner's browser: a jar with nothing but the partner's session."""
    client.cookies.clear()
    if cookie:
        client.cookies.set("portal_session", cookie)


def consent(client: TestClient, url: str, decision: str = "allow") -> Any:
    """Open an authorization URL in the partner's browser and answer the consent page (if it is shown)."""
    page = client.get(url, follow_redirects=False)
    if page.status_code != 200:
        return page
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    action = re.search(r'<form method="post" action="([^"]*/oauth/authorize\?[^"]*)"', page.text)
    assert token and action, page.text
    return client.post(
        html.unescape(action.group(1)),
        data={"_csrf_token": token.group(1), "decision": decision},
        follow_redirects=False,
    )


@dataclass
class Authorization:
    response: Any  # the browser's last answer: the redirect to the application, normally
    verifier: str
    state: str

    @property
    def location(self) -> str:
        return str(self.response.headers.get("location", ""))

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}


def authorize(
    client: TestClient, app: OAuth2Client, slug: str, cookie: str | None, decision: str = "allow", **extra: str
) -> Authorization:
    verifier = generate_token(48)
    url, state = app.create_authorization_url(Endpoints(slug).authorize, code_verifier=verifier, **extra)
    browse(client, cookie)
    return Authorization(consent(client, url, decision), verifier, state)


def sign_in_with(client: TestClient, app: OAuth2Client, slug: str, cookie: str) -> dict[str, Any]:
    """The whole flow: authorize, consent, exchange the code; the token Authlib's client then holds."""
    done = authorize(client, app, slug, cookie)
    # 303 from the consent page, or 302 at once when the person's consent to a server app is remembered
    assert done.response.status_code in (302, 303) and "code" in done.params, done.response.text
    return dict(
        app.fetch_token(Endpoints(slug).token, authorization_response=done.location, code_verifier=done.verifier)
    )
