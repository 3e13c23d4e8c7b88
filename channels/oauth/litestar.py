"""Authlib's authorization server on Litestar: the request as Authlib reads it, and its answer as a response.

Authlib ships integrations for Flask and Django (and clients for Starlette): each wraps the framework's
request in an `OAuth2Request` whose payload is the request's parameters, and turns the (status, body,
headers) Authlib answers with into the framework's response. This is the same for Litestar. Litestar reads
a form asynchronously and Authlib is synchronous, so the form is read first and the request built from it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from litestar import Request, Response

FORM_TYPE = "application/x-www-form-urlencoded"


class PortalPayload(OAuth2Payload):
    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            datalist[key].append(value)
        self._datalist = datalist
        # the first value of each name: a repeated parameter is refused where it matters (Authlib checks
        # the authorization request's parameters against datalist)
        self._data = {key: values[0] for key, values in datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class PortalOAuth2Request(OAuth2Request):
    def __init__(
        self,
        method: str,
        uri: str,
        headers: Mapping[str, str],
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._args = dict(query)
        self._form = dict(form)
        self.payload = PortalPayload([*query, *form])

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


async def oauth_request(request: Request[Any, Any, Any], public_url: str, *, with_query: bool) -> PortalOAuth2Request:
    """The request as Authlib reads it. `public_url` is the address the client used (the deployment's public
    base URL, not what a proxy forwarded), which Authlib checks is https (or loopback). `with_query`: the
    authorization endpoint takes its parameters from the query; the token, revocation and introspection
    endpoints from the form body only (RFC 6749 §3.2)."""
    form: list[tuple[str, str]] = []
    if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM_TYPE):
        form = [(k, v) for k, v in (await request.form()).multi_items() if isinstance(v, str)]
    query = list(request.query_params.multi_items()) if with_query else []
    return PortalOAuth2Request(request.method, public_url, request.headers, query, form)


def to_response(status: int, body: Any, headers: Iterable[tuple[str, str]]) -> Response[bytes]:
    """Authlib's answer as it is: OAuth's own JSON (`error`, `error_description`), not problem details."""
    content = json.dumps(body).encode() if isinstance(body, dict) else (body or "").encode()
    pairs = list(headers)
    media_type = next((v for k, v in pairs if k.lower() == "content-type"), "application/json")
    return Response(
        content=content,
        status_code=status,
        headers={k: v for k, v in pairs if k.lower() != "content-type"},
        media_type=media_type,
    )
