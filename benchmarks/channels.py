"""What an OAuth access token costs the partner API: `GET /api/partner/me` with a token an application got
through OAuth (channels/) against the same call with the partner's password-issued token, in process and
measured as benchmarks/cpu.py measures (process CPU time per request, the best of interleaved rounds). And
the WeChat mini-program's sign-in round trip: `POST /api/wechat/<workspace>/mini/sign-in` with a wx.login
code, through WeChat's jscode2session on the fake WeChat server of the tests (tests/wechat.py, served by
uvicorn in a thread of this process on a loopback port), to the partner's tokens: wall-clock median and p99.

    .venv/bin/python -m benchmarks.channels [--databases sqlite,postgresql] [--requests 300] [--rounds 6]
        [--sign-ins 300] [--url postgresql://postgres@127.0.0.1:5432/postgres]

The shop of benchmarks/http.py is built through the API on a scratch database with production settings (on
PostgreSQL through a login that is only a member of the application's roles); its admin registers a phone app
(a public client), and the dealer signs in to it through the whole flow (partner sign-in, consent, code with
PKCE, token) driven by Authlib's AsyncOAuth2Client. Both tokens name a session row the request looks up, so the
goal is an OAuth row within 1.1x of the password row; the statement counts are printed beside them.

For the mini-program, the admin registers it, the dealer links a WeChat account once with their password, and
each measured sign-in is one the mini-program makes every time it starts: a fresh code, WeChat alone. The
statement count of one sign-in is printed beside the times, and below them what the fake's jscode2session
takes alone (the same pooled client, no portal), the part of the round trip that is WeChat's.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import statistics
import time
import uuid
import warnings
from contextlib import AsyncExitStack
from html import unescape
from pathlib import Path
from typing import Any

import authlib.deprecate  # noqa: F401  (its own warning filter first, then ours below)
import httpx

from benchmarks import http as bench
from benchmarks.cpu import Statements, asgi_call, measure
from benchmarks.ordering import PASSWORD, SECRET, ok
from benchmarks.support import on_each_database, serving_login
from channels.wechat.service import pooled_client
from portal.config import Settings
from portal.db import migrate
from tests import wechat

with warnings.catch_warnings():  # Authlib prefers the httpx2 package; httpx is what the project depends on
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.common.security import generate_token
    from authlib.integrations.httpx_client import AsyncOAuth2Client

GOAL = 1.1
PUBLIC = "https://127.0.0.1:8000"  # the production settings' cookies are Secure: the browser speaks https
REDIRECT = "com.example.bench:/oauth/callback"


async def oauth_token(app: Any) -> str:
    """The dealer's access token for a phone app, through the whole flow."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(base_url=PUBLIC, transport=transport, timeout=60) as browser:
        login = {"workspace": bench.SLUG, "email": bench.ADMIN_EMAIL, "password": PASSWORD}
        admin = {"Authorization": "Bearer " + ok(await browser.post("/api/auth/token", json=login))["access_token"]}
        registration = {"name": "Bench app", "kind": "public", "redirect_uris": [REDIRECT], "scopes": ["profile"]}
        client_id = ok(await browser.post("/api/channels/oauth-clients", json=registration, headers=admin), 201)
        app_client = AsyncOAuth2Client(
            client_id=client_id["client"]["id"],
            redirect_uri=REDIRECT,
            scope="profile",
            code_challenge_method="S256",
            base_url=PUBLIC,
            transport=transport,
        )
        verifier = generate_token(48)
        url, _state = app_client.create_authorization_url(
            f"{PUBLIC}/p/{bench.SLUG}/oauth/authorize", code_verifier=verifier
        )
        page = await browser.get(f"/p/{bench.SLUG}/login")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf
        form = {"login": bench.DEALER_EMAIL, "password": PASSWORD, "_csrf_token": csrf.group(1)}
        signed_in = await browser.post(f"/p/{bench.SLUG}/login", data={**form, "next": url.removeprefix(PUBLIC)})
        assert signed_in.status_code in (302, 303), signed_in.text
        consent = await browser.get(signed_in.headers["location"])
        action = re.search(r'<form method="post" action="([^"]*/oauth/authorize\?[^"]*)"', consent.text)
        assert action, consent.text
        allowed = await browser.post(
            unescape(action.group(1)), data={"_csrf_token": csrf.group(1), "decision": "allow"}
        )
        assert allowed.status_code == 303, allowed.text
        token = await app_client.fetch_token(
            f"{PUBLIC}/api/oauth/{bench.SLUG}/token",
            authorization_response=allowed.headers["location"],
            code_verifier=verifier,
        )
        await app_client.aclose()
        return str(token["access_token"])


async def mini_program_sign_ins(app: Any, fake: wechat.FakeWeChat, counter: Statements, n: int) -> None:
    """`n` sign-ins of a linked WeChat account, one after another: their wall-clock median and p99."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(base_url=PUBLIC, transport=transport, timeout=60) as client:
        login = {"workspace": bench.SLUG, "email": bench.ADMIN_EMAIL, "password": PASSWORD}
        admin = {"Authorization": "Bearer " + ok(await client.post("/api/auth/token", json=login))["access_token"]}
        program = {"app_id": wechat.WORLD_APP_ID, "secret": wechat.WORLD_APP_SECRET}
        ok(await client.put("/api/channels/wechat/mini-program", json=program, headers=admin))
        path = f"/api/wechat/{bench.SLUG}/mini/sign-in"
        openid = "o" + uuid.uuid4().hex[:27]

        async def sign_in(**extra: str) -> None:
            code = fake.login_code(wechat.WORLD_APP_ID, openid)
            ok(await client.post(path, json={"code": code, **extra}))

        await sign_in(login=bench.DEALER_EMAIL, password=PASSWORD)  # linked once
        counter.count = 0
        await sign_in()
        statements = counter.count
        for _ in range(max(10, n // 10)):  # warm-up
            await sign_in()
        calls = fake.calls[wechat.JSCODE2SESSION]
        times: list[float] = []
        for _ in range(n):
            started = time.perf_counter()
            await sign_in()
            times.append((time.perf_counter() - started) * 1000)
        assert fake.calls[wechat.JSCODE2SESSION] - calls == n
        # what the fake WeChat's answer takes alone, through the same pooled client
        api = app.state.services.extensions["wechat"].api
        alone: list[float] = []
        for _ in range(n):
            code = fake.login_code(wechat.WORLD_APP_ID, openid)
            started = time.perf_counter()
            await api.code_to_session(wechat.WORLD_APP_ID, wechat.WORLD_APP_SECRET, code)
            alone.append((time.perf_counter() - started) * 1000)
    print(f"  mini-program sign-in (wx.login code -> fake WeChat jscode2session -> tokens), {n} one after another")
    median, p99 = spread(times)
    print(f"  {'round trip':<15} median {median:>6.2f} ms  p99 {p99:>6.2f} ms  {statements:>2} statements")
    median, p99 = spread(alone)
    print(f"  {'of which WeChat':<15} median {median:>6.2f} ms  p99 {p99:>6.2f} ms  (jscode2session alone)")


def spread(times: list[float]) -> tuple[float, float]:
    """The median and the 99th percentile (nearest rank)."""
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(len(ordered) * 0.99) - 1)]


async def run(dialect: str, url: str, workdir: Path, args: argparse.Namespace) -> None:
    from portal.http.app import create_app

    settings = Settings.from_env({}, database_url=url, environment="test", secret_key=SECRET, data_dir=workdir)
    await asyncio.to_thread(migrate.upgrade, settings)
    async with AsyncExitStack() as stack:
        serve_url = await stack.enter_async_context(serving_login(url)) if dialect == "postgresql" else url
        production = Settings.from_env(
            {},
            environment="production",
            database_url=serve_url,
            secret_key=SECRET,
            base_url="http://127.0.0.1:8000",
            tls_terminated_by_proxy=True,
            data_dir=workdir / "data",
            password_profile="strong",
            extra={"WECHAT_API_BASE": wechat.base_url()},
        )
        app = create_app(production)
        services = app.state.services
        stack.push_async_callback(services.db.dispose)
        await stack.enter_async_context(pooled_client(services))  # as the app's lifespan would
        shop = await bench.build_shop("http://127.0.0.1:8000", 0, transport=httpx.ASGITransport(app=app))
        rows = {
            "password": asgi_call(app, "GET", "/api/partner/me", token=shop.dealer_token),
            "oauth": asgi_call(app, "GET", "/api/partner/me", token=await oauth_token(app)),
        }
        counter = Statements(services.db.engine)
        statements: dict[str, int] = {}
        for label, call in rows.items():  # warm-up: caches, pools, compiled statements
            counter.count = 0
            status = await call()
            if status != 200:
                raise RuntimeError(f"{label}: status {status}")
            statements[label] = counter.count
            for _ in range(max(20, args.requests // 10)):
                await call()
        best: dict[str, float] = {}
        for n in range(args.rounds):  # the rows interleaved (each first in turn), the best round of each
            for label, call in list(rows.items())[:: 1 if n % 2 == 0 else -1]:
                spent = await measure(call, args.requests)
                best[label] = min(best.get(label, spent), spent)
        ratio = best["oauth"] / best["password"]
        print(
            f"{dialect}: GET /api/partner/me, CPU ms per request in process, best of {args.rounds} rounds of "
            f"{args.requests}"
        )
        for label in rows:
            print(f"  {label + ' token':<15} {best[label]:>7.3f} ms  {statements[label]:>2} statements")
        print(f"  oauth / password {ratio:>6.2f}x   goal <= {GOAL}x: {'met' if ratio <= GOAL else 'NOT met'}")
        await mini_program_sign_ins(app, args.fake_wechat, counter, args.sign_ins)


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=300, help="requests a row in each round")
    parser.add_argument("--rounds", type=int, default=6, help="even: each row goes first as often")
    parser.add_argument("--sign-ins", type=int, default=300, help="mini-program sign-ins measured")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    running = wechat.Running()
    args.fake_wechat = running.start()
    args.fake_wechat.register(wechat.WORLD_APP_ID, wechat.WORLD_APP_SECRET)
    try:
        on_each_database("channels", run, args)
    finally:
        running.stop()


if __name__ == "__main__":
    main()
