"""The CPU one request costs the application, in process: the rows of benchmarks/http.py without a server, a
load generator or the other processes' noise, so a change's effect shows on a shared machine.

    .venv/bin/python -m benchmarks.cpu [--databases sqlite,postgresql] [--requests 200] [--rounds 5]
        [--rows reference,me,orders] [--statements] [--profile ROW [--profiler cprofile|pyinstrument]]
        [--url postgresql://postgres@127.0.0.1:5432/postgres]

The shop of benchmarks/http.py is built through the API (over httpx's ASGI transport) on a scratch database,
with the production settings (on PostgreSQL through a login that is only a member of the application's
roles). Each row then calls the application's ASGI callable directly, one request at a time: after a
warm-up, --rounds rounds of --requests requests a row, the rows interleaved, and the best round of each
row is printed as process CPU time per request (time.process_time: the database driver's work in this
process counts, the database server's does not), beside its ratio to the reference app
(benchmarks/reference.py, measured the same way) and the row's SQL statements. --profile ROW prints a
profile of that row (pyinstrument is not a dependency of the project: pip install it to use it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import pstats
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from benchmarks import http as bench
from benchmarks.ordering import SECRET
from benchmarks.support import on_each_database, serving_login
from portal.config import Settings
from portal.db import migrate

Call = Callable[[], Awaitable[int]]


def asgi_call(app: Any, method: str, path: str, *, token: str = "", body: Any = None) -> Call:
    """One request straight into the ASGI app, as uvicorn would pass it; returns the status."""
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]

    async def call() -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 40000),
            "scheme": "http",
            "method": method,
            "root_path": "",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": list(headers),
            "state": {},
        }
        sent = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": payload, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(scope, receive, send)
        return status

    return call


class Statements:
    """Counts the SQL statements the engine runs (BEGIN and COMMIT are not statements to SQLAlchemy)."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        self.seen: list[str] = []
        self.engine = engine.sync_engine
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def stop(self) -> None:
        """The listener costs every statement an event dispatch the reference app does not pay: it goes
        before anything is timed."""
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.count += 1
        self.seen.append(" ".join(statement.split()))


async def measure(call: Call, requests: int) -> float:
    start = time.process_time()
    for _ in range(requests):
        await call()
    return (time.process_time() - start) / requests * 1000


async def profiled(call: Call, requests: int, profiler: str, top: int) -> str:
    if profiler == "pyinstrument":  # pip install pyinstrument; not a dependency of the project
        from pyinstrument import Profiler

        sampler = Profiler(interval=0.0002, async_mode="enabled")
        with sampler:
            for _ in range(requests):
                await call()
        return sampler.output_text(unicode=False, color=False, show_all=False)
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(requests):
        await call()
    profile.disable()
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        parts = filename.split("site-packages/")
        package = parts[1].split("/")[0] if len(parts) > 1 else filename.rsplit("/", 2)[-2] if "/" in filename else "~"
        by_package[package] = by_package.get(package, 0.0) + own
    total = sum(by_package.values()) or 1.0
    for package, own in sorted(by_package.items(), key=lambda item: -item[1])[:15]:
        print(f"    {package:<40} {own / total:>6.1%}", file=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


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
        )
        app = create_app(production)
        services = app.state.services
        stack.push_async_callback(services.db.dispose)
        transport = httpx.ASGITransport(app=app)
        shop = await bench.build_shop("http://127.0.0.1:8000", args.orders, transport=transport)
        token = shop.dealer_token
        order = {"lines": shop.lines, "ship_to": "Dock 4, Harbour Road"}

        from benchmarks.reference import create_app as reference_app

        os.environ["PORTAL_DATABASE_URL"], os.environ["BENCH_SLUG"] = serve_url, shop.tenant_slug
        reference = reference_app()
        rows: dict[str, tuple[Call, int]] = {
            "reference": (asgi_call(reference, "GET", "/reference"), 200),
            "health": (asgi_call(app, "GET", "/health"), 200),
            "me": (asgi_call(app, "GET", "/api/partner/me", token=token), 200),
            "orders": (asgi_call(app, "GET", "/api/partner/ordering/orders", token=token), 200),
            "catalog": (asgi_call(app, "GET", "/api/partner/ordering/catalog", token=token), 200),
            "placement": (asgi_call(app, "POST", "/api/partner/ordering/orders", token=token, body=order), 201),
        }
        wanted = args.rows.split(",") if args.rows else list(rows)
        counter = Statements(services.db.engine)
        statements: dict[str, int] = {}
        for label in wanted:  # warm-up: caches, pools, compiled statements
            call, expected = rows[label]
            counter.count, counter.seen = 0, []
            status = await call()
            if status != expected:
                raise RuntimeError(f"{label}: status {status}, expected {expected}")
            statements[label] = counter.count if label != "reference" else 1
            if args.statements:
                print("\n".join(f"    {line[:300]}" for line in counter.seen))
            for _ in range(max(20, args.requests // 10)):
                await call()
        counter.stop()
        calls: dict[str, float] = {}
        for label in wanted:  # Python function calls a request: a figure the machine's load cannot move
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(20):
                await rows[label][0]()
            profile.disable()
            calls[label] = pstats.Stats(profile).total_calls / 20  # type: ignore[attr-defined]
        best: dict[str, float] = {}
        for _ in range(args.rounds):  # rows interleaved, the best round of each: the least disturbed
            for label in wanted:
                spent = await measure(rows[label][0], args.requests)
                best[label] = min(best.get(label, spent), spent)
        print(f"{dialect}: CPU ms per request in process, best of {args.rounds} rounds of {args.requests} requests")
        for label in wanted:
            ratio = best[label] / best["reference"] if "reference" in best else float("nan")
            print(
                f"  {label:<10} {best[label]:>7.3f} ms  {ratio:>5.2f}x ref  {statements[label]:>3} statements"
                f"  {calls[label]:>8.0f} Python calls"
            )
        if args.profile:
            print(await profiled(rows[args.profile][0], args.requests, args.profiler, args.top))


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--requests", type=int, default=200, help="requests a row in each round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--orders", type=int, default=30, help="orders the dealer has before the timed part")
    parser.add_argument("--rows", default="", help="comma-separated: reference,health,me,orders,catalog,placement")
    parser.add_argument("--profile", default="", help="a row to profile with cProfile")
    parser.add_argument("--profiler", default="cprofile", choices=["cprofile", "pyinstrument"])
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--statements", action="store_true", help="print each row's SQL")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    on_each_database("cpu", run, args)


if __name__ == "__main__":
    main()
