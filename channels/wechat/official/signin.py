"""Signing a partner in to the partner portal's pages from the manufacturer's official account, in WeChat's
browser: WeChat names the person's WeChat account (its openid in the official account, and its unionid across
the manufacturer's WeChat apps when it gives one), and an account bound to a partner's identity opens a session
of the pages (a cookie, channel "official").

An account is bound to a person when its openid is, or when its unionid is bound through the manufacturer's
mini-program (the same person in WeChat: the official account's openid is then bound too). Otherwise the person
signs in with their partner login and password once, which binds it. A binding made under another password
ends (channels.wechat.signin), and a disabled person or suspended enterprise is refused, as for the mini-program.

WeChat is called outside any database transaction: the request reads in `read_phase`s and writes at the end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.wechat.errors import WeChatRefused
from channels.wechat.models import OfficialAccount
from channels.wechat.official.browser import Unlinked
from channels.wechat.official.web_auth import WeChatUser
from channels.wechat.service import WeChat
from channels.wechat.signin import bound_identity, no_access, remember, unbind
from interconnect.access import SignedIn, Workspace
from interconnect.services import Interconnect
from portal.actor import Actor
from portal.db.context import tenant_context
from portal.db.engine import read_phase
from portal.db.tenancy import within
from portal.errors import NotFound, PermissionDenied
from portal.i18n import N_
from portal.identity.sessions import OpenedSession
from portal.identity.throttle import SignInClient

CHANNEL = "official"


@dataclass(frozen=True, slots=True)
class Account:
    tenant_id: uuid.UUID
    app_id: str
    secret: str


async def account_of(db: AsyncSession, wechat: WeChat, workspace: Workspace) -> Account:
    """The workspace's active official account, its secret unsealed."""
    async with read_phase(db), within(db, tenant_context(workspace.tenant_id, channel=CHANNEL)):
        found = (
            await db.execute(
                select(OfficialAccount.app_id, OfficialAccount.secret_sealed).where(OfficialAccount.status == "active")
            )
        ).one_or_none()
    if found is None:
        raise NotFound(N_("This partner portal has no WeChat official account"), code="no_official_account")
    secret = wechat.sealer.unseal(found.secret_sealed)
    if secret is None:
        raise WeChatRefused(
            N_("The official account's secret cannot be read with the configured key: enter it again"),
            code="wechat_secret_unreadable",
        )
    return Account(workspace.tenant_id, found.app_id, secret)


async def sign_in(
    db: AsyncSession, interconnect: Interconnect, account: Account, user: WeChatUser, client: SignInClient
) -> tuple[Actor, OpenedSession] | None:
    """A session of the pages for the person this WeChat account is bound to; None when it is bound to nobody
    (the person signs in with their password once to bind it)."""
    context = tenant_context(account.tenant_id, channel=CHANNEL)
    async with read_phase(db), within(db, context):
        bound = await bound_identity(db, account.app_id, user.openid, user.unionid)
    if bound is not None and not bound[3]:
        # the person's password changed since the binding: it ends, and the person proves who they are again
        async with within(db, context):
            await unbind(db, bound[0])
        return None
    if bound is None:
        return None
    identity_id, exact, last_sign_in_at, _current = bound
    found = await interconnect.access.open_session(db, account.tenant_id, identity_id, CHANNEL, client)
    if found is None:
        raise no_access()
    async with within(db, tenant_context(account.tenant_id, actor=found[0], channel=CHANNEL)):
        await remember(
            db, account.app_id, user.openid, user.unionid, identity_id, None if exact else "unionid", last_sign_in_at
        )
    return found


async def link(
    db: AsyncSession,
    interconnect: Interconnect,
    account: Account,
    workspace: Workspace,
    unlinked: Unlinked,
    login: str,
    password: str,
    client: SignInClient,
) -> SignedIn:
    """Sign in with the partner login and password (the one sign-in throttle counts it) and bind the WeChat
    account the official account named to that person."""
    if unlinked.app_id != account.app_id:
        # named by another official account (this workspace's previous one): WeChat must name the person again
        raise PermissionDenied(
            N_("This WeChat sign-in has expired or was used already: open the page again from the official account"),
            code="wechat_link_expired",
        )
    signed = await interconnect.access.log_in(db, workspace.slug, login, password, CHANNEL, client)
    assert signed.actor.identity_id is not None
    async with within(db, tenant_context(account.tenant_id, actor=signed.actor, channel=CHANNEL)):
        user = unlinked.user
        await remember(db, account.app_id, user.openid, user.unionid, signed.actor.identity_id, "password", None)
    return signed
