"""Invitations: signed, expiring, single- or multi-use links, and invite codes published per partner
type. Accepting one creates the enterprise and its first admin, or connects the accepting admin's own
tenant, in one transaction: every refusal (revoked, expired, used up, mistyped, quota) leaves nothing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from interconnect.access import login_key
from interconnect.links import Links, NewEnterprise
from interconnect.models import EnterpriseLink, ExternalIdentity, Invitation, Membership, PartnerType
from interconnect.people import NewPerson, People
from portal.actor import Actor
from portal.db.context import PUBLIC, tenant_context
from portal.db.engine import read_phase
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Conflict, FieldError, Gone, InvalidCredentials, NotFound, PermissionDenied, ValidationFailed
from portal.i18n import N_
from portal.identity.models import Tenant
from portal.identity.passwords import Passwords
from portal.identity.throttle import SignInClient, SignInGuard
from portal.identity.tokens import derive_key
from portal.permissions import AccessPolicy, Permission

# Connecting one's own workspace to a manufacturer's programme is running one's own partner programme.
CONNECT_PERMISSION: Permission = ("interconnect.programme", "update")

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed
DEFAULT_LINK_DAYS = 14


class InvitationSigner:
    """Invitation links carry `<tenant>.<invitation>.<signature>`: a mistyped or forged link fails the
    HMAC before any lookup, and the tenant is known without a cross-tenant search."""

    def __init__(self, secret_key: str) -> None:
        self._key = derive_key(secret_key, "invitation-link")

    def _sign(self, tenant_id: uuid.UUID, invitation_id: uuid.UUID) -> str:
        return hmac.new(self._key, tenant_id.bytes + invitation_id.bytes, hashlib.sha256).hexdigest()[:32]

    def token(self, tenant_id: uuid.UUID, invitation_id: uuid.UUID) -> str:
        return f"{tenant_id.hex}.{invitation_id.hex}.{self._sign(tenant_id, invitation_id)}"

    def read(self, token: str) -> tuple[uuid.UUID, uuid.UUID]:
        try:
            tenant_hex, invitation_hex, signature = token.strip().split(".")
            tenant_id, invitation_id = uuid.UUID(hex=tenant_hex), uuid.UUID(hex=invitation_hex)
        except ValueError:
            raise NotFound(
                N_("This invitation link is not valid; check that it was copied whole"), code="invitation_invalid"
            ) from None
        if not hmac.compare_digest(signature, self._sign(tenant_id, invitation_id)):
            raise NotFound(
                N_("This invitation link is not valid; check that it was copied whole"), code="invitation_invalid"
            )
        return tenant_id, invitation_id


@dataclass(frozen=True, slots=True)
class NewInvitation:
    kind: str  # "link" or "code"
    partner_type_id: uuid.UUID
    tier_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    max_uses: int | None = None
    expires_in_days: int | None = None
    note: str | None = None


def check_usable(invitation: Invitation) -> None:
    if invitation.revoked_at is not None:
        raise Gone(N_("This invitation was withdrawn by the manufacturer"), code="invitation_revoked")
    if invitation.expires_at is not None and invitation.expires_at <= utcnow():
        raise Gone(N_("This invitation has expired; ask for a new one"), code="invitation_expired")
    if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
        raise Gone(N_("This invitation has already been used"), code="invitation_used_up")


def check_limits(max_uses: int | None, expires_in_days: int | None) -> None:
    """Uses and days both checked, so a form with both wrong hears of both at once."""
    errors: list[FieldError] = []
    if max_uses is not None and max_uses < 1:
        errors.append(FieldError("max_uses", N_("must be at least 1")))
    if expires_in_days is not None and not 1 <= expires_in_days <= 365:
        errors.append(FieldError("expires_in_days", N_("must be between 1 and 365")))
    if errors:
        raise ValidationFailed(errors)


class Invitations:
    def __init__(self, session: AsyncSession, actor: Actor | None = None) -> None:
        self.session, self.actor = session, actor

    async def create(self, data: NewInvitation) -> Invitation:
        if data.kind not in ("link", "code"):
            raise ValidationFailed.single("kind", N_("must be one of %(choices)s"), choices="link, code")
        await Links(self.session).check_references(data.partner_type_id, data.tier_id, parent_id=data.parent_id)
        check_limits(data.max_uses, data.expires_in_days)
        is_link = data.kind == "link"
        days = data.expires_in_days if data.expires_in_days is not None else (DEFAULT_LINK_DAYS if is_link else None)
        invitation = Invitation(
            kind=data.kind,
            code=None if is_link else await self._new_code(),
            partner_type_id=data.partner_type_id,
            tier_id=data.tier_id,
            parent_id=data.parent_id,
            max_uses=data.max_uses if data.max_uses is not None else (1 if is_link else None),
            expires_at=utcnow() + timedelta(days=days) if days else None,
            note=(data.note or "").strip()[:200] or None,
            created_by=self.actor.user_id if self.actor else None,
        )
        self.session.add(invitation)
        await self.session.flush()
        return invitation

    async def _new_code(self) -> str:
        while True:
            code = "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(2))
            if not await self.session.scalar(select(Invitation.id).where(Invitation.code == code)):
                return code

    async def get(self, invitation_id: uuid.UUID) -> Invitation:
        invitation = await self.session.scalar(select(Invitation).where(Invitation.id == invitation_id))
        if invitation is None:
            raise NotFound(
                N_("This invitation link is not valid; check that it was copied whole"), code="invitation_invalid"
            )
        return invitation

    async def by_code(self, code: str) -> Invitation:
        normalised = code.strip().upper().replace(" ", "")
        invitation = await self.session.scalar(
            select(Invitation).where(Invitation.kind == "code", Invitation.code == normalised)
        )
        if invitation is None:
            raise ValidationFailed.single(
                "code", N_("is not a valid invite code; check it and try again"), "invitation_invalid"
            )
        return invitation

    async def find(self, invitation_id: uuid.UUID | None, code: str | None) -> Invitation:
        """The invitation a link names, or the one a typed code names."""
        if code is not None or invitation_id is None:
            return await self.by_code(code or "")
        return await self.get(invitation_id)

    async def list(self, *, include_inactive: bool = False) -> list[Invitation]:
        query = select(Invitation).order_by(Invitation.created_at.desc(), Invitation.id.desc())
        if not include_inactive:
            query = query.where(
                Invitation.revoked_at.is_(None), or_(Invitation.expires_at.is_(None), Invitation.expires_at > utcnow())
            )
        return list(await self.session.scalars(query))

    async def revoke(self, invitation_id: uuid.UUID) -> Invitation:
        invitation = await self.get(invitation_id)
        if invitation.revoked_at is None:
            invitation.revoked_at = utcnow()
            await self.session.flush()
        return invitation

    async def consume(self, invitation: Invitation) -> None:
        """Count one use, re-checking every condition in the UPDATE itself so that two people racing for
        the last use of a link cannot both get it."""
        check_usable(invitation)
        now = utcnow()
        done = await self.session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.revoked_at.is_(None),
                or_(Invitation.expires_at.is_(None), Invitation.expires_at > now),
                or_(Invitation.max_uses.is_(None), Invitation.uses < Invitation.max_uses),
            )
            .values(uses=Invitation.uses + 1)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            await self.session.refresh(invitation)
            check_usable(invitation)
            raise Gone(N_("This invitation has already been used"), code="invitation_used_up")


@dataclass(frozen=True, slots=True)
class Acceptance:
    """The enterprise to create and its first admin. The password becomes the new login, or, for a
    person who already has a partner login (another manufacturer's), must be that login's password:
    signing in with it is how they consent to join."""

    enterprise_name: str
    person: NewPerson


@dataclass(frozen=True, slots=True)
class Accepted:
    tenant_id: uuid.UUID
    tenant_slug: str
    tenant_name: str
    link: EnterpriseLink
    membership: Membership


class Onboarding:
    """The partner's side of an invitation, in the caller's unit of work (the request's `db`), which it
    moves into the inviting tenant with `within`. Accepting reads everything it checks in a `read_phase`,
    then counts and checks the first admin's password, and only then writes."""

    def __init__(
        self,
        passwords: Passwords,
        signer: InvitationSigner,
        guard: SignInGuard,
        permissions: Callable[[], AccessPolicy],
    ) -> None:
        self.passwords, self.signer, self.guard = passwords, signer, guard
        self.permissions = permissions

    def may_connect(self, actor: Actor | None, inviting_tenant_id: uuid.UUID) -> bool:
        """Whether a signed-in person may accept for their own workspace: staff of another tenant who may
        run its partner programme (the page offers it exactly when this says yes)."""
        return (
            actor is not None
            and actor.kind == "internal"
            and actor.tenant_id != inviting_tenant_id
            and self.permissions().allows(actor, CONNECT_PERMISSION)
        )

    async def preview(
        self, session: AsyncSession, token: str | None = None, *, slug: str | None = None, code: str | None = None
    ) -> tuple[Tenant, Invitation, PartnerType]:
        tenant_id, invitation_id = await self._locate(session, token, slug)
        async with within(session, tenant_context(tenant_id)):
            invitations = Invitations(session)
            invitation = await invitations.find(invitation_id, code)
            check_usable(invitation)
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
            partner_type = (
                await session.scalars(select(PartnerType).where(PartnerType.id == invitation.partner_type_id))
            ).one()
            return tenant, invitation, partner_type

    async def _locate(
        self, session: AsyncSession, token: str | None, slug: str | None
    ) -> tuple[uuid.UUID, uuid.UUID | None]:
        if token is not None:
            return self.signer.read(token)
        async with within(session, PUBLIC):
            tenant_id = await session.scalar(
                select(Tenant.id).where(Tenant.slug == (slug or "").lower(), Tenant.status == "active")
            )
        if tenant_id is None:
            raise NotFound(N_("No such partner portal"))
        return tenant_id, None

    async def _login_of(self, session: AsyncSession, person: NewPerson) -> tuple[str, ExternalIdentity | None]:
        """The sign-in name the first admin's password is counted on, and its login if it has one."""
        if not person.password:
            raise ValidationFailed.single("password", N_("is required"), "required")
        async with within(session, PUBLIC):
            _name, email, mobile = People(session, self.passwords).validate(person)
            identity = await People(session, self.passwords).identity_for(email, mobile)
        return login_key(identity, email or mobile or ""), identity

    async def _prove(
        self, login: str, identity: ExternalIdentity | None, person: NewPerson, client: SignInClient
    ) -> uuid.UUID | None:
        """The first admin's password, counted and checked like any sign-in before anything is created:
        for a person who has a partner login it must be that login's, which is their consent to join.
        A new sign-in name is counted too, so the answers cost a guesser the same either way."""
        if identity is None:
            await self.guard.count_attempt(login, client)
            return None
        if not await self.guard.verify(login, client, identity.password_hash, person.password or ""):
            raise InvalidCredentials(N_("The sign-in name or password is not correct"))
        return identity.id

    async def accept(
        self,
        session: AsyncSession,
        acceptance: Acceptance,
        client: SignInClient,
        *,
        token: str | None = None,
        slug: str | None = None,
        code: str | None = None,
    ) -> Accepted:
        """Create the enterprise (active) and its first admin from a link or a code."""
        async with read_phase(session):
            tenant_id, invitation_id = await self._locate(session, token, slug)
            async with within(session, tenant_context(tenant_id, channel="web")):
                check_usable(await Invitations(session).find(invitation_id, code))
            login, identity = await self._login_of(session, acceptance.person)
        proven = await self._prove(login, identity, acceptance.person, client)
        # a savepoint: a refusal from here on leaves nothing, though the caller answers it and commits
        async with within(session, tenant_context(tenant_id, channel="web")), session.begin_nested():
            invitations = Invitations(session)
            invitation = await invitations.find(invitation_id, code)
            await invitations.consume(invitation)
            link = await Links(session).create(
                NewEnterprise(
                    acceptance.enterprise_name,
                    invitation.partner_type_id,
                    invitation.tier_id,
                    parent_id=invitation.parent_id,
                ),
                status="active",
            )
            membership = await self._first_admin(session, link.id, acceptance.person, proven)
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
            return Accepted(tenant.id, tenant.slug, tenant.name, link, membership)

    async def _first_admin(
        self, session: AsyncSession, link_id: uuid.UUID, person: NewPerson, proven: uuid.UUID | None
    ) -> Membership:
        membership, _identity = await People(session, self.passwords).add(
            link_id, person, admin=True, proven_identity=proven
        )
        if membership.status != "active":  # the sign-in name was taken by someone else in the meantime
            raise InvalidCredentials(N_("The sign-in name or password is not correct"))
        return membership

    async def connect_tenant(
        self, session: AsyncSession, token: str, actor: Actor, person: NewPerson, client: SignInClient
    ) -> Accepted:
        """An admin of a tenant on this platform accepts for that tenant: the link records the downstream
        tenant (so the two can sync later) and the admin becomes the enterprise's first partner admin."""
        tenant_id, invitation_id = self.signer.read(token)
        if tenant_id == actor.tenant_id:
            raise Conflict(N_("A workspace cannot connect to itself"), code="self_connection")
        if not self.may_connect(actor, tenant_id):
            raise PermissionDenied(N_("Only an administrator of your company's workspace can connect it"))
        async with read_phase(session):
            async with within(session, PUBLIC):
                downstream = (await session.scalars(select(Tenant).where(Tenant.id == actor.tenant_id))).one()
            async with within(session, tenant_context(tenant_id, channel="web")):
                check_usable(await Invitations(session).get(invitation_id))
            login, identity = await self._login_of(session, person)
        proven = await self._prove(login, identity, person, client)
        async with within(session, tenant_context(tenant_id, channel="web")), session.begin_nested():
            invitations = Invitations(session)
            invitation = await invitations.get(invitation_id)
            await invitations.consume(invitation)
            link = await Links(session).create(
                NewEnterprise(
                    downstream.name,
                    invitation.partner_type_id,
                    invitation.tier_id,
                    parent_id=invitation.parent_id,
                    downstream_tenant_id=downstream.id,
                ),
                status="active",
            )
            membership = await self._first_admin(session, link.id, person, proven)
            tenant = (await session.scalars(select(Tenant).where(Tenant.id == tenant_id))).one()
            return Accepted(tenant.id, tenant.slug, tenant.name, link, membership)
