"""Every transition of an order is in the audit log (who, channel, enterprise, before and after) and in
the outbox, in the transaction that made it."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient
from sqlalchemy import select

from portal.config import Settings
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.outbox import OutboxEvent
from tests.db import run_with_database
from tests.integration.ordering.support import act, build_shop, ok, place
from tests.world import World


def outbox_types(settings: Settings, order_id: str) -> list[str]:
    async def work(db: Database) -> list[str]:
        async with db.session(SYSTEM) as session:
            rows = await session.scalars(
                select(OutboxEvent.event_type)
                .where(OutboxEvent.aggregate_id == uuid.UUID(order_id))
                .order_by(OutboxEvent.occurred_at, OutboxEvent.id)
            )
            return list(rows)

    return run_with_database(settings, work)


def test_transitions_are_audited_and_announced(client: TestClient, world: World, settings: Settings) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    order = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
    ok(act(client, admin, order["id"], "approve"))
    ok(act(client, admin, order["id"], "shipments", own_delivery=True), 201)
    ok(client.post(f"/api/partner/ordering/orders/{order['id']}/receive", headers=world.x.admin.bearer, json={}))

    entries = ok(client.get(f"/api/audit?object_id={order['id']}&limit=200", headers=admin.bearer))
    created = next(e for e in entries if e["action"] == "create")
    assert created["actor_kind"] == "external" and created["enterprise_id"] == world.x.link_id
    changes = [
        (e["before"].get("status"), e["after"].get("status")) for e in reversed(entries) if e["action"] == "update"
    ]
    assert [c for c in changes if c[0] != c[1]] == [
        ("submitted", "approved"),
        ("approved", "shipped"),
        ("shipped", "received"),
    ]
    assert outbox_types(settings, order["id"]) == [
        "ordering.order.submitted",
        "ordering.order.approved",
        "ordering.order.shipped",
        "ordering.order.received",
    ]
    # a refused transition leaves neither
    assert act(client, admin, order["id"], "approve").status_code == 409
    assert len(outbox_types(settings, order["id"])) == 4
