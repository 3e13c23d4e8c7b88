"""Service levels: due times in business time on the tenant's calendar, the clock paused on hold, the
timer job's warning, breach and escalation (each notice once however often it runs), and the list's
"breached" filter."""

from __future__ import annotations

import copy
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from apps.service.models import Ticket, TicketPause
from apps.service.sla import clock
from apps.service.sla.timers import sla_timers
from portal.calendars.arithmetic import BusinessCalendar, CalendarRules
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.notifications.models import Notification
from portal.outbox import OutboxEvent
from portal.services import Services
from tests.db import run_with_database
from tests.integration.service.support import STAFF, call, dispatched, fixit, job_act, ok, partner_act
from tests.integration.web.test_pages import act_as, submit
from tests.world import World, add_user

ROUND_THE_CLOCK = {"week": {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_timers(app: Litestar, now: datetime) -> int:
    """One pass of the job at `now`, on the test side's pool (the app's belongs to the client's loop)."""
    services: Services = app.state.services

    async def work(db: Database) -> int:
        own = copy.copy(services)
        own.db = db
        return await sla_timers(own, now)

    return run_with_database(services.settings, work)


def rows(app: Litestar, query: Any) -> list[Any]:
    async def work(db: Database) -> list[Any]:
        async with db.session(SYSTEM, write=False) as session:
            return list(await session.scalars(query))

    return run_with_database(app.state.services.settings, work)


def notices(app: Litestar, kind: str, number: str) -> list[Notification]:
    found = rows(app, select(Notification).where(Notification.kind == kind))
    return [n for n in found if n.params.get("number") == number]


def ticket(client: TestClient, world: World, ticket_id: str) -> dict[str, Any]:
    return ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{ticket_id}"))


def test_due_times_count_business_hours_across_a_weekend_and_a_holiday() -> None:
    monday = datetime(2026, 12, 7).date()
    calendar = BusinessCalendar(CalendarRules((((540, 1080),),) * 5 + ((), ()), frozenset({monday})), "Asia/Shanghai")
    opened = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)  # Friday 16:00 in Shanghai
    subject = Ticket(status="new", created_at=opened, resolution_minutes=240)
    clock.schedule_resolution(subject, calendar, 50, timedelta())
    # two hours on Friday, nothing on the weekend nor on Monday's holiday, two on Tuesday
    assert subject.resolution_due_at == datetime(2026, 12, 8, 3, 0, tzinfo=UTC)  # Tuesday 11:00
    assert subject.resolution_warn_at == datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # Friday 18:00
    # a pause from Tuesday 09:00 to 10:30 moves it by the business time paused
    paused = calendar.between(datetime(2026, 12, 8, 1, 0, tzinfo=UTC), datetime(2026, 12, 8, 2, 30, tzinfo=UTC))
    clock.schedule_resolution(subject, calendar, 50, paused)
    assert subject.resolution_due_at == datetime(2026, 12, 8, 4, 30, tzinfo=UTC)
    subject.resolution_breached = False
    subject.resolution_warned = True
    assert clock.next_check(subject) == subject.resolution_due_at


def test_a_ticket_shows_its_targets_and_the_time_left(client: TestClient, world: World) -> None:
    opened = dispatched(client, world)
    assert opened["response_due_at"] is not None and opened["resolution_due_at"] is not None
    assert 0 < opened["response_left_minutes"] <= 240  # normal repair: 4 business hours to respond
    assert opened["response_breached"] is False and opened["sla_paused"] is False
    _dispatcher, engineer = fixit(world)
    mine = ok(call(client, engineer, "GET", f"/api/partner/service/jobs/{opened['id']}"))
    assert mine["resolution_due_at"] == opened["resolution_due_at"]


def test_on_hold_the_clock_stands_still_and_the_due_time_moves_when_it_resumes(
    client: TestClient, app: Litestar, world: World
) -> None:
    ok(call(client, world.a.admin, "PUT", "/api/workspace/calendar", json=ROUND_THE_CLOCK))
    dispatcher, engineer = fixit(world)
    opened = dispatched(client, world)
    ok(job_act(client, engineer, opened["id"], "accept"))
    before = ticket(client, world, opened["id"])
    assert before["response_left_minutes"] is None  # accepted: the response clock stopped
    held = ok(partner_act(client, dispatcher, opened["id"], "hold", note="Waiting for a seal kit"))
    assert held["sla_paused"] is True
    on_hold = rows(app, select(Ticket).where(Ticket.id == uuid.UUID(opened["id"])))[0]
    assert on_hold.next_sla_check_at is None  # nothing for the timer job while it stands still
    ok(partner_act(client, dispatcher, opened["id"], "resume"))
    after = ticket(client, world, opened["id"])
    (pause,) = rows(app, select(TicketPause).where(TicketPause.ticket_id == uuid.UUID(opened["id"])))
    assert pause.ended_at is not None
    moved = at(after["resolution_due_at"]) - at(before["resolution_due_at"])
    assert moved == pause.ended_at - pause.started_at  # round the clock: every paused moment counts
    assert after["sla_paused"] is False


def test_warning_then_breach_then_escalation_each_once(client: TestClient, app: Litestar, world: World) -> None:
    ok(call(client, world.a.admin, "PUT", "/api/workspace/calendar", json=ROUND_THE_CLOCK))
    add_user(client, world.a.admin, f"manager-{uuid.uuid4().hex[:6]}@a.example", role="service_manager")
    dispatcher, engineer = fixit(world)
    opened = dispatched(client, world)
    number, since = opened["number"], at(opened["dispatched_at"])
    # 80 % of the 240 minutes to respond: the dispatcher and the engineer are warned
    assert run_timers(app, since + timedelta(minutes=193)) >= 1
    warned = notices(app, "service.sla_warning", number)
    assert sorted(n.recipient_id for n in warned) == sorted(uuid.UUID(p.user_id) for p in (dispatcher, engineer))
    run_timers(app, since + timedelta(minutes=194))
    assert len(notices(app, "service.sla_warning", number)) == 2  # not again
    assert ticket(client, world, opened["id"])["response_breached"] is False
    # past the target: marked, on the timeline, in the outbox, escalated to the service manager
    run_timers(app, since + timedelta(minutes=241))
    late = ticket(client, world, opened["id"])
    assert late["response_breached"] is True
    assert [e["action"] for e in late["timeline"]].count("sla_response") == 1
    escalated = notices(app, "service.sla_breached", number)
    assert len(escalated) == 1 and escalated[0].recipient_kind == "internal"
    events = rows(app, select(OutboxEvent).where(OutboxEvent.event_type == "service.ticket.sla_breached"))
    assert [e.payload["number"] for e in events].count(number) == 1
    # running again, or twice as late, sends and marks nothing more
    run_timers(app, since + timedelta(minutes=242))
    run_timers(app, since + timedelta(minutes=480))
    assert len(notices(app, "service.sla_breached", number)) == 1
    assert len(notices(app, "service.sla_warning", number)) == 2
    again = ticket(client, world, opened["id"])
    assert [e["action"] for e in again["timeline"]].count("sla_response") == 1


def test_the_breached_filter(client: TestClient, app: Litestar, world: World) -> None:
    ok(call(client, world.a.admin, "PUT", "/api/workspace/calendar", json=ROUND_THE_CLOCK))
    dispatcher, engineer = fixit(world)
    late, in_time = dispatched(client, world), dispatched(client, world)
    ok(job_act(client, engineer, in_time["id"], "accept"))  # in time: its response clock stops
    run_timers(app, at(late["dispatched_at"]) + timedelta(minutes=241))
    listed = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/", params={"breached": "true"}))["items"]
    assert late["id"] in [t["id"] for t in listed]
    assert in_time["id"] not in [t["id"] for t in listed]
    assert all(t["response_breached"] or t["resolution_breached"] for t in listed)
    theirs = ok(call(client, dispatcher, "GET", "/api/partner/service/tickets/", params={"breached": "true"}))
    assert late["id"] in [t["id"] for t in theirs["items"]]


def test_the_pages_show_the_time_left_and_filter_on_breached(client: TestClient, app: Litestar, world: World) -> None:
    ok(call(client, world.a.admin, "PUT", "/api/workspace/calendar", json=ROUND_THE_CLOCK))
    late = dispatched(client, world)
    _dispatcher, engineer = fixit(world)
    act_as(client, world.a.admin.cookie)
    page = client.get(f"/console/service/tickets/{late['id']}")
    assert page.status_code == 200 and "Response due" in page.text and "left" in page.text
    run_timers(app, at(late["dispatched_at"]) + timedelta(minutes=241))
    listed = client.get("/console/service/tickets", params={"breached": "1"})
    assert listed.status_code == 200 and late["number"] in listed.text and "Target missed" in listed.text
    act_as(client, engineer.cookie)
    jobs = client.get(f"/p/{world.a.slug}/service/jobs")
    assert jobs.status_code == 200 and "Target missed" in jobs.text


def test_the_targets_are_read_and_changed_through_the_api(client: TestClient, world: World) -> None:
    seeded = ok(call(client, world.a.admin, "GET", f"{STAFF}/sla/"))
    assert seeded["warning_percent"] == 80 and len(seeded["targets"]) == 16
    assert seeded["targets"][0] == {
        "priority": "low",
        "type": "installation",
        "response_minutes": 480,
        "resolution_minutes": 5400,
    }
    bad = {
        "warning_percent": 100,
        "targets": [
            {"priority": "soon", "type": "repair", "response_minutes": 60, "resolution_minutes": 0},
            {"priority": "high", "type": "repair", "response_minutes": 30, "resolution_minutes": 120},
            {"priority": "high", "type": "repair", "response_minutes": 30, "resolution_minutes": 120},
        ],
    }
    refused = call(client, world.a.admin, "PUT", f"{STAFF}/sla/", json=bad)
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields == {"warning_percent", "targets[0].priority", "targets[0].resolution_minutes", "targets[2].type"}
    assert ok(call(client, world.a.admin, "GET", f"{STAFF}/sla/")) == seeded  # nothing half-written
    changed = {"warning_percent": 75, "targets": bad["targets"][1:2]}
    after = ok(call(client, world.a.admin, "PUT", f"{STAFF}/sla/", json=changed))
    assert after["warning_percent"] == 75
    assert {"priority": "high", "type": "repair", "response_minutes": 30, "resolution_minutes": 120} in after["targets"]
    opened = dispatched(client, world, priority="high")
    assert 0 < opened["response_left_minutes"] <= 30
    _dispatcher, engineer = fixit(world)
    assert call(client, engineer, "PUT", f"{STAFF}/sla/", json=changed).status_code in (401, 403)


def test_the_console_page_changes_the_targets_with_errors_beside_their_inputs(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    page = client.get("/console/service/sla")
    assert page.status_code == 200 and 'name="urgent.repair.response" min="1" value="60"' in page.text
    form = dict(re.findall(r'name="([a-z]+\.[a-z]+\.[a-z]+)" min="1" value="(\d+)"', page.text))
    assert len(form) == 32
    refused = submit(client, "/console/service/sla", {**form, "warning_percent": "150", "high.repair.response": "x"})
    assert refused.status_code == 422
    assert "must be between 1 and 99" in refused.text and "must be a whole number" in refused.text
    saved = submit(client, "/console/service/sla", {**form, "warning_percent": "70", "high.repair.response": "45"})
    assert saved.status_code in (302, 303)
    assert "The service levels are saved." in client.get(saved.headers["location"]).text
    levels = ok(call(client, world.a.admin, "GET", f"{STAFF}/sla/"))
    assert levels["warning_percent"] == 70
    assert {"priority": "high", "type": "repair", "response_minutes": 45, "resolution_minutes": 960} in levels[
        "targets"
    ]
