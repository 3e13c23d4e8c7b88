"""A WeChat app's access token (the mini-program's, the official account's), cached in the database and refreshed
by one process at a time.

WeChat limits how often a token may be fetched, and a new token may end the one before it, so a token is
never fetched per request: every process reads the cached one (sealed at rest) until five minutes before it
expires. Then one of them takes the refresh lease, a conditional UPDATE that only one writer can win on any
database (the row's lease is free or expired, and the cached token is still the one it read), commits it,
asks WeChat and writes the new token, releasing the lease; the others wait for that token, re-reading the
row, and take the lease themselves only if it expires unused (its holder died). No transaction is held
across the call to WeChat.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.wechat.api import WeChatApi
from channels.wechat.errors import WeChatRefused, WeChatUnavailable
from channels.wechat.models import MiniProgram, OfficialAccount
from channels.wechat.sealing import Sealer
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.errors import NotFound
from portal.i18n import N_

# a token is replaced this long before WeChat's expiry, so none is used as it expires
REFRESH_MARGIN = timedelta(minutes=5)
# how long a refresher may take before another process may take over
LEASE = timedelta(seconds=15)
WAIT_STEP = 0.05


@dataclass(frozen=True, slots=True)
class Cached:
    id: uuid.UUID
    app_id: str
    secret_sealed: str
    token_sealed: str | None
    expires_at: datetime | None


App = type[MiniProgram] | type[OfficialAccount]
# what a workspace without the app, or with a secret no configured key opens, is told
MISSING = {
    MiniProgram: (N_("This workspace has no WeChat mini-program"), "no_mini_program"),
    OfficialAccount: (N_("This workspace has no WeChat official account"), "no_official_account"),
}
UNREADABLE = {
    MiniProgram: N_("The mini-program's secret cannot be read with the configured key: enter it again"),
    OfficialAccount: N_("The official account's secret cannot be read with the configured key: enter it again"),
}


class AccessTokens:
    """The access tokens of one kind of app (`model`: the mini-program, or the official account), a row per tenant."""

    def __init__(self, db: Database, api: WeChatApi, sealer: Sealer, model: App = MiniProgram) -> None:
        self.db, self.api, self.sealer, self.model = db, api, sealer, model

    async def current(self, tenant_id: uuid.UUID, *, stale: str | None = None) -> str:
        """A live access token of the tenant's app; `stale` is one WeChat just refused, which is
        replaced (with WeChat's force_refresh) unless another process has replaced it already."""
        deadline = time.monotonic() + LEASE.total_seconds() + 5
        while True:
            cached = await self._read(tenant_id)
            token = self.sealer.unseal(cached.token_sealed) if cached.token_sealed else None
            fresh = cached.expires_at is not None and cached.expires_at > utcnow() + REFRESH_MARGIN
            if token is not None and fresh and token != stale:
                return token
            owner = uuid.uuid4().hex
            if await self._take_lease(tenant_id, cached, owner):
                return await self._refresh(tenant_id, cached, owner, force=token is not None and token == stale)
            if time.monotonic() > deadline:
                raise WeChatUnavailable(N_("WeChat cannot be reached; try again in a moment"))
            await asyncio.sleep(WAIT_STEP)

    async def _read(self, tenant_id: uuid.UUID) -> Cached:
        async with self.db.session(tenant_context(tenant_id, channel="system"), write=False) as session:
            row = (
                await session.execute(
                    select(
                        self.model.id,
                        self.model.app_id,
                        self.model.secret_sealed,
                        self.model.access_token_sealed,
                        self.model.access_token_expires_at,
                    ).where(self.model.status == "active")
                )
            ).one_or_none()
        if row is None:
            detail, code = MISSING[self.model]
            raise NotFound(detail, code=code)
        return Cached(*row)

    async def _take_lease(self, tenant_id: uuid.UUID, cached: Cached, owner: str) -> bool:
        now = utcnow()
        model = self.model
        same_token = (
            model.access_token_sealed.is_(None)
            if cached.token_sealed is None
            else model.access_token_sealed == cached.token_sealed
        )
        async with self.db.session(tenant_context(tenant_id, channel="system")) as session:
            taken = await session.execute(
                update(model)
                .where(
                    model.id == cached.id,
                    same_token,
                    (model.refresh_lease_until.is_(None)) | (model.refresh_lease_until < now),
                )
                .values(refresh_lease_owner=owner, refresh_lease_until=now + LEASE)
                .execution_options(synchronize_session=False)
            )
            return taken.rowcount == 1  # type: ignore[attr-defined]

    async def _refresh(self, tenant_id: uuid.UUID, cached: Cached, owner: str, *, force: bool) -> str:
        try:
            secret = self.sealer.unseal(cached.secret_sealed)
            if secret is None:
                raise WeChatRefused(UNREADABLE[self.model], code="wechat_secret_unreadable")
            token = await self.api.access_token(cached.app_id, secret, force_refresh=force)
        except BaseException:
            async with self.db.session(tenant_context(tenant_id, channel="system")) as session:
                await _release(session, self.model, cached.id, owner)
            raise
        async with self.db.session(tenant_context(tenant_id, channel="system")) as session:
            await session.execute(
                update(self.model)
                .where(self.model.id == cached.id, self.model.refresh_lease_owner == owner)
                .values(
                    access_token_sealed=self.sealer.seal(token.value),
                    access_token_expires_at=utcnow() + token.lifetime,
                    refresh_lease_owner=None,
                    refresh_lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )
        return token.value


async def _release(session: AsyncSession, model: App, program_id: uuid.UUID, owner: str) -> None:
    await session.execute(
        update(model)
        .where(model.id == program_id, model.refresh_lease_owner == owner)
        .values(refresh_lease_owner=None, refresh_lease_until=None)
        .execution_options(synchronize_session=False)
    )
