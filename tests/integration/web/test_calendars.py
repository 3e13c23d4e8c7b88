"""The workspace's business calendar through the API and the console page, on both lanes: a new tenant
starts with Monday to Friday 09:00-18:00, bad input is refused whole with the field it is in, a tenant
sees and changes only its own calendar, and the arithmetic reads the saved calendar in the tenant's zone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncSession

from portal.calendars.service import business_calendar
from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from tests.db import run_with_database
from tests.integration.web.test_pages import act_as, assert_readable_page, submit
from tests.world import World

PATH = "/api/workspace/calendar"
OFFICE = ["09:00-18:00"]
WEEK = {"mon": OFFICE, "tue": OFFICE, "wed": OFFICE, "thu": OFFICE, "fri": OFFICE, "sat": [], "sun": []}


def test_a_new_tenant_works_monday_to_friday_nine_to_six(client: TestClient, world: World) -> None:
    body = client.get(PATH, headers=world.a.admin.bearer).json()
    assert body == {"time_zone": "UTC", "week": WEEK, "days": []}


def test_the_calendar_is_replaced_whole_and_read_back(client: TestClient, world: World) -> None:
    calendar = {
        "week": {**WEEK, "mon": ["13:00-18:00", "08:30-12:00"], "fri": ["09:00-24:00"]},
        "days": [
            {"day": "2026-10-10", "kind": "workday", "name": "国庆节调休上班"},
            {"day": "2026-10-01", "kind": "holiday", "name": "国庆节"},
            {"day": "2026-12-31", "kind": "workday", "name": "Stocktaking", "hours": ["10:00-14:00"]},
        ],
    }
    saved = client.put(PATH, headers=world.a.admin.bearer, json=calendar)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["week"]["mon"] == ["08:30-12:00", "13:00-18:00"]  # in order of the day
    assert [d["day"] for d in body["days"]] == ["2026-10-01", "2026-10-10", "2026-12-31"]
    assert body["days"][1] == {"day": "2026-10-10", "kind": "workday", "name": "国庆节调休上班", "hours": None}
    assert client.get(PATH, headers=world.a.admin.bearer).json() == body
    # the other tenant's calendar is its own
    assert client.get(PATH, headers=world.b.admin.bearer).json()["days"] == []


def field_errors(response: object) -> dict[str, str]:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    return {e["field"]: e["code"] for e in response.json()["errors"]}  # type: ignore[attr-defined]


def test_bad_input_is_refused_whole_with_the_field_it_is_in(client: TestClient, world: World) -> None:
    bad = {
        "week": {
            **WEEK,
            "mon": ["09:00-12:00", "11:00-18:00"],
            "tue": ["18:00-09:00"],
            "wed": ["9 to 5"],
            "thu": ["09:00-24:30"],
        },
        "days": [
            {"day": "2026-02-30", "kind": "holiday"},
            {"day": "20260-01-01", "kind": "holiday"},
            {"day": "1926-10-01", "kind": "holiday"},
            {"day": "2026-05-01", "kind": "holiday", "hours": ["09:00-12:00"]},
            {"day": "2026-05-01", "kind": "holiday"},
            {"day": "2026-05-09", "kind": "vacation"},
        ],
    }
    errors = field_errors(client.put(PATH, headers=world.a.admin.bearer, json=bad))
    assert errors == {
        "week.mon": "overlap",
        "week.tue": "end_before_start",
        "week.wed": "invalid",
        "week.thu": "invalid",
        "days[0].day": "invalid",
        "days[1].day": "invalid",
        "days[2].day": "implausible",
        "days[3].hours": "invalid",
        "days[4].day": "duplicate",
        "days[5].kind": "invalid",
    }
    no_work = client.put(PATH, headers=world.a.admin.bearer, json={"week": {}, "days": []})
    assert field_errors(no_work) == {"week": "empty"}
    unknown = client.put(PATH, headers=world.a.admin.bearer, json={"week": {"monday": OFFICE}})
    assert unknown.status_code == 422
    assert client.get(PATH, headers=world.a.admin.bearer).json()["week"] == WEEK  # nothing half-saved


def test_only_who_may_change_the_workspace_changes_its_calendar(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"]
    assert client.get(PATH, headers=staff.bearer).status_code == 200
    assert client.put(PATH, headers=staff.bearer, json={"week": WEEK}).status_code == 403
    assert client.put(PATH, headers=world.x.admin.bearer, json={"week": WEEK}).status_code == 403


def test_the_arithmetic_reads_the_saved_calendar_in_the_tenants_zone(
    client: TestClient, world: World, settings: Settings
) -> None:
    client.patch("/api/workspace", headers=world.a.admin.bearer, json={"time_zone": "Asia/Shanghai"})
    calendar = {"week": WEEK, "days": [{"day": "2026-12-07", "kind": "holiday", "name": "Closed"}]}
    assert client.put(PATH, headers=world.a.admin.bearer, json=calendar).status_code == 200

    async def due(db: Database) -> datetime:
        session: AsyncSession
        async with db.session(tenant_context(uuid.UUID(world.a.tenant_id))) as session:
            calendar = await business_calendar(session)
            # Friday 4 December 2026, 17:00 in Shanghai, + 2 business hours: Monday is a holiday
            return calendar.add(datetime(2026, 12, 4, 9, tzinfo=UTC), timedelta(hours=2))

    assert run_with_database(settings, due) == datetime(2026, 12, 8, 2, tzinfo=UTC)  # Tuesday 10:00 CST


def test_the_console_page_edits_the_calendar_and_names_each_mistake(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    page = client.get("/console/settings/calendar")
    assert_readable_page(page, 200, "Business calendar")
    assert 'name="week.mon" value="09:00-18:00"' in page.text
    form = {f"week.{d}": ", ".join(h) for d, h in WEEK.items()}
    form |= {"week.sat": "09:00-12:00", "days.0.day": "2026-10-01", "days.0.kind": "holiday", "days.0.name": "国庆节"}
    form |= {"days.2.day": "2026-10-10", "days.2.kind": "workday", "days.2.hours": ""}  # row 1 left blank
    saved = submit(client, "/console/settings/calendar", form)
    assert saved.status_code in (302, 303), saved.text
    body = client.get(PATH, headers=world.a.admin.bearer).json()
    assert body["week"]["sat"] == ["09:00-12:00"] and [d["day"] for d in body["days"]] == ["2026-10-01", "2026-10-10"]

    form |= {"week.sun": "10:00-09:00", "days.2.day": "3026-10-10"}
    refused = submit(client, "/console/settings/calendar", form)
    assert_readable_page(refused, 422, "10:00-09:00")
    assert 'id="week-sun-error"' in refused.text and 'id="days-2-day-error"' in refused.text
    assert "3026-10-10" in refused.text  # what was typed stays in the form


def test_the_console_page_is_the_workspace_admins(client: TestClient, world: World) -> None:
    act_as(client, world.b.admin.cookie)
    assert client.get("/console/settings/calendar").status_code == 200
    act_as(client, world.a.others["staff"].cookie)
    page = client.get("/console/settings/calendar")  # the read-only staff role reads the settings
    assert page.status_code == 200 and 'class="button">Save' not in page.text
