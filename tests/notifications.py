"""What the notification tests run against: a real SMTP server (aiosmtpd) and a fake SMS provider, both on
loopback ports, an app configured to send through them, and a stand-in for the workers that delivers the
outbox's events to every registered subscriber (the delivery workers themselves are sync/'s)."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from litestar import Litestar
from sqlalchemy import select

from portal.config import Settings
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.notifications.models import Notification
from portal.outbox import Event, OutboxEvent
from portal.services import Services

LINK = re.compile(r"https?://\S+/(?:setup|reset)/[A-Za-z0-9._~-]+")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]

    @staticmethod
    def text(message: EmailMessage) -> str:
        body = message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())

    def link_to(self, address: str) -> str:
        found = LINK.search(self.text(self.to(address)[-1]))
        assert found, "no one-time link in the email"
        return found.group(0)


class SmtpServer:
    """aiosmtpd on a loopback port, which can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mailbox = Mailbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass
class SmsProvider:
    """A fake SMS provider on a loopback port: records each POST, answers `status`."""

    key: str = "sms-test-key"
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    def start(self) -> ThreadingHTTPServer:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                if self.headers.get("Authorization") != f"Bearer {provider.key}":
                    self.send_response(401)
                else:
                    provider.received.append(body)
                    self.send_response(provider.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def to(self, mobile: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["to"] == mobile]


def channel_settings(database_url: str, smtp: SmtpServer | None, sms: SmsProvider | None, **more: object) -> Settings:
    from tests.conftest import make_settings

    values: dict[str, object] = {}
    if smtp is not None:
        values |= {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_from": "portal@test.example",
            "smtp_tls": "none",
        }
    if sms is not None:
        values |= {"sms_url": f"http://127.0.0.1:{sms.port}/send", "sms_key": sms.key}
    return make_settings(database_url, **values, **more)


class Workers:
    """Delivers every outbox event to every subscriber that accepts it, once each (a success is not
    repeated; a failure is retried on the next `run`), as the workers would; returns the failures."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.done: set[tuple[uuid.UUID, str]] = set()

    def run(self, only: str | None = None) -> list[tuple[str, BaseException]]:
        services: Services = self.app.state.services

        async def main() -> list[tuple[str, BaseException]]:
            db = Database(services.settings)
            own = copy.copy(services)  # the app's pool belongs to the client's event loop
            own.db = db
            failures: list[tuple[str, BaseException]] = []
            try:
                async with db.session(SYSTEM, write=False) as session:
                    rows = await session.scalars(select(OutboxEvent).order_by(OutboxEvent.occurred_at, OutboxEvent.id))
                    events = [
                        Event(
                            r.id, r.tenant_id, r.event_type, r.aggregate_type, r.aggregate_id, r.payload, r.occurred_at
                        )
                        for r in rows
                    ]
                for event in events:
                    for c in services.components:
                        for subscriber in c.subscribers:
                            key = (event.id, subscriber.name)
                            if key in self.done or not subscriber.accepts(event.event_type):
                                continue
                            if only is not None and subscriber.name != only:
                                continue
                            try:
                                await subscriber.deliver(own, event)
                                self.done.add(key)
                            except Exception as exc:
                                failures.append((subscriber.name, exc))
            finally:
                await db.dispose()
            return failures

        return asyncio.run(main())


def notifications(settings: Settings) -> list[Notification]:
    async def work(db: Database) -> list[Notification]:
        async with db.session(SYSTEM, write=False) as session:
            rows = list(await session.scalars(select(Notification).order_by(Notification.created_at)))
            for r in rows:
                session.expunge(r)
            return rows

    from tests.db import run_with_database

    return run_with_database(settings, work)


def started_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
