"""Server-side sessions: open on login, look up on every request, rotate refresh tokens, revoke.

A request is authenticated by finding its session row (not revoked, not expired) joined to an active
user of an active tenant, inside that tenant's context. Disabling a user or revoking a session
therefore takes effect on the very next request, in every process.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor, Channel
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.errors import NotAuthenticated
from portal.i18n import N_
from portal.identity import tokens
from portal.identity.models import AuthSession, InternalUser, Tenant
from portal.ids import uuid7


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True, slots=True)
class OpenedSession:
    session: AuthSession
    credential: str


def actor_for(user: InternalUser, session: AuthSession, channel: Channel) -> Actor:
    return Actor(
        user_id=user.id,
        tenant_id=user.tenant_id,
        kind="internal",
        channel=channel,
        display_name=user.display_name,
        email=user.email,
        roles=frozenset({user.role}),
        session_id=session.id,
        locale=user.locale,
    )


class Sessions:
    def __init__(self, db: Database, access_tokens: tokens.AccessTokens, web_seconds: int, refresh_seconds: int):
        self.db = db
        self.access_tokens = access_tokens
        self.web_lifetime = timedelta(seconds=web_seconds)
        self.refresh_lifetime = timedelta(seconds=refresh_seconds)

    def open(
        self, session: AsyncSession, user: InternalUser, channel: Channel, user_agent: str | None, ip: str | None
    ) -> OpenedSession:
        secret = tokens.new_secret()
        lifetime = self.web_lifetime if channel == "web" else self.refresh_lifetime
        row = AuthSession(
            id=uuid7(),
            tenant_id=user.tenant_id,
            user_id=user.id,
            channel=channel,
            secret_hash=tokens.digest(secret),
            expires_at=utcnow() + lifetime,
            user_agent=(user_agent or "")[:300] or None,
            ip_address=ip,
        )
        session.add(row)
        prefix = tokens.REFRESH_PREFIX if channel == "api" else ""
        return OpenedSession(row, tokens.format_credential(user.tenant_id, row.id, secret, prefix))

    def token_pair(self, opened: OpenedSession) -> TokenPair:
        s = opened.session
        access = self.access_tokens.mint(tokens.AccessClaims(s.user_id, s.tenant_id, s.id, s.user_kind))
        return TokenPair(access, opened.credential, self.access_tokens.lifetime)

    async def _load(self, session: AsyncSession, session_id: uuid.UUID) -> tuple[AuthSession, InternalUser] | None:
        row = (
            await session.execute(
                select(AuthSession, InternalUser)
                .join(InternalUser, InternalUser.id == AuthSession.user_id)
                .join(Tenant, Tenant.id == AuthSession.tenant_id)
                .where(
                    AuthSession.id == session_id,
                    AuthSession.revoked_at.is_(None),
                    AuthSession.expires_at > utcnow(),
                    InternalUser.status == "active",
                    Tenant.status == "active",
                )
            )
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    async def from_cookie(self, cookie: str | None) -> Actor | None:
        cred = tokens.parse_credential(cookie)
        if cred is None:
            return None
        async with self.db.session(tenant_context(cred.tenant_id)) as session:
            found = await self._load(session, cred.session_id)
        if found is None or found[0].channel != "web" or not tokens.same_digest(cred.secret, found[0].secret_hash):
            return None
        return actor_for(found[1], found[0], "web")

    async def from_bearer(self, token: str) -> Actor | None:
        claims = self.access_tokens.read(token)
        if claims is None:
            return None
        async with self.db.session(tenant_context(claims.tenant_id)) as session:
            found = await self._load(session, claims.session_id)
        if found is None or found[0].channel != "api" or found[1].id != claims.user_id:
            return None
        return actor_for(found[1], found[0], "api")

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented refresh token is spent and a new pair issued. Presenting a spent token
        again means it leaked, so the whole session is revoked."""
        cred = tokens.parse_credential(refresh_token, tokens.REFRESH_PREFIX)
        if cred is None:
            raise NotAuthenticated(N_("The refresh token is not valid"), code="invalid_refresh_token")
        async with self.db.session(tenant_context(cred.tenant_id, channel="api")) as session:
            found = await self._load(session, cred.session_id)
            if found is None or found[0].channel != "api":
                raise NotAuthenticated(N_("The refresh token is not valid"), code="invalid_refresh_token")
            row, _user = found
            if not tokens.same_digest(cred.secret, row.secret_hash):
                row.revoked_at, row.revoked_reason = utcnow(), "refresh_token_reused"
                reused = True
            else:
                reused = False
                secret = tokens.new_secret()
                row.secret_hash = tokens.digest(secret)
                row.generation += 1
                row.expires_at = utcnow() + self.refresh_lifetime
                credential = tokens.format_credential(row.tenant_id, row.id, secret, tokens.REFRESH_PREFIX)
        if reused:  # committed above: the revocation must stick even though this call fails
            raise NotAuthenticated(
                N_("This refresh token was already used; the session has been ended"), code="refresh_token_reused"
            )
        return self.token_pair(OpenedSession(row, credential))


async def revoke_session(session: AsyncSession, session_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def revoke_user_sessions(session: AsyncSession, user_id: uuid.UUID, reason: str) -> int:
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return int(result.rowcount or 0)
