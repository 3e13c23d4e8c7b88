"""Server-side sessions: open on login, look up on every request, rotate refresh tokens, revoke.

A request is authenticated by finding its session row (not revoked, not expired) of an active tenant,
inside that tenant's context, and asking the principal loader for the session's kind of user
(internal staff here; external users are registered by the interconnect package) for an Actor. The
loader re-checks the user (and, for partners, their enterprise link) on every request, so disabling a
user, suspending a link or revoking a session takes effect on the very next request in every process.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Row, Select, and_, bindparam, func, null, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import BEARER_CHANNELS, COOKIE_CHANNELS, Actor, Channel
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.db.tenancy import tenant_of
from portal.db.types import utcnow
from portal.errors import NotAuthenticated
from portal.i18n import N_
from portal.identity import tokens
from portal.identity.models import AuthSession, InternalUser, PasswordReset, Tenant
from portal.ids import uuid7
from portal.notifications.models import Notification
from portal.permissions import AccessPolicy, SignedInOnly

# Given the session row, the user it belongs to as an Actor, or None if they may no longer act.
PrincipalLoader = Callable[[AsyncSession, AuthSession, Channel], Awaitable[Actor | None]]

_SESSIONS = AuthSession.__table__
# how stale a session's last use may be before a request records it again (Sessions.record_use)
LAST_USE_GRAIN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Principal:
    """One kind of user as the session lookup reads it within its own statement: `join` adds the kind's
    tables to the statement's FROM, outer-joined on a session of that kind (`AuthSession.__table__`, in
    the session's tenant); `columns` are read from them, and `actor` turns their values (in that order)
    into what the Actor holds of the user: its fields, None when the user may no longer act."""

    join: Callable[[FromClause], FromClause]
    columns: tuple[ColumnElement[Any], ...]
    actor: Callable[[Sequence[Any]], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True, slots=True)
class SessionLookup:
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    channel: Channel
    check: Callable[[Any], bool]  # given the session's row (its secret_hash and user_id)
    # A credential that is no session (an API key, see `KeyScheme`): reads its actor itself, in the
    # request's unit of work in `tenant_id`, instead of the session lookup's statement.
    load: Callable[[AsyncSession], Awaitable[Actor | None]] | None = None
    # Called once the response is sent (in a transaction of its own): the actor, the request's method and
    # path, the answer's status and its problem's code (if any).
    after: Callable[[Actor, str, str, int, str | None], Awaitable[None]] | None = None


@dataclass(frozen=True, slots=True)
class KeyScheme:
    """A bearer credential other than a session token, which a package registers (`Sessions.register_key`):
    a bearer starting with `prefix` is read by `lookup` (without the database: the tenant it names, and how
    to load its actor) on paths under `paths` only; anywhere else it authenticates nobody."""

    prefix: str
    paths: str
    lookup: Callable[[str], SessionLookup | None]


@dataclass(frozen=True, slots=True)
class OpenedSession:
    session: AuthSession
    credential: str


def internal_actor(user: InternalUser, session: AuthSession, channel: Channel) -> Actor:
    return Actor(
        user_id=user.id,
        tenant_id=user.tenant_id,
        kind="internal",
        channel=channel,
        display_name=user.display_name,
        email=user.email,
        session_id=session.id,
        locale=user.locale,
    )


async def load_internal(session: AsyncSession, row: AuthSession, channel: Channel) -> Actor | None:
    user = await session.scalar(
        select(InternalUser).where(InternalUser.id == row.user_id, InternalUser.status == "active")
    )
    return None if user is None else internal_actor(user, row, channel)


def _internal_fields(values: Sequence[Any]) -> dict[str, Any] | None:
    user_id, display_name, email, locale = values
    if user_id is None:
        return None
    return {"user_id": user_id, "kind": "internal", "display_name": display_name, "email": email, "locale": locale}


_USERS = InternalUser.__table__
INTERNAL_PRINCIPAL = Principal(
    join=lambda from_: from_.outerjoin(
        _USERS,
        and_(
            _SESSIONS.c.user_kind == "internal",
            _USERS.c.tenant_id == _SESSIONS.c.tenant_id,
            _USERS.c.id == _SESSIONS.c.user_id,
            _USERS.c.status == "active",
        ),
    ),
    columns=(_USERS.c.id, _USERS.c.display_name, _USERS.c.email, _USERS.c.locale),
    actor=_internal_fields,
)


class Sessions:
    def __init__(self, db: Database, access_tokens: tokens.AccessTokens, web_seconds: int, refresh_seconds: int):
        self.db = db
        self.access_tokens = access_tokens
        self.web_lifetime = timedelta(seconds=web_seconds)
        self.refresh_lifetime = timedelta(seconds=refresh_seconds)
        self.loaders: dict[str, PrincipalLoader] = {"internal": load_internal}
        self.principals: dict[str, Principal] = {"internal": INTERNAL_PRINCIPAL}
        self.policy: AccessPolicy = SignedInOnly()
        self.key_schemes: list[KeyScheme] = []
        self._statement: tuple[AccessPolicy, Select[Any]] | None = None
        self._request_statement: tuple[AccessPolicy, Select[Any], dict[str, tuple[int, int]]] | None = None

    def register(self, user_kind: str, loader: PrincipalLoader, principal: Principal) -> None:
        """A kind of user sessions may belong to: `loader` reads one with the ORM (refreshing a token),
        `principal` within the session lookup's own statement (every request)."""
        self.loaders[user_kind] = loader
        self.principals[user_kind] = principal
        self._request_statement = None

    def register_key(self, scheme: KeyScheme) -> None:
        self.key_schemes.append(scheme)

    def bearer_lookup(self, credential: str, path: str) -> SessionLookup | None:
        """What a bearer credential names on `path`: a registered key on its own paths only (elsewhere
        nothing), otherwise a session's access token (which the guard refuses on a key's routes)."""
        for scheme in self.key_schemes:
            if credential.startswith(scheme.prefix):
                return scheme.lookup(credential) if path.startswith(scheme.paths) else None
        return self.lookup(credential, "api")

    def open(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
        user_kind: str,
        channel: Channel,
        user_agent: str | None = None,
        ip: str | None = None,
    ) -> OpenedSession:
        opened = self.issue(tenant_id, user_id, user_kind, channel, user_agent, ip)
        session.add(opened.session)
        return opened

    def issue(
        self,
        tenant_id: uuid.UUID,
        user_id: uuid.UUID,
        user_kind: str,
        channel: Channel,
        user_agent: str | None = None,
        ip: str | None = None,
        *,
        client_id: uuid.UUID | None = None,
        scope: str | None = None,
    ) -> OpenedSession:
        """A new session row and its credential, for the caller to add to its unit of work (`open` adds
        it; the OAuth server adds it from Authlib's synchronous callbacks)."""
        secret = tokens.new_secret()
        cookie = channel in COOKIE_CHANNELS
        lifetime = self.web_lifetime if cookie else self.refresh_lifetime
        now = utcnow()
        row = AuthSession(
            id=uuid7(),
            tenant_id=tenant_id,
            user_id=user_id,
            user_kind=user_kind,
            channel=channel,
            secret_hash=tokens.digest(secret),
            generation=0,
            created_at=now,
            last_used_at=now,
            expires_at=now + lifetime,
            user_agent=(user_agent or "")[:300] or None,
            ip_address=ip,
            client_id=client_id,
            scope=scope,
        )
        prefix = "" if cookie else tokens.REFRESH_PREFIX
        return OpenedSession(row, tokens.format_credential(tenant_id, row.id, secret, prefix))

    def rotate(self, row: AuthSession) -> str:
        """Spend the family's refresh token: a new secret replaces it (the spent one, presented again,
        reads as reuse) and the family lives on for another refresh lifetime. The new refresh token."""
        secret = tokens.new_secret()
        row.secret_hash = tokens.digest(secret)
        row.generation += 1
        row.expires_at = utcnow() + self.refresh_lifetime
        return tokens.format_credential(row.tenant_id, row.id, secret, tokens.REFRESH_PREFIX)

    def token_pair(self, opened: OpenedSession) -> TokenPair:
        s = opened.session
        access = self.access_tokens.mint(tokens.AccessClaims(s.user_id, s.tenant_id, s.id, s.user_kind))
        return TokenPair(access, opened.credential, self.access_tokens.lifetime)

    async def _live_session(
        self, session: AsyncSession, session_id: uuid.UUID
    ) -> tuple[AuthSession, int, dict[str, str], str | None] | None:
        """The session if it may still act, its tenant's policy version, what the tenant's pages show of
        it (time zone, address, name) and of its user (unread notifications), and the roles its user
        holds as the access policy reads them."""
        found = await session.execute(self._lookup_statement(), {"session_id": session_id, "now": utcnow()})
        row = found.first()
        if row is None:
            return None
        tenant = {"time_zone": row[2], "tenant_slug": row[3], "tenant_name": row[4], "unread_notifications": row[6]}
        return row[0], row[1], tenant, row[5]

    def _lookup_statement(self) -> Select[Any]:
        """Built once per access policy: every request runs it, and building it costs more than running it."""
        if self._statement is None or self._statement[0] is not self.policy:
            roles = self.policy.held_roles(AuthSession.user_id, AuthSession.tenant_id)
            statement = (
                select(
                    AuthSession,
                    Tenant.policy_version,
                    Tenant.time_zone,
                    Tenant.slug,
                    Tenant.name,
                    null() if roles is None else roles,
                    select(func.count())
                    .select_from(Notification)
                    .where(
                        Notification.tenant_id == AuthSession.tenant_id,
                        Notification.recipient_kind == AuthSession.user_kind,
                        Notification.recipient_id == AuthSession.user_id,
                        Notification.in_inbox.is_(True),
                        Notification.read_at.is_(None),
                    )
                    .correlate(AuthSession)
                    .scalar_subquery(),
                )
                .join(Tenant, Tenant.id == AuthSession.tenant_id)
                .where(
                    AuthSession.id == bindparam("session_id"),
                    AuthSession.revoked_at.is_(None),
                    AuthSession.expires_at > bindparam("now"),
                    Tenant.status == "active",
                )
            )
            self._statement = (self.policy, statement)
        return self._statement[1]

    def lookup(self, credential: str | None, channel: Channel) -> SessionLookup | None:
        """What a cookie ("web") or bearer token ("api") names, read without the database: the tenant to
        look the session up in, and how to tell the session row is the one the credential was issued for."""
        if channel == "web":
            cred = tokens.parse_credential(credential)
            if cred is None:
                return None
            return SessionLookup(
                cred.tenant_id, cred.session_id, "web", lambda row: tokens.same_digest(cred.secret, row.secret_hash)
            )
        claims = self.access_tokens.read(credential or "")
        if claims is None:
            return None
        return SessionLookup(claims.tenant_id, claims.session_id, "api", lambda row: row.user_id == claims.user_id)

    def _actor_statement(self) -> tuple[Select[Any], dict[str, tuple[int, int]]]:
        """The one statement a request's actor is read with, in Core on the unit of work's connection: the
        session row (live, of an active tenant), what the tenant's pages show of it, the roles its user
        holds as the access policy reads them, the user's unread notifications, and the user as each
        registered kind reads it; and where each kind's columns are in its rows. Built once per access
        policy and set of kinds."""
        built = self._request_statement
        if built is None or built[0] is not self.policy:
            sessions, tenants = _SESSIONS, Tenant.__table__
            notifications = Notification.__table__
            roles = self.policy.held_roles(sessions.c.user_id, sessions.c.tenant_id)
            unread = (
                select(func.count())
                .select_from(notifications)
                .where(
                    notifications.c.tenant_id == sessions.c.tenant_id,
                    notifications.c.recipient_kind == sessions.c.user_kind,
                    notifications.c.recipient_id == sessions.c.user_id,
                    notifications.c.in_inbox.is_(True),
                    notifications.c.read_at.is_(None),
                )
                .correlate(sessions)
                .scalar_subquery()
            )
            columns: list[ColumnElement[Any]] = [
                sessions.c.id,
                sessions.c.user_id,
                sessions.c.user_kind,
                sessions.c.channel,
                sessions.c.secret_hash,
                sessions.c.client_id,
                sessions.c.scope,
                sessions.c.preview_by,
                sessions.c.preview_role,
                sessions.c.last_used_at,
                tenants.c.policy_version,
                tenants.c.time_zone,
                tenants.c.slug,
                tenants.c.name,
                (null() if roles is None else roles).label("held_roles"),
                unread.label("unread"),
            ]
            from_: FromClause = sessions.join(tenants, tenants.c.id == sessions.c.tenant_id)
            places: dict[str, tuple[int, int]] = {}
            for kind, principal in self.principals.items():
                from_ = principal.join(from_)
                places[kind] = (len(columns), len(columns) + len(principal.columns))
                columns += [c.label(f"{kind}_{i}") for i, c in enumerate(principal.columns)]
            statement = (
                select(*columns)
                .select_from(from_)
                .where(
                    sessions.c.tenant_id == bindparam("tenant_id"),
                    sessions.c.id == bindparam("session_id"),
                    sessions.c.revoked_at.is_(None),
                    sessions.c.expires_at > bindparam("now"),
                    tenants.c.status == "active",
                )
            )
            built = self._request_statement = (self.policy, statement, places)
        return built[1], built[2]

    async def actor_in(self, session: AsyncSession, lookup: SessionLookup) -> Actor | None:
        """The actor the credential names, looked up in `session`, which must run in `lookup.tenant_id`
        (the request's own unit of work, so the handler reads in the same transaction)."""
        if lookup.load is not None:
            return await lookup.load(session)
        statement, places = self._actor_statement()
        connection = await session.connection()
        params = {"tenant_id": tenant_of(session), "session_id": lookup.session_id, "now": utcnow()}
        row: Row[Any] | None = (await connection.execute(statement, params)).first()
        if row is None or not _answers(lookup.channel, row.channel) or not lookup.check(row):
            return None
        place = places.get(row.user_kind)
        fields = None if place is None else self.principals[row.user_kind].actor(row[place[0] : place[1]])
        if fields is None:
            return None
        preview = row.preview_by is not None
        actor = Actor(
            tenant_id=lookup.tenant_id,
            channel=row.channel,
            session_id=row.id,
            time_zone=row.time_zone,
            tenant_slug=row.slug,
            tenant_name=row.name,
            unread_notifications=row.unread,
            scopes=None if row.client_id is None else frozenset((row.scope or "").split()),
            preview=preview,
            preview_role=row.preview_role if preview else None,
            preview_by=row.preview_by,
            session_stale=row.last_used_at is None or row.last_used_at < params["now"] - LAST_USE_GRAIN,
            **fields,
        )
        return await self.policy.prepare(session, actor, row.policy_version, row.held_roles)

    async def record_use(self, actor: Actor) -> None:
        """Note that the actor's session was used now, when the request found its last use older than
        LAST_USE_GRAIN: a statement of its own after the request's unit of work, and at most one per session
        per grain in every process together (the condition), so a session used on every request writes
        about once a minute and a request reading its session stays one statement."""
        if not actor.session_stale or actor.session_id is None or actor.preview:
            return
        now = utcnow()
        async with self.db.session(tenant_context(actor.tenant_id, channel="system")) as session:
            await session.execute(
                update(AuthSession)
                .where(
                    AuthSession.id == actor.session_id,
                    (AuthSession.last_used_at.is_(None)) | (AuthSession.last_used_at < now - LAST_USE_GRAIN),
                )
                .values(last_used_at=now)
                .execution_options(synchronize_session=False)
            )

    async def _actor(self, lookup: SessionLookup | None) -> Actor | None:
        if lookup is None:
            return None
        # for code outside a request (scripts, benchmarks); a request looks its actor up in its own unit of work
        async with self.db.session(tenant_context(lookup.tenant_id), write=False) as session:
            return await self.actor_in(session, lookup)

    async def from_cookie(self, cookie: str | None) -> Actor | None:
        return await self._actor(self.lookup(cookie, "web"))

    async def from_bearer(self, token: str) -> Actor | None:
        return await self._actor(self.lookup(token, "api"))

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented refresh token is spent and a new pair issued. Presenting a spent token
        again means it leaked, so the whole session is revoked."""
        invalid = NotAuthenticated(N_("The refresh token is not valid"), code="invalid_refresh_token")
        cred = tokens.parse_credential(refresh_token, tokens.REFRESH_PREFIX)
        if cred is None:
            raise invalid
        # its own unit of work: revoking a session whose spent token came back must outlast the refusal
        async with self.db.session(tenant_context(cred.tenant_id, channel="api")) as session:
            live = await self._live_session(session, cred.session_id)
            # an OAuth family rotates through its own token endpoint (channels/oauth); a mini-program's family
            # is the partner's own sign-in, as a password-issued one is
            if live is None or live[0].channel not in ("api", "miniapp"):
                raise invalid
            row = live[0]
            loader = self.loaders.get(row.user_kind)
            if loader is None or await loader(session, row, "api") is None:
                raise invalid
            if not tokens.same_digest(cred.secret, row.secret_hash):
                row.revoked_at, row.revoked_reason = utcnow(), "refresh_token_reused"
                reused = True
            else:
                reused = False
                credential = self.rotate(row)
        if reused:  # committed above: the revocation must stick even though this call fails
            raise NotAuthenticated(
                N_("This refresh token was already used; the session has been ended"), code="refresh_token_reused"
            )
        return self.token_pair(OpenedSession(row, credential))


def _answers(credential: Channel, row_channel: str) -> bool:
    """A cookie opens only a session of the pages (signed in on the web, or with WeChat in the official account's
    browser); a bearer token any token family, whichever way it was got."""
    if credential == "web":
        return row_channel in COOKIE_CHANNELS
    return credential == "api" and row_channel in BEARER_CHANNELS


async def revoke_session(session: AsyncSession, session_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def revoke_user_sessions(session: AsyncSession, user_ids: list[uuid.UUID] | uuid.UUID, reason: str) -> int:
    """End every open session of these users (staff or external memberships) at once, and every password
    reset link of theirs not yet used: a person disabled and enabled again within a link's lifetime does
    not find it working again. How many sessions ended."""
    ids = user_ids if isinstance(user_ids, list) else [user_ids]
    if not ids:
        return 0
    now = utcnow()
    result = await session.execute(
        update(AuthSession)
        .where(AuthSession.user_id.in_(ids), AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    await session.execute(
        update(PasswordReset)
        .where(
            PasswordReset.user_kind.in_(("internal", "external")),
            PasswordReset.user_id.in_(ids),
            PasswordReset.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
