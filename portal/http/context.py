"""Per-request context: who is acting (the Actor) and in which language the response is written.

The JSON API under /api/ authenticates only by bearer token and pages only by session cookie, so a
browser's cookie can never drive the API (no CSRF through the API) and a token never opens a page.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from portal.actor import Actor
from portal.i18n import LANGUAGE_COOKIE, activate
from portal.identity.throttle import DEVICE_COOKIE, SignInClient

SESSION_COOKIE = "portal_session"
DEVICE_HEADER = "x-portal-device"
# An administrator's read-only look at the partner portal as one partner user; sent only under /p/.
PREVIEW_COOKIE = "portal_preview"
PREVIEW_PATH = "/p/"
API_PREFIX = "/api/"
_UNAUTHENTICATED_PREFIXES = ("/static/", "/health")


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def sign_in_client(request: Request[Any, Any, Any]) -> SignInClient:
    """What a password check may know of the client: its address, and the device credential a browser
    keeps as a cookie and an app sends as a header."""
    device = request.headers.get(DEVICE_HEADER) or read_cookies(request.headers).get(DEVICE_COOKIE)
    return SignInClient(client_ip(request), request.headers.get("user-agent"), device)


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def read_cookies(headers: Headers) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except CookieError:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


class RequestContextMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        services = Litestar.from_scope(scope).state.services
        headers = Headers.from_scope(scope)
        cookies = read_cookies(headers)
        path: str = scope["path"]
        actor: Actor | None = None
        if not path.startswith(_UNAUTHENTICATED_PREFIXES):
            if is_api_path(path):
                authorization = headers.get("authorization", "")
                scheme, _, token = authorization.partition(" ")
                if scheme.lower() == "bearer" and token.strip():
                    actor = await services.sessions.from_bearer(token.strip())
            else:
                if path.startswith(PREVIEW_PATH) and cookies.get(PREVIEW_COOKIE):
                    actor = await services.sessions.from_cookie(cookies[PREVIEW_COOKIE])
                if actor is None and cookies.get(SESSION_COOKIE):
                    actor = await services.sessions.from_cookie(cookies[SESSION_COOKIE])
        scope["user"] = actor
        scope["auth"] = None
        activate_language(scope, actor)
        await next_app(scope, receive, send)


def activate_language(scope: Scope, actor: Actor | None) -> str:
    """Choose and activate the request's language. Also called by the error mapper, because the
    router answers unknown paths (404/405) before any route middleware has run."""
    catalogs = Litestar.from_scope(scope).state.services.catalogs
    headers = Headers.from_scope(scope)
    language = catalogs.choose(
        actor.locale if actor else None, read_cookies(headers).get(LANGUAGE_COOKIE), headers.get("accept-language")
    )
    activate(language, catalogs.translations(language))
    scope.setdefault("state", {})["language"] = language
    return language
