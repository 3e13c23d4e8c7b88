"""What every request's input must be before any handler sees it, in one place.

Text: no NUL, no C0 control character and no DEL in any string of a JSON body, a form, the query string or
the path (PostgreSQL cannot store NUL, and exports cannot carry the others). Tab, newline and carriage return
are allowed only in fields some request schema declares `Multiline`; the pages' forms use the same names as
the API, so a name declared once is multi-line in both.
Numbers: `Int32` is the range of the database's 32-bit integer columns, and list paging is bounded by
`Limit` and `Offset`; the bounds are in the schemas, so the OpenAPI document states them.
Dates: from 1970 to 2100 in any field named like one some route declares a date (portal.http.dates).
Money: no exponent ("1e3" or 1e3) in a JSON field its route's schema declares a Decimal, nor in a form field
named like one some route declares a Decimal; a JSON number there is read from its text, never as a float.
Types: a JSON body is read strictly against its route's schema, for every route: "5" is not a number, 5.0 not
an integer, "true" not a boolean (the framework's own reading would convert them). Query and path parameters
are text by nature and keep being converted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any, get_args, get_origin
from urllib.parse import unquote_to_bytes

import msgspec
from litestar import Litestar, Request
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import ClientException, SerializationException
from litestar.handlers import HTTPRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.params import QueryParameter
from litestar.types import ASGIApp, Receive, Scope, Send
from multipart import MultipartSegment, PushMultipartParser  # type: ignore[import-untyped]

from portal.errors import FieldError, ValidationFailed
from portal.http.dates import app_date_fields, date_error
from portal.http.fields import fields_where
from portal.i18n import N_

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# A whole number that fits the database's 32-bit integer columns, on SQLite as on PostgreSQL.
Int32 = Annotated[int, msgspec.Meta(ge=INT32_MIN, le=INT32_MAX)]
MULTILINE = "multiline"
# A string whose value may span lines: notes, descriptions, addresses.
Multiline = Annotated[str, msgspec.Meta(extra={MULTILINE: True})]

MAX_LIMIT = 200
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, QueryParameter(ge=0, le=INT32_MAX)]
Search = Annotated[str | None, QueryParameter(max_length=200)]

# Lone surrogates too: text holding one cannot be encoded for the database. Bidirectional overrides and
# isolates would let a name display as another (spoofing in lists); line and paragraph separators break a
# one-line field as a newline does.
_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def text_error(field: str, value: str, *, multiline: bool = False) -> FieldError | None:
    if (_MULTI_LINE if multiline else _SINGLE_LINE).search(value) is None:
        return None
    if multiline:
        return FieldError(field, N_("must not contain control characters"), "control_character")
    return FieldError(field, N_("must be one line without control characters"), "control_character")


def whole_number(field: str, value: str) -> int:
    """A number typed into a page's form, within the range `Int32` states for the API."""
    try:
        number = int(value)
    except ValueError:
        raise ValidationFailed.single(field, N_("must be a whole number"), "not_a_number") from None
    if number > INT32_MAX:
        raise ValidationFailed.single(field, N_("must be at most %(limit)s"), "out_of_range", limit=INT32_MAX)
    if number < INT32_MIN:
        raise ValidationFailed.single(field, N_("must be at least %(limit)s"), "out_of_range", limit=INT32_MIN)
    return number


def multiline_fields(annotation: Any) -> set[str]:
    """The names of the fields declared `Multiline` in a request schema and the schemas it holds."""
    return fields_where(annotation, _declares_multiline)


def _declares_multiline(hint: Any) -> bool:
    if get_origin(hint) is Annotated:
        return any(isinstance(m, msgspec.Meta) and (m.extra or {}).get(MULTILINE) for m in hint.__metadata__)
    return any(_declares_multiline(arg) for arg in get_args(hint))


def request_schemas(app: Litestar) -> Iterator[tuple[HTTPRouteHandler, Any]]:
    """Every route handler that reads a body, with the type it declares for it."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            parameter = handler.parsed_fn_signature.parameters.get("data")
            if parameter is not None:
                yield handler, parameter.annotation


def app_multiline_fields(app: Litestar) -> frozenset[str]:
    found: frozenset[str] | None = app.state.get("multiline_fields")
    if found is None:
        found = frozenset(name for _, schema in request_schemas(app) for name in multiline_fields(schema))
        app.state["multiline_fields"] = found
    return found


# A number written with an exponent ("1e3", "2.5E-2"): never how an amount of money is typed.
_EXPONENT = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)\s*[eE]")


def decimal_fields(annotation: Any) -> set[str]:
    """The names of the fields typed Decimal (money, rates) in a request schema and the schemas it holds."""
    return fields_where(annotation, _mentions_decimal)


def _mentions_decimal(annotation: Any) -> bool:
    return annotation is Decimal or any(_mentions_decimal(arg) for arg in get_args(annotation))


def app_decimal_fields(app: Litestar) -> frozenset[str]:
    """Every name some route's body declares a Decimal under: what a page's form (typed by a person, under
    the API's names) is checked against."""
    found: frozenset[str] | None = app.state.get("decimal_fields")
    if found is None:
        found = frozenset(name for _, schema in request_schemas(app) for name in decimal_fields(schema))
        app.state["decimal_fields"] = found
    return found


def handler_decimal_fields(request: Request[Any, Any, Any]) -> frozenset[str]:
    """The names this route's own body schema declares a Decimal under: a JSON body is checked against its
    route's schema only (a peer's or a connector's payload, read raw, carries its figures as it likes)."""
    handler = request.scope.get("route_handler")
    cache: dict[int, frozenset[str]] = request.app.state.setdefault("decimal_fields_by_handler", {})
    found = cache.get(id(handler))
    if found is None:
        parameter = handler.parsed_fn_signature.parameters.get("data") if handler is not None else None
        found = frozenset(decimal_fields(parameter.annotation)) if parameter is not None else frozenset()
        cache[id(handler)] = found
    return found


def decimal_error(field: str, value: str) -> FieldError | None:
    """An amount written with an exponent is refused: "1e3" is not how money is typed; so is one in other
    digits than 0-9 (Arabic-Indic or full-width ones, which Decimal would read as numbers). Anything else
    that is not a number is left to the field's own reading (a page's form says "is not an amount")."""
    if _EXPONENT.match(value) is not None:
        return FieldError(field, N_("must be a plain number, without an exponent"), "invalid")
    if any(c.isdigit() and not c.isascii() for c in value):
        return FieldError(field, N_("must be a plain number, in digits 0-9 with an optional point"), "invalid")
    return None


def _value_error(
    field: str,
    name: str,
    value: str,
    multiline: frozenset[str],
    dates: frozenset[str],
    decimals: frozenset[str] = frozenset(),
) -> FieldError | None:
    """What is wrong with one text of the request (`name` its key, `field` where it is): control
    characters, a date out of range in a field some route declares a date, or an exponent in a field
    some route declares a Decimal (money)."""
    error = text_error(field, value, multiline=name in multiline)
    if error is None and name in dates:
        error = date_error(field, value)
    if error is None and name in decimals:
        error = decimal_error(field, value)
    return error


class JSONNumber(str):
    """A JSON number with a fraction or an exponent, kept as it was written."""


# Numbers kept as text: an exponent is still seen, and nothing is rounded through a float.
_AS_WRITTEN = msgspec.json.Decoder(float_hook=JSONNumber)
_TYPE_ERROR = re.compile(r"Expected `([^`]+)`, got `[^`]+`(?: - at `\$\.?([^`]*)`)?")


def _wrong_type(expected: str) -> tuple[str, str]:
    """The message and code for a value that is not of the type declared ("int | null", "decimal", …)."""
    kinds = set(expected.split(" | ")) - {"null"}
    if kinds == {"int"}:
        return N_("must be a whole number"), "not_a_number"
    if kinds and kinds <= {"int", "float", "decimal"}:
        return N_("must be a number"), "not_a_number"
    if kinds == {"bool"}:
        return N_("must be true or false"), "invalid"
    return N_("is not of the expected type"), "invalid"


def _json_errors(
    value: Any,
    path: str,
    multiline: frozenset[str],
    dates: frozenset[str],
    name: str = "",
    decimals: frozenset[str] = frozenset(),
) -> Iterator[FieldError]:
    if isinstance(value, JSONNumber):
        error = decimal_error(path or "body", value) if name in decimals else None
        if error:
            yield error
    elif isinstance(value, str):
        error = _value_error(path or "body", name, value, multiline, dates, decimals)
        if error:
            yield error
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            error = text_error(path or "body", key)
            if error:
                yield error
            else:
                yield from _json_errors(item, where, multiline, dates, key, decimals)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            where = f"{path}[{index}]" if path else f"[{index}]"
            yield from _json_errors(item, where, multiline, dates, name, decimals)


def _undecodable_field(body: bytes) -> str | None:
    """The name of the first URL-encoded field whose bytes (raw or %-escaped) are not UTF-8: the form
    parser would quietly turn them into other characters."""
    for pair in body.split(b"&"):
        name, _, value = pair.partition(b"=")
        for part in (name, value):
            try:
                unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return unquote_to_bytes(name).decode("utf-8", "replace") or "body"
    return None


def _undecodable_part(body: bytes, boundary: bytes) -> str:
    """The name of the first form field (not a file) whose bytes are not UTF-8; the parser does not say."""
    parser = PushMultipartParser(boundary)
    segment: MultipartSegment | None = None
    data = bytearray()
    try:
        for part in parser.parse(body):
            if isinstance(part, MultipartSegment):
                segment, data = part, bytearray()
            elif part:
                data.extend(part)
            elif segment is not None and not segment.filename:
                try:
                    data.decode(segment.charset or "utf-8")
                except (UnicodeDecodeError, LookupError):
                    return str(segment.name)
    finally:
        parser.close(check_complete=False)
    return "body"


async def input_errors(request: Request[Any, Any, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    dates = app_date_fields(request.app)
    for name, value in request.query_params.multi_items():
        errors.extend(e for e in (text_error(name, name), _value_error(name, name, value, frozenset(), dates)) if e)
    for name, value in request.scope.get("path_params", {}).items():
        if isinstance(value, str) and (error := text_error(name, value)):
            errors.append(error)
    if request.method not in _BODY_METHODS:
        return errors
    multiline = app_multiline_fields(request.app)
    content_type, options = request.content_type
    if content_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
        body = await request.body()  # kept by the request, so the form is parsed from it again if need be
        if content_type == RequestEncodingType.URL_ENCODED and (field := _undecodable_field(body)):
            return [*errors, FieldError(field, N_("is not UTF-8 text"), "invalid_encoding")]
        try:
            form = await request.form()
        except (UnicodeDecodeError, LookupError):
            field = _undecodable_part(body, options.get("boundary", "").encode())
            return [*errors, FieldError(field, N_("is not UTF-8 text"), "invalid_encoding")]
        for name, value in form.multi_items():
            text = value if isinstance(value, str) else value.filename  # an upload's name is kept as text
            if (error := text_error(name, name)) or (
                error := _value_error(name, name, text, multiline, dates, app_decimal_fields(request.app))
            ):
                errors.append(error)
        if errors:
            await form.close()  # the handler that would close its uploads is not reached
    elif (await request.body()).strip():
        # Any other body is read as JSON whatever its declared type, as the handlers' `data` is.
        try:
            await request.json()
            data = _AS_WRITTEN.decode(await request.body())
        except RecursionError:
            raise ClientException(N_("The request body is nested too deeply")) from None
        except SerializationException as error:
            raise ClientException(str(error)) from error
        errors.extend(_json_errors(data, "", multiline, dates, decimals=handler_decimal_fields(request)))
        if not errors:
            errors.extend(await _read_strictly(request))
    return errors


def _json_body_type(request: Request[Any, Any, Any]) -> Any:
    """The type the route declares for a JSON body, or None (no body, or a form)."""
    handler = request.scope.get("route_handler")
    parameter = handler.parsed_fn_signature.parameters.get("data") if handler is not None else None
    if parameter is None:
        return None
    media_type = getattr(parameter.kwarg_definition, "media_type", RequestEncodingType.JSON)
    return parameter.annotation if media_type == RequestEncodingType.JSON else None


async def _read_strictly(request: Request[Any, Any, Any]) -> list[FieldError]:
    """A JSON body read against its route's schema without conversions: the framework reads it leniently
    ("5" as 5), which the API does not promise. What passes is handed on as read, so a Decimal keeps the
    digits it was written with. Only a value of the wrong type is answered here; unknown, missing and
    out-of-range fields are left to the framework's answer."""
    kind = _json_body_type(request)
    if kind is None:
        return []
    body = await request.body()
    try:
        value = msgspec.json.decode(body, type=kind, strict=True)
    except msgspec.ValidationError as error:
        found = _TYPE_ERROR.search(str(error))
        if found is None:
            return []
        expected, field = found.group(1), found.group(2) or "body"
        message, code = _wrong_type(expected)
        return [FieldError(field, message, code)]
    request._connection_state.json = msgspec.to_builtins(value)
    return []


class InputCheckMiddleware(ASGIMiddleware):
    """Refuses control characters and undecodable text before the CSRF check or any handler reads a form."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        # most requests bring nothing to check: a GET without query or path parameters
        brings_input = scope.get("query_string") or scope.get("path_params") or scope.get("method") in _BODY_METHODS
        if brings_input and isinstance(scope.get("route_handler"), HTTPRouteHandler):
            request: Request[Any, Any, Any] = Request(scope, receive, send)
            errors = await input_errors(request)
            if errors:
                raise ValidationFailed(list({e.field: e for e in errors}.values()))
        await next_app(scope, receive, send)
