"""Service dashboards: the figures count the tickets the viewer may see, each bar links to the ticket list
filtered to what it counts; the ticket list's sorting, rating filter and XLSX of the filtered list. Tenant
B's tickets and what a staff member's scope leaves out are never counted."""

from __future__ import annotations

import io
import re

import openpyxl
from litestar.testing import TestClient

from apps.service.models import PRIORITIES
from tests.integration.service.support import STAFF, call, closed, dispatched, fixit, ok, open_ticket, staff_act
from tests.integration.service.test_pages import in_chinese, page
from tests.integration.web.test_pages import act_as
from tests.world import World


def test_the_dashboards_draw_each_figure_with_links_to_the_tickets_it_counts(client: TestClient, world: World) -> None:
    finished = closed(client, world, priority="urgent")
    open_ticket(client, world, priority="high")
    act_as(client, world.a.admin.cookie)
    shown = page(client, "/console/service/dashboards?days=28")
    assert shown.count("<svg") >= 5 and "<script" not in shown.split("</header>", 1)[1]
    fixit = world.service["fixit"]
    assert fixit.name in shown
    assert 'href="/console/service/tickets?status=new"' in shown.replace("&amp;", "&")
    links = set(re.findall(r'href="(/console/service/tickets\?[^"]+)"', shown.replace("&amp;", "&")))
    assert any(f"partner={fixit.link_id}" in link and "breached=1" in link for link in links)
    # a link lists what its bar counts: FixIt's tickets of the period include the one closed above
    week = next(x for x in links if f"partner={fixit.link_id}" in x and "status=all" in x and "breached" not in x)
    assert finished["number"] in page(client, week)
    # tenant B's dashboard counts none of tenant A's partners
    act_as(client, world.b.admin.cookie)
    assert fixit.name not in page(client, "/console/service/dashboards")
    act_as(client, world.a.admin.cookie)
    in_chinese(client, "/console/service/dashboards")
    assert "服务看板" in page(client, "/console/service/dashboards?days=364")


def test_the_ticket_list_sorts_filters_by_rating_and_exports_what_it_lists(client: TestClient, world: World) -> None:
    low = open_ticket(client, world, priority="low")
    urgent = open_ticket(client, world, priority="urgent")
    listed = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets", params={"sort": "priority", "status": "open"}))
    ranks = [PRIORITIES.index(t["priority"]) for t in listed["items"]]
    assert ranks == sorted(ranks, reverse=True) and listed["items"][0]["priority"] == "urgent"
    oldest = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets", params={"sort": "oldest", "limit": 200}))
    times = [t["created_at"] for t in oldest["items"]]
    assert times == sorted(times)
    assert call(client, world.a.admin, "GET", f"{STAFF}/tickets", params={"sort": "sideways"}).status_code in (400, 422)
    assert call(client, world.a.admin, "GET", f"{STAFF}/tickets", params={"rating": 9}).status_code in (400, 422)
    ok(staff_act(client, world, low["id"], "cancel", note="Duplicate"))
    sheet = call(
        client, world.a.admin, "GET", f"{STAFF}/tickets/export.xlsx", params={"priority": "urgent", "status": "open"}
    )
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert urgent["number"] in {r[0] for r in rows} and low["number"] not in {r[0] for r in rows}
    assert {r[2] for r in rows[1:]} == {"urgent"}
    # tenant B lists none of them
    assert ok(call(client, world.b.admin, "GET", f"{STAFF}/tickets", params={"status": "all"}))["total"] == 0
    act_as(client, world.a.admin.cookie)
    shown = page(client, "/console/service/tickets?sort=priority&rating=5&status=all")
    assert "Most urgent first" in shown


def test_the_partner_list_filters_orders_and_exports_what_it_lists(client: TestClient, world: World) -> None:
    urgent = dispatched(client, world, engineer=False, priority="urgent")
    low = dispatched(client, world, engineer=False, priority="low")
    dispatcher, _engineer = fixit(world)
    act_as(client, dispatcher.cookie)
    base = f"/p/{world.a.slug}/service/tickets"
    shown = page(client, f"{base}?priority=urgent&sort=oldest&status=all")
    assert urgent["number"] in shown and low["number"] not in shown and "Oldest first" in shown
    export = re.search(r'href="([^"]+export\.xlsx[^"]*)"', shown)
    assert export is not None and "priority=urgent" in export.group(1)
    sheet = client.get(export.group(1).replace("&amp;", "&"))
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert urgent["number"] in {r[0] for r in rows} and low["number"] not in {r[0] for r in rows}
    # another partner lists neither
    act_as(client, world.service["other"].admin.cookie)
    assert urgent["number"] not in page(client, f"{base}?priority=urgent&status=all")


def test_a_service_partner_sees_its_own_dashboard_linking_to_its_own_tickets(client: TestClient, world: World) -> None:
    mine = closed(client, world)
    theirs = closed(client, world, "other")
    waiting = dispatched(client, world, engineer=False)
    dispatcher, engineer = fixit(world)
    slug = world.a.slug
    act_as(client, dispatcher.cookie)
    dashboard = f"/p/{slug}/service/dashboard"
    assert f'href="{dashboard}"' in page(client, f"/p/{slug}/service/tickets")
    shown = page(client, f"{dashboard}?days=28").replace("&amp;", "&")
    assert shown.count("<svg") >= 3 and world.service["other"].name not in shown
    links = set(re.findall(rf'href="(/p/{slug}/service/tickets\?[^"]+)"', shown))
    assert links and not any("partner=" in link for link in links)
    # each figure lists what it counts, and only the enterprise's own tickets
    periods = [x for x in links if "opened_from" in x and "breached" not in x and "rating" not in x]
    listed = "".join(page(client, x) for x in periods)
    assert mine["number"] in listed and theirs["number"] not in listed
    dispatched_link = next(x for x in links if "status=dispatched" in x)
    assert waiting["number"] in page(client, dispatched_link)
    breached = next(x for x in links if "breached=1" in x)
    assert mine["number"] not in page(client, breached)
    rated = next(x for x in links if "rating=5" in x)
    assert "rating=5" in rated and mine["number"] not in page(client, rated)
    in_chinese(client, dashboard)
    assert "服务看板" in page(client, dashboard)

    # the other partner's dashboard leads to none of FixIt's tickets
    act_as(client, world.service["other"].admin.cookie)
    other = page(client, f"{dashboard}?days=28").replace("&amp;", "&")
    for link in re.findall(rf'href="(/p/{slug}/service/tickets\?[^"]+)"', other):
        assert mine["number"] not in page(client, link)
    # only roles that read the enterprise's tickets; not another tenant's people
    act_as(client, engineer.cookie)
    assert client.get(dashboard, follow_redirects=False).status_code == 403
    act_as(client, world.b.admin.cookie)
    assert client.get(dashboard, follow_redirects=False).status_code != 200
