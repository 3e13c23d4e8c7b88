"""Per-request context: who is acting (the Actor) and in which language the response is written.

The JSON API under /api/ authenticates only by bearer token and pages only by session cookie, so a
browser's cookie can never drive the API (no CSRF through the API) and a token never opens a page.
"""

from __future__ import annotations

import json
from http.cookies import CookieError, SimpleCookie
from typing import Any

from litestar import Litestar, Request
from litestar.datastructures import Headers
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor
from portal.db.context import actor_context, tenant_context
from portal.db.engine import WRITES
from portal.http.unit import UNIT_STATE, may_write, uses_db
from portal.i18n import LANGUAGE_COOKIE, activate
from portal.identity.sessions import SessionLookup, Sessions
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
    """Finds the actor and opens the request's unit of work with it: the session is looked up in the
    tenant its credential names, in the transaction the handler's `db` then uses (portal.http.deps), so
    a request holds one connection and one transaction. A handler that takes no `db` gets the lookup's
    transaction ended before it runs."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        services = Litestar.from_scope(scope).state.services
        path: str = scope["path"]
        # a page for anybody that acts for nobody (`opt={"anonymous": True}`: a customer's link) looks no one up
        handler = scope.get("route_handler")
        anonymous = path.startswith(_UNAUTHENTICATED_PREFIXES) or (handler is not None and handler.opt.get("anonymous"))
        lookups = [] if anonymous else self._lookups(services.sessions, scope, path)
        actor: Actor | None = None
        used: SessionLookup | None = None
        answer: _Answer | None = None
        session: AsyncSession | None = None
        writes = may_write(scope)
        # SQLite has one write lock for the whole database, and a sign-in check counts its attempt in a
        # transaction of its own before the handler's first write (portal.db.engine.read_phase): a write
        # request reads its session in a transaction of its own, and the handler's takes the lock later.
        split = writes and services.db.dialect == "sqlite"
        try:
            for lookup in lookups:
                if session is None or session.info["ctx"].tenant_id != lookup.tenant_id:
                    if session is not None:
                        await session.close()
                    session = services.db.open(tenant_context(lookup.tenant_id), write=writes)
                    if split:
                        await session.connection(execution_options={WRITES: False})
                actor = await services.sessions.actor_in(session, lookup)
                if actor is not None:
                    used = lookup
                    break
            if session is not None:
                if actor is not None and uses_db(scope["route_handler"]):
                    if split:
                        await session.commit()
                    session.info["ctx"] = actor_context(actor)  # the same tenant: the transaction's setup holds
                    scope.setdefault("state", {})[UNIT_STATE] = session
                else:
                    await session.close()
                    session = None
            scope["user"] = actor
            scope["auth"] = None
            activate_language(scope, actor)
            answer = _Answer(send) if used is not None and used.after is not None else None
            await next_app(scope, receive, answer or send)
        finally:
            if session is not None:
                await session.close()  # rolls back whatever the `db` dependency did not commit
        if answer is not None and actor is not None and used is not None and used.after is not None:
            # in a transaction of its own, after the request's: a refused request is recorded too
            await used.after(actor, scope["method"], path, answer.status, answer.problem())
        if actor is not None and actor.session_stale:
            # after the request's own unit of work, so a read-only request stays read-only and one statement
            await services.sessions.record_use(actor)

    @staticmethod
    def _lookups(sessions: Sessions, scope: Scope, path: str) -> list[SessionLookup]:
        """The credentials the request carries, in the order they are tried."""
        headers = Headers.from_scope(scope)
        found: list[SessionLookup | None] = []
        if is_api_path(path):
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                found.append(sessions.bearer_lookup(token.strip(), path))
        else:
            cookies = read_cookies(headers)
            if path.startswith(PREVIEW_PATH) and cookies.get(PREVIEW_COOKIE):
                found.append(sessions.lookup(cookies[PREVIEW_COOKIE], "web"))
            if cookies.get(SESSION_COOKIE):
                found.append(sessions.lookup(cookies[SESSION_COOKIE], "web"))
        return [lookup for lookup in found if lookup is not None]


class _Answer:
    """Passes a response on, keeping its status and the start of its body (a problem's code)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 500
        self.body = b""

    async def __call__(self, message: Any) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body" and self.status >= 400 and len(self.body) < 4096:
            self.body += message.get("body", b"")[:4096]
        await self.send(message)

    def problem(self) -> str | None:
        if self.status < 400:
            return None
        try:
            found = json.loads(self.body)
        except ValueError:
            return None
        code = found.get("code") if isinstance(found, dict) else None
        return code if isinstance(code, str) else None


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
