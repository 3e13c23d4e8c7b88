"""Idempotency-Key on every creating POST of the API, without the handler doing anything.

A creating route is a POST under /api/ by a signed-in actor that answers 201 (Litestar's default for
POST); `opt={"idempotent": False}` opts a POST out, `opt={"idempotent": True}` opts one in. For such a
request with the header, the unit of work (portal.http.deps.provide_db) claims the key in its own
transaction before the handler runs; the response class writes the rendered response onto the claim,
still before commit. A key already answered replays its saved response; see portal.idempotency.

A route whose answer may carry a secret shown only once names its fields with `shown_once(...)` in its
opt: when any of them is set in the answer, the answer is not stored (a retry with the key is refused).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Request, Response
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from portal import idempotency
from portal.actor import Actor
from portal.errors import ConfigurationError
from portal.http.context import is_api_path
from portal.http.guard import is_public

REPLAYED_HEADER = "Idempotent-Replayed"
_CLAIM = "portal_idempotency_claim"
_SHOWN_ONCE = "shown_once"


def shown_once(*fields: str) -> dict[str, object]:
    """Route opt: the answer's top-level `fields` that, when set, hold a secret shown only once (never
    stored in the idempotency table)."""
    return {_SHOWN_ONCE: fields}


def _carries_secret(handler: BaseRouteHandler, body: bytes) -> bool:
    fields = handler.opt.get(_SHOWN_ONCE, ())
    if not fields:
        return False
    try:
        answer = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return True  # not what the route answers normally: keep nothing
    return not isinstance(answer, dict) or any(answer.get(f) is not None for f in fields)


def is_creating(handler: BaseRouteHandler, path: str) -> bool:
    if not isinstance(handler, HTTPRouteHandler) or "POST" not in handler.http_methods:
        return False
    if not is_api_path(path) or is_public(handler):
        return False
    return bool(handler.opt.get("idempotent", handler.status_code == HTTP_201_CREATED))


def request_fingerprint(method: str, path: str, body: bytes, content_type: str = "") -> str:
    """JSON is compared as data (key order and whitespace do not matter); any other body byte for byte,
    except a multipart body's boundary, which a client draws anew for each attempt: the same upload sent
    again is the same request."""
    boundary = _boundary(content_type)
    if boundary:
        body = body.replace(b"--" + boundary, b"--")
    try:
        data: Any = msgspec.json.decode(body) if body else None
    except msgspec.DecodeError:
        data = hashlib.sha256(body).hexdigest()
    return idempotency.fingerprint(method, path, data)


def _boundary(content_type: str) -> bytes | None:
    """The boundary of a multipart/* content type, as the body spells it."""
    kind, _, rest = content_type.partition(";")
    if not kind.strip().lower().startswith("multipart/"):
        return None
    for parameter in rest.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary" and value.strip().strip('"'):
            return value.strip().strip('"').encode("latin-1", "replace")
    return None


class Replayed(Exception):
    def __init__(self, saved: idempotency.SavedResponse) -> None:
        super().__init__("replayed")
        self.saved = saved


async def claim(request: Request[Any, Any, Any], session: AsyncSession, actor: Actor) -> None:
    """Called by the unit of work before the handler; raises Replayed when the key was answered."""
    key = request.headers.get(idempotency.HEADER)
    if key is None or not is_creating(request.route_handler, request.url.path):
        return
    content_type = request.headers.get("content-type", "")
    fingerprint = request_fingerprint(request.method, request.url.path, await request.body(), content_type)
    claimed = await idempotency.claim(session, actor, key, fingerprint)
    if isinstance(claimed, idempotency.SavedResponse):
        raise Replayed(claimed)
    request.state[_CLAIM] = claimed


def check_answered(request: Request[Any, Any, Any]) -> None:
    """Called by the unit of work before commit: a claim left without its response would replay nothing."""
    claimed = request.state.get(_CLAIM)
    if claimed is not None and claimed.status_code is None:
        raise ConfigurationError(f"{request.method} {request.url.path} answered without PortalResponse")


def replay(request: Request[Any, Any, Any], exc: Replayed) -> Response[bytes]:
    saved = exc.saved
    return Response(
        saved.body, status_code=saved.status_code, media_type=MediaType.JSON, headers={REPLAYED_HEADER: "true"}
    )


class PortalResponse(Response[Any]):
    """The application's response class: renders as Litestar does, and saves a creating request's
    response onto its idempotency claim."""

    def to_asgi_response(self, app: Litestar | None, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        response = super().to_asgi_response(app, request, **kwargs)
        claimed = request.state.get(_CLAIM)
        if claimed is not None and claimed.status_code is None:
            withheld = _carries_secret(request.route_handler, response.body)
            claimed.status_code = response.status_code
            claimed.response_body = None if withheld else response.body
        return response


def check_creating_routes(app: Litestar) -> None:
    """Refuse to start if a creating route could answer past its claim: it must run in the unit of work
    (`db`) and return data, which PortalResponse renders, rather than a Response of its own."""
    wrong = []
    for route in app.routes:
        for handler in _handlers(route):
            if not is_creating(handler, route.path):
                continue
            signature = handler.parsed_fn_signature
            returns_response = signature.return_type.is_subclass_of(Response)
            if "db" not in signature.parameters or returns_response:
                wrong.append(f"POST {route.path}")
    if wrong:
        raise ConfigurationError("creating routes outside the idempotency mechanism: " + ", ".join(sorted(wrong)))


def _handlers(route: Any) -> Iterable[BaseRouteHandler]:
    return getattr(route, "route_handlers", ())
