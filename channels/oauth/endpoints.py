"""The OAuth endpoints clients call: token, revocation and introspection under `/api/oauth/<workspace>/`, and
each workspace's RFC 8414 metadata at `/.well-known/oauth-authorization-server/p/<workspace>` (its issuer
being `<base URL>/p/<workspace>`).

They are public routes: a client authenticates as OAuth says (its client_id, and a confidential client its
secret), not with a bearer token. They answer in OAuth's own JSON (`error`, `error_description`), not problem
details, and are left out of the OpenAPI document: the metadata describes them. A client is looked up in the
workspace of the path only, so a client of another workspace is unknown here (invalid_client).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from litestar import Request, Response, get, post
from litestar.params import FromPath

from channels.oauth.litestar import PortalOAuth2Request, oauth_request, to_response
from channels.oauth.server import WorkspaceServer
from channels.oauth.service import OAuth
from interconnect.services import Interconnect
from portal.db.context import tenant_context
from portal.db.tenancy import within
from portal.http.context import sign_in_client
from portal.http.deps import DB, ServicesDep
from portal.permissions import public

AnyRequest = Request[Any, Any, Any]
Work = Callable[[WorkspaceServer, PortalOAuth2Request], Response[bytes]]


async def _answer(request: AnyRequest, db: DB, services: ServicesDep, workspace: str, work: Work) -> Response[bytes]:
    oauth: OAuth = services.extensions["oauth"]
    interconnect: Interconnect = services.extensions["interconnect"]
    found = await interconnect.access.workspace(db, workspace)
    try:
        oreq = await oauth_request(request, oauth.public_url(request), with_query=False)
    except OAuth2Error as error:  # plain http on a public address (Authlib's transport check)
        return to_response(*error())
    async with within(db, tenant_context(found.tenant_id, channel="oauth")):
        return await oauth.run(db, found.tenant_id, found.slug, sign_in_client(request), lambda s: work(s, oreq))


@post("/api/oauth/{workspace:str}/token", opt=public(), status_code=200, include_in_schema=False)
async def token(workspace: FromPath[str], request: AnyRequest, db: DB, services: ServicesDep) -> Response[bytes]:
    """authorization_code (with the PKCE verifier) and refresh_token grants."""
    return await _answer(request, db, services, workspace, lambda server, r: server.create_token_response(r))


@post("/api/oauth/{workspace:str}/revoke", opt=public(), status_code=200, include_in_schema=False)
async def revoke(workspace: FromPath[str], request: AnyRequest, db: DB, services: ServicesDep) -> Response[bytes]:
    """RFC 7009: either token of a family ends the whole family."""
    return await _answer(
        request, db, services, workspace, lambda server, r: server.create_endpoint_response("revocation", r)
    )


@post("/api/oauth/{workspace:str}/introspect", opt=public(), status_code=200, include_in_schema=False)
async def introspect(workspace: FromPath[str], request: AnyRequest, db: DB, services: ServicesDep) -> Response[bytes]:
    """RFC 7662, for resource servers authenticating as confidential clients."""
    return await _answer(
        request, db, services, workspace, lambda server, r: server.create_endpoint_response("introspection", r)
    )


@get("/.well-known/oauth-authorization-server/p/{workspace:str}", opt=public(), include_in_schema=False)
async def metadata(workspace: FromPath[str], db: DB, services: ServicesDep) -> dict[str, Any]:
    """RFC 8414 §3: the metadata of the issuer `<base URL>/p/<workspace>`."""
    interconnect: Interconnect = services.extensions["interconnect"]
    found = await interconnect.access.workspace(db, workspace)
    oauth: OAuth = services.extensions["oauth"]
    return oauth.metadata(found.slug)


ENDPOINTS = [token, revoke, introspect, metadata]
