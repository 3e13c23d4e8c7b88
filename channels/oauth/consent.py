"""The authorization endpoint, a page of the workspace's partner portal: `/p/<workspace>/oauth/authorize`.

A partner not signed in to this portal is sent to its sign-in page and back (the request's query travels in
`next`). The request is checked by Authlib (client, exact redirect URI, response type, scope, PKCE S256);
what fails before the redirect URI is known to be the client's is shown here, anything after goes back to
the client as OAuth says. Then the person consents on this page, in their language, or refuses. A
confidential client's consent is remembered per person for the scopes given; a public client (an app on a
phone, whose redirect another app could claim) is asked every time (RFC 9700 §4.1.2 / RFC 8252 §8.6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from litestar import Request, Response, get, post
from litestar.response import Template
from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.oauth.litestar import PortalOAuth2Request, oauth_request
from channels.oauth.models import Consent
from channels.oauth.scopes import normalised, scope_description, scope_label
from channels.oauth.server import Grantor, RegisteredClient, WorkspaceServer
from channels.oauth.service import OAuth
from interconnect.pages.workspace import CurrentPortal, partner_portal_router
from portal.actor import Actor
from portal.errors import DomainError, PermissionDenied
from portal.http.context import sign_in_client
from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.http.headers import content_security_policy
from portal.i18n import N_
from portal.ids import uuid7
from portal.permissions import signed_in

AnyRequest = Request[Any, Any, Any]


class AuthorizationRefused(DomainError):
    """A request that cannot go back to the client (its client or redirect URI is not known to be right)."""

    status, code, title = 400, "authorization_request_invalid", N_("This sign-in request cannot be answered")


@dataclass(frozen=True)
class Asking:
    """What the consent page shows: the client, and the scopes it asks for."""

    client: RegisteredClient
    scope: str
    redirect_uri: str


def _refusal(server: WorkspaceServer, request: OAuth2Request, error: OAuth2Error) -> Response[bytes]:
    if error.redirect_uri:  # the client and its redirect URI were checked: the client hears of it
        return server.handle_error_response(request, error)
    if isinstance(error, InvalidClientError):
        raise AuthorizationRefused(N_("This application is not registered with this portal, or it was disabled."))
    raise AuthorizationRefused(
        N_("The application sent a sign-in request this portal cannot answer (%(error)s). Ask its maker."),
        error=error.error,
    )


def _remembered(session: Session, client: RegisteredClient, actor: Actor, scope: str) -> bool:
    if client.row.kind != "confidential":
        return False
    given = session.scalar(
        select(Consent.scope).where(Consent.client_id == client.row.id, Consent.membership_id == actor.user_id)
    )
    return given is not None and set(scope.split()) <= set(given.split())


def _remember(session: Session, client: RegisteredClient, actor: Actor, scope: str) -> None:
    if client.row.kind != "confidential":
        return
    consent = session.scalar(
        select(Consent).where(Consent.client_id == client.row.id, Consent.membership_id == actor.user_id)
    )
    if consent is None:
        session.add(Consent(id=uuid7(), client_id=client.row.id, membership_id=actor.user_id, scope=scope))
    else:
        consent.scope = normalised([*consent.scope.split(), *scope.split()])


def _grant(server: WorkspaceServer, request: PortalOAuth2Request, grantor: Grantor) -> AuthorizationCodeGrant:
    return server.get_consent_grant(request, end_user=grantor)


def _to_client(response: Response[bytes], issuer: str, *, answers_form: bool = False) -> Response[bytes]:
    """Every answer that goes back to the client names the issuer (RFC 9207), so a client that talks to
    several authorization servers can tell which one answered (mix-up attacks, RFC 9700 §4.4). A redirect
    that answers a form is a 303 (RFC 9700 §4.11): the browser must not post the form again."""
    location = response.headers.get("Location")
    if location:
        response.headers["Location"] = add_params_to_uri(location, [("iss", issuer)])
        if answers_form and response.status_code == 302:
            response.status_code = 303
    return response


async def _oauth_request(request: AnyRequest, oauth: OAuth) -> PortalOAuth2Request:
    try:
        return await oauth_request(request, oauth.public_url(request), with_query=True)
    except OAuth2Error as error:  # plain http on a public address (Authlib's transport check)
        raise AuthorizationRefused(N_("Sign-in for applications needs https.")) from error


# a scheme, or a scheme and a host (and port): nothing that could end the directive or start another
_SOURCE = re.compile(r"[a-z][a-z0-9+.\-]*:(//[A-Za-z0-9.\-]+(:[0-9]+)?|//\[[0-9A-Fa-f:]+\](:[0-9]+)?)?")


def form_target(redirect_uri: str) -> tuple[str, ...]:
    """Where the consent form's answer is redirected, as a CSP source: the redirect URI's origin, or an
    app's own scheme."""
    parts = urlsplit(redirect_uri)
    scheme = parts.scheme.lower()
    source = f"{scheme}://{parts.netloc.rsplit('@', 1)[-1]}" if scheme in ("http", "https") else f"{scheme}:"
    return (source,) if _SOURCE.fullmatch(source) else ()


def _refuse_preview(actor: Actor) -> None:
    if actor.preview:
        raise PermissionDenied(N_("This is a read-only preview"), code="preview_read_only")


# writes: a remembered consent issues its code at once
@get("/oauth/authorize", opt={**signed_in("external"), "writes": True}, include_in_schema=False)
async def authorize(
    request: AnyRequest, db: DB, actor: CurrentActor, portal: CurrentPortal, services: ServicesDep
) -> Template | Response[bytes]:
    _refuse_preview(actor)
    oauth: OAuth = services.extensions["oauth"]
    oreq = await _oauth_request(request, oauth)
    grantor = Grantor(actor.user_id)

    def consult(server: WorkspaceServer) -> Asking | Response[bytes]:
        try:
            grant = _grant(server, oreq, grantor)
        except OAuth2Error as error:
            return _refusal(server, oreq, error)
        client = cast(RegisteredClient, grant.client)
        scope = normalised(oreq.scope)
        if _remembered(server.session, client, actor, scope):
            return server.create_authorization_response(oreq, grant_user=grantor, grant=grant)
        return Asking(client, scope, grant.redirect_uri)

    found = await oauth.run(db, actor.tenant_id, portal.workspace.slug, sign_in_client(request), consult)
    if isinstance(found, Response):
        return _to_client(found, oauth.issuer(portal.workspace.slug))
    return Template(
        "channels/portal/consent.html",
        context={
            **portal.frame,
            "client": found.client.row,
            "scopes": [(scope_label(s), scope_description(s)) for s in found.scope.split()],
            "redirect_host": urlsplit(found.redirect_uri).netloc or urlsplit(found.redirect_uri).scheme,
            "action": f"{request.url.path}?{request.url.query}",
        },
        headers={"Content-Security-Policy": content_security_policy(form_target(found.redirect_uri))},
    )


@post("/oauth/authorize", opt=signed_in("external"), include_in_schema=False)
async def decide(
    request: AnyRequest, db: DB, actor: CurrentActor, portal: CurrentPortal, services: ServicesDep
) -> Response[bytes]:
    """The person's answer: "allow" issues a code to the client's redirect URI, anything else tells the
    client access was denied."""
    _refuse_preview(actor)
    oauth: OAuth = services.extensions["oauth"]
    oreq = await _oauth_request(request, oauth)
    allowed = oreq.form.get("decision") == "allow"
    grantor = Grantor(actor.user_id)

    def answer(server: WorkspaceServer) -> Response[bytes]:
        try:
            grant = _grant(server, oreq, grantor)
        except OAuth2Error as error:
            return _refusal(server, oreq, error)
        if allowed:
            _remember(server.session, cast(RegisteredClient, grant.client), actor, normalised(oreq.scope))
        return server.create_authorization_response(oreq, grant_user=grantor if allowed else None, grant=grant)

    answered = await oauth.run(db, actor.tenant_id, portal.workspace.slug, sign_in_client(request), answer)
    return _to_client(answered, oauth.issuer(portal.workspace.slug), answers_form=True)


PAGES = [partner_portal_router([authorize, decide])]
