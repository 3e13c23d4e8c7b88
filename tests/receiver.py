"""A receiver of delivered events on a loopback port, as a careful third party would write one: it
dedups by event id (delivery is at least once), checks each aggregate's events arrive in order, and,
when asked, fails a share of requests at random and sometimes answers too late.

It runs as threads of the calling process (`running_receiver`) or in a process of its own
(`receiver_process`, for the benchmark: its work then takes no share of the measuring process's
interpreter lock), started as `python -m tests.receiver`, which prints its address and then one line per
event applied: the event id and the moment (`time.monotonic()`, one clock for every process)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Ledger:
    failure_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    applied: dict[str, float] = field(default_factory=dict)  # event id -> when it was applied
    last: dict[str, int] = field(default_factory=dict)  # aggregate -> the last n applied
    duplicates: int = 0
    failed: int = 0
    slow: int = 0
    out_of_order: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=lambda: random.Random(13))
    # told of each event applied, with the moment (the receiver process prints it)
    on_applied: Callable[[str, float], None] | None = None

    def receive(self, body: dict) -> int:
        with self.lock:
            roll = self.rng.random()
        if roll < self.failure_rate:
            with self.lock:
                self.failed += 1
            return 503
        if roll < self.failure_rate + self.slow_rate:
            with self.lock:
                self.slow += 1
            time.sleep(self.slow_seconds)
        with self.lock:
            if body["id"] in self.applied:
                self.duplicates += 1
                return 200
            key = f"{body['tenant_id']}/{body['aggregate_id']}"
            n = body["payload"].get("n")
            if n is not None:
                if n != self.last.get(key, 0) + 1:
                    self.out_of_order.append(f"{key}: {n} after {self.last.get(key, 0)}")
                self.last[key] = n
            self.applied[body["id"]] = at = time.monotonic()
            if self.on_applied is not None:
                self.on_applied(body["id"], at)
        return 200


@contextmanager
def running_receiver(ledger: Ledger) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = ledger.receive(body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # workers open dozens of connections at once: socketserver's backlog of 5 would refuse some
        request_queue_size = 128

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that gave up (timed out) before the answer: nothing to report

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/events"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def receiver_process(ledger: Ledger) -> Iterator[str]:
    """The receiver in a process of its own, always answering 200 at once; each event it applies is
    copied into `ledger.applied` with the moment it was applied there."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.receiver"], stdout=subprocess.PIPE, text=True, cwd=root, env=env
    )
    assert process.stdout is not None
    stdout = process.stdout
    url = stdout.readline().strip()

    def copy() -> None:
        for line in stdout:
            event_id, at = line.split()
            with ledger.lock:
                ledger.applied[event_id] = float(at)

    thread = threading.Thread(target=copy, daemon=True)
    thread.start()
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        thread.join(timeout=5)


def main() -> None:
    def report(event_id: str, at: float) -> None:
        sys.stdout.write(f"{event_id} {at!r}\n")
        sys.stdout.flush()

    with running_receiver(Ledger(on_applied=report)) as url:
        print(url, flush=True)
        threading.Event().wait()  # until SIGTERM


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
