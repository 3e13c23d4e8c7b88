"""The WeChat server API the platform calls, over httpx at a configurable base URL (`PORTAL_WECHAT_API_BASE`,
default https://api.weixin.qq.com; tests run a fake of it on a loopback port):

- `jscode2session`: a `wx.login` code for the person's openid (and unionid) in the mini-program;
- `stable_token`: the mini-program's access token (client_credential), `force_refresh` once WeChat says the
  one held is invalid or expired;
- `getuserphonenumber`: a phone-number code (the mini-program's "get phone number" button) for the number.

Error codes: -1 (system busy) is retried with a growing pause, a bounded number of times; 45011 (rate limit)
is answered 429 with Retry-After; 40029 (invalid code) is the mini-program's to fix (call wx.login again);
40001, 42001 and 40014 (the access token) go back to the caller, which refreshes the token and tries once
more (channels.wechat.tokens). Anything else, a timeout or an answer that is not WeChat's JSON is 502/503.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from channels.wechat.errors import (
    INVALID_CODE,
    RATE_LIMITED,
    SYSTEM_BUSY,
    TOKEN_ERRORS,
    InvalidWeChatCode,
    WeChatError,
    WeChatRateLimited,
    WeChatRefused,
    WeChatUnavailable,
)
from portal.i18n import N_

DEFAULT_BASE = "https://api.weixin.qq.com"
BASE_SETTING = "WECHAT_API_BASE"
OPEN_DEFAULT_BASE = "https://open.weixin.qq.com"
OPEN_BASE_SETTING = "WECHAT_OPEN_BASE"
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
# -1 "system busy": tried BUSY_ATTEMPTS times in all, pausing BUSY_PAUSE, then twice that, ...
BUSY_ATTEMPTS = 3
BUSY_PAUSE = 0.1
# 45011 gives no retry time; WeChat's limits are per minute
RATE_LIMIT_RETRY_AFTER = 60
INVALID_LOGIN_CODE = N_("The sign-in code is not valid or was used already: call wx.login again")
INVALID_PHONE_CODE = N_("The phone number code is not valid or was used already: ask for the phone number again")


@dataclass(frozen=True, slots=True)
class WeChatSession:
    openid: str
    unionid: str | None


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: str
    lifetime: timedelta


@dataclass(frozen=True, slots=True)
class Phone:
    pure: str  # without the country code
    country_code: str

    def candidates(self) -> list[str]:
        """How this number may be stored for a partner: always in international form (+<code><number>);
        a mainland China number (+86) also as it is usually typed, without its country code. Never a bare
        national number of another country (+1 5101234567 is not the Chinese 15101234567), nor the
        country code without its "+"."""
        pure, code = self.pure.strip(), self.country_code.strip().lstrip("+")
        if not pure or not code:
            return []  # WeChat always names the country; a number without one matches nobody
        return [f"+{code}{pure}", pure] if code == "86" else [f"+{code}{pure}"]


class WeChatApi:
    def __init__(self, base_url: str, client: httpx.AsyncClient | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client

    def use(self, client: httpx.AsyncClient | None) -> None:
        """Send through this pooled client from now on (None: a client of its own per call)."""
        self._client = client

    async def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = self.base_url + path
        try:
            if self._client is not None:
                response = await self._client.request(method, url, **kwargs)
            else:
                async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                    response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            raise WeChatUnavailable(N_("WeChat cannot be reached; try again in a moment")) from error
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            raise WeChatUnavailable(N_("WeChat cannot be reached; try again in a moment"))
        return body

    async def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """WeChat's answer, once it is not "system busy"; any other error code raises WeChatError (the
        codes a caller acts on) or the problem it stands for."""
        pause = BUSY_PAUSE
        for attempt in range(1, BUSY_ATTEMPTS + 1):
            body = await self._send(method, path, **kwargs)
            errcode = int(body.get("errcode") or 0)
            if errcode == 0:
                return body
            if errcode == SYSTEM_BUSY and attempt < BUSY_ATTEMPTS:
                await asyncio.sleep(pause)
                pause *= 2
                continue
            if errcode == SYSTEM_BUSY:
                raise WeChatUnavailable(N_("WeChat is busy; try again in a moment"), code="wechat_busy")
            if errcode == RATE_LIMITED:
                raise WeChatRateLimited(
                    RATE_LIMIT_RETRY_AFTER, N_("WeChat is limiting requests; try again in %(seconds)s seconds")
                )
            raise WeChatError(errcode, str(body.get("errmsg") or ""))
        raise AssertionError("unreachable")

    async def code_to_session(self, app_id: str, secret: str, code: str) -> WeChatSession:
        params = {"appid": app_id, "secret": secret, "js_code": code, "grant_type": "authorization_code"}
        try:
            body = await self.call("GET", "/sns/jscode2session", params=params)
        except WeChatError as error:
            raise _refusal(error, INVALID_LOGIN_CODE, "invalid_wechat_code") from error
        openid = body.get("openid")
        if not isinstance(openid, str) or not openid:
            raise WeChatUnavailable(N_("WeChat cannot be reached; try again in a moment"))
        unionid = body.get("unionid")
        return WeChatSession(openid, unionid if isinstance(unionid, str) and unionid else None)

    async def access_token(self, app_id: str, secret: str, *, force_refresh: bool) -> AccessToken:
        payload = {"grant_type": "client_credential", "appid": app_id, "secret": secret, "force_refresh": force_refresh}
        try:
            body = await self.call("POST", "/cgi-bin/stable_token", json=payload)
        except WeChatError as error:
            raise _refusal(error) from error
        value, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(value, str) or not value or not isinstance(expires_in, int):
            raise WeChatUnavailable(N_("WeChat cannot be reached; try again in a moment"))
        return AccessToken(value, timedelta(seconds=expires_in))

    async def phone_number(self, access_token: str, code: str) -> Phone:
        """Raises WeChatError for the token's error codes (the caller refreshes the token and asks again)."""
        try:
            body = await self.call(
                "POST", "/wxa/business/getuserphonenumber", params={"access_token": access_token}, json={"code": code}
            )
        except WeChatError as error:
            if error.errcode in TOKEN_ERRORS:
                raise
            raise _refusal(error, INVALID_PHONE_CODE, "invalid_phone_code") from error
        info = body.get("phone_info")
        pure = info.get("purePhoneNumber") if isinstance(info, dict) else None
        if not isinstance(pure, str) or not pure:
            raise WeChatUnavailable(N_("WeChat cannot be reached; try again in a moment"))
        return Phone(pure, str(info.get("countryCode") or ""))  # type: ignore[union-attr]

    async def send_template(
        self, access_token: str, openid: str, template_id: str, url: str | None, data: dict[str, dict[str, str]]
    ) -> int | None:
        """An official account's template message to a follower (`message/template/send`); WeChat's message id.
        Raises WeChatError for any code but "system busy" (retried here a few times) and the rate limit
        (WeChatRateLimited): the caller decides what each means (channels.wechat.templates)."""
        payload: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            payload["url"] = url
        body = await self.call(
            "POST", "/cgi-bin/message/template/send", params={"access_token": access_token}, json=payload
        )
        msgid = body.get("msgid")
        return msgid if isinstance(msgid, int) else None


def _refusal(error: WeChatError, invalid_code: str | None = None, problem: str | None = None) -> Exception:
    if error.errcode == INVALID_CODE and invalid_code is not None:
        return InvalidWeChatCode(invalid_code, code=problem)
    return WeChatRefused(
        N_(
            "WeChat refused the mini-program's request (error %(errcode)s): "
            "the manufacturer's administrator should check its app id and secret"
        ),
        errcode=error.errcode,
    )
