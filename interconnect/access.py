"""Partner access: signing external users in to an upstream's portal, the session loader that
re-checks membership and link on every request, switching between upstreams, and completing one-time
set-password links."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.links import Links
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership, SetupToken
from interconnect.people import sign_in_name
from portal.actor import Actor, Channel
from portal.db.context import PUBLIC, SYSTEM, tenant_context
from portal.db.engine import Database, read_phase
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Gone, InvalidCredentials, NotFound
from portal.i18n import N_
from portal.identity import tokens
from portal.identity.models import AuthSession, Tenant
from portal.identity.passwords import Passwords, check_strength
from portal.identity.sessions import OpenedSession, Principal, Sessions
from portal.identity.throttle import SignInClient, SignInGuard, partner_login
from portal.outbox import publish

USER_KIND = "external"


def external_actor(
    m: Membership, identity: ExternalIdentity, link: EnterpriseLink | None, row: AuthSession, channel: Channel
) -> Actor:
    """The actor without roles: the session lookup adds the roles the membership holds."""
    return Actor(
        user_id=m.id,
        tenant_id=m.tenant_id,
        kind="external",
        channel=channel,
        display_name=m.display_name,
        email=identity.email or identity.mobile or "",
        enterprise_id=m.link_id,
        enterprise_name=None if link is None else link.name,
        enterprise_admin=m.is_enterprise_admin,
        partner_type_id=None if link is None else link.partner_type_id,
        tier_id=None if link is None else link.tier_id,
        session_id=row.id,
        locale=identity.locale,
        identity_id=identity.id,
        # an enterprise with nothing under it is its own subtree: its scoped lists need not list it
        sub_enterprises=None if link is None or link.has_sub_enterprises else frozenset({link.id}),
    )


async def active_membership(
    session: AsyncSession, *, membership_id: uuid.UUID | None = None, identity_id: uuid.UUID | None = None
) -> tuple[Membership, ExternalIdentity, EnterpriseLink | None] | None:
    """The membership, if it may act: it is active and its link (if any) is active."""
    query = (
        select(Membership, ExternalIdentity, EnterpriseLink)
        .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
        .outerjoin(EnterpriseLink, EnterpriseLink.id == Membership.link_id)
        .where(Membership.status == "active", or_(Membership.link_id.is_(None), EnterpriseLink.status == "active"))
    )
    if membership_id is not None:
        query = query.where(Membership.id == membership_id)
    if identity_id is not None:
        query = query.where(Membership.identity_id == identity_id)
    found = (await session.execute(query)).one_or_none()
    return None if found is None else (found[0], found[1], found[2])


# `active_membership()` of one membership (bound as "membership_id"), built once: every request of a partner
# runs it, and so do the OAuth server's synchronous callbacks (channels.oauth), which cannot await.
MEMBERSHIP_THAT_MAY_ACT = (
    select(Membership, ExternalIdentity, EnterpriseLink)
    .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
    .outerjoin(EnterpriseLink, EnterpriseLink.id == Membership.link_id)
    .where(
        Membership.status == "active",
        or_(Membership.link_id.is_(None), EnterpriseLink.status == "active"),
        Membership.id == bindparam("membership_id"),
    )
)


async def load_external(session: AsyncSession, row: AuthSession, channel: Channel) -> Actor | None:
    """`active_membership()` of the session's user, as the actor."""
    found = (await session.execute(MEMBERSHIP_THAT_MAY_ACT, {"membership_id": row.user_id})).one_or_none()
    return None if found is None else external_actor(found[0], found[1], found[2], row, channel)


_SESSIONS, _MEMBERSHIPS = AuthSession.__table__, Membership.__table__
_IDENTITIES, _LINKS = ExternalIdentity.__table__, EnterpriseLink.__table__


def _external_fields(values: Sequence[Any]) -> dict[str, Any] | None:
    """`external_actor()` of the values `EXTERNAL_PRINCIPAL` reads: a membership that may act, as
    `active_membership()` tells it."""
    (membership_id, display_name, link_id, admin, identity_id, email, mobile, locale) = values[:8]
    (link_status, link_name, partner_type_id, tier_id, has_sub_enterprises) = values[8:]
    if membership_id is None or identity_id is None or (link_id is not None and link_status != "active"):
        return None
    linked = link_id is not None
    return {
        "user_id": membership_id,
        "kind": "external",
        "display_name": display_name,
        "email": email or mobile or "",
        "enterprise_id": link_id,
        "enterprise_name": link_name if linked else None,
        "enterprise_admin": admin,
        "partner_type_id": partner_type_id if linked else None,
        "tier_id": tier_id if linked else None,
        "locale": locale,
        "identity_id": identity_id,
        "sub_enterprises": None if not linked or has_sub_enterprises else frozenset({link_id}),
    }


# The session lookup's part (portal.identity.sessions): the membership of a partner's session, read in the
# same statement as the session on every request.
EXTERNAL_PRINCIPAL = Principal(
    join=lambda from_: (
        from_.outerjoin(
            _MEMBERSHIPS,
            and_(
                _SESSIONS.c.user_kind == USER_KIND,
                _MEMBERSHIPS.c.tenant_id == _SESSIONS.c.tenant_id,
                _MEMBERSHIPS.c.id == _SESSIONS.c.user_id,
                _MEMBERSHIPS.c.status == "active",
            ),
        )
        .outerjoin(_IDENTITIES, _IDENTITIES.c.id == _MEMBERSHIPS.c.identity_id)
        .outerjoin(_LINKS, and_(_LINKS.c.tenant_id == _MEMBERSHIPS.c.tenant_id, _LINKS.c.id == _MEMBERSHIPS.c.link_id))
    ),
    columns=(
        _MEMBERSHIPS.c.id,
        _MEMBERSHIPS.c.display_name,
        _MEMBERSHIPS.c.link_id,
        _MEMBERSHIPS.c.is_enterprise_admin,
        _IDENTITIES.c.id,
        _IDENTITIES.c.email,
        _IDENTITIES.c.mobile,
        _IDENTITIES.c.locale,
        _LINKS.c.status,
        _LINKS.c.name,
        _LINKS.c.partner_type_id,
        _LINKS.c.tier_id,
        _LINKS.c.has_sub_enterprises,
    ),
    actor=_external_fields,
)


@dataclass(frozen=True, slots=True)
class Workspace:
    tenant_id: uuid.UUID
    slug: str
    name: str
    sign_in_text: str | None = None  # the manufacturer's words on its partner sign-in pages


@dataclass(frozen=True, slots=True)
class SignedIn:
    actor: Actor
    opened: OpenedSession
    device: str  # a device credential for this client and login (see portal.identity.throttle)


def login_key(identity: ExternalIdentity | None, login: str) -> str:
    """A known person is counted as one login whichever of their email or mobile number is typed."""
    return partner_login(identity.id.hex if identity is not None else login)


async def identity_named(session: AsyncSession, login: str) -> ExternalIdentity | None:
    email, mobile = sign_in_name(login)
    if not email and not mobile:
        return None
    return await session.scalar(
        select(ExternalIdentity).where(ExternalIdentity.email == email if email else ExternalIdentity.mobile == mobile)
    )


class PartnerAccess:
    """Signing partners in and out of upstream portals, and completing one-time set-password links.

    Every method works in the caller's unit of work (the request's `db`), moving it between the public
    context, a tenant's and the system context with `within`."""

    def __init__(self, db: Database, passwords: Passwords, sessions: Sessions, guard: SignInGuard) -> None:
        self.db, self.passwords, self.sessions = db, passwords, sessions
        self.guard = guard

    async def workspace(self, session: AsyncSession, slug: str) -> Workspace:
        async with within(session, PUBLIC):
            tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug.lower(), Tenant.status == "active"))
        if tenant is None:
            raise NotFound(N_("No such partner portal"))
        return Workspace(tenant.id, tenant.slug, tenant.name, tenant.sign_in_text)

    async def portal_of(self, slug: str, identity_id: uuid.UUID | None) -> tuple[Workspace, list[Workspace]]:
        """The workspace of a /p/<slug>/ page and those its person may switch to, for code that runs before
        the request's unit of work (a page guard): its own read-only transaction, which on SQLite takes no
        lock, so it never waits on the request's writer."""
        async with self.db.session(PUBLIC, write=False) as session:
            portal = await self.workspace(session, slug)
            return portal, await self.workspaces_of(session, identity_id) if identity_id else []

    async def log_in(
        self, session: AsyncSession, slug: str, login: str, password: str, channel: Channel, client: SignInClient
    ) -> SignedIn:
        async with read_phase(session), within(session, PUBLIC):
            tenant_id = await session.scalar(
                select(Tenant.id).where(Tenant.slug == slug.lower(), Tenant.status == "active")
            )
            identity = await identity_named(session, login)
        key = login_key(identity, login)
        ok = await self.guard.verify(key, client, identity.password_hash if identity else None, password)
        opened = None
        if ok and tenant_id is not None and identity is not None:
            opened = await self.open_session(session, tenant_id, identity.id, channel, client)
        if opened is None:
            raise InvalidCredentials(
                N_("The sign-in name or password is not correct, or you have no access to this portal")
            )
        return SignedIn(*opened, self.guard.device_cookie(key))

    async def open_session(
        self,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        identity_id: uuid.UUID,
        channel: Channel,
        client: SignInClient | None = None,
    ) -> tuple[Actor, OpenedSession] | None:
        """Open a session in `tenant_id` for this person, if they have an active membership there."""
        client = client or SignInClient()
        async with within(session, tenant_context(tenant_id, channel=channel)):
            found = await active_membership(session, identity_id=identity_id)
            if found is None:
                return None
            membership, identity, link = found
            opened = self.sessions.open(
                session, tenant_id, membership.id, USER_KIND, channel, client.user_agent, client.address
            )
            await session.flush()
            return external_actor(membership, identity, link, opened.session, channel), opened

    async def workspaces_of(self, session: AsyncSession, identity_id: uuid.UUID) -> list[Workspace]:
        """Every upstream this person may switch to. One person's own memberships across tenants: the
        one cross-tenant read the partner portal makes, hence the explicit system context."""
        async with within(session, SYSTEM):
            rows = await session.execute(
                select(Tenant.id, Tenant.slug, Tenant.name)
                .join(Membership, Membership.tenant_id == Tenant.id)
                .outerjoin(
                    EnterpriseLink,
                    (EnterpriseLink.tenant_id == Membership.tenant_id) & (EnterpriseLink.id == Membership.link_id),
                )
                .where(
                    Membership.identity_id == identity_id,
                    Membership.status == "active",
                    Tenant.status == "active",
                    or_(Membership.link_id.is_(None), EnterpriseLink.status == "active"),
                )
                .order_by(Tenant.name)
            )
            return [Workspace(*row) for row in rows.all()]

    # --- one-time links: set a first password, or join with the login one has ---------------------

    @staticmethod
    def _credential(credential: str) -> tokens.SessionCredential:
        cred = tokens.parse_credential(credential)
        if cred is None:
            raise NotFound(N_("This link is not valid"), code="setup_link_invalid")
        return cred

    @staticmethod
    async def _open_link(session: AsyncSession, cred: tokens.SessionCredential) -> SetupLink:
        """The link's token, membership and login, if the link can still be used for anything. Read afresh
        each time: a flow reads the link before the password check and again before it writes."""
        fresh = {"populate_existing": True}
        row = await session.scalar(select(SetupToken).where(SetupToken.id == cred.session_id), execution_options=fresh)
        if row is None or not tokens.same_digest(cred.secret, row.secret_hash):
            raise NotFound(N_("This link is not valid"), code="setup_link_invalid")
        membership = (
            await session.scalars(select(Membership).where(Membership.id == row.membership_id), execution_options=fresh)
        ).one()
        if row.used_at is not None or membership.status != "invited":
            raise Gone(N_("This link was already used; sign in instead"), code="setup_link_used")
        if row.expires_at < utcnow():
            raise Gone(N_("This link has expired; ask for a new one"), code="setup_link_expired")
        identity = (
            await session.scalars(
                select(ExternalIdentity).where(ExternalIdentity.id == membership.identity_id), execution_options=fresh
            )
        ).one()
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == cred.tenant_id))).one()
        return SetupLink(Workspace(tenant.id, tenant.slug, tenant.name), row, membership, identity)

    async def link_workspace(self, session: AsyncSession, credential: str) -> Workspace | None:
        """The portal a link names, even when the link itself can no longer be used: the way on from it."""
        cred = tokens.parse_credential(credential)
        if cred is None:
            return None
        async with within(session, PUBLIC):
            tenant = await session.scalar(select(Tenant).where(Tenant.id == cred.tenant_id, Tenant.status == "active"))
        return None if tenant is None else Workspace(tenant.id, tenant.slug, tenant.name)

    async def setup_preview(self, session: AsyncSession, credential: str) -> SetupPreview:
        """Whose link this is and what it is for: setting a first password, or, for a person who has a
        partner login already, joining this portal by signing in with it."""
        cred = self._credential(credential)
        async with within(session, tenant_context(cred.tenant_id, channel="web")):
            link = await self._open_link(session, cred)
            return SetupPreview(link.workspace, link.membership.display_name, link.identity.password_hash is not None)

    async def complete_setup(self, session: AsyncSession, credential: str, password: str) -> Workspace:
        """Set the password behind a one-time link, only while the login has none: once the person has
        set one (through this manufacturer's link or another's), every other link answers Gone and
        changes nothing. The membership (and an invited enterprise) become active."""
        cred = self._credential(credential)
        check_strength(password)
        async with within(session, tenant_context(cred.tenant_id, channel="web")):
            link = await self._open_link(session, cred)
            # Conditional on the login having no password yet, so two links used at once set it once.
            done = await session.execute(
                update(ExternalIdentity)
                .where(ExternalIdentity.id == link.identity.id, ExternalIdentity.password_hash.is_(None))
                .values(password_hash=self.passwords.hash(password))
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:
                raise Gone(
                    N_("A password is already set for this login; sign in with it to accept"),
                    code="password_already_set",
                )
            await self._join(session, link, "first admin set a password")
            return link.workspace

    async def accept_with_login(
        self, session: AsyncSession, credential: str, password: str, client: SignInClient
    ) -> tuple[Workspace, uuid.UUID]:
        """A person who has a partner login accepts this portal's link by proving it: their consent."""
        cred = self._credential(credential)
        link_context = tenant_context(cred.tenant_id, channel="web")
        async with read_phase(session), within(session, link_context):
            link = await self._open_link(session, cred)
            identity_id, password_hash = link.identity.id, link.identity.password_hash
        if not await self.guard.verify(partner_login(identity_id.hex), client, password_hash, password):
            raise InvalidCredentials(N_("This password is not correct"), code="invalid_credentials")
        async with within(session, link_context):
            link = await self._open_link(session, cred)
            await self._join(session, link, "first admin accepted with their partner login")
            return link.workspace, identity_id

    @staticmethod
    async def _join(session: AsyncSession, link: SetupLink, reason: str) -> None:
        link.token.used_at = utcnow()
        membership = link.membership
        membership.status, membership.joined_at = "active", utcnow()
        publish(session, "user.joined", "membership", membership.id, {"link_id": membership.link_id})
        if membership.link_id is not None:
            enterprise = await Links(session).get(membership.link_id)
            if enterprise.status == "invited":
                await Links(session).transition(enterprise.id, "active", reason)


@dataclass(frozen=True, slots=True)
class SetupLink:
    workspace: Workspace
    token: SetupToken
    membership: Membership
    identity: ExternalIdentity


@dataclass(frozen=True, slots=True)
class SetupPreview:
    workspace: Workspace
    name: str
    has_login: bool  # the person already has a partner login: they join by signing in with it
