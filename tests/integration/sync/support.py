"""What the delivery tests share: events published straight into a tenant's outbox, a recording
subscriber, and the real delivery engine run on a Database of its own (in its own event loop)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from litestar import Litestar

from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.outbox import Event, Subscriber, publish
from portal.services import Services
from sync.delivery.engine import DeliveryConfig, DeliveryEngine

T = TypeVar("T")

FAST = DeliveryConfig(batch_size=10, timeout_seconds=2.0, lease_margin_seconds=1.0, retry_base_seconds=0.0)


@dataclass
class Recorder:
    """A subscriber that keeps what it received; `fail` decides per (event, nth time seen) to raise."""

    name: str = "recorder"
    prefix: str = "test."
    received: list[Event] = field(default_factory=list)
    seen: dict[uuid.UUID, int] = field(default_factory=dict)
    fail: Callable[[Event, int], BaseException | None] = lambda _e, _n: None
    # with `together`, the subscriber also takes events together (all or nothing); each call's events
    groups: list[list[Event]] = field(default_factory=list)

    def subscriber(self, *, together: bool = False) -> Subscriber:
        async def deliver(_services: Services, event: Event) -> None:
            self.seen[event.id] = self.seen.get(event.id, 0) + 1
            problem = self.fail(event, self.seen[event.id])
            if problem is not None:
                raise problem
            self.received.append(event)

        async def deliver_many(_services: Services, events: Sequence[Event]) -> None:
            self.groups.append(list(events))
            for event in events:
                self.seen[event.id] = self.seen.get(event.id, 0) + 1
            problems = [p for p in (self.fail(e, self.seen[e.id]) for e in events) if p is not None]
            if problems:
                raise problems[0]
            self.received.extend(events)

        accepts = lambda kind: kind.startswith(self.prefix)  # noqa: E731
        return Subscriber(self.name, accepts, deliver, deliver_many=deliver_many if together else None)


def run_engine(app: Litestar, settings: Settings, work: Callable[[Services, Database], Awaitable[T]]) -> T:
    """`work` with the application's components and a Database of its own, in a fresh event loop."""

    async def main() -> T:
        db = Database(settings)
        base = app.state.services
        services = Services.build(settings, base.catalogs, base.components, db)
        try:
            return await work(services, db)
        finally:
            await db.dispose()

    return asyncio.run(main())


async def publish_events(db: Database, tenant_id: str, events: Sequence[tuple[str, uuid.UUID, dict[str, Any]]]) -> None:
    async with db.session(tenant_context(uuid.UUID(tenant_id))) as session:
        for event_type, aggregate_id, payload in events:
            publish(session, event_type, "test.aggregate", aggregate_id, payload)


async def drain(*engines: DeliveryEngine, rounds: int = 200) -> None:
    """Fan out and deliver until nothing is left to do now."""
    for _ in range(rounds):
        did = 0
        for engine in engines:
            did += await engine.fan_out()
            did += await engine.deliver_batch()
            await engine.settle()
        if not did:
            return
