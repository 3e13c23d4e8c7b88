"""Partner access: signing external users in to an upstream's portal, the session loader that
re-checks membership and link on every request, switching between upstreams, and completing one-time
set-password links."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.links import Links
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership, SetupToken
from interconnect.people import sign_in_name
from portal.actor import Actor, Channel
from portal.db.context import PUBLIC, SYSTEM, tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.errors import Gone, InvalidCredentials, NotFound
from portal.i18n import N_
from portal.identity import tokens
from portal.identity.models import AuthSession, Tenant
from portal.identity.passwords import Passwords, check_strength
from portal.identity.sessions import OpenedSession, Sessions
from portal.identity.throttle import LoginThrottler
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


async def load_external(session: AsyncSession, row: AuthSession, channel: Channel) -> Actor | None:
    found = await active_membership(session, membership_id=row.user_id)
    return None if found is None else external_actor(*found, row, channel)


@dataclass(frozen=True, slots=True)
class Workspace:
    tenant_id: uuid.UUID
    slug: str
    name: str


class PartnerAccess:
    """Signing partners in and out of upstream portals, and completing set-password links."""

    def __init__(self, db: Database, passwords: Passwords, sessions: Sessions, throttler: LoginThrottler) -> None:
        self.db, self.passwords, self.sessions = db, passwords, sessions
        self.throttler = throttler

    async def workspace(self, slug: str) -> Workspace:
        async with self.db.session(PUBLIC) as session:
            tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug.lower(), Tenant.status == "active"))
        if tenant is None:
            raise NotFound(N_("No such partner portal"))
        return Workspace(tenant.id, tenant.slug, tenant.name)

    async def log_in(
        self,
        slug: str,
        login: str,
        password: str,
        channel: Channel,
        user_agent: str | None = None,
        ip: str | None = None,
    ) -> tuple[Actor, OpenedSession]:
        keys = self.throttler.keys(f"partner:{slug}", login, ip)
        email, mobile = sign_in_name(login)
        async with self.db.session(PUBLIC) as session:
            await self.throttler.ensure_allowed(session, keys)
            tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug.lower(), Tenant.status == "active"))
            identity = await session.scalar(
                select(ExternalIdentity).where(
                    ExternalIdentity.email == email if email else ExternalIdentity.mobile == mobile
                )
            )
        ok = self.passwords.verify(identity.password_hash if identity else None, password) and identity is not None
        result: tuple[Actor, OpenedSession] | None = None
        if ok and tenant is not None and identity is not None:
            result = await self.open_session(tenant.id, identity.id, channel, user_agent, ip)
        async with self.db.session(PUBLIC) as session:
            if result is None:
                await self.throttler.record_failure(session, keys)
            else:
                await self.throttler.clear_account(session, keys)
        if result is None:
            raise InvalidCredentials(
                N_("The sign-in name or password is not correct, or you have no access to this portal")
            )
        return result

    async def open_session(
        self,
        tenant_id: uuid.UUID,
        identity_id: uuid.UUID,
        channel: Channel,
        user_agent: str | None = None,
        ip: str | None = None,
    ) -> tuple[Actor, OpenedSession] | None:
        """Open a session in `tenant_id` for this person, if they have an active membership there."""
        async with self.db.session(tenant_context(tenant_id, channel=channel)) as session:
            found = await active_membership(session, identity_id=identity_id)
            if found is None:
                return None
            membership, identity, link = found
            opened = self.sessions.open(session, tenant_id, membership.id, USER_KIND, channel, user_agent, ip)
            await session.flush()
            return external_actor(membership, identity, link, opened.session, channel), opened

    async def workspaces_of(self, identity_id: uuid.UUID) -> list[Workspace]:
        """Every upstream this person may switch to. One person's own memberships across tenants: the
        one cross-tenant read the partner portal makes, hence the explicit system context."""
        async with self.db.session(SYSTEM) as session:
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

    @staticmethod
    async def _usable_setup_token(session: AsyncSession, cred: tokens.SessionCredential) -> SetupToken:
        row = await session.scalar(select(SetupToken).where(SetupToken.id == cred.session_id))
        if row is None or not tokens.same_digest(cred.secret, row.secret_hash):
            raise NotFound(N_("This link is not valid"), code="setup_link_invalid")
        if row.used_at is not None:
            raise Gone(N_("This link was already used; sign in instead"), code="setup_link_used")
        if row.expires_at < utcnow():
            raise Gone(N_("This link has expired; ask for a new one"), code="setup_link_expired")
        return row

    async def setup_preview(self, credential: str) -> tuple[Workspace, str]:
        """Whose set-password link this is (the portal and the person's name), if it can still be used."""
        cred = tokens.parse_credential(credential)
        if cred is None:
            raise NotFound(N_("This link is not valid"), code="setup_link_invalid")
        async with self.db.session(tenant_context(cred.tenant_id, channel="web")) as session:
            row = await self._usable_setup_token(session, cred)
            membership = (await session.scalars(select(Membership).where(Membership.id == row.membership_id))).one()
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == cred.tenant_id))).one()
            return Workspace(tenant.id, tenant.slug, tenant.name), membership.display_name

    async def complete_setup(self, credential: str, password: str) -> Workspace:
        """Set the password behind a one-time link; the membership (and an invited link) become active."""
        cred = tokens.parse_credential(credential)
        if cred is None:
            raise NotFound(N_("This link is not valid"), code="setup_link_invalid")
        check_strength(password)
        async with self.db.session(tenant_context(cred.tenant_id, channel="web")) as session:
            row = await self._usable_setup_token(session, cred)
            membership = (await session.scalars(select(Membership).where(Membership.id == row.membership_id))).one()
            identity = (
                await session.scalars(select(ExternalIdentity).where(ExternalIdentity.id == membership.identity_id))
            ).one()
            row.used_at = utcnow()
            identity.password_hash = self.passwords.hash(password)
            if membership.status == "invited":
                membership.status, membership.joined_at = "active", utcnow()
                publish(session, "user.joined", "membership", membership.id, {"link_id": membership.link_id})
            if membership.link_id is not None:
                link = await Links(session).get(membership.link_id)
                if link.status == "invited":
                    await Links(session).transition(link.id, "active", "first admin set a password")
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == cred.tenant_id))).one()
            return Workspace(tenant.id, tenant.slug, tenant.name)
