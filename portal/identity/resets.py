"""Resetting a forgotten password with a one-time link sent to the person (never shown to anyone).

Asking always answers the same, whether the login exists or not (no enumeration), and is counted by the
sign-in guard (portal.identity.throttle) under keys of its own: an address asking too often is refused,
and past a few links per login in the window no more are sent, silently, so nobody can lock a person out
(of signing in or of resetting) or flood their mailbox. Trying a link is counted per address like a
sign-in, and only a wrong one stays counted. A link is short-lived and single-use; asking again ends the
earlier links; using one ends every session of the person; disabling the person (revoke_user_sessions)
ends their links, and the page of a link of a disabled person says so instead of asking for a password.
The token table serves staff here and partners in interconnect."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db.context import PUBLIC, tenant_context
from portal.db.engine import Database, read_phase
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Gone, NotFound
from portal.i18n import N_
from portal.identity import tokens
from portal.identity.models import InternalUser, PasswordReset, Tenant
from portal.identity.passwords import Passwords, check_strength
from portal.identity.sessions import revoke_user_sessions
from portal.identity.throttle import SignInClient, SignInGuard, staff_login
from portal.ids import uuid7
from portal.notifications.kinds import STAFF_PASSWORD_RESET
from portal.notifications.service import Notifier, Recipient

RESET_LIFETIME = timedelta(minutes=30)


async def new_reset(session: AsyncSession, user_kind: str, user_id: uuid.UUID) -> tuple[PasswordReset, str]:
    """A fresh link for this person (in the session's tenant); their earlier unused links end now."""
    now = utcnow()
    await session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_kind == user_kind, PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    secret = tokens.new_secret()
    row = PasswordReset(
        id=uuid7(),
        user_kind=user_kind,
        user_id=user_id,
        secret_hash=tokens.digest(secret),
        expires_at=now + RESET_LIFETIME,
    )
    session.add(row)
    await session.flush()
    return row, secret


def reset_credential(tenant_id: uuid.UUID, row: PasswordReset, secret: str) -> str:
    return tokens.format_credential(tenant_id, row.id, secret)


def parse_reset(credential: str) -> tokens.SessionCredential:
    cred = tokens.parse_credential(credential)
    if cred is None:
        raise NotFound(N_("This link is not valid"), code="reset_link_invalid")
    return cred


async def find_reset(session: AsyncSession, cred: tokens.SessionCredential, user_kind: str) -> PasswordReset:
    """The link's row (in the session's tenant), whether or not it may still be used."""
    row = await session.scalar(
        select(PasswordReset).where(PasswordReset.id == cred.session_id), execution_options={"populate_existing": True}
    )
    if row is None or row.user_kind != user_kind or not tokens.same_digest(cred.secret, row.secret_hash):
        raise NotFound(N_("This link is not valid"), code="reset_link_invalid")
    return row


def check_usable(row: PasswordReset) -> None:
    if row.used_at is not None:
        raise Gone(N_("This link was already used or replaced by a newer one"), code="reset_link_used")
    if row.expires_at <= utcnow():
        raise Gone(N_("This link has expired; ask for a new one"), code="reset_link_expired")


def account_disabled() -> Gone:
    """What the link of a person who may no longer sign in answers (before whether it was used)."""
    return Gone(
        N_("This account is disabled, so its password cannot be reset. Ask your administrator to enable it."),
        code="reset_account_disabled",
    )


async def open_reset(session: AsyncSession, cred: tokens.SessionCredential, user_kind: str) -> PasswordReset:
    """The link's row (in the session's tenant), if it may still be used."""
    row = await find_reset(session, cred, user_kind)
    check_usable(row)
    return row


async def spend_reset(session: AsyncSession, row: PasswordReset) -> None:
    """Mark the link used, once: of two requests using it at the same time, one wins."""
    done = await session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Gone(N_("This link was already used or replaced by a newer one"), code="reset_link_used")


@dataclass(frozen=True, slots=True)
class ResetTarget:
    """Whom a reset asked for reaches, found while answering; the link is made and sent afterwards."""

    tenant_id: uuid.UUID
    user_kind: str
    user_id: uuid.UUID
    recipient: Recipient
    kind: str
    params: dict[str, object]
    url_prefix: str  # the link is this followed by its credential


async def send_reset(db: Database, notifier: Notifier, target: ResetTarget) -> None:
    """Make the link and notify the person, in a unit of work of its own: it runs after the answer went
    out (a background task), so asking answers in the same time whether the login exists or not."""
    async with db.session(tenant_context(target.tenant_id, channel="web")) as session:
        row, secret = await new_reset(session, target.user_kind, target.user_id)
        await notifier.notify(
            session,
            target.recipient,
            target.kind,
            dict(target.params),
            link=target.url_prefix + reset_credential(target.tenant_id, row, secret),
            link_expires_at=row.expires_at,
        )


@dataclass(frozen=True, slots=True)
class StaffResets:
    """Staff of a workspace resetting their password from the console's sign-in page."""

    db: Database
    passwords: Passwords
    guard: SignInGuard
    notifier: Notifier
    base_url: str

    async def ask(self, session: AsyncSession, workspace: str, email: str, client: SignInClient) -> ResetTarget | None:
        """Whom to send a reset link (an active user of the workspace with this email whom a channel
        reaches), or None; the caller answers the same either way and then hands the target to
        `send_reset` after its answer. Counted by the guard as a reset request (throttle.py)."""
        workspace, email = workspace.strip().lower(), email.strip().lower()
        found: tuple[Tenant, InternalUser] | None = None
        async with read_phase(session):
            async with within(session, PUBLIC):
                tenant = await session.scalar(select(Tenant).where(Tenant.slug == workspace, Tenant.status == "active"))
            async with within(session, tenant_context(tenant.id if tenant else uuid.UUID(int=0), channel="web")):
                user = await session.scalar(
                    select(InternalUser).where(InternalUser.email == email, InternalUser.status == "active")
                )
            if tenant is not None and user is not None:
                found = (tenant, user)
        may_send = await self.guard.count_reset_request(staff_login(workspace, email), client)
        if found is None or not may_send:
            return None
        tenant, user = found
        person = Recipient(
            "internal", user.id, user.display_name, user.email, None, user.locale or tenant.default_locale
        )
        if not self.notifier.can_reach(person):  # no channel: a link nobody receives is not made
            return None
        return ResetTarget(
            tenant.id,
            "internal",
            user.id,
            person,
            STAFF_PASSWORD_RESET,
            {"name": user.display_name, "workspace": tenant.name, "minutes": int(RESET_LIFETIME.total_seconds() // 60)},
            f"{self.base_url}/reset/",
        )

    async def send(self, target: ResetTarget) -> None:
        await send_reset(self.db, self.notifier, target)

    async def check(self, session: AsyncSession, credential: str, client: SignInClient) -> Tenant:
        """The workspace of a link that can still be used (for the page that asks for the new password).
        Counted as a try of a link from the client's address; a real link gives the attempt back."""
        keys = await self.guard.count_link_attempt(client)
        async with read_phase(session):
            tenant = await self._check(session, credential)
        await self.guard.succeeded(keys)
        return tenant

    async def _check(self, session: AsyncSession, credential: str) -> Tenant:
        cred = parse_reset(credential)
        async with within(session, tenant_context(cred.tenant_id, channel="web")):
            row = await find_reset(session, cred, "internal")
            tenant = await session.scalar(select(Tenant).where(Tenant.id == cred.tenant_id, Tenant.status == "active"))
            user = await session.scalar(select(InternalUser).where(InternalUser.id == row.user_id))
        if tenant is None or user is None:
            raise NotFound(N_("This link is not valid"), code="reset_link_invalid")
        if user.status != "active":
            raise account_disabled()
        check_usable(row)
        return tenant

    async def complete(self, session: AsyncSession, credential: str, password: str, client: SignInClient) -> Tenant:
        """Set the new password, spend the link and end every session of the user. A disabled user's
        link does nothing."""
        tenant = await self.check(session, credential, client)
        check_strength(password)
        cred = parse_reset(credential)
        async with within(session, tenant_context(cred.tenant_id, channel="web")):
            row = await open_reset(session, cred, "internal")
            user = await session.scalar(
                select(InternalUser).where(InternalUser.id == row.user_id, InternalUser.status == "active")
            )
            if user is None:
                raise account_disabled()
            await spend_reset(session, row)
            user.password_hash = self.passwords.hash(password)
            await revoke_user_sessions(session, user.id, "password_reset")
            await session.flush()
        return tenant
