"""A subscriber's own lines: one delivery of an event per receiver the subscriber finds in the data (a
tenant's webhook endpoints), named "<subscriber>:<key>" (`portal.outbox.line_name`).

Each such delivery is an ordinary `outbox_deliveries` row, so the engine treats it like any other: it is
claimed as the head of its own (tenant, subscriber:key, aggregate) line, retried with backoff, dead after
the maximum, replayed by staff; a receiver that fails or is slow holds back only its own line. The
subscriber's own delivery of the event opens the lines and is done; the engine calls
`Subscriber.deliver_to(services, event, key)` for each line.

Order holds per line: the subscriber's delivery of an aggregate's next event is claimed only once this
one is delivered (its line), and so opens its lines after this event's, with a later sequence.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db.types import utcnow
from portal.outbox import Event, OutboxEvent, line_name
from sync.delivery.engine import wake_workers
from sync.delivery.models import Delivery


async def open_lines(session: AsyncSession, event: Event, subscriber: str, keys: Sequence[str]) -> int:
    """One pending delivery of `event` per key (in the event's tenant context); a line already open for
    it is left as it is, so a repeated delivery of the subscriber's own opens nothing twice. How many
    were opened."""
    names = [line_name(subscriber, key) for key in dict.fromkeys(keys)]
    if not names:
        return 0
    existing = set(
        await session.scalars(
            select(Delivery.subscriber).where(Delivery.event_id == event.id, Delivery.subscriber.in_(names))
        )
    )
    missing = [name for name in names if name not in existing]
    if not missing:
        return 0
    sequence = await session.scalar(select(OutboxEvent.sequence).where(OutboxEvent.id == event.id))
    if sequence is None:  # purged meanwhile: nothing left to deliver
        return 0
    now = utcnow()
    session.add_all(
        Delivery(
            event_id=event.id,
            subscriber=name,
            event_type=event.event_type,
            aggregate_type=event.aggregate_type,
            aggregate_id=event.aggregate_id,
            sequence=sequence,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        for name in missing
    )
    await session.flush()
    await wake_workers(session)
    return len(missing)
