"""The API's OpenAPI document, made honest in one place: bearer security on every route that needs a
sign-in, and the problem details (RFC 9457) each operation can answer instead of Litestar's own
`{status_code, detail, extra}` error body, which the error mapper never sends.

Which errors an operation documents follows from what it declares: a body can be unreadable (400), too
large (413) or of another media type (415); parameters and bodies can be invalid (422); a sign-in can be
missing or ended (401) or lack the permission (403); a path names a record that may not exist (404); a
write can conflict (409). A route adds what only it gives with `public(401, 429)` or
`requires(..., problems=(...))`.

Every JSON answer has a declared type (msgspec Structs), so the document shows each field of each 2xx
response; a file download (a handler whose media type is not JSON) is documented as binary content of
that media type.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Litestar, MediaType
from litestar.constants import RESERVED_KWARGS
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)

from portal.http.context import is_api_path
from portal.http.guard import is_public
from portal.http.problems import PROBLEM_JSON, ProblemDetails

BEARER = "bearer"
COMPONENTS = Components(
    security_schemes={
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="An access token from /api/auth/token (staff) or /api/partner/auth/token (partners).",
        )
    }
)

DESCRIPTIONS = {
    400: "The body could not be read (malformed_request)",
    401: "Not signed in, or the sign-in was refused or has ended",
    403: "The sign-in lacks the permission, or belongs to the other side (staff / partner)",
    404: "No such record, or one of another tenant or outside the caller's data scope",
    409: "Conflicts with the current state (conflict, idempotency_key_reused, …)",
    410: "No longer usable: a spent, expired or withdrawn link or invitation",
    413: "The body is too large (payload_too_large)",
    415: "The body is not of a media type this operation reads",
    422: "Invalid fields (validation_failed, with errors[])",
    429: "Too many attempts (too_many_attempts), with Retry-After",
}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def problems_of(handler: HTTPRouteHandler, path: str) -> set[int]:
    """The error statuses an operation of the API can answer."""
    signature = handler.parsed_fn_signature.parameters
    dependencies = handler.resolve_dependencies()
    parameters = [n for n in signature if n not in dependencies and n not in RESERVED_KWARGS]
    has_body = "data" in signature or (
        isinstance(handler.operation_class, type) and issubclass(handler.operation_class, _Upload)
    )
    problems: set[int] = set(handler.opt.get("problems", ()))
    if has_body:
        problems |= {400, 413, 415, 422}
    if parameters or "{" in path:
        problems |= {400, 422}  # Litestar's own parsing of parameters (its 400 body is never sent)
    if not is_public(handler):
        problems |= {401, 403}
    if "{" in path:
        problems.add(404)
    if handler.http_methods & UNSAFE and not is_public(handler):
        problems |= {404, 409}
    return problems


class _Upload(Operation):
    """Marks an operation reading a multipart upload itself."""


def upload_operation(*fields: str) -> type[Operation]:
    """An Operation documenting a multipart upload of `file` (and text `fields`) for a handler that reads
    the form itself, after its own checks, instead of declaring it as `data`."""
    properties = {
        "file": Schema(type=OpenAPIType.STRING, format="binary"),
        **{name: Schema(type=OpenAPIType.STRING) for name in fields},
    }
    form = Schema(type=OpenAPIType.OBJECT, properties=properties, required=["file"])
    body = RequestBody(content={"multipart/form-data": OpenAPIMediaType(schema=form)}, required=True)

    class UploadOperation(_Upload):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.request_body = body

    return UploadOperation


class _Download(Operation):
    """Documents a file download's 2xx content as binary (Litestar renders `bytes` as a plain string)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for status, response in (self.responses or {}).items():
            content = getattr(response, "content", None)
            if status.startswith("2") and content:
                for media in content.values():
                    media.schema = Schema(type=OpenAPIType.STRING, format="binary")


def is_download(handler: HTTPRouteHandler) -> bool:
    media_type = handler.media_type
    value = media_type.value if isinstance(media_type, MediaType) else str(media_type)
    return bool(value) and not value.startswith(MediaType.JSON.value) and not value.startswith("text/")


def document(app: Litestar) -> None:
    """Declare security and problem responses on every API handler before the document is built."""
    for route in app.routes:
        for handler in _handlers(route):
            if not handler.include_in_schema or not is_api_path(route.path):
                continue
            responses = dict(handler.responses or {})
            for status in sorted(problems_of(handler, route.path)):
                responses.setdefault(
                    status,
                    ResponseSpec(
                        data_container=ProblemDetails,
                        media_type=PROBLEM_JSON,
                        description=DESCRIPTIONS[status],
                        generate_examples=False,
                    ),
                )
            handler.responses = responses
            if is_download(handler) and handler.operation_class is Operation:
                handler.operation_class = _Download
            if not is_public(handler):
                handler.security = [{BEARER: []}]


def _handlers(route: Any) -> Iterable[HTTPRouteHandler]:
    return (h for h in getattr(route, "route_handlers", ()) if isinstance(h, HTTPRouteHandler))
