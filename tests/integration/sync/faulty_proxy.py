"""A fault-injecting HTTP proxy on a loopback port, in front of a deployment, for the sync fault test. While
`faulty`, each request meets one fate, drawn from a seeded random generator (the same run, the same fates):
answered 503 without reaching the deployment, the connection dropped before it reaches it, forwarded and
the connection dropped before the answer (the sender never learns it arrived), forwarded twice (a duplicate
delivery; the sender gets the first answer), or forwarded once. A deployment that is down is a 502."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding"}
# cumulative shares of the fates; 30% of requests fail (503, dropped, answer lost), 8% arrive twice
FATES = (("503", 0.12), ("dropped", 0.21), ("answer_lost", 0.30), ("duplicated", 0.38))


@dataclass
class FaultyProxy:
    target: str
    seed: int
    server: ThreadingHTTPServer | None = None
    faulty: bool = False
    fates: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.random = random.Random(self.seed)
        self.http = httpx.Client(timeout=60.0)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fate(self) -> str:
        with self.lock:
            if not self.faulty:
                fate = "forwarded"
            else:
                draw = self.random.random()
                fate = next((name for name, upto in FATES if draw < upto), "forwarded")
            self.fates[fate] += 1
            return fate

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> httpx.Response:
        return self.http.request(method, self.target + path, headers=headers, content=body)

    def start(self, port: int = 0) -> FaultyProxy:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self.http.close()


def _handler(proxy: FaultyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            fate = proxy.fate()
            self.close_connection = True
            if fate == "dropped":
                return  # closed without an answer
            if fate == "503":
                self._answer(503, b'{"detail":"injected"}', {"Content-Type": "application/json"})
                return
            try:
                answer = proxy.forward(self.command, self.path, headers, body)
                if fate == "duplicated":
                    proxy.forward(self.command, self.path, headers, body)
            except httpx.HTTPError:
                with proxy.lock:
                    proxy.fates["down"] += 1
                self._answer(502, b"the deployment is down", {})
                return
            if fate == "answer_lost":
                return
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}
            self._answer(answer.status_code, answer.content, kept)

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay

    return Handler
