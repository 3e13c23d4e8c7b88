"""`portal serve` as production runs it: several worker processes on one database, next to another
process serving the same database (the test's own app). Whatever a process keeps in memory (the compiled
permission index, caches) must follow a change made through another process on that process's very next
request."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from litestar.testing import TestClient

from tests.conftest import BASE_URL, TEST_SECRET
from tests.world import World


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _started(log: Path) -> set[int]:
    """The worker processes whose start-up has completed, by the server's JSON log lines."""
    found = set()
    for line in log.read_bytes().decode(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and str(entry.get("message", "")).startswith("Application startup complete"):
            found.add(entry.get("pid"))
    return found


@contextmanager
def running_server(database_url: str, workdir: Path, name: str, workers: int) -> Iterator[httpx.Client]:
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "test",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": TEST_SECRET,
        "PORTAL_BASE_URL": BASE_URL,  # the world's tokens were issued for it
        "PORTAL_PASSWORD_PROFILE": "fast",
        "PORTAL_DATA_DIR": str(workdir / name),
    }
    log = (workdir / f"{name}.log").open("wb")
    command = [sys.executable, "-m", "portal.cli", "serve", "--no-migrate", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--access-log"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        # a new connection per request, so the kernel hands requests to every worker process
        fresh = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=fresh) as client:
            deadline = time.monotonic() + 90
            # every worker process started (on a busy machine one may be serving long before the other)
            while len(_started(workdir / f"{name}.log")) < workers:
                assert process.poll() is None and time.monotonic() < deadline, (workdir / f"{name}.log").read_text()
                time.sleep(0.2)
            while True:
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None and time.monotonic() < deadline, (workdir / f"{name}.log").read_text()
                time.sleep(0.2)
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_a_role_change_through_one_server_is_in_force_on_the_next_request_of_every_other_process(
    world: World, client: TestClient, database_url: str, tmp_path: Path
) -> None:
    staff = world.a.others["staff"]

    log = tmp_path / "two.log"

    def may_add_users(server: httpx.Client) -> dict[int, set[int]]:
        """What each worker process answered: an empty body gets 403 if the guard refuses, 422 once it lets
        the request through to validation."""
        start = log.stat().st_size
        answers: dict[int, set[int]] = {}
        # requests at once, each on a new connection, so that an idle worker takes some (one after another,
        # or on kept-alive connections, the process that accepted them may take all)
        headers = {**staff.bearer, "Connection": "close"}
        with ThreadPoolExecutor(8) as pool:
            for _ in range(50):
                list(pool.map(lambda _: server.post("/api/users", headers=headers, json={}), range(8)))
                for line in log.read_bytes()[start:].decode().splitlines():
                    entry = json.loads(line)
                    if entry.get("path") == "/api/users" and entry.get("method") == "POST":
                        answers.setdefault(entry["pid"], set()).add(entry["status"])
                if len(answers) == 2:
                    return answers
        raise AssertionError(f"not every worker process answered: {answers}")

    # the change goes through the test's own app, a process apart from the server's two workers
    one = client
    with running_server(database_url, tmp_path, "two", workers=2) as two:
        assert set(map(frozenset, may_add_users(two).values())) == {frozenset({403})}
        promoted = one.patch(f"/api/users/{staff.user_id}", headers=world.a.admin.bearer, json={"roles": ["admin"]})
        assert promoted.status_code == 200, promoted.text
        assert set(map(frozenset, may_add_users(two).values())) == {frozenset({422})}  # in both workers at once
        demoted = one.patch(f"/api/users/{staff.user_id}", headers=world.a.admin.bearer, json={"roles": ["staff"]})
        assert demoted.status_code == 200, demoted.text
        assert set(map(frozenset, may_add_users(two).values())) == {frozenset({403})}
