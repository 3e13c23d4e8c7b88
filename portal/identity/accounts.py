"""Tenant sign-up, staff accounts and logging in."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.actor import Actor, Channel
from portal.components import TenantSetup
from portal.db.context import PUBLIC, tenant_context
from portal.db.engine import read_phase
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, InvalidCredentials, NotFound, ValidationFailed
from portal.i18n import N_
from portal.identity.models import InternalUser, Tenant
from portal.identity.passwords import Passwords, check_strength
from portal.identity.sessions import OpenedSession, Sessions, internal_actor, revoke_user_sessions
from portal.identity.throttle import SignInClient, SignInGuard, staff_login
from portal.ids import uuid7
from portal.permissions import ADMIN_ROLE, AccessPolicy
from portal.timezones import check_time_zone

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RESERVED_SLUGS = frozenset(
    {"api", "admin", "console", "static", "login", "logout", "signup", "health", "p", "www", "docs", "lang"}
)
LOCALES = ("en", "zh_CN")


def normalise_email(email: str, field: str = "email") -> str:
    email = email.strip().lower()
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise ValidationFailed.single(field, N_("is not a valid email address"))
    return email


def check_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise ValidationFailed.single(
            "slug", N_("must be 3 to 40 lowercase letters, digits or hyphens, not starting or ending with a hyphen")
        )
    if slug in RESERVED_SLUGS:
        raise ValidationFailed.single("slug", N_("is reserved"), "reserved")
    return slug


def check_name(value: str, field: str, max_length: int = 200) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed.single(field, N_("is required"), "required")
    if len(value) > max_length:
        raise ValidationFailed.single(field, N_("must be at most %(max)s characters"), "too_long", max=max_length)
    return value


def check_locale(locale: str | None) -> str | None:
    if locale is not None and locale not in LOCALES:
        raise ValidationFailed.single("locale", N_("must be one of %(choices)s"), choices=", ".join(LOCALES))
    return locale


@dataclass(frozen=True, slots=True)
class SignUp:
    company_name: str
    slug: str
    admin_name: str
    email: str
    password: str
    locale: str = "en"
    time_zone: str | None = None  # IANA name; None: the usual zone of the locale


@dataclass(frozen=True, slots=True)
class NewStaff:
    email: str
    display_name: str
    password: str
    roles: tuple[str, ...] = ("staff",)
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class LoggedIn:
    actor: Actor
    opened: OpenedSession
    device: str  # a device credential for this client and sign-in name (see portal.identity.throttle)


class Accounts:
    """Sign-up and signing staff in, in the caller's unit of work (the request's `db`, or the CLI's),
    which it moves into the tenant concerned with `within`."""

    def __init__(
        self,
        passwords: Passwords,
        sessions: Sessions,
        guard: SignInGuard,
        tenant_setups: Sequence[TenantSetup] = (),
    ) -> None:
        self.tenant_setups = list(tenant_setups)
        self.passwords = passwords
        self.sessions = sessions
        self.guard = guard

    async def sign_up(self, session: AsyncSession, data: SignUp, channel: str = "web") -> tuple[Tenant, InternalUser]:
        """Create a tenant and its first admin together: both exist, or neither (a savepoint, so a caller
        that answers the refusal and carries on keeps nothing of it)."""
        errors: list[FieldError] = []
        values: dict[str, str] = {}
        for field, check in (
            ("company_name", lambda: check_name(data.company_name, "company_name")),
            ("slug", lambda: check_slug(data.slug)),
            ("admin_name", lambda: check_name(data.admin_name, "admin_name")),
            ("email", lambda: normalise_email(data.email)),
            ("password", lambda: check_strength(data.password) or data.password),
            ("locale", lambda: check_locale(data.locale) or "en"),
            ("time_zone", lambda: check_time_zone(data.time_zone, data.locale)),
        ):
            try:
                values[field] = check()
            except ValidationFailed as exc:
                errors.extend(exc.errors)
        if errors:
            raise ValidationFailed(errors)
        tenant_id = uuid7()
        try:
            async with within(session, tenant_context(tenant_id, channel=channel)), session.begin_nested():
                taken = await session.scalar(
                    select(func.count()).select_from(Tenant).where(Tenant.slug == values["slug"])
                )
                if taken:
                    raise ValidationFailed.single("slug", N_("is already taken"), "taken")
                tenant = Tenant(
                    id=tenant_id,
                    slug=values["slug"],
                    name=values["company_name"],
                    default_locale=values["locale"],
                    time_zone=values["time_zone"],
                )
                session.add(tenant)
                await session.flush()
                admin = InternalUser(
                    email=values["email"],
                    display_name=values["admin_name"],
                    password_hash=self.passwords.hash(values["password"]),
                    locale=values["locale"],
                )
                session.add(admin)
                for setup in self.tenant_setups:
                    await setup(session, tenant_id)
                await session.flush()
                await self.sessions.policy.assign(session, None, admin.id, "internal", [ADMIN_ROLE])
        except IntegrityError:  # a concurrent sign-up took the slug between the check and the insert
            raise ValidationFailed.single("slug", N_("is already taken"), "taken") from None
        return tenant, admin

    @staticmethod
    async def set_time_zone(session: AsyncSession, tenant_id: uuid.UUID, name: str | None) -> Tenant:
        """The zone every page of the tenant shows times in (its staff's and its partners')."""
        if name is None or not name.strip():
            raise ValidationFailed.single("time_zone", N_("is required"), "required")
        value = check_time_zone(name)
        tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
        tenant.time_zone = value
        return tenant

    async def log_in(
        self, session: AsyncSession, workspace: str, email: str, password: str, channel: Channel, client: SignInClient
    ) -> LoggedIn:
        workspace, email = workspace.strip().lower(), email.strip().lower()
        user_id = password_hash = None
        async with read_phase(session):
            async with within(session, PUBLIC):
                tenant_id = await session.scalar(
                    select(Tenant.id).where(Tenant.slug == workspace, Tenant.status == "active")
                )
            if tenant_id is not None:
                async with within(session, tenant_context(tenant_id, channel=channel)):
                    found = (
                        await session.execute(
                            select(InternalUser.id, InternalUser.password_hash).where(
                                InternalUser.email == email, InternalUser.status == "active"
                            )
                        )
                    ).one_or_none()
                    if found is not None:
                        user_id, password_hash = found
        login = staff_login(workspace, email)
        if not await self.guard.verify(login, client, password_hash, password):
            raise InvalidCredentials()
        assert tenant_id is not None and user_id is not None
        async with within(session, tenant_context(tenant_id, channel=channel)):
            user = await session.scalar(
                select(InternalUser).where(InternalUser.id == user_id, InternalUser.status == "active")
            )
            if user is None:  # disabled between the two reads
                raise InvalidCredentials()
            if self.passwords.needs_rehash(user.password_hash):
                user.password_hash = self.passwords.hash(password)
        return await self.signed_in(session, user, login, channel, client)

    async def signed_in(
        self, session: AsyncSession, user: InternalUser, login: str, channel: Channel, client: SignInClient
    ) -> LoggedIn:
        """Open a session for a user who has just proved their password (or, signing up, chosen it);
        `login` is their sign-in name (`staff_login`), which the new device cookie is bound to."""
        async with within(session, tenant_context(user.tenant_id, channel=channel)):
            user.last_login_at = utcnow()
            opened = self.sessions.open(
                session, user.tenant_id, user.id, "internal", channel, client.user_agent, client.address
            )
            await session.flush()
        return LoggedIn(internal_actor(user, opened.session, channel), opened, self.guard.device_cookie(login))


class Staff:
    """Internal users of the actor's tenant; runs inside the request's unit of work."""

    def __init__(self, session: AsyncSession, passwords: Passwords, policy: AccessPolicy) -> None:
        self.session = session
        self.passwords = passwords
        self.policy = policy

    async def roles_of(self, users: Sequence[InternalUser]) -> dict[uuid.UUID, frozenset[str]]:
        return await self.policy.roles_of(self.session, [u.id for u in users])

    async def list(self, *, limit: int = 50, offset: int = 0) -> tuple[list[InternalUser], int]:
        total = await self.session.scalar(select(func.count()).select_from(InternalUser)) or 0
        rows = await self.session.scalars(
            select(InternalUser).order_by(InternalUser.created_at, InternalUser.id).limit(limit).offset(offset)
        )
        return list(rows), total

    async def get(self, user_id: uuid.UUID) -> InternalUser:
        user = await self.session.scalar(select(InternalUser).where(InternalUser.id == user_id))
        if user is None:
            raise NotFound(N_("No such user"))
        return user

    async def create(self, data: NewStaff) -> InternalUser:
        email = normalise_email(data.email)
        check_strength(data.password)
        exists = await self.session.scalar(
            select(func.count()).select_from(InternalUser).where(InternalUser.email == email)
        )
        if exists:
            raise Conflict(N_("A user with this email already exists"), code="email_taken")
        user = InternalUser(
            email=email,
            display_name=check_name(data.display_name, "display_name"),
            password_hash=self.passwords.hash(data.password),
            locale=check_locale(data.locale),
        )
        self.session.add(user)
        await self.session.flush()
        await self.policy.assign(self.session, None, user.id, "internal", data.roles)
        return user

    async def update(
        self,
        actor: Actor,
        user_id: uuid.UUID,
        *,
        display_name: str | None = None,
        roles: Sequence[str] | None = None,
        status: str | None = None,
        locale: str | None = None,
    ) -> InternalUser:
        user = await self.get(user_id)
        if display_name is not None:
            user.display_name = check_name(display_name, "display_name")
        if locale is not None:
            user.locale = check_locale(locale)
        if roles is not None:
            await self.policy.assign(self.session, actor, user.id, "internal", roles)
        if status is not None:
            if status not in ("active", "disabled"):
                raise ValidationFailed.single("status", N_("must be one of %(choices)s"), choices="active, disabled")
            if user.id == actor.user_id and status == "disabled":
                raise Conflict(N_("You cannot disable yourself"), code="disable_self")
            if status == "disabled" and user.status != "disabled":
                await revoke_user_sessions(self.session, user.id, "user_disabled")
            user.status = status
        await self.session.flush()
        return user
