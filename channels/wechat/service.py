"""The process-wide part of the WeChat channel: the API of WeChat at the configured base URL, the sealer of
secrets and the access token cache, and one pooled HTTP client for as long as the app serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from channels.wechat.api import BASE_SETTING, DEFAULT_BASE, OPEN_BASE_SETTING, OPEN_DEFAULT_BASE, TIMEOUT, WeChatApi
from channels.wechat.sealing import Sealer
from channels.wechat.tokens import AccessTokens
from portal.db.engine import Database
from portal.services import Services


class WeChat:
    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.base_url = (settings.extra.get(BASE_SETTING) or DEFAULT_BASE).rstrip("/")
        # where WeChat's browser asks the person to authorise the official account (a page, not the API)
        self.open_base = (settings.extra.get(OPEN_BASE_SETTING) or OPEN_DEFAULT_BASE).rstrip("/")
        self.sealer = Sealer(settings)
        self.api = WeChatApi(self.base_url)
        self.tokens = AccessTokens(services.db, self.api, self.sealer)

    @property
    def db(self) -> Database:
        return self.tokens.db

    def sign_in_url(self, public_base: str, slug: str) -> str:
        return f"{public_base}/api/wechat/{slug}/mini/sign-in"

    def official_entry_url(self, public_base: str, slug: str) -> str:
        """The address the official account's menu opens: it signs the person in and shows the partner portal."""
        return f"{public_base}/p/{slug}/wechat"

    def official_redirect_uri(self, public_base: str, slug: str) -> str:
        """Where WeChat sends the person back with a code: always this exact address, nothing appended."""
        return f"{public_base}/p/{slug}/wechat/callback"


@asynccontextmanager
async def pooled_client(services: Services) -> AsyncIterator[None]:
    """While the app serves, calls to WeChat share one pool of connections (outside it, each call opens its own)."""
    wechat: WeChat = services.extensions["wechat"]
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        wechat.api.use(client)
        try:
            yield
        finally:
            wechat.api.use(None)
