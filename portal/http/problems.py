"""The one error mapper: every exception becomes RFC 9457 problem details on the API and a readable,
translated page everywhere else. Nothing else in the code base builds an error response."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from sqlalchemy.exc import IntegrityError

from portal.actor import Actor
from portal.errors import DomainError, FieldError, NotAuthenticated, Throttled, ValidationFailed
from portal.http.context import activate_language, is_api_path
from portal.http.hosts import page_address
from portal.i18n import N_, gettext

log = logging.getLogger("portal.errors")

PROBLEM_JSON = "application/problem+json"
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_HTTP_CODES: dict[int, tuple[str, str]] = {
    400: ("malformed_request", N_("The request could not be read")),
    401: ("not_authenticated", N_("Authentication required")),
    403: ("permission_denied", N_("You do not have permission to do this")),
    404: ("not_found", N_("Not found")),
    405: ("method_not_allowed", N_("This method is not allowed here")),
    409: ("conflict", N_("The request conflicts with the current state")),
    413: ("payload_too_large", N_("The request body is too large")),
    415: ("unsupported_media_type", N_("Unsupported media type")),
    429: ("too_many_requests", N_("Too many requests")),
    500: ("internal_error", N_("Something went wrong on our side")),
}


def _from_litestar(exc: HTTPException) -> DomainError:
    status = exc.status_code
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list) and exc.extra:
        errors = []
        for item in exc.extra:
            message = str(item.get("message", "is invalid"))
            field = str(item.get("key") or "body")
            unknown = _UNKNOWN_FIELD.search(message)
            missing = _MISSING_FIELD.search(message)
            code = "invalid"
            if unknown:
                field, message, code = unknown.group(1), N_("is not a known field"), "unknown_field"
            elif missing:
                field, message, code = missing.group(1), N_("is required"), "required"
            errors.append(FieldError(field, message, code))
        return ValidationFailed(errors)
    code, title = _HTTP_CODES.get(status, ("http_error", exc.detail or "Error"))
    error = DomainError(code=code)
    error.status, error.title = status, title
    detail = exc.detail or title
    if status == 403 and "CSRF" in detail:
        error.code, error.detail = "csrf_failed", N_("The form expired or was sent from another site; please try again")
    elif status == 400 and detail:
        error.detail = detail
    else:
        error.detail = title
    return error


def to_domain_error(exc: Exception) -> DomainError:
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, HTTPException):
        return _from_litestar(exc)
    if isinstance(exc, UnicodeDecodeError):
        # raised while reading the request (a multipart field that is not UTF-8): the client's to fix
        error = DomainError(N_("The request body is not valid UTF-8"), code="malformed_request")
        error.status, error.title = 400, _HTTP_CODES[400][1]
        return error
    if isinstance(exc, IntegrityError):
        error = DomainError(N_("The request conflicts with existing data"), code="conflict")
        error.status, error.title = 409, _HTTP_CODES[409][1]
        return error
    log.exception("unhandled error", exc_info=exc)
    error = DomainError(_HTTP_CODES[500][1], code="internal_error")
    error.status, error.title = 500, _HTTP_CODES[500][1]
    return error


class FieldProblem(msgspec.Struct):
    field: str
    message: str
    code: str


class ProblemDetails(msgspec.Struct, omit_defaults=True):
    """The body of every error of the API (RFC 9457), as the OpenAPI document shows it."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str
    errors: list[FieldProblem] | None = None  # field-level errors of validation_failed only


def problem_body(error: DomainError, instance: str) -> dict[str, Any]:
    errors = None
    if isinstance(error, ValidationFailed):
        errors = [FieldProblem(e.field, e.text, e.code) for e in error.errors]
    body = ProblemDetails(
        f"urn:portal:problem:{error.code}", error.title, error.status, error.text, error.code, instance, errors
    )
    return msgspec.to_builtins(body)


@dataclass(frozen=True, slots=True)
class PortalFrame:
    """What the shell's header needs to draw a partner portal around an error page."""

    tenant_id: uuid.UUID
    slug: str
    name: str


def portal_frame(path: str, actor: Actor | None) -> PortalFrame | None:
    """An error inside the partner portal of the signed-in partner keeps that portal's brand and menu;
    another tenant's portal shows no more than before (the visitor is not signed in there)."""
    if actor is None or actor.kind != "external" or not actor.tenant_slug:
        return None
    if not path.startswith(f"/p/{actor.tenant_slug}/"):
        return None
    return PortalFrame(actor.tenant_id, actor.tenant_slug, actor.tenant_name)


def _path_and_query(request: Request[Any, Any, Any]) -> str:
    """Where a visitor sent to sign in comes back to: the page with its query (an OAuth authorization
    request is all query)."""
    # on a partner domain, the domain's own path (no /p/<slug>): the sign-in there maps it back in
    return page_address(request)


def _form_page(request: Request[Any, Any, Any]) -> str | None:
    """The page whose form sent what was refused before any handler saw it (the kernel's input checks):
    a link back to it, where the browser keeps what was typed. Only a page of this site."""
    referer = urlsplit(request.headers.get("referer", ""))
    if request.method != "POST" or referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return None
    return referer.path + (f"?{referer.query}" if referer.query else "")


def _is_console(path: str) -> bool:
    return path == "/console" or path.startswith("/console/")


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error = to_domain_error(exc)
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Throttled) else {}
    if is_api_path(request.url.path) or request.url.path == "/health":
        return Response(
            content=problem_body(error, request.url.path),
            status_code=error.status,
            media_type=PROBLEM_JSON,
            headers=headers,
        )
    if "language" not in request.scope.get("state", {}):
        activate_language(request.scope, request.scope.get("user"))
    if isinstance(error, NotAuthenticated) and request.method in ("GET", "HEAD"):
        return Redirect(path=f"/login?next={quote(_path_and_query(request))}")
    actor = request.scope.get("user")
    partner_in_console = actor is not None and actor.kind == "external" and _is_console(request.url.path)
    if error.status == 403 and request.method in ("GET", "HEAD") and partner_in_console:
        return Redirect(path=f"/login?next={quote(request.url.path)}")  # the console needs a staff sign-in
    frame = portal_frame(request.url.path, request.scope.get("user"))
    return Template(
        template_name="error.html",
        context={
            **({"portal": frame} if frame is not None else {}),
            "status": error.status,
            "title": gettext(error.title),
            "detail": gettext(error.detail, **error.params) if error.params else gettext(error.detail),
            "errors": [(e.field, gettext(e.message, **e.params)) for e in getattr(error, "errors", [])],
            "back": _form_page(request) if error.status == 422 else None,
        },
        status_code=error.status,
        headers=headers,
        media_type=MediaType.HTML,
    )
