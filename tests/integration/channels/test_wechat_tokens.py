"""The mini-program's WeChat access token is refreshed by one process at a time: refreshers that find the cached
token missing or stale at once ask WeChat once between them (each keeper here stands for a process: its own
client of WeChat, the same database), and a lease left by a refresher that died is taken over when it expires."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from channels.wechat import tokens as token_module
from channels.wechat.api import WeChatApi
from channels.wechat.models import MiniProgram, OfficialAccount
from channels.wechat.sealing import Sealer
from channels.wechat.tokens import AccessTokens, App
from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.errors import NotFound
from tests.db import run_with_database
from tests.integration.channels.official import register_official_account
from tests.wechat import OFFICIAL_APP_ID, STABLE_TOKEN, WORLD_APP_SECRET, FakeWeChat, base_url
from tests.world import World

REFRESHERS = 6


def keepers(db: Database, settings: Settings, model: App = MiniProgram) -> list[AccessTokens]:
    return [AccessTokens(db, WeChatApi(base_url()), Sealer(settings), model) for _ in range(REFRESHERS)]


def test_concurrent_refreshers_ask_wechat_once(
    client: TestClient, world: World, settings: Settings, fake_wechat: FakeWeChat
) -> None:
    tenant = uuid.UUID(world.a.tenant_id)
    fake_wechat.token_latency = 0.3  # long enough for every refresher to find the token missing

    async def work(db: Database) -> tuple[list[str], list[str], str | None]:
        first = await asyncio.gather(*(k.current(tenant) for k in keepers(db, settings)))
        # WeChat refused that token: each refresher asks for a new one at once, one forced refresh between them
        again = await asyncio.gather(*(k.current(tenant, stale=first[0]) for k in keepers(db, settings)))
        async with db.session(tenant_context(tenant), write=False) as session:
            row = await session.scalar(select(MiniProgram))
            assert row is not None and row.refresh_lease_owner is None and row.refresh_lease_until is None
            sealed = row.access_token_sealed
            assert WORLD_APP_SECRET not in row.secret_sealed
        return first, again, sealed

    first, again, sealed = run_with_database(settings, work)
    assert len(set(first)) == 1 and len(set(again)) == 1 and first[0] != again[0]
    assert fake_wechat.calls[STABLE_TOKEN] == 2 and fake_wechat.forced == 1
    # kept sealed: the database holds no token in the clear
    assert sealed is not None and again[0] not in sealed and Sealer(settings).unseal(sealed) == again[0]


def test_a_lease_left_by_a_dead_refresher_is_taken_over_when_it_expires(
    client: TestClient, world: World, settings: Settings, fake_wechat: FakeWeChat, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = uuid.UUID(world.a.tenant_id)
    monkeypatch.setattr(token_module, "LEASE", timedelta(seconds=1))

    async def work(db: Database) -> tuple[str, float]:
        async with db.session(tenant_context(tenant)) as session:
            await session.execute(
                update(MiniProgram).values(
                    refresh_lease_owner="a process that died", refresh_lease_until=utcnow() + timedelta(seconds=0.6)
                )
            )
        started = time.monotonic()
        token = await keepers(db, settings)[0].current(tenant)
        return token, time.monotonic() - started

    token, waited = run_with_database(settings, work)
    assert token and fake_wechat.calls[STABLE_TOKEN] == 1
    assert 0.5 <= waited < 5  # it waited for the lease to expire, then refreshed


def test_the_official_accounts_token_is_cached_and_refreshed_once_on_its_own_row(
    client: TestClient, world: World, settings: Settings, fake_wechat: FakeWeChat
) -> None:
    """The official account's token is kept like the mini-program's, on its own row: neither app's refresh
    touches the other's token, and tenant B (which has none) is told so."""
    register_official_account(client, world.a)
    tenant = uuid.UUID(world.a.tenant_id)
    fake_wechat.token_latency = 0.3

    async def work(db: Database) -> tuple[list[str], str | None, str | None]:
        tokens = await asyncio.gather(*(k.current(tenant) for k in keepers(db, settings, OfficialAccount)))
        async with db.session(tenant_context(tenant), write=False) as session:
            account = await session.scalar(select(OfficialAccount))
            program = await session.scalar(select(MiniProgram))
            assert account is not None and account.refresh_lease_owner is None and account.app_id == OFFICIAL_APP_ID
            return tokens, account.access_token_sealed, program.access_token_sealed if program else None

    tokens, sealed, mini_sealed = run_with_database(settings, work)
    assert len(set(tokens)) == 1 and fake_wechat.calls[STABLE_TOKEN] == 1
    assert sealed is not None and Sealer(settings).unseal(sealed) == tokens[0] and mini_sealed is None
    assert fake_wechat.current[OFFICIAL_APP_ID] == tokens[0]

    async def at_b(db: Database) -> str:
        try:
            await keepers(db, settings, OfficialAccount)[0].current(uuid.UUID(world.b.tenant_id))
        except NotFound as error:
            return error.code
        return "found"

    assert run_with_database(settings, at_b) == "no_official_account"
