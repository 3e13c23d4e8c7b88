"""The work one request does, against the floor: the portal's JSON endpoints beside a 12-line Litestar app
that runs one indexed SELECT through SQLAlchemy (benchmarks/reference.py), on the same database, the
same engine settings and the same server settings, side by side in one run.

    .venv/bin/python -m benchmarks.http [--databases sqlite,postgresql] [--seconds 8] [--connections 16]
        [--orders 30] [--url postgresql://postgres@127.0.0.1:5432/postgres] [--keep]

For each database: a scratch database (SQLite: a file in a temporary directory; PostgreSQL: a database
on --url, served through a login that is only a member of the application's roles, as in production),
both dropped at the end unless --keep. The migrations run, then `portal serve` starts with production
settings (uvicorn, uvloop, httptools, one worker per core). Through the API: a manufacturer signs up,
makes 24 products on a base price list with stock, and a dealer with its first admin and a credit
limit; the dealer signs in and places --orders orders. The reference app then serves on its own port
with the same worker count. Each row is one load of --seconds at --connections connections:

    reference    GET /reference: one SELECT of tenants by its unique slug
    /health      the portal's unauthenticated health check
    /me          GET /api/partner/me (the session lookup is all it reads)
    my orders    GET /api/partner/ordering/orders (the first page, 50)
    catalog      GET /api/partner/ordering/catalog (the first page, 24, priced)
    placement    POST /api/partner/ordering/orders, two lines

req/s, median and p99 latency, each row's ratio to the reference, and the goal beside it. Then the peak
resident memory (VmHWM) of each server worker over the timed part, and on SQLite a mixed run: 16
connections reading "my orders" while one places orders, the readers' p99 and slowest request.

The load generator is wrk (one thread: on two cores it takes part of a core that the server would
otherwise have, equally for every row); the output says so. wrk gives up on a request after 2 s and
counts it as a timeout, apart from the latencies: the timeouts column shows them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import tempfile
import time
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from subprocess import STDOUT
from typing import Any

import httpx

from benchmarks.ordering import PASSWORD, SECRET, Server, free_port, ok
from benchmarks.support import scratch_database, serving_login
from portal.config import Settings, normalise_database_url
from portal.db import migrate
from portal.http.server import default_workers

SLUG = "bench-http"
ADMIN_EMAIL = f"admin@{SLUG}.example"
DEALER_EMAIL = f"dealer@{SLUG}.example"
PRODUCTS = 24
# The goals, as a share of the reference's req/s (placement also against /me).
GOALS = {"/me": 0.5, "my orders": 0.3, "catalog": 0.3, "placement": 0.1}
PLACEMENT_OF_ME = 0.25
# wrk stops with requests in flight, which the server still answers: a pause keeps rows apart.
SETTLE = 3


@dataclass
class Load:
    requests: int
    rate: float
    median_ms: float
    p99_ms: float
    max_ms: float
    timeouts: int
    errors: int  # non-2xx answers and socket errors other than timeouts


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> Load:
    def find(pattern: str, default: str = "0") -> str:
        found = re.search(pattern, output)
        return found.group(1) if found else default

    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    connect, read, write, timeouts = (int(g) for g in socket.groups()) if socket else (0, 0, 0, 0)
    return Load(
        requests=int(find(r"(\d+) requests in")),
        rate=float(find(r"Requests/sec:\s+([\d.]+)")),
        median_ms=_ms(find(r"50%\s+([\d.]+[a-z]+)", "0ms")),
        p99_ms=_ms(find(r"99%\s+([\d.]+[a-z]+)", "0ms")),
        max_ms=_ms(find(r"Latency\s+[\d.]+[a-z]+\s+[\d.]+[a-z]+\s+([\d.]+[a-z]+)", "0ms")),
        timeouts=timeouts,
        errors=int(find(r"Non-2xx or 3xx responses: (\d+)")) + connect + read + write,
    )


async def wrk(url: str, seconds: float, connections: int, workdir: Path, *, token: str = "", body: Any = None) -> Load:
    """One load of `url` with wrk: GET, or POST of `body` as JSON; with a bearer token when given."""
    script = workdir / f"wrk-{time.monotonic_ns()}.lua"
    lines = [f'wrk.headers["Authorization"] = "Bearer {token}"'] if token else []
    if body is not None:
        lines += ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
        lines.append(f"wrk.body = {json.dumps(json.dumps(body))}")
    script.write_text("\n".join(lines) + "\n")
    process = await asyncio.create_subprocess_exec(
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script), url,
        stdout=asyncio.subprocess.PIPE, stderr=STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    if "requests in" not in output.decode():
        raise RuntimeError(f"wrk failed on {url}:\n{output.decode()}")
    return parse_wrk(output.decode())


class Reference(Server):
    """The reference app, served as `portal serve` serves the portal (portal.http.server.serve)."""

    async def start(self) -> None:
        code = (
            "import uvicorn; uvicorn.run('benchmarks.reference:create_app', factory=True, host='127.0.0.1',"
            f" port={self.port}, workers={default_workers()}, loop='uvloop', http='httptools', proxy_headers=True,"
            " access_log=False, log_level='warning')"
        )
        log = self.log_path.open("wb")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, env=self.env, stdout=log, stderr=STDOUT
        )
        log.close()
        async with httpx.AsyncClient(base_url=self.base) as client:
            for _ in range(600):
                try:
                    if (await client.get("/reference")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the reference app did not start; see {self.log_path}")


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def workers_of(server: Server) -> list[int]:
    """The worker processes of a multi-worker uvicorn (the server itself when it has one worker)."""
    assert server.process is not None
    pid = server.process.pid
    # `portal serve` may be one more process above uvicorn's supervisor: go down to the leaves
    leaves, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        below = children(current)
        if below:
            frontier += below
        else:
            leaves.append(current)
    return [p for p in leaves if "multiprocessing.resource_tracker" not in Path(f"/proc/{p}/cmdline").read_text()]


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0])
    return 0


def reset_peaks(pids: list[int]) -> None:
    for pid in pids:
        with suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


@dataclass
class Shop:
    tenant_slug: str
    dealer_token: str
    lines: list[dict[str, Any]]


async def build_shop(base: str, orders: int, *, transport: httpx.AsyncBaseTransport | None = None) -> Shop:
    """Sign-up, catalog, one dealer with a credit limit, its token, and its first orders (through
    `transport` when given: benchmarks.cpu builds the shop in process)."""
    async with httpx.AsyncClient(base_url=base, timeout=120, transport=transport) as http:
        signup = {"company_name": "Bench HTTP", "slug": SLUG, "admin_name": "Admin", "email": ADMIN_EMAIL}
        ok(await http.post("/api/signup", json={**signup, "password": PASSWORD}), 201)
        login = {"workspace": SLUG, "email": ADMIN_EMAIL, "password": PASSWORD}
        http.headers["Authorization"] = "Bearer " + ok(await http.post("/api/auth/token", json=login))["access_token"]
        types = {t["code"]: t["id"] for t in ok(await http.get("/api/interconnect/partner-types"))}
        warehouse = ok(await http.get("/api/ordering/warehouses"))[0]["id"]
        category = ok(await http.post("/api/ordering/categories", json={"code": "pumps", "name": "Pumps"}), 201)["id"]
        products = []
        for n in range(1, PRODUCTS + 1):
            item = {"sku": f"P{n:03d}", "name": f"Pump {n}", "category_id": category, "cost_price": "20.00"}
            products.append(ok(await http.post("/api/ordering/products", json=item), 201)["id"])
            path = f"/api/ordering/warehouses/{warehouse}/stock/{products[-1]}"
            ok(await http.put(path, json={"on_hand": 1_000_000_000}))
        prices = ok(await http.post("/api/ordering/price-lists", json={"name": "Base", "kind": "base"}), 201)["id"]
        items = [{"product_id": p, "unit_price": f"{40 + n}.50"} for n, p in enumerate(products)]
        ok(await http.put(f"/api/ordering/price-lists/{prices}/items", json=items))
        dealer = {"name": "Bench dealer", "code": "D1", "partner_type_id": types["dealer"]}
        dealer["admin"] = {"display_name": "Dealer admin", "email": DEALER_EMAIL}
        made = ok(await http.post("/api/interconnect/enterprises", json=dealer), 201)
        setup = {"token": made["setup_url"].rsplit("/", 1)[1], "password": PASSWORD}
        ok(await http.post("/api/partner/setup", json=setup), 204)
        limit = {"amount": "100000000000"}
        ok(await http.put(f"/api/ordering/accounts/{made['enterprise']['id']}/credit-limit", json=limit))
        del http.headers["Authorization"]
        login = {"workspace": SLUG, "login": DEALER_EMAIL, "password": PASSWORD}
        token = ok(await http.post("/api/partner/auth/token", json=login))["access_token"]
        lines = [{"product_id": products[0], "quantity": 2}, {"product_id": products[1], "quantity": 3}]
        order = {"lines": lines, "ship_to": "Dock 4, Harbour Road"}
        for _ in range(orders):
            bearer = {"Authorization": f"Bearer {token}"}
            ok(await http.post("/api/partner/ordering/orders", json=order, headers=bearer), 201)
    return Shop(SLUG, token, lines)


ROWS = ("reference", "/health", "/me", "my orders", "catalog", "placement")


def goal_of(label: str, loads: dict[str, Load]) -> tuple[str, bool | None]:
    reference = loads["reference"].rate or 1.0
    share = GOALS.get(label)
    if share is None:
        return "", None
    met = loads[label].rate / reference >= share
    text = f">= {share:g}x ref"
    if label == "placement":
        of_me = loads[label].rate / (loads["/me"].rate or 1.0)
        met = met and of_me >= PLACEMENT_OF_ME
        text += f", >= {PLACEMENT_OF_ME:g}x /me ({of_me:.2f})"
    return text, met


def table(dialect: str, loads: dict[str, Load], connections: int, seconds: float) -> list[str]:
    out = [
        f"{dialect}: {connections} connections, {seconds:g} s a row, {default_workers()} workers each server",
        f"  {'':<11} {'req/s':>8} {'median ms':>10} {'p99 ms':>8} {'timeouts':>9} {'errors':>7} {'x ref':>6}  goal",
    ]
    reference = loads["reference"].rate or 1.0
    for label in ROWS:
        load = loads[label]
        goal, met = goal_of(label, loads)
        verdict = "" if met is None else ("  met" if met else "  MISSED")
        out.append(
            f"  {label:<11} {load.rate:>8.0f} {load.median_ms:>10.1f} {load.p99_ms:>8.1f} {load.timeouts:>9}"
            f" {load.errors:>7} {load.rate / reference:>6.2f}  {goal}{verdict}"
        )
    return out


async def measure(
    dialect: str, url: str, workdir: Path, args: argparse.Namespace, owner_url: str | None = None
) -> list[str]:
    settings = Settings.from_env({}, database_url=url, environment="test", secret_key=SECRET, data_dir=workdir)
    await asyncio.to_thread(migrate.upgrade, settings)
    async with AsyncExitStack() as stack:
        serve_url = await stack.enter_async_context(serving_login(url)) if dialect == "postgresql" else url
        portal = Server(serve_url, free_port(), workdir, f"portal-{dialect}")
        await portal.start()
        stack.push_async_callback(portal.stop)
        shop = await build_shop(portal.base, args.orders)
        reference = Reference(serve_url, free_port(), workdir, f"reference-{dialect}")
        reference.env["BENCH_SLUG"] = shop.tenant_slug
        await reference.start()
        stack.push_async_callback(reference.stop)
        order = {"lines": shop.lines, "ship_to": "Dock 4, Harbour Road"}
        calls: dict[str, tuple[str, dict[str, Any]]] = {
            "reference": (f"{reference.base}/reference", {}),
            "/health": (f"{portal.base}/health", {}),
            "/me": (f"{portal.base}/api/partner/me", {"token": shop.dealer_token}),
            "my orders": (f"{portal.base}/api/partner/ordering/orders", {"token": shop.dealer_token}),
            "catalog": (f"{portal.base}/api/partner/ordering/catalog", {"token": shop.dealer_token}),
            "placement": (f"{portal.base}/api/partner/ordering/orders", {"token": shop.dealer_token, "body": order}),
        }
        for target, extra in calls.values():  # warm every worker's caches (the compiled policy) and pools
            await wrk(target, 1, args.connections, workdir, **extra)
        servers = workers_of(portal)
        reset_peaks(servers)
        loads = {}
        for label, (target, extra) in calls.items():
            loads[label] = await wrk(target, args.seconds, args.connections, workdir, **extra)
            await asyncio.sleep(SETTLE)
        out = table(dialect, loads, args.connections, args.seconds)
        peaks = [status_kib(pid, "VmHWM") // 1024 for pid in servers]
        shown = ", ".join(f"{p} MiB" for p in peaks)
        out.append(f"  peak resident memory (VmHWM) per portal worker over the timed rows: {shown}")
        if dialect == "sqlite":
            readers, writer = await asyncio.gather(
                wrk(calls["my orders"][0], args.seconds, args.connections, workdir, token=shop.dealer_token),
                wrk(calls["placement"][0], args.seconds, 1, workdir, token=shop.dealer_token, body=order),
            )
            out.append(
                f"  mixed: {args.connections} connections reading my orders while 1 places orders: reads"
                f" {readers.rate:.0f}/s p99 {readers.p99_ms:.1f} ms max {readers.max_ms:.1f} ms, timeouts"
                f" {readers.timeouts}, errors {readers.errors}; placements {writer.rate:.0f}/s p99"
                f" {writer.p99_ms:.1f} ms, timeouts {writer.timeouts}, errors {writer.errors}"
            )
    return out


async def run_sqlite(args: argparse.Namespace) -> list[str]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-http-sqlite-"))
    try:
        return await measure("sqlite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", workdir, args)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run_postgresql(args: argparse.Namespace) -> list[str]:
    server = normalise_database_url(args.url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-http-pg-"))
    try:
        with scratch_database(server, f"portal_bench_http_{os.getpid()}", reuse=False, keep=args.keep) as url:
            return asyncio.run(measure("postgresql", url, workdir, args))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=int, default=8, help="length of each row's load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--orders", type=int, default=30, help="orders the dealer has before the timed part")
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("error: wrk is not installed (apt-get install wrk)")
    print(f"load generator: wrk, 1 thread, on this machine ({os.cpu_count()} cores, shared with the servers)")
    for dialect in args.databases.split(","):
        lines = asyncio.run(run_sqlite(args)) if dialect == "sqlite" else run_postgresql(args)
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
