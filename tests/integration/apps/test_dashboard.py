"""The agent dashboard through HTTP: the funnel (leads partners took on, deals they registered, those won)
per partner and per tier, the recycling figures (leads taken back by reason, more time asked and given),
each figure leading to the list that shows exactly what it counts; the partner's own view; the lists'
filters, orders and exports; what another partner or tenant must not see."""

from __future__ import annotations

import html
import io
import re
import uuid
from datetime import timedelta
from typing import Any

import openpyxl
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update

from apps.agent.leads.models import Lead
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.db.types import utcnow
from tests.db import run_with_database
from tests.integration.apps.test_commissions import agent, tier
from tests.integration.apps.test_leads import call, claim, lead, ok, pool, run_recycling
from tests.integration.web.test_pages import act_as
from tests.world import Enterprise, TenantWorld, World, unique

STAFF = "/api/agent"
PARTNER = "/api/partner/agent"
CONSOLE = "/console/agent/dashboard"


def page(client: TestClient, cookie: str, path: str) -> str:
    act_as(client, cookie)
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.text[:500])
    return response.text


def funnel_row(text: str, name: str) -> list[tuple[str, int]]:
    """The links and figures of a funnel table's row (leads, registrations, won)."""
    row = re.search(r'<th scope="row">' + re.escape(html.escape(name)) + r"</th>(.*?)</tr>", text, re.S)
    assert row, f"no row for {name}"
    return [(html.unescape(href), int(n)) for href, n in re.findall(r'<a href="([^"]+)">(\d+)</a>', row.group(1))]


def has_row(text: str, name: str) -> bool:
    return f'<th scope="row">{html.escape(name)}</th>' in text


def listed(client: TestClient, cookie: str, link: str) -> int:
    """How many the list a figure leads to says it holds."""
    found = re.search(r'<h1>[^<]*<small class="muted">\((\d+)\)</small>', page(client, cookie, link))
    assert found, link
    return int(found.group(1))


def held_lead(client: TestClient, world: World, partner: Enterprise) -> dict[str, Any]:
    made = lead(client, world)
    body = {"enterprise_id": partner.link_id}
    return ok(call(client, world.a.admin, "POST", f"{STAFF}/leads/{made['id']}/distribute", json=body))


def registered(client: TestClient, partner: Enterprise, won_by: TenantWorld | None = None) -> dict[str, Any]:
    body = {"customer_name": unique("Lakeside Foods"), "amount": "5000", "tax_id": uuid.uuid4().hex[:15].upper()}
    made = ok(call(client, partner.admin, "POST", f"{PARTNER}/registrations", json=body), 201)
    assert made["registration"] == "approved", made
    if won_by is not None:
        ok(call(client, won_by.admin, "PATCH", f"{STAFF}/deals/{made['id']}", json={"stage": "won"}))
    return made


def overdue(app: Litestar, lead_id: str, deadline: str) -> None:
    """The lead's deadline (follow_up_due or convert_due) a minute ago: our clock, moved for this lead."""

    async def work(db: Database) -> None:
        past = utcnow() - timedelta(minutes=1)
        async with db.session(SYSTEM) as session:
            await session.execute(
                update(Lead).where(Lead.id == uuid.UUID(lead_id)).values({deadline: past, "next_check_at": past})
            )

    run_with_database(app.state.services.settings, work)


def test_the_funnel_per_partner_and_tier_leads_to_the_lists_it_counts(
    client: TestClient, app: Litestar, world: World
) -> None:
    gold = tier(client, world.a)
    one, two = agent(client, world.a, "Gold agent", gold), agent(client, world.a, "Plain agent")
    for _ in range(3):
        held_lead(client, world, one)
    held_lead(client, world, two)
    registered(client, one, won_by=world.a)
    registered(client, one)
    registered(client, two)
    cookie = world.a.admin.cookie

    text = page(client, cookie, CONSOLE)
    row = funnel_row(text, one.name)
    assert [n for _link, n in row] == [3, 2, 1]
    # each figure leads to the list that holds exactly what it counts
    for link, count in row:
        assert listed(client, cookie, link) == count, link
    assert [n for _link, n in funnel_row(text, two.name)] == [1, 1, 0]
    # a tier: only its partners
    gold_only = page(client, cookie, f"{CONSOLE}?tier={gold}&days=91")
    assert has_row(gold_only, one.name) and not has_row(gold_only, two.name)
    tier_links = re.findall(r'<a href="([^"]*tier=' + gold + r'[^"]*)">(\d+)</a>', gold_only)
    assert tier_links and all(listed(client, cookie, html.unescape(h)) == int(n) for h, n in tier_links)
    # one partner
    alone = page(client, cookie, f"{CONSOLE}?enterprise={two.link_id}")
    assert has_row(alone, two.name) and not has_row(alone, one.name)
    # tenant B sees none of it
    other = page(client, world.b.admin.cookie, CONSOLE)
    assert one.name not in other and two.name not in other

    # the partner's own figures, linked to its own lists
    mine = page(client, one.admin.cookie, f"/p/{world.a.slug}/agent/dashboard")
    own = funnel_row(mine, "Your enterprise")
    assert [n for _link, n in own] == [3, 2, 1]
    for link, count in own:
        assert listed(client, one.admin.cookie, link) == count, link
    assert two.name not in mine
    theirs = page(client, two.admin.cookie, f"/p/{world.a.slug}/agent/dashboard")
    assert [n for _link, n in funnel_row(theirs, "Your enterprise")] == [1, 1, 0]
    # staff-only and partner-only pages stay where they belong
    act_as(client, one.admin.cookie)
    assert client.get(CONSOLE, follow_redirects=False).status_code in (302, 303, 401, 403, 404)
    odd = page(client, cookie, f"{CONSOLE}?days=5&tier=nope&enterprise={uuid.uuid4()}")
    assert "Last 28 days" in odd
    client.cookies.clear()


def test_recycling_figures_count_by_reason_and_extensions_and_lead_to_the_leads(
    client: TestClient, app: Litestar, world: World
) -> None:
    one = agent(client, world.a, "Recycled agent")
    timed = pool(client, world, follow_up_days=5, convert_days=20, notice_days=1)
    lost = [lead(client, world, timed["id"]) for _ in range(3)]
    for made in lost:
        ok(claim(client, one.admin, made["id"]))
    overdue(app, lost[0]["id"], "follow_up_due")
    overdue(app, lost[1]["id"], "follow_up_due")
    overdue(app, lost[2]["id"], "convert_due")
    kept = lead(client, world, timed["id"])
    ok(claim(client, one.admin, kept["id"]))
    asked = ok(call(client, one.admin, "POST", f"{PARTNER}/leads/{kept['id']}/extension", json={"days": 3}), 201)
    ok(call(client, world.a.admin, "POST", f"{STAFF}/leads/extensions/{asked['id']}/approve"))
    run_recycling(app, utcnow())
    cookie = world.a.admin.cookie

    text = page(client, cookie, f"{CONSOLE}?enterprise={one.link_id}")
    totals = dict(
        re.findall(r'<h3>([^<]+) <small class="muted"><a href="[^"]+">(\d+)</a></small></h3>', html.unescape(text))
    )
    assert totals["Taken back: No follow-up in time"] == "2"
    assert totals["Taken back: Not converted in time"] == "1"
    assert totals["More time asked"] == "1" and totals["More time given"] == "1"
    links = dict(
        (label, html.unescape(href))
        for label, href in re.findall(r'<h3>([^<]+) <small class="muted"><a href="([^"]+)">\d+</a>', text)
    )
    assert listed(client, cookie, links[html.escape("Taken back: No follow-up in time")]) == 2
    follow_up = page(client, cookie, links[html.escape("Taken back: No follow-up in time")])
    assert lost[0]["company_name"] in follow_up and lost[2]["company_name"] not in follow_up
    assert listed(client, cookie, links[html.escape("Taken back: Not converted in time")]) == 1
    assert kept["company_name"] in page(client, cookie, links["More time given"])
    # each day's bar leads to that day's leads
    bars = re.findall(r'<a href="(/console/agent/leads\?recycled=no_follow_up[^"]+)">', text)
    assert bars and all(listed(client, cookie, html.unescape(b)) >= 1 for b in bars)

    # the partner sees what was taken back from it, without links to leads no longer its own
    mine = page(client, one.admin.cookie, f"/p/{world.a.slug}/agent/dashboard")
    assert re.search(r"Taken back: No follow-up in time <small class=\"muted\">2</small>", mine)
    assert "recycled=" not in mine
    assert all(made["company_name"] not in mine for made in lost)
    client.cookies.clear()


def test_the_lists_search_filter_order_page_and_export_what_they_show(client: TestClient, world: World) -> None:
    one, two = agent(client, world.a, "Listing agent"), agent(client, world.a, "Other agent")
    names = [held_lead(client, world, one)["company_name"] for _ in range(3)]
    other_lead = held_lead(client, world, two)["company_name"]
    deals = [registered(client, one) for _ in range(2)]
    others = registered(client, two)
    cookie = world.a.admin.cookie

    # console leads: search, partner, order, export with the same filters
    leads = page(client, cookie, f"/console/agent/leads?q={names[1]}")
    assert names[1] in leads and names[0] not in leads
    mine = page(client, cookie, f"/console/agent/leads?enterprise={one.link_id}&sort=company")
    assert [n for n in sorted(names)] == [n for n in re.findall(r"Harbour Hotel-[0-9a-f]+", mine) if n in names]
    assert other_lead not in mine
    act_as(client, cookie)
    exported = client.get(f"/console/agent/leads/export.xlsx?enterprise={one.link_id}")
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(exported.content)).active.iter_rows() for c in row]
    assert set(names) <= set(cells) and other_lead not in cells

    # console deals across partners: search, partner, registration, export
    across = page(client, cookie, f"/console/agent/deals?enterprise={one.link_id}&registration=registered")
    assert all(d["customer_name"] in across for d in deals) and others["customer_name"] not in across
    searched = page(client, cookie, f"/console/agent/deals?q={deals[0]['customer_name']}")
    assert deals[0]["customer_name"] in searched and deals[1]["customer_name"] not in searched
    act_as(client, cookie)
    export = client.get(f"/console/agent/deals/export.xlsx?enterprise={one.link_id}")
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows() for c in row]
    assert {d["customer_name"] for d in deals} <= set(cells)
    assert page(client, world.b.admin.cookie, "/console/agent/deals").count(deals[0]["customer_name"]) == 0

    # the partner's lists: its own, searched and exported
    portal = f"/p/{world.a.slug}"
    own = page(client, one.admin.cookie, f"{portal}/agent/leads?q={names[2]}")
    assert names[2] in own and names[0] not in own
    act_as(client, one.admin.cookie)
    export = client.get(f"{portal}/agent/leads/export.xlsx")
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(export.content)).active.iter_rows() for c in row]
    assert set(names) <= set(cells) and other_lead not in cells
    theirs = page(client, two.admin.cookie, f"{portal}/deals?registration=registered")
    assert deals[0]["customer_name"] not in theirs
    ordered = page(client, one.admin.cookie, f"{portal}/deals?sort=customer&registration=registered")
    found = [n for n in re.findall(r"Lakeside Foods-[0-9a-f]+", ordered)]
    assert found == sorted(found) and len(found) >= 2
    # odd values are no filter, not an error
    assert listed(client, one.admin.cookie, f"{portal}/deals?from=yesterday&sort=%27;&stage=x") >= 2
    client.cookies.clear()


def test_statement_and_fund_lists_filter_order_page_and_export(client: TestClient, world: World) -> None:
    from tests.integration.apps.test_commissions import close_month, deal, rule, stage
    from tests.integration.apps.test_funds import ask, budget

    one, two = agent(client, world.a, "Statement agent"), agent(client, world.a, "Second agent")
    rule(client, world.a, "0.1")
    for partner in (one, two):
        stage(client, world.a, deal(client, world.a, partner)["id"], "won")
        close_month(client, world.a, partner)
    cookie = world.a.admin.cookie
    console = "/console/agent/commissions"
    assert listed_in(page(client, cookie, f"{console}?q={one.name}"), "Statements") == 1
    only_one = page(client, cookie, f"{console}?enterprise={one.link_id}&status=open")
    assert one.name in table_of(only_one) and two.name not in table_of(only_one)
    assert listed_in(page(client, cookie, f"{console}?from=2000-01&to=2000-12"), "Statements") == 0
    act_as(client, cookie)
    exported = client.get(f"{console}/export.xlsx?enterprise={one.link_id}")
    rows = list(openpyxl.load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("period", "round", "partner") and [r[2] for r in rows[1:]] == [one.name]
    portal = f"/p/{world.a.slug}"
    mine = page(client, one.admin.cookie, f"{portal}/agent/commissions?status=open&sort=oldest")
    assert listed_in(mine, "Statements") == 1
    act_as(client, one.admin.cookie)
    own = client.get(f"{portal}/agent/commissions/export.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(own.content)).active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == [one.name]

    budget(client, world, "100000")
    asked = [ask(client, one, str(100 + n), purpose=f"Booth {n} {unique('fair')}") for n in range(3)]
    theirs = ask(client, two, "50", purpose=unique("Banner"))
    funds = page(client, cookie, f"/console/agent/funds?q={asked[1]['purpose']}")
    assert asked[1]["purpose"] in funds and asked[0]["purpose"] not in funds
    by_partner = page(client, cookie, f"/console/agent/funds?enterprise={one.link_id}&sort=amount")
    shown = [p for p in re.findall(r"Booth \d [\w-]+", by_partner)]
    assert shown == [asked[2]["purpose"], asked[1]["purpose"], asked[0]["purpose"]]
    assert theirs["purpose"] not in by_partner
    act_as(client, cookie)
    sheet = client.get(f"/console/agent/funds/export.xlsx?enterprise={two.link_id}")
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == [theirs["purpose"]]
    mine = page(client, one.admin.cookie, f"{portal}/agent/funds?q=Booth&sort=oldest")
    assert [p for p in re.findall(r"Booth \d [\w-]+", mine)][:3] == [a["purpose"] for a in asked]
    assert theirs["purpose"] not in page(client, one.admin.cookie, f"{portal}/agent/funds")
    act_as(client, two.admin.cookie)
    sheet = client.get(f"{portal}/agent/funds/export.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert [r[2] for r in rows[1:]] == [theirs["purpose"]]
    client.cookies.clear()


def table_of(text: str) -> str:
    found = re.search(r'<table class="list">.*?</table>', text, re.S)
    return found.group(0) if found else ""


def listed_in(text: str, heading: str) -> int:
    found = re.search(re.escape(heading) + r' <small class="muted">\((\d+)\)</small>', text)
    assert found, heading
    return int(found.group(1))


def test_a_list_never_searches_or_orders_by_a_field_the_viewer_may_not_see(client: TestClient, world: World) -> None:
    one = agent(client, world.a, "Hidden agent")
    made = held_lead(client, world, one)
    portal = f"/p/{world.a.slug}/agent/leads"
    assert listed(client, one.admin.cookie, f"{portal}?q=%2B86 138 0000 2222") >= 1
    role = ok(call(client, world.a.admin, "GET", "/api/roles/deal_registrar"))
    fields = {**role["fields"], "partner.agent.lead": {"phone": "hidden", "company_name": "hidden"}}
    ok(call(client, world.a.admin, "PATCH", "/api/roles/deal_registrar", json={"fields": fields}))
    assert listed(client, one.admin.cookie, f"{portal}?q=%2B86 138 0000 2222") == 0
    text = page(client, one.admin.cookie, f"{portal}?sort=company")
    assert 'value="company"' not in text and made["company_name"] not in text
    # a hidden stage: no "won" figure, no filter by stage
    registered(client, one, won_by=world.a)
    fields["partner.agent.deal"] = {**fields.get("partner.agent.deal", {}), "stage": "hidden"}
    ok(call(client, world.a.admin, "PATCH", "/api/roles/deal_registrar", json={"fields": fields}))
    mine = page(client, one.admin.cookie, f"/p/{world.a.slug}/agent/dashboard")
    assert [n for _link, n in funnel_row(mine, "Your enterprise")] == [1, 1]
    assert "Won per registration" not in mine and "stage=won" not in mine
    deals = f"/p/{world.a.slug}/deals?registration=registered"
    assert listed(client, one.admin.cookie, f"{deals}&stage=won") == listed(client, one.admin.cookie, deals)
    client.cookies.clear()
