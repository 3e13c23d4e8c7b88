"""The OAuth 2.1 authorization server of one workspace, built on Authlib's classes: the authorization code
grant with PKCE (S256 only), the refresh token grant with rotation and reuse detection, revocation (RFC 7009)
and introspection (RFC 7662). No implicit, password or client credentials grant is registered.

Authlib is synchronous and the portal's database work asynchronous, so a server is made for one request and
called inside `AsyncSession.run_sync` (channels.oauth.endpoints): its callbacks read and write through the
synchronous face of the request's own unit of work, in the workspace's tenant, with every tenancy hook and
row-level security in force.

A token family is the kernel's session row (portal.identity.sessions): the access token is the kernel's
short-lived JWT naming it and the refresh token its rotating secret, so the partner API looks an OAuth token
up exactly as a password-issued one (the same actor, roles and field rules), limited to the granted scopes.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    AuthorizationServer,
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from litestar import Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels.oauth import redirects
from channels.oauth.litestar import to_response
from channels.oauth.models import AuthorizationCode, OAuthClient
from channels.oauth.scopes import SCOPE_KEYS, normalised
from interconnect.access import MEMBERSHIP_THAT_MAY_ACT, USER_KIND
from portal.actor import Channel
from portal.db.types import utcnow
from portal.identity import tokens
from portal.identity.models import AuthSession
from portal.identity.sessions import OpenedSession, Sessions
from portal.identity.throttle import SignInClient
from portal.ids import uuid7

# RFC 6749 §4.1.2 recommends ten minutes at most; an app exchanges its code within seconds
CODE_SECONDS = 60
GRANT_TYPES = ("authorization_code", "refresh_token")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass
class Grantor:
    """The resource owner as Authlib's grants carry it ("user"): a partner's membership of this workspace,
    and the token family the grant issues or rotates."""

    membership_id: uuid.UUID
    family: AuthSession | None = None


@dataclass(frozen=True)
class RegisteredClient(ClientMixin):  # type: ignore[misc]
    row: OAuthClient

    def get_client_id(self) -> str:
        return str(self.row.id)

    def get_default_redirect_uri(self) -> str | None:
        # a request may leave out redirect_uri only when the client registered exactly one
        return self.row.redirect_uris[0] if len(self.row.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """No scope asked for: all the client may have. A scope it may not have: refused (invalid_scope)."""
        if not scope:
            return normalised(self.row.scopes)
        asked = scope.split()
        return normalised(asked) if set(asked) <= set(self.row.scopes) else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact, whole-string match; only a phone app's loopback URI may name another port (RFC 8252 §7.3)."""
        if redirect_uri in self.row.redirect_uris:
            return True
        return self.row.kind == "public" and any(
            redirects.same_loopback_but_port(redirect_uri, uri) for uri in self.row.redirect_uris
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return self.row.secret_hash is not None and tokens.same_digest(client_secret, self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # a public client cannot keep a secret: it identifies itself only; a confidential one must prove it
        return method == "none" if self.row.kind == "public" else method in SECRET_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


@dataclass(frozen=True)
class IssuedCode(AuthorizationCodeMixin):  # type: ignore[misc]
    row: AuthorizationCode

    def get_redirect_uri(self) -> str | None:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


@dataclass(frozen=True)
class FamilyToken(TokenMixin):  # type: ignore[misc]
    """An access or refresh token, as the family (session row) it belongs to."""

    row: AuthSession
    kind: str  # "access_token" or "refresh_token"
    issued_at: int
    expires_at: int

    def check_client(self, client: RegisteredClient) -> bool:
        return self.row.client_id == client.row.id

    def get_scope(self) -> str:
        return self.row.scope or ""

    def get_expires_in(self) -> int:
        return max(0, self.expires_at - int(time.time()))

    def is_expired(self) -> bool:
        return self.expires_at <= time.time() or self.row.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE on every authorization request, public and confidential clients alike (OAuth 2.1), with the
    S256 method only: a `plain` challenge is the verifier itself, and protects nothing once seen."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: AuthorizationCodeGrant, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("Only code_challenge_method=S256 is supported.")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: IssuedCode) -> str:
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: IssuedCode) -> str:
        return authorization_code.row.code_challenge_method


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]
    server: WorkspaceServer

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        grantor = cast(Grantor, request.user)
        self.server.session.add(
            AuthorizationCode(
                id=uuid7(),
                code_hash=tokens.digest(code),
                client_id=request.client.row.id,
                membership_id=grantor.membership_id,
                redirect_uri=request.payload.redirect_uri,
                scope=normalised(request.scope),
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                expires_at=utcnow() + timedelta(seconds=CODE_SECONDS),
            )
        )

    def query_authorization_code(self, code: str, client: RegisteredClient) -> IssuedCode | None:
        return self.server.redeem_code(code, client)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        # The code was spent when it was looked up; what is left is to remember the family it became, which
        # a second use of the code revokes.
        family = cast(Grantor, self.request.user).family
        authorization_code.row.session_id = family.id if family is not None else None

    def authenticate_user(self, authorization_code: IssuedCode) -> Grantor | None:
        membership_id = authorization_code.row.membership_id
        return Grantor(membership_id) if self.server.may_act(membership_id) else None


class RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    """Every refresh rotates the family's refresh token; presenting a spent one revokes the family
    (RFC 9700 §4.14.2): whoever holds the other copy, thief or rightful app, must sign in again."""

    TOKEN_ENDPOINT_AUTH_METHODS = [*SECRET_METHODS, "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True
    server: WorkspaceServer

    def authenticate_refresh_token(self, refresh_token: str) -> FamilyToken | None:
        return self.server.refresh_family(refresh_token)

    def authenticate_user(self, refresh_token: FamilyToken) -> Grantor:
        row = refresh_token.row
        if not self.server.may_act(row.user_id):
            raise InvalidGrantError("This person may no longer act in this workspace.")
        return Grantor(row.user_id, family=row)

    def revoke_old_credential(self, refresh_token: FamilyToken) -> None:
        """Nothing is left to do: rotating the family's secret (the token generator) spent the old token."""


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009: a client ends a family by presenting either of its tokens; a token that is unknown or spent
    is answered 200 all the same and nothing happens; another client's token is refused (invalid_grant)."""

    CLIENT_AUTH_METHODS = [*SECRET_METHODS, "none"]
    server: WorkspaceServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> FamilyToken | None:
        return self.server.find_token(token_string)

    def revoke_token(self, token: FamilyToken, request: OAuth2Request) -> None:
        self.server.end_family(token.row.id, "revoked_by_client")


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    """RFC 7662, for resource servers: confidential clients only, which authenticate with their secret. A
    token is active when the partner API would accept it now: its family live, the person still allowed."""

    CLIENT_AUTH_METHODS = list(SECRET_METHODS)
    server: WorkspaceServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> FamilyToken | None:
        token = self.server.find_token(token_string)
        return token if token is not None and self.server.may_act(token.row.user_id) else None

    def check_permission(self, token: FamilyToken, client: RegisteredClient, request: OAuth2Request) -> bool:
        return client.row.kind == "confidential"

    def introspect_token(self, token: FamilyToken) -> dict[str, Any]:
        row = token.row
        found: dict[str, Any] = {
            "active": True,
            "client_id": str(row.client_id),
            "scope": row.scope or "",
            "sub": str(row.user_id),
            "iss": self.server.issuer,
            "exp": token.expires_at,
            "iat": token.issued_at,
            "channel": row.channel,
        }
        if token.kind == "access_token":
            found["token_type"] = "Bearer"
        return found


class WorkspaceServer(AuthorizationServer):  # type: ignore[misc]
    """One workspace's authorization server, for one request, on the synchronous face of its unit of work."""

    def __init__(
        self, session: Session, tenant_id: uuid.UUID, issuer: str, sessions: Sessions, caller: SignInClient
    ) -> None:
        super().__init__(scopes_supported=list(SCOPE_KEYS))
        self.session = session
        self.tenant_id = tenant_id
        self.issuer = issuer
        self.sessions = sessions
        self.caller = caller
        self._clients: dict[str, RegisteredClient | None] = {}
        self.register_token_generator("default", self.generate_bearer)
        self.register_grant(CodeGrant, [S256Only()])
        self.register_grant(RefreshGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    # --- what Authlib asks of a framework integration --------------------------------------------------

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # built before the server was (channels.oauth.litestar.oauth_request)

    def handle_response(self, status: int, body: Any, headers: Any) -> Response[bytes]:
        return to_response(status, body, headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Nothing listens to Authlib's signals here: what changed is in the unit of work (and its audit)."""

    def query_client(self, client_id: str) -> RegisteredClient | None:
        """An active client of this workspace; a client of another workspace is simply not found here."""
        if client_id not in self._clients:
            try:
                key = uuid.UUID(str(client_id))
            except ValueError:
                self._clients[client_id] = None
            else:
                row = self.session.scalar(
                    select(OAuthClient).where(OAuthClient.id == key, OAuthClient.status == "active")
                )
                self._clients[client_id] = None if row is None else RegisteredClient(row)
        return self._clients[client_id]

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing is left to save: a token is its family's session row, which the generator made or rotated
        (the access token names the row, so the row is made with the token)."""

    def generate_bearer(
        self,
        grant_type: str,
        client: RegisteredClient,
        user: Grantor,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """A new family for a code, the family rotated for a refresh (a narrower scope narrows the family)."""
        granted = normalised(scope)
        if user.family is None:
            opened = self.sessions.issue(
                self.tenant_id,
                user.membership_id,
                USER_KIND,
                cast(Channel, client.row.channel),
                self.caller.user_agent,
                self.caller.address,
                client_id=client.row.id,
                scope=granted,
            )
            self.session.add(opened.session)
            user.family = opened.session
        else:
            user.family.scope = granted
            opened = OpenedSession(user.family, self.sessions.rotate(user.family))
        pair = self.sessions.token_pair(opened)
        return {
            "token_type": "Bearer",
            "access_token": pair.access_token,
            "expires_in": pair.expires_in,
            "refresh_token": pair.refresh_token,
            "scope": granted,
        }

    # --- codes, families and people ---------------------------------------------------------------------

    def may_act(self, membership_id: uuid.UUID) -> bool:
        """The partner API's own rule (interconnect's session loader): an active membership whose enterprise
        link, if any, is active."""
        return self.session.execute(MEMBERSHIP_THAT_MAY_ACT, {"membership_id": membership_id}).first() is not None

    def redeem_code(self, code: str, client: RegisteredClient) -> IssuedCode | None:
        """Spend a code of this client, once. A code presented again revokes the family it was exchanged for
        (RFC 6749 §4.1.2): one of the two presenters is not the app it was issued to."""
        row = self.session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == tokens.digest(code)))
        if row is None or row.client_id != client.row.id:
            return None
        now = utcnow()
        if row.used_at is None and row.expires_at > now:
            spent = self.session.execute(
                update(AuthorizationCode)
                .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            if spent.rowcount == 1:  # type: ignore[attr-defined]
                return IssuedCode(row)
        elif row.used_at is not None and row.session_id is not None:
            self.end_family(row.session_id, "authorization_code_reused")
        return None

    def refresh_family(self, refresh_token: str) -> FamilyToken | None:
        """The live family whose current refresh token this is, locked until the rotation commits. A spent
        token of a live family revokes it."""
        cred = tokens.parse_credential(refresh_token, tokens.REFRESH_PREFIX)
        if cred is None or cred.tenant_id != self.tenant_id:
            return None
        row = self.session.scalar(
            select(AuthSession)
            .where(AuthSession.id == cred.session_id, AuthSession.client_id.is_not(None))
            .with_for_update()
        )
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            return None
        if not tokens.same_digest(cred.secret, row.secret_hash):
            self.end_family(row.id, "refresh_token_reused")
            return None
        return FamilyToken(row, "refresh_token", int(row.created_at.timestamp()), int(row.expires_at.timestamp()))

    def find_token(self, value: str) -> FamilyToken | None:
        """The family of an OAuth access token or of a current refresh token of this workspace. Tokens of the
        password sign-in are no OAuth client's: not found."""
        if value.startswith(tokens.REFRESH_PREFIX):
            cred = tokens.parse_credential(value, tokens.REFRESH_PREFIX)
            if cred is None or cred.tenant_id != self.tenant_id:
                return None
            row = self._family(cred.session_id)
            if row is None or not tokens.same_digest(cred.secret, row.secret_hash):
                return None
            return FamilyToken(row, "refresh_token", int(row.created_at.timestamp()), int(row.expires_at.timestamp()))
        claims = self.sessions.access_tokens.read(value)
        if claims is None or claims.tenant_id != self.tenant_id:
            return None
        row = self._family(claims.session_id)
        if row is None or row.user_id != claims.user_id:
            return None
        return FamilyToken(row, "access_token", claims.issued_at, claims.expires_at)

    def _family(self, session_id: uuid.UUID) -> AuthSession | None:
        return self.session.scalar(
            select(AuthSession).where(AuthSession.id == session_id, AuthSession.client_id.is_not(None))
        )

    def end_family(self, session_id: uuid.UUID, reason: str) -> None:
        self.session.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
            .execution_options(synchronize_session="fetch")
        )
