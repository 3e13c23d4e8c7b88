"""The ticket's state machine through the API: every transition of the table is taken from its status by
the side it names and lands where the table says; every other action is refused in every status (409
naming the status, or not found where the partner does not hold the ticket); and each transition is on
the timeline, in the audit log and in the outbox."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asyncpg
import pytest
from litestar.testing import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from apps.service import lifecycle
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.outbox import OutboxEvent
from tests.db import run_with_database
from tests.integration.service.support import (
    PARTNER,
    dispatched,
    fixit,
    job_act,
    ok,
    open_ticket,
    partner_act,
    staff_act,
)
from tests.world import World

# The open pool's two steps have routes and conditions of their own (a region, a partner of it): they are
# walked by test_dispatch.py.
POOL = frozenset({"pool", "take"})
EDGES = {(source, action): to for source, action, to, _who in lifecycle.TABLE if action not in POOL}
WHO = {(source, action): who for source, action, _to, who in lifecycle.TABLE}


def body_for(world: World, action: str) -> dict[str, Any]:
    if action in ("dispatch", "reassign"):
        return {"enterprise_id": world.service["fixit"].link_id, "engineer_id": fixit(world)[1].user_id}
    if action == "assign":
        return {"engineer_id": fixit(world)[1].user_id}
    return {"note": f"Why: {action}"} if action in lifecycle.NOTE_REQUIRED else {}


def sides_of(action: str) -> list[str]:
    staff, partner = lifecycle.PERMISSIONS[action]
    return [side for side, permission in ((lifecycle.STAFF, staff), (lifecycle.PARTNER, partner)) if permission]


def act(client: TestClient, world: World, ticket_id: str, action: str, side: str) -> Any:
    body = body_for(world, action)
    if side == lifecycle.STAFF:
        return staff_act(client, world, ticket_id, action, **body)
    return partner_act(client, fixit(world)[0], ticket_id, action, **body)


def allowed_side(source: str, action: str) -> str:
    who = WHO[(source, action)]
    return lifecycle.PARTNER if who == lifecycle.BOTH else who


def path_to(start: str, goals: set[str]) -> list[tuple[str, str]]:
    """The shortest run of transitions (no cancelling) from `start` to a status in `goals`."""
    queue: deque[tuple[str, list[tuple[str, str]]]] = deque([(start, [])])
    seen = {start}
    while queue:
        status, path = queue.popleft()
        if status in goals:
            return path
        for (source, action), to in EDGES.items():
            if source == status and action != "cancel" and to not in seen:
                seen.add(to)
                queue.append((to, [*path, (source, action)]))
    raise AssertionError(f"no way from {start} to {goals}")


def test_every_transition_goes_where_the_table_says(client: TestClient, world: World) -> None:
    """One ticket walks every transition but cancelling (reassigning and reopening lead back), then one
    ticket per status it may be cancelled from."""
    taken: list[tuple[str, str]] = []

    def take(ticket: dict[str, Any], action: str) -> dict[str, Any]:
        source = ticket["status"]
        moved = ok(act(client, world, ticket["id"], action, allowed_side(source, action)))
        assert moved["status"] == EDGES[(source, action)], (source, action, moved["status"])
        taken.append((source, action))
        return moved

    ticket = open_ticket(client, world)
    left = {edge for edge in EDGES if edge[1] != "cancel"}
    while left:
        here = sorted(edge for edge in left if edge[0] == ticket["status"])
        edge = here[0] if here else path_to(ticket["status"], {source for source, _action in left})[0]
        ticket = take(ticket, edge[1])
        left.discard(edge)
        assert len(taken) < 200
    timeline = ok(client.get(f"/api/service/tickets/{ticket['id']}", headers=world.a.admin.bearer))["timeline"]
    assert [(e["from_status"], e["action"]) for e in timeline] == [(None, "open"), *taken]
    for source in sorted({source for source, action in EDGES if action == "cancel"}):
        ticket = open_ticket(client, world)
        for _status, action in path_to("new", {source}):
            ticket = take(ticket, action)
        take(ticket, "cancel")
    assert set(EDGES) == set(taken)


@pytest.mark.parametrize("side", [lifecycle.STAFF, lifecycle.PARTNER])
def test_every_other_action_is_refused_in_every_status(client: TestClient, world: World, side: str) -> None:
    """In each status, each action of this side that the table does not allow there is refused: 409 naming
    the status, or not found while the ticket is not the partner's."""
    seen: set[str] = set()

    def refusals(ticket: dict[str, Any]) -> None:
        status = ticket["status"]
        seen.add(status)
        for action in lifecycle.ACTIONS:
            if side not in sides_of(action) or WHO.get((status, action)) in (side, lifecycle.BOTH):
                continue
            if action == "take":  # the pool's own route (test_dispatch.py)
                continue
            response = act(client, world, ticket["id"], action, side)
            if side == lifecycle.PARTNER and ticket["enterprise_id"] is None:  # never or no longer theirs
                assert response.status_code == 404, (status, action, response.text)
                continue
            assert response.status_code == 409, (status, action, response.text)
            problem = response.json()
            assert problem["code"] == "transition_refused", problem
            assert lifecycle.LABELS[status] in problem["detail"], problem

    for route in (
        ("dispatch", "accept", "start", "arrive", "resolve", "confirm", "close"),
        ("dispatch", "accept", "hold"),
        ("cancel",),
    ):
        ticket = open_ticket(client, world)
        refusals(ticket)
        for action in route:
            ticket = ok(act(client, world, ticket["id"], action, allowed_side(ticket["status"], action)))
            refusals(ticket)
    assert seen == set(lifecycle.LABELS)


def test_a_transition_is_on_the_timeline_in_the_audit_log_and_in_the_outbox(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    ticket = open_ticket(client, world)
    ok(staff_act(client, world, ticket["id"], "dispatch", enterprise_id=world.service["fixit"].link_id))
    accepted = ok(partner_act(client, dispatcher, ticket["id"], "accept", note="On it"))
    last = accepted["timeline"][-1]
    assert (last["action"], last["from_status"], last["to_status"], last["note"]) == (
        "accept",
        "dispatched",
        "accepted",
        "On it",
    )
    assert last["by_kind"] == "external" and last["by"]
    entries = ok(client.get(f"/api/audit?object_id={ticket['id']}", headers=world.a.admin.bearer))
    changes = [(e["before"].get("status"), e["after"].get("status")) for e in entries if e["action"] == "update"]
    assert ("dispatched", "accepted") in changes and ("new", "dispatched") in changes
    accepting = next(e for e in entries if e["action"] == "update" and e["after"].get("status") == "accepted")
    assert accepting["actor_kind"] == "external" and accepting["channel"] == "api"

    async def events(db: Database) -> list[tuple[str, dict[str, Any]]]:
        async with db.session(SYSTEM) as session:
            rows = await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.aggregate_id == uuid.UUID(ticket["id"]))
                .order_by(OutboxEvent.sequence)
            )
            return [(e.event_type, e.payload) for e in rows]

    published = run_with_database(client.app.state.services.settings, events)
    assert [t for t, _p in published] == ["service.ticket.open", "service.ticket.dispatch", "service.ticket.accept"]
    assert published[-1][1]["status"] == "accepted" and published[-1][1]["number"] == ticket["number"]


def test_a_refused_transition_changes_nothing_and_names_the_status(client: TestClient, world: World) -> None:
    ticket = open_ticket(client, world)
    refused = staff_act(client, world, ticket["id"], "close")
    assert refused.status_code == 409
    assert refused.json()["code"] == "transition_refused"
    assert "New" in refused.json()["detail"]
    after = ok(client.get(f"/api/service/tickets/{ticket['id']}", headers=world.a.admin.bearer))
    assert after["status"] == "new" and len(after["timeline"]) == 1
    # a reason is required to cancel: 422 naming the field, and nothing written either
    missing = staff_act(client, world, ticket["id"], "cancel")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "note"
    assert ok(client.get(f"/api/service/tickets/{ticket['id']}", headers=world.a.admin.bearer))["status"] == "new"


def test_rejecting_hands_the_ticket_back_and_the_partner_loses_it(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    ticket = open_ticket(client, world)
    ok(staff_act(client, world, ticket["id"], "dispatch", enterprise_id=world.service["fixit"].link_id))
    back = ok(partner_act(client, dispatcher, ticket["id"], "reject", note="No engineer free this week"))
    assert back["status"] == "new" and back["enterprise_id"] is None and back["engineer_id"] is None
    assert client.get(f"{PARTNER}/tickets/{ticket['id']}", headers=dispatcher.bearer).status_code == 404
    seen = ok(client.get(f"/api/service/tickets/{ticket['id']}", headers=world.a.admin.bearer))
    assert seen["reject_reason"] == "No engineer free this week"
    assert seen["timeline"][-1]["enterprise"] == world.service["fixit"].name


def test_reassigning_moves_the_ticket_to_another_partner(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    other = world.service["other"]
    ticket = open_ticket(client, world)
    ok(staff_act(client, world, ticket["id"], "dispatch", enterprise_id=world.service["fixit"].link_id))
    ok(partner_act(client, dispatcher, ticket["id"], "accept"))
    moved = ok(staff_act(client, world, ticket["id"], "reassign", enterprise_id=other.link_id, note="Closer"))
    assert (moved["status"], moved["enterprise_id"], moved["engineer_id"]) == ("dispatched", other.link_id, None)
    assert client.get(f"{PARTNER}/tickets/{ticket['id']}", headers=dispatcher.bearer).status_code == 404
    theirs = ok(client.get(f"{PARTNER}/tickets/{ticket['id']}", headers=other.admin.bearer))
    # the other partner's story starts with its own dispatch: FixIt's acceptance is not theirs to read
    assert [e["action"] for e in theirs["timeline"]] == ["reassign"]


def test_reopening_is_refused_after_the_window(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    ticket = open_ticket(client, world)
    ok(staff_act(client, world, ticket["id"], "dispatch", enterprise_id=world.service["fixit"].link_id))
    for action in ("accept", "start", "arrive"):
        ok(partner_act(client, dispatcher, ticket["id"], action))
    ok(partner_act(client, dispatcher, ticket["id"], "resolve", note="Seal replaced"))

    async def age(db: Database) -> None:
        from datetime import timedelta

        from apps.service.models import Ticket

        async with db.session(SYSTEM) as session:
            row = await session.scalar(select(Ticket).where(Ticket.id == uuid.UUID(ticket["id"])))
            assert row is not None and row.resolved_at is not None
            row.resolved_at -= timedelta(days=15)

    run_with_database(client.app.state.services.settings, age)
    late = staff_act(client, world, ticket["id"], "reopen", note="Leaks again")
    assert late.status_code == 409 and late.json()["code"] == "reopen_window_passed", late.text


def _hold_the_ticket(url: str, ticket_id: str, held: threading.Event, release: threading.Event) -> None:
    """Lock the ticket's row (as another writer would) until released: both transitions then read the same
    status and reach their UPDATE before either can write."""

    async def main() -> None:
        conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            async with conn.transaction():
                await conn.execute(
                    "UPDATE service_tickets SET updated_at = updated_at WHERE id = $1", uuid.UUID(ticket_id)
                )
                held.set()
                await asyncio.to_thread(release.wait, 30)
        finally:
            await conn.close()

    asyncio.run(main())


async def _waiting_on_locks(url: str) -> int:
    conn = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    finally:
        await conn.close()


@pytest.mark.postgres_only
def test_two_transitions_at_once_from_one_status_do_not_both_succeed(client: TestClient, world: World) -> None:
    dispatcher, engineer = fixit(world)
    ticket = dispatched(client, world)
    url = client.app.state.services.settings.database_url
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_the_ticket, args=(url, ticket["id"], held, release))
    holder.start()
    try:
        assert held.wait(10)
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = [
                pool.submit(partner_act, client, dispatcher, ticket["id"], "accept", note="Dispatcher"),
                pool.submit(job_act, client, engineer, ticket["id"], "accept", note="Engineer"),
            ]
            deadline = time.monotonic() + 10
            while asyncio.run(_waiting_on_locks(url)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            release.set()
            responses = [a.result(timeout=30) for a in answers]
    finally:
        release.set()
        holder.join(10)
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    refused = next(r for r in responses if r.status_code == 409).json()
    assert refused["code"] == "ticket_changed" and "Dispatched" in refused["detail"], refused
    seen = ok(client.get(f"/api/service/tickets/{ticket['id']}", headers=world.a.admin.bearer))
    assert seen["status"] == "accepted"
    assert [e["action"] for e in seen["timeline"]].count("accept") == 1


@pytest.mark.postgres_only
def test_many_accepts_at_once_make_one(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    ticket = dispatched(client, world)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: partner_act(client, dispatcher, ticket["id"], "accept"), range(8)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"ticket_changed", "transition_refused"}
