"""External users: one global identity per person, a membership per upstream, one-time set-password
links, partner sign-in, and the session loader that re-checks membership and link on every request."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect import quotas
from interconnect.links import Links, NewEnterprise
from interconnect.models import EnterpriseLink, ExternalIdentity, Membership, SetupToken
from portal.actor import Actor
from portal.db.types import utcnow
from portal.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from portal.i18n import N_
from portal.identity import tokens
from portal.identity.accounts import check_locale, check_name, normalise_email
from portal.identity.passwords import Passwords, check_strength
from portal.identity.sessions import revoke_user_sessions
from portal.ids import uuid7
from portal.outbox import publish

MOBILE = re.compile(r"^\+?[0-9]{6,20}$")
SETUP_LIFETIME = timedelta(days=7)


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
        self,
        link_id: uuid.UUID | None,
        person: NewPerson,
        *,
        admin: bool = False,
        proven_identity: uuid.UUID | None = None,
    ) -> tuple[Membership, ExternalIdentity]:
        """Add a person to this upstream. A new person gets an identity (active with the password given,
        else invited until they set one). A person who already has a partner login is invited, and joins
        only by accepting with that login, unless the caller has just had them prove it
        (`proven_identity`): so whoever adds an email learns nothing of whether a login exists, and
        nobody is joined to a programme without their consent."""
        name, email, mobile = self.validate(person)
        identity = await self.identity_for(email, mobile)
        known = identity is not None
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
        elif await self.session.scalar(select(Membership.id).where(Membership.identity_id == identity.id)):
            raise Conflict(N_("This person is already connected to this programme"), code="already_member")
        await quotas.reserve(self.session, users=1)
        active = identity.id == proven_identity if known else identity.password_hash is not None
        membership = Membership(
            id=uuid7(),
            identity_id=identity.id,
            link_id=link_id,
            display_name=name,
            email=email,
            mobile=mobile,
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

    async def renew_setup_link(self, membership: Membership) -> str:
        """A new one-time link for a person who has not accepted yet; every earlier one stops working."""
        if membership.status != "invited":
            raise Conflict(N_("This person has already accepted; they sign in with their password"), code="accepted")
        await self.session.execute(
            update(SetupToken)
            .where(SetupToken.membership_id == membership.id, SetupToken.used_at.is_(None))
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return await self.setup_link(membership)

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
        if status == membership.status:
            return membership
        if status == "active" and membership.status == "invited":  # only the person's own acceptance does that
            raise Conflict(N_("This person has not accepted the invitation yet"), code="not_accepted")
        if status == "active" and membership.link_id is not None:
            link = await Links(self.session).get(membership.link_id)
            if link.status == "terminated":
                raise Conflict(N_("The enterprise of this user is terminated"), code="link_terminated")
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

    async def add_colleague(
        self, actor: Actor, person: NewPerson, *, admin: bool = False
    ) -> tuple[Membership, ExternalIdentity, str | None]:
        """An enterprise admin adds a person to their own enterprise (within the quota). The person gets a
        one-time link: to set a password, or, if they have a partner login, to accept by signing in."""
        if actor.enterprise_id is None:
            raise PermissionDenied()
        await Links(self.session).get(actor.enterprise_id)
        membership, identity = await self.add(actor.enterprise_id, person, admin=admin)
        credential = None if membership.status == "active" else await self.setup_link(membership)
        return membership, identity, credential

    async def colleague(self, actor: Actor, membership_id: uuid.UUID) -> Membership:
        """A person of the actor's own enterprise; anyone else's membership (another enterprise's, another
        workspace's) is simply not found."""
        if actor.enterprise_id is None:
            raise NotFound(N_("No such user"))
        return await self.get(membership_id, link_id=actor.enterprise_id, only_link=True)

    async def set_colleague_status(self, actor: Actor, membership_id: uuid.UUID, status: str) -> Membership:
        """An enterprise admin disables or enables someone of their own enterprise (never themselves);
        anyone else's membership is simply not found."""
        membership = await self.get(membership_id, link_id=actor.enterprise_id, only_link=True)
        if membership.id == actor.user_id:
            raise Conflict(N_("You cannot disable yourself"), code="disable_self")
        return await self.set_status(membership, status)


@dataclass(frozen=True, slots=True)
class CreatedEnterprise:
    link: EnterpriseLink
    admin: Membership | None = None
    setup_credential: str | None = None  # for a first admin who has no partner login yet


async def create_enterprise(
    session: AsyncSession, actor: Actor | None, passwords: Passwords, data: NewEnterprise, admin: NewPerson | None
) -> CreatedEnterprise:
    """The upstream creates an enterprise directly, optionally with its first admin. With an admin it
    stays invited until that admin accepts the one-time link (setting a password, or signing in with
    the partner login they have)."""
    links = Links(session, actor)
    link = await links.create(data, status="invited" if admin is not None else "active")
    if admin is None:
        return CreatedEnterprise(link)
    people = People(session, passwords)
    membership, _identity = await people.add(link.id, admin, admin=True)
    if membership.status == "active":  # given a password by the upstream: nothing to accept
        await links.transition(link.id, "active", "first admin created with a password")
        return CreatedEnterprise(link, membership)
    return CreatedEnterprise(link, membership, await people.setup_link(membership))
