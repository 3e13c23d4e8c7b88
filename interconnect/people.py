"""External users: one global identity per person, a membership per upstream, one-time set-password
links, partner sign-in, and the session loader that re-checks membership and link on every request."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect import quotas
from interconnect.links import Links
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership, SetupToken
from portal.actor import Actor, Channel
from portal.db.context import PUBLIC, SYSTEM, tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, Gone, InvalidCredentials, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity import tokens
from portal.identity.accounts import check_locale, check_name, normalise_email
from portal.identity.models import AuthSession, Tenant
from portal.identity.passwords import Passwords, check_strength
from portal.identity.sessions import OpenedSession, Sessions, revoke_user_sessions
from portal.identity.throttle import LoginThrottler, keys_for
from portal.ids import uuid7
from portal.outbox import publish

MOBILE = re.compile(r"^\+?[0-9]{6,20}$")
SETUP_LIFETIME = timedelta(days=7)
USER_KIND = "external"


def normalise_mobile(mobile: str | None) -> str | None:
    if mobile is None or not mobile.strip():
        return None
    value = re.sub(r"[\s-]", "", mobile)
    if not MOBILE.match(value):
        raise ValidationFailed.single("mobile", N_("is not a valid mobile number"))
    return value


def sign_in_name(login: str) -> tuple[str | None, str | None]:
    """An email or a mobile number, as typed on a sign-in form."""
    login = login.strip()
    if "@" in login:
        return login.lower(), None
    return None, re.sub(r"[\s-]", "", login)


@dataclass(frozen=True, slots=True)
class NewPerson:
    display_name: str
    email: str | None = None
    mobile: str | None = None
    title: str | None = None
    password: str | None = None
    locale: str | None = None


def roles_of(membership: Membership) -> frozenset[str]:
    if membership.link_id is None:
        return frozenset({"individual"})
    return frozenset({"enterprise_admin", "member"} if membership.is_enterprise_admin else {"member"})


def external_actor(m: Membership, identity: ExternalIdentity, row: AuthSession, channel: Channel) -> Actor:
    return Actor(
        user_id=m.id,
        tenant_id=m.tenant_id,
        kind="external",
        channel=channel,
        display_name=m.display_name,
        email=identity.email or identity.mobile or "",
        roles=roles_of(m),
        enterprise_id=m.link_id,
        session_id=row.id,
        locale=identity.locale,
        identity_id=identity.id,
    )


async def active_membership(
    session: AsyncSession, *, membership_id: uuid.UUID | None = None, identity_id: uuid.UUID | None = None
) -> tuple[Membership, ExternalIdentity] | None:
    """The membership, if it may act: it is active and its link (if any) is active."""
    query = (
        select(Membership, ExternalIdentity)
        .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
        .outerjoin(EnterpriseLink, EnterpriseLink.id == Membership.link_id)
        .where(Membership.status == "active", or_(Membership.link_id.is_(None), EnterpriseLink.status == "active"))
    )
    if membership_id is not None:
        query = query.where(Membership.id == membership_id)
    if identity_id is not None:
        query = query.where(Membership.identity_id == identity_id)
    found = (await session.execute(query)).one_or_none()
    return None if found is None else (found[0], found[1])


async def load_external(session: AsyncSession, row: AuthSession, channel: Channel) -> Actor | None:
    found = await active_membership(session, membership_id=row.user_id)
    return None if found is None else external_actor(found[0], found[1], row, channel)


class People:
    """Memberships of the current tenant; runs inside the caller's unit of work."""

    def __init__(self, session: AsyncSession, passwords: Passwords) -> None:
        self.session = session
        self.passwords = passwords

    async def identity_for(self, email: str | None, mobile: str | None) -> ExternalIdentity | None:
        if not email and not mobile:
            return None
        conditions = []
        if email:
            conditions.append(ExternalIdentity.email == email)
        if mobile:
            conditions.append(ExternalIdentity.mobile == mobile)
        found = list(await self.session.scalars(select(ExternalIdentity).where(or_(*conditions))))
        if len(found) > 1:
            raise Conflict(
                N_("This email and this mobile number belong to two different people"), code="identity_mismatch"
            )
        return found[0] if found else None

    def validate(self, person: NewPerson) -> tuple[str, str | None, str | None]:
        errors: list[FieldError] = []
        name = email = mobile = None
        for field, check in (
            ("display_name", lambda: check_name(person.display_name, "display_name")),
            ("email", lambda: normalise_email(person.email) if person.email and person.email.strip() else None),
            ("mobile", lambda: normalise_mobile(person.mobile)),
        ):
            try:
                value = check()
            except ValidationFailed as exc:
                errors.extend(exc.errors)
                continue
            if field == "display_name":
                name = value
            elif field == "email":
                email = value
            else:
                mobile = value
        if not errors and not email and not mobile:
            errors.append(FieldError("email", N_("an email or a mobile number is required"), "required"))
        if person.password is not None:
            try:
                check_strength(person.password)
            except ValidationFailed as exc:
                errors.extend(exc.errors)
        if errors:
            raise ValidationFailed(errors)
        assert name is not None
        return name, email, mobile

    async def add(
        self, link_id: uuid.UUID | None, person: NewPerson, *, admin: bool = False, existing_password: str | None = None
    ) -> tuple[Membership, ExternalIdentity]:
        """Add a person to this upstream. A new person gets an identity (active with the password given,
        else invited until they set one); a known person joins with the login they already have, after
        proving it when `existing_password` is required by the caller."""
        name, email, mobile = self.validate(person)
        identity = await self.identity_for(email, mobile)
        if identity is None:
            identity = ExternalIdentity(
                id=uuid7(),
                email=email,
                mobile=mobile,
                display_name=name,
                locale=check_locale(person.locale),
                password_hash=self.passwords.hash(person.password) if person.password else None,
            )
            self.session.add(identity)
            await self.session.flush()
        else:
            if existing_password is not None and not self.passwords.verify(identity.password_hash, existing_password):
                raise InvalidCredentials(
                    N_("An account with this email or mobile number exists; enter its password"),
                    code="existing_account_password",
                )
            if await self.session.scalar(select(Membership.id).where(Membership.identity_id == identity.id)):
                raise Conflict(N_("This person is already connected to this programme"), code="already_member")
        await quotas.reserve(self.session, users=1)
        active = identity.password_hash is not None
        membership = Membership(
            id=uuid7(),
            identity_id=identity.id,
            link_id=link_id,
            display_name=name,
            title=(person.title or "").strip()[:100] or None,
            is_enterprise_admin=admin,
            status="active" if active else "invited",
            joined_at=utcnow() if active else None,
        )
        self.session.add(membership)
        await self.session.flush()
        if active:
            publish(
                self.session, "user.joined", "membership", membership.id, {"link_id": link_id, "display_name": name}
            )
        return membership, identity

    async def setup_link(self, membership: Membership) -> str:
        """A one-time credential to set a password; its secret is stored only as a hash."""
        secret = tokens.new_secret()
        row = SetupToken(
            id=uuid7(),
            membership_id=membership.id,
            secret_hash=tokens.digest(secret),
            expires_at=utcnow() + SETUP_LIFETIME,
        )
        self.session.add(row)
        await self.session.flush()
        return tokens.format_credential(membership.tenant_id, row.id, secret)

    async def get(
        self, membership_id: uuid.UUID, *, link_id: uuid.UUID | None = None, only_link: bool = False
    ) -> Membership:
        query = select(Membership).where(Membership.id == membership_id)
        if only_link:
            query = query.where(Membership.link_id == link_id)
        membership = await self.session.scalar(query)
        if membership is None:
            raise NotFound(N_("No such user"))
        return membership

    async def identity_of(self, membership: Membership) -> ExternalIdentity:
        return (
            await self.session.scalars(select(ExternalIdentity).where(ExternalIdentity.id == membership.identity_id))
        ).one()

    async def set_status(self, membership: Membership, status: str) -> Membership:
        if status not in ("active", "disabled"):
            raise ValidationFailed.single("status", N_("must be one of %(choices)s"), choices="active, disabled")
        if status == membership.status or (status == "active" and membership.status == "invited"):
            return membership
        if status == "disabled":
            await revoke_user_sessions(self.session, membership.id, "membership_disabled")
            await quotas.release(self.session, users=1)
            membership.disabled_at = utcnow()
            publish(self.session, "user.disabled", "membership", membership.id, {"link_id": membership.link_id})
        else:
            await quotas.reserve(self.session, users=1)
            membership.disabled_at = None
            publish(self.session, "user.enabled", "membership", membership.id, {"link_id": membership.link_id})
        membership.status = status
        await self.session.flush()
        return membership

    async def list(
        self, link_id: uuid.UUID | None, *, limit: int = 100, offset: int = 0
    ) -> tuple[list[tuple[Membership, ExternalIdentity]], int]:
        where = Membership.link_id == link_id if link_id is not None else Membership.link_id.is_(None)
        total = await self.session.scalar(select(func.count()).select_from(Membership).where(where)) or 0
        rows = await self.session.execute(
            select(Membership, ExternalIdentity)
            .join(ExternalIdentity, ExternalIdentity.id == Membership.identity_id)
            .where(where)
            .order_by(Membership.created_at, Membership.id)
            .limit(limit)
            .offset(offset)
        )
        return [(m, i) for m, i in rows.all()], total


@dataclass(frozen=True, slots=True)
class Workspace:
    tenant_id: uuid.UUID
    slug: str
    name: str


class PartnerAccess:
    """Signing partners in and out of upstream portals, and completing set-password links."""

    def __init__(
        self, db: Database, passwords: Passwords, sessions: Sessions, throttler: LoginThrottler, failures_allowed: int
    ) -> None:
        self.db, self.passwords, self.sessions = db, passwords, sessions
        self.throttler, self.failures_allowed = throttler, failures_allowed

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
        keys = keys_for(f"partner:{slug}", login, ip, self.failures_allowed)
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
            membership, identity = found
            opened = self.sessions.open(session, tenant_id, membership.id, USER_KIND, channel, user_agent, ip)
            await session.flush()
            return external_actor(membership, identity, opened.session, channel), opened

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

    async def complete_setup(self, credential: str, password: str) -> Workspace:
        """Set the password behind a one-time link; the membership (and an invited link) become active."""
        cred = tokens.parse_credential(credential)
        if cred is None:
            raise NotFound(N_("This link is not valid"), code="setup_link_invalid")
        check_strength(password)
        async with self.db.session(tenant_context(cred.tenant_id, channel="web")) as session:
            row = await session.scalar(select(SetupToken).where(SetupToken.id == cred.session_id))
            if row is None or not tokens.same_digest(cred.secret, row.secret_hash):
                raise NotFound(N_("This link is not valid"), code="setup_link_invalid")
            if row.used_at is not None:
                raise Gone(N_("This link was already used; sign in instead"), code="setup_link_used")
            if row.expires_at < utcnow():
                raise Gone(N_("This link has expired; ask for a new one"), code="setup_link_expired")
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
