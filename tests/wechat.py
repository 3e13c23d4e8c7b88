"""A fake of WeChat's server API on a loopback port, for the mini-program's sign-in: `jscode2session`,
`cgi-bin/token` and `cgi-bin/stable_token` (client_credential), and `wxa/business/getuserphonenumber`; and for
the official account's web authorisation: the page `connect/oauth2/authorize` (WeChat's browser, which sends the
person back with a code), `sns/oauth2/access_token` and `sns/userinfo`; and for its template messages,
`cgi-bin/message/template/send`; with WeChat's error codes. It is an ASGI
app served by uvicorn in a thread of the test process.

A test makes what WeChat would have: `login_code(app_id, openid)` is what `wx.login` gives the mini-program,
`phone_code(app_id, number)` what the "get phone number" button gives; `in_browser(openid, unionid)` is who
is using WeChat's browser when it opens the authorisation page (the official account's codes are for them);
`add_template(app_id, template_id)` is a template the manufacturer added in WeChat's admin console,
`unfollow(app_id, openid)` a person who stopped following the official account (43004), and `messages` the
template messages received;
`fail(endpoint, errcode, ...)` makes the next calls of an endpoint answer those error codes; `calls[endpoint]`
counts the requests received.

The settings of every test app name its address (`base_url()`): the socket is bound when first asked for and
served once a test asks for the `fake_wechat` fixture (tests/integration/channels/conftest.py), so an app
whose tests never start it gets "connection refused" from that address, never somebody else's server.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode

import uvicorn
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect

JSCODE2SESSION = "jscode2session"
TOKEN = "token"
STABLE_TOKEN = "stable_token"
PHONE = "getuserphonenumber"
AUTHORIZE = "authorize"
WEB_TOKEN = "oauth2_access_token"
USERINFO = "userinfo"
TEMPLATE_SEND = "template_send"
OUTAGE = 502  # not an errcode of WeChat's: the fake answers a gateway's error page

# tenant A's mini-program in the world (tests.world)
WORLD_APP_ID = "wx0a1b2c3d4e5f6a7b"
WORLD_APP_SECRET = "5f2b9c0e7d1a4b3c8e6f0a9d2c7b1e4f"
# the official accounts of tenants A and B (registered by the tests that use them)
OFFICIAL_APP_ID = "wx1b2c3d4e5f6a7b8c"
OFFICIAL_APP_SECRET = "6a3c0d1f8e2b5c4d9f7a1b0e3d8c2f5a"
OTHER_OFFICIAL_APP_ID = "wx2c3d4e5f6a7b8c9d"
OTHER_OFFICIAL_APP_SECRET = "7b4d1e2a9f3c6d5e0a8b2c1f4e9d3a6b"

_socket: socket.socket | None = None


def bound_socket() -> socket.socket:
    global _socket
    if _socket is None:
        _socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        _socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        _socket.bind(("127.0.0.1", 0))
    return _socket


def base_url() -> str:
    return f"http://127.0.0.1:{bound_socket().getsockname()[1]}"


@dataclass
class Issued:
    app_id: str
    expires_at: float  # time.monotonic()


@dataclass
class FakeWeChat:
    apps: dict[str, str] = field(default_factory=dict)  # app id -> secret
    login_codes: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # code -> app, openid, unionid
    phone_codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # code -> app, number, country code
    tokens: dict[str, Issued] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)  # app id -> its newest token
    failures: dict[str, list[int]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    forced: int = 0  # stable_token calls with force_refresh
    token_lifetime: int = 7200
    token_latency: float = 0.0  # seconds the token endpoints take (to make refreshers overlap)
    # the official accounts' web authorisation: who is in WeChat's browser (their openid in the app asked for,
    # and their unionid), the codes it gave (code -> app, openid, unionid, scope), those exchanged already, and
    # the web access tokens it issued (token -> openid, unionid)
    person: tuple[str, str | None] | None = None
    web_codes: dict[str, tuple[str, str, str | None, str]] = field(default_factory=dict)
    spent_codes: set[str] = field(default_factory=set)
    web_tokens: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # template messages: the templates each official account has, who does not follow it, and what was sent
    # (app id, openid, template id, url, data)
    templates: set[tuple[str, str]] = field(default_factory=set)
    unfollowed: set[tuple[str, str]] = field(default_factory=set)
    messages: list[tuple[str, str, str, str | None, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what a test sets up ------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            self.login_codes.clear()
            self.phone_codes.clear()
            self.tokens.clear()
            self.current.clear()
            self.failures.clear()
            self.calls.clear()
            self.forced = 0
            self.token_latency = 0.0
            self.person = None
            self.web_codes.clear()
            self.spent_codes.clear()
            self.web_tokens.clear()
            self.templates.clear()
            self.unfollowed.clear()
            self.messages.clear()

    def register(self, app_id: str, secret: str) -> None:
        self.apps[app_id] = secret

    def login_code(self, app_id: str, openid: str, unionid: str | None = None) -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.login_codes[code] = (app_id, openid, unionid)
        return code

    def phone_code(self, app_id: str, number: str, country_code: str = "86") -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.phone_codes[code] = (app_id, number, country_code)
        return code

    def in_browser(self, openid: str, unionid: str | None = None) -> None:
        """The person using WeChat's browser from now on: the authorisation page gives codes for them."""
        self.person = (openid, unionid)

    def web_code(self, app_id: str, openid: str, unionid: str | None = None, scope: str = "snsapi_base") -> str:
        """A code the authorisation page would have given `openid` in the official account `app_id`."""
        code = secrets.token_hex(16)
        with self.lock:
            self.web_codes[code] = (app_id, openid, unionid, scope)
        return code

    def add_template(self, app_id: str, template_id: str) -> None:
        with self.lock:
            self.templates.add((app_id, template_id))

    def unfollow(self, app_id: str, openid: str) -> None:
        with self.lock:
            self.unfollowed.add((app_id, openid))

    def fail(self, endpoint: str, *errcodes: int) -> None:
        """The next calls of `endpoint` answer these error codes; `OUTAGE` is a gateway's HTML error page."""
        with self.lock:
            self.failures.setdefault(endpoint, []).extend(errcodes)

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (WeChat answers 42001), though the platform's cache does not know."""
        with self.lock:
            for issued in self.tokens.values():
                issued.expires_at = 0.0

    def forget_tokens(self) -> None:
        """Every token issued so far becomes unknown (WeChat answers 40001: another server took a new one)."""
        with self.lock:
            self.tokens.clear()
            self.current.clear()

    # --- the server's side ----------------------------------------------------------------------------------

    def _failure(self, endpoint: str) -> Any:
        with self.lock:
            self.calls[endpoint] += 1
            queued = self.failures.get(endpoint)
            errcode = queued.pop(0) if queued else None
        if errcode == OUTAGE:
            return Response("<html>502 Bad Gateway</html>", status_code=502, media_type=MediaType.HTML)
        return None if errcode is None else error(errcode)

    def _issue(self, app_id: str, secret: str, *, force: bool) -> dict[str, Any]:
        if self.apps.get(app_id) != secret:
            return error(40125 if app_id in self.apps else 40013)
        with self.lock:
            now = time.monotonic()
            held = self.current.get(app_id)
            if held and not force and self.tokens.get(held) and self.tokens[held].expires_at > now:
                return {"access_token": held, "expires_in": int(self.tokens[held].expires_at - now)}
            if held:
                self.tokens.pop(held, None)  # a new token ends the one before it
            token = "wxat_" + secrets.token_urlsafe(48)
            self.tokens[token] = Issued(app_id, now + self.token_lifetime)
            self.current[app_id] = token
            self.forced += force
        return {"access_token": token, "expires_in": self.token_lifetime}

    def app(self) -> Litestar:
        fake = self

        @get("/sns/jscode2session", sync_to_thread=False)
        def jscode2session(
            appid: FromQuery[str] = "",
            secret: FromQuery[str] = "",
            js_code: FromQuery[str] = "",
            grant_type: FromQuery[str] = "",
        ) -> Any:
            failed = fake._failure(JSCODE2SESSION)
            if failed:
                return failed
            if fake.apps.get(appid) != secret:
                return error(40125 if appid in fake.apps else 40013)
            if grant_type != "authorization_code":
                return error(40002)
            with fake.lock:
                found = fake.login_codes.pop(js_code, None)
            if found is None or found[0] != appid:
                return error(40029)
            answer = {"openid": found[1], "session_key": secrets.token_urlsafe(16)}
            return answer if found[2] is None else {**answer, "unionid": found[2]}

        @get("/cgi-bin/token")
        async def token(
            grant_type: FromQuery[str] = "", appid: FromQuery[str] = "", secret: FromQuery[str] = ""
        ) -> Any:
            failed = fake._failure(TOKEN)
            if failed:
                return failed
            await asyncio.sleep(fake.token_latency)
            if grant_type != "client_credential":
                return error(40002)
            return fake._issue(appid, secret, force=False)

        @post("/cgi-bin/stable_token", status_code=200)
        async def stable_token(request: Request[Any, Any, Any]) -> Any:
            failed = fake._failure(STABLE_TOKEN)
            if failed:
                return failed
            body = await request.json()
            await asyncio.sleep(fake.token_latency)
            if body.get("grant_type") != "client_credential":
                return error(40002)
            return fake._issue(str(body.get("appid")), str(body.get("secret")), force=bool(body.get("force_refresh")))

        @post("/wxa/business/getuserphonenumber", status_code=200)
        async def phone_number(request: Request[Any, Any, Any], access_token: FromQuery[str] = "") -> Any:
            failed = fake._failure(PHONE)
            if failed:
                return failed
            body = await request.json()
            with fake.lock:
                issued = fake.tokens.get(access_token)
                if issued is None:
                    return error(40001)
                if issued.expires_at <= time.monotonic():
                    return error(42001)
                found = fake.phone_codes.pop(str(body.get("code")), None)
            if found is None or found[0] != issued.app_id:
                return error(40029)
            app_id, number, country = found
            return {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": f"+{country}{number}",
                    "purePhoneNumber": number,
                    "countryCode": country,
                    "watermark": {"timestamp": int(time.time()), "appid": app_id},
                },
            }

        @get("/connect/oauth2/authorize", sync_to_thread=False)
        def authorize(
            appid: FromQuery[str] = "",
            redirect_uri: FromQuery[str] = "",
            response_type: FromQuery[str] = "",
            asked_scope: Annotated[str, QueryParameter(name="scope")] = "",
            sent_state: Annotated[str, QueryParameter(name="state")] = "",
        ) -> Any:
            """WeChat's browser: the person (who follows the account, or allowed snsapi_userinfo) goes back to
            redirect_uri with a code for them and the state as it was sent."""
            fake.calls[AUTHORIZE] += 1
            if (
                appid not in fake.apps
                or response_type != "code"
                or asked_scope not in ("snsapi_base", "snsapi_userinfo")
            ):
                return Response("<html>参数错误</html>", status_code=400, media_type=MediaType.HTML)
            if fake.person is None:
                return Response("<html>请在微信客户端打开链接</html>", status_code=400, media_type=MediaType.HTML)
            code = fake.web_code(appid, fake.person[0], fake.person[1], asked_scope)
            separator = "&" if "?" in redirect_uri else "?"
            return Redirect(f"{redirect_uri}{separator}{urlencode({'code': code, 'state': sent_state})}")

        @get("/sns/oauth2/access_token", sync_to_thread=False)
        def web_token(
            appid: FromQuery[str] = "",
            secret: FromQuery[str] = "",
            code: FromQuery[str] = "",
            grant_type: FromQuery[str] = "",
        ) -> Any:
            failed = fake._failure(WEB_TOKEN)
            if failed:
                return failed
            if fake.apps.get(appid) != secret:
                return error(40125 if appid in fake.apps else 40013)
            if grant_type != "authorization_code":
                return error(40002)
            with fake.lock:
                if code in fake.spent_codes:
                    return error(40163)
                found = fake.web_codes.pop(code, None)
                if found is None or found[0] != appid:
                    return error(40029)
                fake.spent_codes.add(code)
                token = "wxwt_" + secrets.token_urlsafe(32)
                fake.web_tokens[token] = (found[1], found[2])
            _app, openid, unionid, scope = found
            answer = {
                "access_token": token,
                "expires_in": 7200,
                "refresh_token": "wxrt_" + secrets.token_urlsafe(32),
                "openid": openid,
                "scope": scope,
            }
            # WeChat gives the unionid here only for snsapi_userinfo (and only under an open platform account)
            return {**answer, "unionid": unionid} if unionid and scope == "snsapi_userinfo" else answer

        @get("/sns/userinfo", sync_to_thread=False)
        def userinfo(access_token: FromQuery[str] = "", openid: FromQuery[str] = "") -> Any:
            failed = fake._failure(USERINFO)
            if failed:
                return failed
            found = fake.web_tokens.get(access_token)
            if found is None or found[0] != openid:
                return error(40001)
            answer = {"openid": openid, "nickname": "微信用户", "headimgurl": "", "privilege": []}
            return answer if found[1] is None else {**answer, "unionid": found[1]}

        @post("/cgi-bin/message/template/send", status_code=200)
        async def template_send(request: Request[Any, Any, Any], access_token: FromQuery[str] = "") -> Any:
            failed = fake._failure(TEMPLATE_SEND)
            if failed:
                return failed
            body = await request.json()
            with fake.lock:
                issued = fake.tokens.get(access_token)
                if issued is None:
                    return error(40001)
                if issued.expires_at <= time.monotonic():
                    return error(42001)
                touser, template_id = str(body.get("touser") or ""), str(body.get("template_id") or "")
                if not touser:
                    return error(40003)
                if (issued.app_id, template_id) not in fake.templates:
                    return error(40037)
                if (issued.app_id, touser) in fake.unfollowed:
                    return error(43004)
                data = body.get("data")
                if not isinstance(data, dict) or not all(
                    isinstance(v, dict) and isinstance(v.get("value"), str) for v in data.values()
                ):
                    return error(47001)
                fake.messages.append((issued.app_id, touser, template_id, body.get("url"), data))
                msgid = len(fake.messages)
            return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

        return Litestar(
            [jscode2session, token, stable_token, phone_number, authorize, web_token, userinfo, template_send],
            openapi_config=None,
        )


MESSAGES = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40013: "invalid appid",
    40003: "invalid openid",
    40029: "invalid code",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    40163: "code been used",
    42001: "access_token expired",
    43004: "require subscribe",
    47001: "data format error",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
}


def error(errcode: int) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": MESSAGES.get(errcode, "error")}


class Running:
    """The fake served by uvicorn in a daemon thread, on the socket `base_url()` names."""

    def __init__(self) -> None:
        self.fake = FakeWeChat()
        config = uvicorn.Config(self.fake.app(), lifespan="off", log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [bound_socket()]}, daemon=True)

    def start(self) -> FakeWeChat:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake WeChat server did not start")
            time.sleep(0.01)
        return self.fake

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
