"""The work one request does, in SQL statements: a regression here is every request getting slower.

Counted on the application's engine, leaving out what every transaction costs whatever it does (BEGIN,
COMMIT/ROLLBACK and the tenant set-up for row-level security on PostgreSQL, which travels with the BEGIN
on the driver's connection and so is not seen here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import event

from tests.integration.ordering.support import build_shop, ok, place
from tests.world import World

_TRANSACTION_FRAME = ("BEGIN", "COMMIT", "ROLLBACK", "SELECT SET_CONFIG('ROLE'")


@contextmanager
def counted(app: Litestar) -> Iterator[list[str]]:
    engine = app.state.services.db.engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(_TRANSACTION_FRAME):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_statements_per_request(client: TestClient, world: World, app: Litestar) -> None:
    shop = build_shop(client, world)
    dealer = world.x.admin
    ok(client.get("/api/partner/me", headers=dealer.bearer))  # the tenant's policy compiled once per process
    ok(place(client, dealer, [(shop.pump, 1), (shop.valve, 10)], key="warm"), 201)

    with counted(app) as me:
        ok(client.get("/api/partner/me", headers=dealer.bearer))
    with counted(app) as placing:
        ok(place(client, dealer, [(shop.pump, 2), (shop.valve, 10)], key="counted"), 201)

    # on PostgreSQL the order, its lines, approval steps, timeline entry, audit entries and outbox event
    # travel with the COMMIT (portal.db.begin.commit_with), and so does the check of its credit with the limit
    # locked (apps.ordering.account.check_again_at_commit); on SQLite they are ordinary INSERTs before it
    assert len(placing) <= (8 if app.state.services.db.dialect == "postgresql" else 15), "\n".join(placing)
    assert len(me) <= 1, "\n".join(me)  # the session, its tenant, the user and their roles: one statement
