"""The worker as it runs: `portal worker` starts and stops on SIGTERM; the web process of the embedded
default delivers by itself when told to (and not in tests unless asked), woken by the commit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from litestar.testing import TestClient

from portal.components import Component
from portal.config import Settings
from portal.http.app import create_app
from tests.cli import portal
from tests.conftest import BASE_URL
from tests.integration.interconnect.support import change_status
from tests.integration.sync.support import Recorder
from tests.world import World


def test_portal_worker_starts_and_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    assert portal(tmp_path, "db", "upgrade").returncode == 0
    assert "must be at least 1" in portal(tmp_path, "worker", "--concurrency", "0").stderr
    env = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path)}
    env.pop("PORTAL_DATABASE_URL", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "worker", "--concurrency", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert worker.stdout is not None
        first = worker.stdout.readline()
        assert "worker delivering to" in first and "2 batches of 10" in first
        time.sleep(0.5)
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, out
    assert "worker stopped" in out


def test_the_tests_app_runs_no_worker_and_the_embedded_default_does(settings: Settings) -> None:
    assert not settings.runs_worker_in_process  # tests ask for one when they want one
    embedded = Settings.from_env({"PORTAL_DATABASE_URL": "sqlite:///var/x.db"})
    assert embedded.runs_worker_in_process
    on_postgres = Settings.from_env({"PORTAL_DATABASE_URL": "postgresql://h/db"})
    assert not on_postgres.runs_worker_in_process
    switched_off = Settings.from_env({"PORTAL_DATABASE_URL": "sqlite:///var/x.db", "PORTAL_WORKER_IN_PROCESS": "false"})
    assert not switched_off.runs_worker_in_process


def test_the_web_process_delivers_when_its_worker_is_on(settings: Settings, world: World, tmp_path: Path) -> None:
    recorder = Recorder("in-process", prefix="link.")
    app = create_app(
        Settings.from_env({}, **{**_values(settings), "worker_in_process": "true", "data_dir": tmp_path}),
        extra_components=[Component(name="test-subscriber", subscribers=[recorder.subscriber()])],
    )
    with TestClient(app, base_url=BASE_URL) as client:
        started = time.monotonic()
        change_status(client, world.a, world.x.link_id, "suspended", "audit")
        while not any(e.event_type == "link.suspended" for e in recorder.received) and time.monotonic() - started < 10:
            time.sleep(0.02)
        took = time.monotonic() - started
    kinds = [e.event_type for e in recorder.received]
    assert "link.suspended" in kinds, kinds
    assert took < 5
    assert (tmp_path / "worker.lock").exists()


def _values(settings: Settings) -> dict[str, object]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__ if name != "extra"}
