"""A receiver of delivered events on a loopback port, as a careful third party would write one: it
dedups by event id (delivery is at least once), checks each aggregate's events arrive in order, and,
when asked, fails a share of requests at random and sometimes answers too late.

It runs as threads of the calling process (`running_receiver`, for tests that make it fail or stall) or
in a process of its own (`receiver_process`, for the benchmark), started as `python -m tests.receiver`:
there it is a bare asyncio protocol with httptools' parser on uvloop (the parser and loop uvicorn uses),
keep-alive, answering 200 at once, so that it costs a small fraction of what the workers measured
against it cost (a threaded `http.server` took a thread per connection and a lock per request). It
prints its address and then the event id and the moment (`time.monotonic()`, one clock for every
process) of each event applied, a line each, written out in bulk every few milliseconds."""

from __future__ import annotations

import asyncio
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
from typing import Any


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
    # the receiver's process, when it runs in one (receiver_process)
    process_id: int | None = None

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
    ledger.process_id = process.pid

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


class _Answering:
    """One keep-alive connection of the process receiver: an asyncio protocol fed to httptools' parser."""

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    def __init__(self, seen: set[str], out: list[str]) -> None:
        import httptools

        self.seen = seen
        self.out = out
        self.parser = httptools.HttpRequestParser(self)
        self.body: list[bytes] = []
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        event_id = json.loads(b"".join(self.body))["id"]
        self.body.clear()
        if event_id not in self.seen:
            self.seen.add(event_id)
            self.out.append(f"{event_id} {time.monotonic()!r}\n")
        self.transport.write(self.ANSWER)

    def connection_lost(self, _exc: BaseException | None) -> None:
        self.transport = None

    def eof_received(self) -> None:
        return None

    def pause_writing(self) -> None:
        return None

    def resume_writing(self) -> None:
        return None


async def _serve_process() -> None:
    seen: set[str] = set()
    out: list[str] = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Answering(seen, out), "127.0.0.1", 0, backlog=256)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/events", flush=True)
    while True:
        await asyncio.sleep(0.002)
        if out:
            sys.stdout.write("".join(out))
            sys.stdout.flush()
            out.clear()


def main() -> None:
    try:
        import uvloop

        uvloop.run(_serve_process())
    except ImportError:
        asyncio.run(_serve_process())


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    main()
