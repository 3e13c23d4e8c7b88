"""Signing a partner in from the manufacturer's WeChat mini-program.

The mini-program sends a `wx.login` code; WeChat's `jscode2session` turns it into the person's openid (and
unionid) in that mini-program. An openid bound to a partner's global identity signs that person in: tokens
for the partner API, exactly as the password sign-in gives, in a token family of the channel "miniapp".

The first time, the person proves who they are once, and the openid is bound:
- with the phone-number code of the mini-program's "get phone number" button: WeChat gives the number, which
  must be the mobile number of a partner login the manufacturer invited; or
- with their partner login and password (counted by the one sign-in throttle, like every password check).
A number no invited partner has gets "ask your manufacturer for an invitation". A disabled person, or one
whose enterprise is suspended, is refused whichever way they come.

Every call to WeChat is made outside a database transaction: the request's unit of work reads in
`read_phase`s and writes only at the end (the binding and the session), so a slow WeChat holds no lock.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.wechat.api import Phone
from channels.wechat.errors import TOKEN_ERRORS, WeChatError, WeChatRefused
from channels.wechat.models import MiniProgram, WeChatBinding
from channels.wechat.service import WeChat
from interconnect.models import ExternalIdentity, Membership
from interconnect.services import Interconnect
from portal.actor import Actor
from portal.db.context import tenant_context
from portal.db.engine import read_phase
from portal.db.tenancy import within
from portal.db.types import utcnow
from portal.errors import Conflict, NotAuthenticated, NotFound, PermissionDenied, ValidationFailed
from portal.i18n import N_
from portal.identity.sessions import OpenedSession
from portal.identity.throttle import SignInClient
from portal.ids import uuid7

CHANNEL = "miniapp"
MAX_CODE = 256
# a binding's last sign-in is kept to the day: a mini-program signs in each time it starts, and its session row
# records each sign-in already, so most sign-ins write nothing but their session
LAST_SIGN_IN_GRAIN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class MiniSignIn:
    code: str
    phone_code: str | None = None
    login: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class SignedIn:
    opened: OpenedSession
    # how the WeChat account was bound by this sign-in ("phone", "password", "unionid"), None if it already was
    bound_by: str | None


def ambiguous_phone() -> Conflict:
    return Conflict(
        N_("More than one partner login has this phone number. Sign in once with your partner login and password."),
        code="ambiguous_phone",
    )


def not_invited() -> PermissionDenied:
    return PermissionDenied(
        N_(
            "No partner of this manufacturer has this phone number. Ask your manufacturer for an invitation, "
            "or sign in once with your partner login and password."
        ),
        code="not_invited",
    )


def no_access() -> PermissionDenied:
    return PermissionDenied(
        N_(
            "Your access to this partner portal is not active: ask your manufacturer or your enterprise's administrator"
        ),
        code="no_access",
    )


async def sign_in(
    db: AsyncSession, wechat: WeChat, interconnect: Interconnect, slug: str, asked: MiniSignIn, client: SignInClient
) -> SignedIn:
    access = interconnect.access
    if not asked.code.strip() or len(asked.code) > MAX_CODE:
        raise ValidationFailed.single("code", N_("Send the code wx.login gave"), "required")
    async with read_phase(db):
        workspace = await access.workspace(db, slug)
        tenant_id = workspace.tenant_id
        async with within(db, tenant_context(tenant_id, channel=CHANNEL)):
            program = (
                await db.execute(
                    select(MiniProgram.app_id, MiniProgram.secret_sealed).where(MiniProgram.status == "active")
                )
            ).one_or_none()
    if program is None:
        raise NotFound(N_("This partner portal has no WeChat mini-program"), code="no_mini_program")
    app_id = program.app_id
    secret = wechat.sealer.unseal(program.secret_sealed)
    if secret is None:
        raise WeChatRefused(
            N_("The mini-program's secret cannot be read with the configured key: enter it again"),
            code="wechat_secret_unreadable",
        )
    session = await wechat.api.code_to_session(app_id, secret, asked.code)

    async with read_phase(db), within(db, tenant_context(tenant_id, channel=CHANNEL)):
        bound = await bound_identity(db, app_id, session.openid, session.unionid)
    if bound is not None and not bound[3]:
        # the person's password changed since the binding: it ends, and the person proves who they are again
        async with within(db, tenant_context(tenant_id, channel=CHANNEL)):
            await unbind(db, bound[0])
        bound = None

    actor: Actor | None = None
    opened: OpenedSession | None = None
    bound_by: str | None = None
    last_sign_in_at: datetime | None = None
    if bound is not None:
        identity_id, exact, last_sign_in_at, _current = bound
        bound_by = None if exact else "unionid"
    elif asked.phone_code:
        phone = await phone_number(wechat, tenant_id, asked.phone_code)
        # a person this manufacturer knows (a membership, whatever its state) whose sign-in mobile it is
        async with read_phase(db), within(db, tenant_context(tenant_id, channel=CHANNEL)):
            found = list(
                await db.scalars(
                    select(ExternalIdentity.id)
                    .join(Membership, Membership.identity_id == ExternalIdentity.id)
                    .where(ExternalIdentity.mobile.in_(phone.candidates()))
                    .distinct()
                    .limit(2)
                )
            )
        # two people whose numbers read the same (one typed with +86, one without) are not told apart by
        # guessing: the person signs in with their password once instead
        if len(found) != 1:
            raise not_invited() if not found else ambiguous_phone()
        found_id = found[0]
        identity_id, bound_by = found_id, "phone"
    elif asked.login and asked.password:
        signed = await access.log_in(db, slug, asked.login, asked.password, CHANNEL, client)
        assert signed.actor.identity_id is not None
        identity_id, actor, opened, bound_by = signed.actor.identity_id, signed.actor, signed.opened, "password"
    else:
        raise NotAuthenticated(
            N_(
                "This WeChat account is not linked to a partner login yet: call wx.login again and send it with "
                "the phone number code, or with your partner login and password"
            ),
            code="wechat_not_linked",
        )

    if actor is None or opened is None:
        found = await access.open_session(db, tenant_id, identity_id, CHANNEL, client)
        if found is None:
            # the person's membership here is disabled, or their enterprise suspended or terminated
            raise no_access()
        actor, opened = found
    async with within(db, tenant_context(tenant_id, actor=actor, channel=CHANNEL)):
        await remember(db, app_id, session.openid, session.unionid, identity_id, bound_by, last_sign_in_at)
    return SignedIn(opened, bound_by)


async def remember(
    db: AsyncSession,
    app_id: str,
    openid: str,
    unionid: str | None,
    identity_id: uuid.UUID,
    bound_by: str | None,
    last_sign_in_at: datetime | None,
) -> None:
    """Bind the account (`bound_by`: how this sign-in proved who the person is), or note the sign-in of one
    bound already, to the day: most sign-ins write nothing but their session."""
    if bound_by is not None:
        await bind(db, app_id, openid, unionid, identity_id, bound_by)
    elif last_sign_in_at is None or last_sign_in_at < utcnow() - LAST_SIGN_IN_GRAIN:
        await db.execute(
            update(WeChatBinding)
            .where(WeChatBinding.app_id == app_id, WeChatBinding.openid == openid)
            .values(last_sign_in_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def credential_mark(password_hash: str | None) -> str:
    """A fingerprint of a password hash (never the hash itself): it changes whenever the password does."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:32]


async def bound_identity(
    db: AsyncSession, app_id: str, openid: str, unionid: str | None
) -> tuple[uuid.UUID, bool, datetime | None, bool] | None:
    """The identity this openid is bound to in the mini-program (exact: True) or, failing that, the one its
    unionid is bound to through another of the manufacturer's WeChat apps (False); the binding's last
    sign-in; and whether the person's password is still the one they had when it was bound."""
    mine = (WeChatBinding.app_id == app_id) & (WeChatBinding.openid == openid)
    matches = mine if unionid is None else mine | (WeChatBinding.unionid == unionid)
    row = (
        await db.execute(
            select(
                WeChatBinding.identity_id,
                WeChatBinding.app_id,
                WeChatBinding.openid,
                WeChatBinding.last_sign_in_at,
                WeChatBinding.credential_mark,
                ExternalIdentity.password_hash,
            )
            .join(ExternalIdentity, ExternalIdentity.id == WeChatBinding.identity_id)
            .where(matches)
            .order_by(case((mine, 0), else_=1))
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    current = row[4] is not None and row[4] == credential_mark(row[5])
    return row[0], row[1] == app_id and row[2] == openid, row[3], current


async def unbind(db: AsyncSession, identity_id: uuid.UUID) -> int:
    """End every WeChat binding of the person in this workspace (audited, one by one)."""
    rows = list(await db.scalars(select(WeChatBinding).where(WeChatBinding.identity_id == identity_id)))
    for row in rows:
        await db.delete(row)
    await db.flush()
    return len(rows)


async def bind(
    db: AsyncSession, app_id: str, openid: str, unionid: str | None, identity_id: uuid.UUID, bound_by: str
) -> None:
    """A savepoint around the insert: two first sign-ins of one WeChat account at once bind it once."""
    password_hash = await db.scalar(select(ExternalIdentity.password_hash).where(ExternalIdentity.id == identity_id))
    try:
        async with db.begin_nested():
            db.add(
                WeChatBinding(
                    id=uuid7(),
                    app_id=app_id,
                    openid=openid,
                    unionid=unionid,
                    identity_id=identity_id,
                    bound_by=bound_by,
                    last_sign_in_at=utcnow(),
                    credential_mark=credential_mark(password_hash),
                )
            )
    except IntegrityError:
        pass


async def phone_number(wechat: WeChat, tenant_id: uuid.UUID, code: str) -> Phone:
    """The number behind a phone-number code, with the cached access token; a token WeChat calls invalid or
    expired is refreshed and the question asked once more."""
    token = await wechat.tokens.current(tenant_id)
    try:
        return await wechat.api.phone_number(token, code)
    except WeChatError as error:
        if error.errcode not in TOKEN_ERRORS:
            raise
    token = await wechat.tokens.current(tenant_id, stale=token)
    try:
        return await wechat.api.phone_number(token, code)
    except WeChatError as error:
        raise WeChatRefused(
            N_("WeChat refused the mini-program's access token (error %(errcode)s); try again later"),
            errcode=error.errcode,
        ) from error
