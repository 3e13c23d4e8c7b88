"""The change feed: every change of the objects an ERP follows, after a cursor, exactly once and in order.

The outbox carries every change (its event is written in the change's own transaction). The subscriber
"integration" receives each event that an integration object accepts and, in a transaction of its own,
writes one feed row per record the event names, at the next position of the tenant's feed. The positions
are taken while the transaction holds the tenant's `integration_feed_heads` row locked (SELECT … FOR
UPDATE on PostgreSQL; SQLite has one writer at a time), and the lock is held until the commit, so feed
transactions of one tenant commit one after the other and positions follow commit order: whoever has
seen position n has seen every position below n, and a change recorded later always gets a higher
position. A reader that walks `position > cursor` therefore skips nothing and sees nothing twice.

This is what the outbox's own `sequence` cannot give: it is drawn when the event's row is inserted, and
transactions commit in another order than they insert (T1 draws 10, T2 draws 11, T2 commits, a reader
reads up to 11, T1 commits 10 — behind the reader's cursor). The fan-out never skips such an event
(it picks events by their `fanned_out` flag, not by a watermark), and the feed numbers the event only
once it is delivered, after T1 committed.

Delivery is at least once: a feed row is unique per (event, record), and the subscriber checks under the
lock whether the event was recorded, so an event delivered twice is recorded once. A record's changes
come in the order written (the workers deliver an aggregate's events in order). Each row carries the
record as it stood when the change was recorded (`data`; none when it no longer exists: `deleted`).
A tenant with no integration key records nothing: the feed begins with the first key."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from portal.db.context import tenant_context
from portal.i18n import N_
from portal.outbox import Event, Subscriber
from portal.services import Services
from sync.integrations.models import ExternalId, FeedChange, FeedHead, IntegrationKey
from sync.integrations.objects import IntegrationObject, integration_objects

SUBSCRIBER_NAME = "integration"
CHANNEL = "integration"
MAX_LIMIT = 500

# the event types the installed objects accept (learnt when the services are built: `accepts` costs no query)
_objects: list[IntegrationObject] = []


def learn_objects(services: Services) -> None:
    _objects[:] = list(integration_objects(services).values())


def accepts(event_type: str) -> bool:
    return any(obj.accepts(event_type) for obj in _objects)


def objects_for(event_type: str) -> list[IntegrationObject]:
    """The objects whose records an event of this type changes."""
    return [o for o in _objects if o.accepts(event_type)]


async def _head(session: AsyncSession, tenant_id: uuid.UUID) -> FeedHead:
    """The tenant's feed head, locked until the transaction ends (made the first time)."""
    query = select(FeedHead).where(FeedHead.id == tenant_id).with_for_update()
    head = await session.scalar(query)
    if head is None:
        connection = await session.connection()
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        await session.execute(
            insert(FeedHead.__table__)
            .values(tenant_id=tenant_id, id=tenant_id, position=0)
            .on_conflict_do_nothing(index_elements=["tenant_id", "id"])
        )
        head = await session.scalar(query.execution_options(populate_existing=True))
        assert head is not None
    return head


async def record(session: AsyncSession, objects: list[IntegrationObject], event: Event) -> int:
    """Write the event's changes into the feed (the caller commits); how many rows were written."""
    if await session.scalar(select(IntegrationKey.id).limit(1)) is None:
        return 0
    changes: list[tuple[IntegrationObject, uuid.UUID, dict[str, Any] | None]] = []
    for obj in objects:
        ids = await obj.changed(session, event)
        if not ids:
            continue
        found = await obj.read(session, ids)
        changes.extend((obj, i, found.get(i)) for i in ids)
    if not changes:
        return 0
    external: dict[tuple[str, uuid.UUID], str] = {}
    for obj in {o.name for o, _i, _d in changes}:
        rows = await session.execute(
            select(ExternalId.record_id, ExternalId.external_id).where(
                ExternalId.object == obj, ExternalId.record_id.in_([i for o, i, _d in changes if o.name == obj])
            )
        )
        external.update({(obj, r): e for r, e in rows})
    # From here to the commit the tenant's feed is ours: positions follow commit order.
    head = await _head(session, event.tenant_id)
    if await session.scalar(select(FeedChange.id).where(FeedChange.event_id == event.id).limit(1)) is not None:
        return 0  # delivered twice: recorded the first time
    position = head.position
    for obj, record_id, data in changes:
        position += 1
        session.add(
            FeedChange(
                position=position,
                event_id=event.id,
                event_type=event.event_type,
                object=obj.name,
                record_id=record_id,
                external_id=external.get((obj.name, record_id)),
                action="deleted" if data is None else "changed",
                occurred_at=event.occurred_at,
                data=data,
            )
        )
    head.position = position
    await session.flush()
    return len(changes)


async def deliver(services: Services, event: Event) -> None:
    objects = objects_for(event.event_type)
    async with services.db.session(tenant_context(event.tenant_id, channel=CHANNEL)) as session:
        await record(session, objects, event)


SUBSCRIBER = Subscriber(SUBSCRIBER_NAME, accepts, deliver, label=N_("ERP change feed"))


# where a change shows its record, per object
DATA_FIELDS = {
    "products": "product",
    "price_lists": "price_list",
    "stock": "stock_level",
    "customers": "customer",
    "orders": "order",
}


def change_out(row: FeedChange) -> dict[str, Any]:
    shown = {DATA_FIELDS[row.object]: row.data} if row.object in DATA_FIELDS and row.data is not None else {}
    return {
        **shown,
        "cursor": str(row.position),
        "object": row.object,
        "id": row.record_id,
        "external_id": row.external_id,
        "action": row.action,
        "event_type": row.event_type,
        "occurred_at": row.occurred_at,
    }


async def changes_after(session: AsyncSession, cursor: int, limit: int) -> tuple[list[FeedChange], int, bool]:
    """The changes after `cursor`, oldest first, at most `limit`; the cursor to ask from next; whether more
    are waiting."""
    rows = list(
        await session.scalars(
            select(FeedChange).where(FeedChange.position > cursor).order_by(FeedChange.position).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].position if rows else cursor), more
