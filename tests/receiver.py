"""A receiver of delivered events on a loopback port, as a careful third party would write one: it
dedups by event id (delivery is at least once), checks each aggregate's events arrive in order, and,
when asked, fails a share of requests at random and sometimes answers too late."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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
            self.applied[body["id"]] = time.monotonic()
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
