"""A partner resetting a forgotten password from a manufacturer's portal sign-in page.

The login is global (one identity, whichever portal), so the reset is asked for on one portal, for a
person with an active membership there; the link belongs to that portal's tenant and works only there.
Setting the new password ends every session the person has, on every portal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.access import active_membership, identity_named, login_key
from interconnect.models import ExternalIdentity, Membership
from interconnect.notices import PASSWORD_RESET, recipient
from portal.db.context import PUBLIC, SYSTEM, tenant_context
from portal.db.engine import Database, read_phase
from portal.db.tenancy import within
from portal.errors import NotFound
from portal.http.hosts import partner_url
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.identity.passwords import Passwords, check_strength
from portal.identity.resets import (
    RESET_LIFETIME,
    ResetTarget,
    account_disabled,
    check_usable,
    find_reset,
    open_reset,
    parse_reset,
    send_reset,
    spend_reset,
)
from portal.identity.sessions import revoke_user_sessions
from portal.identity.throttle import SignInClient, SignInGuard
from portal.notifications.service import Notifier


@dataclass(frozen=True, slots=True)
class PartnerResets:
    db: Database
    passwords: Passwords
    guard: SignInGuard
    notifier: Notifier
    base_url: str

    async def ask(
        self, session: AsyncSession, tenant_id: uuid.UUID, login: str, client: SignInClient
    ) -> ResetTarget | None:
        """Whom to send a reset link (the person this login names, with an active membership here, whom a
        channel reaches), or None; the caller answers the same either way and then hands the target to
        `send_reset` after its answer. Counted by the guard as a reset request (portal.identity.throttle)."""
        found = None
        async with read_phase(session):
            async with within(session, PUBLIC):
                identity = await identity_named(session, login)
                tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id, Tenant.status == "active"))
            async with within(session, tenant_context(tenant_id, channel="web")):
                found = await active_membership(session, identity_id=identity.id if identity else uuid.UUID(int=0))
        may_send = await self.guard.count_reset_request(login_key(identity, login), client)
        if found is None or tenant is None or not may_send:
            return None
        membership, identity, _link = found
        person = recipient(membership, identity, tenant.default_locale)
        if not self.notifier.can_reach(person):  # no channel: a link nobody receives is not made
            return None
        return ResetTarget(
            tenant_id,
            "external",
            membership.id,
            person,
            PASSWORD_RESET,
            {
                "name": membership.display_name,
                "workspace": tenant.name,
                "minutes": int(RESET_LIFETIME.total_seconds() // 60),
            },
            partner_url(self.base_url, tenant.slug, tenant.partner_domain, "/reset/"),
        )

    async def send(self, target: ResetTarget) -> None:
        await send_reset(self.db, self.notifier, target)

    async def check(self, session: AsyncSession, tenant_id: uuid.UUID, credential: str, client: SignInClient) -> None:
        """Refuse a link that cannot be used on this portal (another portal's link is simply not valid here),
        or whose person may no longer sign in here. Counted as a try of a link from the client's address;
        a real link gives the attempt back."""
        keys = await self.guard.count_link_attempt(client)
        async with read_phase(session):
            await self._check(session, tenant_id, credential)
        await self.guard.succeeded(keys)

    async def _check(self, session: AsyncSession, tenant_id: uuid.UUID, credential: str) -> None:
        cred = parse_reset(credential)
        if cred.tenant_id != tenant_id:
            raise NotFound(N_("This link is not valid"), code="reset_link_invalid")
        async with within(session, tenant_context(tenant_id, channel="web")):
            row = await find_reset(session, cred, "external")
            if await active_membership(session, membership_id=row.user_id) is None:
                raise account_disabled()
        check_usable(row)

    async def complete(
        self, session: AsyncSession, tenant_id: uuid.UUID, credential: str, password: str, client: SignInClient
    ) -> None:
        """Set the login's new password and end every session of the person, on every portal. A person
        no longer active here (a former employee) cannot use a link."""
        await self.check(session, tenant_id, credential, client)
        check_strength(password)
        cred = parse_reset(credential)
        async with within(session, tenant_context(tenant_id, channel="web")):
            row = await open_reset(session, cred, "external")
            found = await active_membership(session, membership_id=row.user_id)
            if found is None:
                raise account_disabled()
            await spend_reset(session, row)
            identity_id = found[1].id
        async with within(session, PUBLIC):
            identity = (await session.scalars(select(ExternalIdentity).where(ExternalIdentity.id == identity_id))).one()
            identity.password_hash = self.passwords.hash(password)
            await session.flush()
        # the person's memberships of every manufacturer: the one cross-tenant write, hence the system context
        async with within(session, SYSTEM):
            memberships = list(
                await session.scalars(select(Membership.id).where(Membership.identity_id == identity_id))
            )
            await revoke_user_sessions(session, memberships, "password_reset")
