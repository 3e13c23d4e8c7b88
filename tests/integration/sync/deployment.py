"""A deployment of the app served on a loopback port: the application a TestClient drives, also answering
real HTTP from another deployment through uvicorn, on the client's own event loop (so the app's database
engine and the server share one loop). The server can be stopped and started again on the same port, to
play a deployment that is down for a while."""

from __future__ import annotations

import socket
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from litestar.testing import TestClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    client: TestClient
    port: int = field(default_factory=free_port)
    server: uvicorn.Server | None = None
    running: Future[Any] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = uvicorn.Config(
            self.client.app, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.running = self.client.blocking_portal.start_task_soon(self.server.serve)
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the deployment's server did not start"
            assert not self.running.done(), self.running.exception()
            time.sleep(0.02)

    def stop(self) -> None:
        if self.server is None or self.running is None:
            return
        self.server.should_exit = True
        self.running.result(timeout=20)
        self.server, self.running = None, None
