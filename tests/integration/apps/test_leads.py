"""Leads through HTTP: pools that show only what they open, claims under the pool's limits and cooldown,
assignment rules (in turn, by capacity, the fallback pool), imports with row-numbered errors, the
recycling job with its notice, extension requests, the pages, and (PostgreSQL) concurrent claims."""

from __future__ import annotations

import copy
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from apps.agent.leads.recycling import lead_recycling
from apps.agent.leads.reminders import follow_up_reminders
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.notifications.models import Notification
from portal.services import Services
from tests.db import run_with_database
from tests.integration.web.test_pages import act_as, submit
from tests.world import (
    Credential,
    Enterprise,
    World,
    add_colleague,
    add_enterprise,
    csrf_token,
    partner_type_id,
    unique,
)

STAFF = "/api/agent"
PARTNER = "/api/partner/agent"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def call(client: TestClient, who: Credential, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, headers=who.bearer, **kwargs)


def agent(client: TestClient, world: World, label: str = "Agent") -> Enterprise:
    """An agent enterprise of tenant A: its first admin holds the deal registrar role."""
    return add_enterprise(client, world.a, label, "agent")


def pool(client: TestClient, world: World, **rules: Any) -> dict[str, Any]:
    body = {"name": unique("Pool"), "partner_type_id": partner_type_id(client, world.a.admin, "agent"), **rules}
    return ok(call(client, world.a.admin, "POST", f"{STAFF}/lead-pools", json=body), 201)


def lead(client: TestClient, world: World, pool_id: str | None = None, **values: Any) -> dict[str, Any]:
    body = {"company_name": unique("Harbour Hotel"), "phone": "+86 138 0000 2222", "distribute": False, **values}
    made = ok(call(client, world.a.admin, "POST", f"{STAFF}/leads", json=body), 201)
    if pool_id is None:
        return made
    return ok(call(client, world.a.admin, "POST", f"{STAFF}/leads/{made['id']}/distribute", json={"pool_id": pool_id}))


def claim(client: TestClient, who: Credential, lead_id: str) -> Any:
    return call(client, who, "POST", f"{PARTNER}/pool/{lead_id}/claim")


def run_recycling(app: Litestar, now: datetime) -> int:
    services: Services = app.state.services

    async def work(db: Database) -> int:
        own = copy.copy(services)
        own.db = db
        return await lead_recycling(own, now)

    return run_with_database(services.settings, work)


def notices(app: Litestar, kind: str, company: str) -> list[Notification]:
    async def work(db: Database) -> list[Notification]:
        async with db.session(SYSTEM, write=False) as session:
            return list(await session.scalars(select(Notification).where(Notification.kind == kind)))

    return [n for n in run_with_database(app.state.services.settings, work) if n.params.get("company") == company]


def test_a_pool_shows_only_the_fields_it_opens_and_a_claim_makes_the_lead_the_partners(
    client: TestClient, world: World
) -> None:
    one, other = agent(client, world), agent(client, world, "Other agent")
    opened = pool(client, world, visible_fields=["product_line"])
    made = lead(client, world, opened["id"], product_line="Pumps", email="buyer@harbour.example")
    assert made["status"] == "pooled" and made["enterprise_id"] is None
    listed = ok(call(client, one.admin, "GET", f"{PARTNER}/pool"))
    (item,) = [i for i in listed["items"] if i["id"] == made["id"]]
    assert item["product_line"] == "Pumps"
    assert not {"company_name", "phone", "email", "contact_name"} & set(item)  # absent, not null
    assert made["company_name"] not in str(listed) and "harbour.example" not in str(listed)
    # the pool's page shows what the API shows
    page = client.get(f"/p/{world.a.slug}/agent/pool", headers={"Cookie": f"portal_session={one.admin.cookie}"})
    assert page.status_code == 200 and "Pumps" in page.text and made["company_name"] not in page.text

    held = ok(claim(client, one.admin, made["id"]))
    assert held["status"] == "assigned" and held["enterprise_id"] == one.link_id and held["company_name"]
    assert held["holder_id"] == one.admin.user_id
    again = claim(client, other.admin, made["id"])
    assert again.status_code == 409 and again.json()["code"] == "lead_taken"
    mine = ok(call(client, one.admin, "GET", f"{PARTNER}/leads"))
    assert [i["id"] for i in mine["items"]] == [made["id"]]
    assert ok(call(client, other.admin, "GET", f"{PARTNER}/leads"))["items"] == []
    assert call(client, other.admin, "GET", f"{PARTNER}/leads/{made['id']}").status_code == 404
    assert made["id"] not in str(ok(call(client, one.admin, "GET", f"{PARTNER}/pool")))
    # a dealer (the pool is the agents'), a member without grants, a staff token and another tenant
    assert made["id"] not in str(ok(call(client, world.x.admin, "GET", f"{PARTNER}/pool")))
    assert claim(client, world.x.admin, made["id"]).status_code == 404
    assert call(client, world.x.people["colleague"], "GET", f"{PARTNER}/pool").status_code == 403
    assert call(client, world.a.admin, "GET", f"{PARTNER}/pool").status_code == 403
    assert call(client, world.b.admin, "GET", f"{STAFF}/leads/{made['id']}").status_code == 404
    detail = ok(call(client, world.a.admin, "GET", f"{STAFF}/leads/{made['id']}"))
    assert [e["action"] for e in detail["events"]] == ["created", "pooled", "claimed"]


def test_a_pool_of_another_partner_type_or_region_is_not_offered(client: TestClient, world: World) -> None:
    one = agent(client, world)
    dealers = pool(client, world, partner_type_id=partner_type_id(client, world.a.admin, "dealer"))
    made = lead(client, world, dealers["id"])
    assert made["id"] not in str(ok(call(client, one.admin, "GET", f"{PARTNER}/pool")))
    refused = claim(client, one.admin, made["id"])
    assert refused.status_code == 404


def test_holding_and_daily_limits_and_the_cooldown(client: TestClient, world: World) -> None:
    one = agent(client, world)
    colleague = add_colleague(client, world.a.slug, one, "seller")
    limited = pool(client, world, enterprise_limit=3, person_limit=2, daily_claim_limit=5, cooldown_days=7)
    leads = [lead(client, world, limited["id"])["id"] for _ in range(5)]
    ok(claim(client, one.admin, leads[0]))
    ok(claim(client, one.admin, leads[1]))
    over = claim(client, one.admin, leads[2])
    assert over.status_code == 409 and over.json()["code"] == "lead_limit_reached"
    assert "2" in over.json()["detail"]
    ok(claim(client, colleague, leads[2]))
    full = claim(client, colleague, leads[3])
    assert full.status_code == 409 and full.json()["code"] == "lead_limit_reached"  # the enterprise's 3
    # giving one back makes room, but not for the same lead until the cooldown has passed
    back = ok(call(client, one.admin, "POST", f"{PARTNER}/leads/{leads[0]}/return", json={"note": "Not our area"}))
    assert back["status"] == "pooled"
    cooling = claim(client, one.admin, leads[0])
    assert cooling.status_code == 409 and cooling.json()["code"] == "lead_cooldown"
    ok(claim(client, one.admin, leads[3]))
    # a daily limit counts claims made today, whatever was given back since
    daily = pool(client, world, daily_claim_limit=1)
    first, second = lead(client, world, daily["id"]), lead(client, world, daily["id"])
    other = agent(client, world, "Daily agent")
    ok(claim(client, other.admin, first["id"]))
    ok(call(client, other.admin, "POST", f"{PARTNER}/leads/{first['id']}/return", json={}))
    tired = claim(client, other.admin, second["id"])
    assert tired.status_code == 409 and tired.json()["code"] == "lead_limit_reached"


def test_assignment_rules_in_turn_by_capacity_and_the_fallback(client: TestClient, world: World) -> None:
    admin = world.a.admin
    first, second = agent(client, world, "Turn one"), agent(client, world, "Turn two")
    fallback = pool(client, world)
    line = unique("valves")
    rules = [
        {
            "name": "Valves in turn",
            "product_line": line,
            "strategy": "round_robin",
            "partner_type_id": partner_type_id(client, admin, "agent"),
            "position": 1,
        },
        {"name": "Everything else", "strategy": "pool", "pool_id": fallback["id"], "position": 2},
    ]
    made_rules = [ok(call(client, admin, "POST", f"{STAFF}/lead-rules", json=r), 201) for r in rules]
    try:
        placed = [
            ok(
                call(
                    client, admin, "POST", f"{STAFF}/leads", json={"company_name": unique("Co"), "product_line": line}
                ),
                201,
            )
            for _ in range(4)
        ]
        holders = [p["enterprise_id"] for p in placed]
        assert all(p["status"] == "assigned" for p in placed)
        # the lane's world has no agent besides the two: they take turns
        assert set(holders) == {first.link_id, second.link_id}
        assert holders[0] == holders[2] != holders[1] == holders[3]
        other = ok(
            call(client, admin, "POST", f"{STAFF}/leads", json={"company_name": unique("Co"), "product_line": "x"}), 201
        )
        assert other["status"] == "pooled" and other["pool_id"] == fallback["id"]
        refused = call(client, admin, "POST", f"{STAFF}/lead-rules", json={"name": "No pool", "strategy": "pool"})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "pool_id"
        by_capacity = call(
            client,
            admin,
            "PATCH",
            f"{STAFF}/lead-rules/{made_rules[0]['id']}",
            json={"strategy": "capacity", "capacity": 1},
        )
        ok(by_capacity)
        capped = [
            ok(
                call(
                    client, admin, "POST", f"{STAFF}/leads", json={"company_name": unique("Co"), "product_line": line}
                ),
                201,
            )
            for _ in range(2)
        ]
        # both hold a lead already (capacity 1): no room, so the fallback takes them
        assert all(c["status"] == "pooled" for c in capped)
    finally:
        for rule in made_rules:
            call(client, admin, "DELETE", f"{STAFF}/lead-rules/{rule['id']}")


def test_an_import_names_each_bad_row_and_writes_nothing(client: TestClient, world: World) -> None:
    admin = world.a.admin
    before = ok(call(client, admin, "GET", f"{STAFF}/leads", params={"limit": 1}))["total"]
    bad = (
        "company_name,email,region\nHarbour Hotel,buyer@harbour.example,\n"
        ",x@y.example,\nLake Inn,not-an-email,NOWHERE\n"
    )
    refused = call(
        client, admin, "POST", f"{STAFF}/leads/import", files={"file": ("leads.csv", bad.encode(), "text/csv")}
    )
    assert refused.status_code == 422, refused.text
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields == {"rows[3].company_name", "rows[4].email", "rows[4].region"}
    assert ok(call(client, admin, "GET", f"{STAFF}/leads", params={"limit": 1}))["total"] == before
    good = "公司名称,联系人,电话\n海港酒店,王经理,13800001111\n湖畔旅馆,,\n"
    counts = ok(
        call(client, admin, "POST", f"{STAFF}/leads/import", files={"file": ("leads.csv", good.encode(), "text/csv")})
    )
    assert counts["imported"] == 2
    assert ok(call(client, admin, "GET", f"{STAFF}/leads", params={"q": "海港酒店"}))["items"][0]["source"] == "import"


def test_the_recycling_job_warns_then_takes_the_lead_back(client: TestClient, app: Litestar, world: World) -> None:
    one = agent(client, world)
    timed = pool(client, world, follow_up_days=3, convert_days=30, notice_days=1, cooldown_days=2)
    made = lead(client, world, timed["id"])
    held = ok(claim(client, one.admin, made["id"]))
    due = datetime.fromisoformat(held["follow_up_due"])
    # a follow-up restarts the follow-up deadline
    ok(
        call(
            client,
            one.admin,
            "POST",
            f"{PARTNER}/leads/{made['id']}/follow-ups",
            json={
                "kind": "call",
                "note": "Asked for a quote",
                "next_step": "Send the quote",
                "next_date": "2026-12-10",
            },
        ),
        201,
    )
    followed = ok(call(client, one.admin, "GET", f"{PARTNER}/leads/{made['id']}"))
    due = datetime.fromisoformat(followed["follow_up_due"])
    assert followed["follow_ups"][0]["note"] == "Asked for a quote"
    run_recycling(app, due - timedelta(hours=30))
    assert notices(app, "agent.lead_recycle_notice", made["company_name"]) == []
    run_recycling(app, due - timedelta(hours=12))
    run_recycling(app, due - timedelta(hours=11))  # once only
    assert len(notices(app, "agent.lead_recycle_notice", made["company_name"])) == 1
    assert ok(call(client, one.admin, "GET", f"{PARTNER}/leads/{made['id']}"))["status"] == "assigned"
    run_recycling(app, due + timedelta(minutes=1))
    assert call(client, one.admin, "GET", f"{PARTNER}/leads/{made['id']}").status_code == 404
    assert made["id"] in str(ok(call(client, one.admin, "GET", f"{PARTNER}/pool")))
    assert len(notices(app, "agent.lead_recycled", made["company_name"])) == 1
    staff_view = ok(call(client, world.a.admin, "GET", f"{STAFF}/leads/{made['id']}"))
    assert staff_view["status"] == "pooled" and staff_view["events"][-1]["action"] == "recycled"
    cooling = claim(client, one.admin, made["id"])
    assert cooling.status_code == 409 and cooling.json()["code"] == "lead_cooldown"


def test_an_extension_the_upstream_approves_moves_the_deadlines(client: TestClient, world: World) -> None:
    one = agent(client, world)
    timed = pool(client, world, follow_up_days=5)
    made = lead(client, world, timed["id"])
    held = ok(claim(client, one.admin, made["id"]))
    asked = ok(
        call(
            client,
            one.admin,
            "POST",
            f"{PARTNER}/leads/{made['id']}/extension",
            json={"days": 10, "reason": "Tender next month"},
        ),
        201,
    )
    twice = call(client, one.admin, "POST", f"{PARTNER}/leads/{made['id']}/extension", json={"days": 3})
    assert twice.status_code == 409 and twice.json()["code"] == "lead_state"
    too_long = call(client, one.admin, "POST", f"{PARTNER}/leads/{made['id']}/extension", json={"days": 400})
    assert too_long.status_code == 422
    pending = ok(call(client, world.a.admin, "GET", f"{STAFF}/leads/extensions"))
    assert asked["id"] in [p["id"] for p in pending]
    assert call(client, world.b.admin, "POST", f"{STAFF}/leads/extensions/{asked['id']}/approve").status_code == 404
    ok(call(client, world.a.admin, "POST", f"{STAFF}/leads/extensions/{asked['id']}/approve"))
    after = ok(call(client, one.admin, "GET", f"{PARTNER}/leads/{made['id']}"))
    moved = datetime.fromisoformat(after["follow_up_due"]) - datetime.fromisoformat(held["follow_up_due"])
    assert moved == timedelta(days=10)
    again = call(client, world.a.admin, "POST", f"{STAFF}/leads/extensions/{asked['id']}/reject")
    assert again.status_code == 409
    converted = ok(call(client, one.admin, "POST", f"{PARTNER}/leads/{made['id']}/convert"))
    assert converted["status"] == "converted" and converted["follow_up_due"] is None


def test_the_console_and_portal_pages(client: TestClient, world: World) -> None:
    one = agent(client, world)
    opened = pool(client, world, visible_fields=["company_name"])
    made = lead(client, world, opened["id"])
    staff_cookie = {"Cookie": f"portal_session={world.a.admin.cookie}"}
    for path in (
        "/console/agent/leads",
        "/console/agent/pools",
        "/console/agent/lead-rules",
        f"/console/agent/leads/{made['id']}",
    ):
        page = client.get(path, headers=staff_cookie)
        assert page.status_code == 200, (path, page.text[:200])
    assert made["company_name"] in client.get("/console/agent/leads", headers=staff_cookie).text
    partner_cookie = {"Cookie": f"portal_session={one.admin.cookie}"}
    assert made["company_name"] in client.get(f"/p/{world.a.slug}/agent/pool", headers=partner_cookie).text
    assert (
        client.get(
            "/console/agent/leads", headers={"Cookie": f"portal_session={world.a.others['staff'].cookie}"}
        ).status_code
        == 200
    )
    assert client.get(f"/p/{world.a.slug}/agent/leads", headers=partner_cookie).status_code == 200


def _claim_all(client: TestClient, pairs: list[tuple[Credential, str]]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(pairs)) as workers:
        return list(workers.map(lambda pair: claim(client, pair[0], pair[1]), pairs))


@pytest.mark.postgres_only
def test_twenty_concurrent_claims_of_one_lead_make_one_holder(client: TestClient, world: World) -> None:
    partners = [agent(client, world, f"Racer {n}") for n in range(4)]
    opened = pool(client, world)
    made = lead(client, world, opened["id"])
    responses = _claim_all(client, [(partners[n % 4].admin, made["id"]) for n in range(20)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 19, [r.text for r in responses if r.status_code not in (200, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"lead_taken"}
    detail = ok(call(client, world.a.admin, "GET", f"{STAFF}/leads/{made['id']}"))
    assert [e["action"] for e in detail["events"]].count("claimed") == 1


@pytest.mark.postgres_only
def test_concurrent_claims_of_different_leads_never_pass_the_holding_limit(client: TestClient, world: World) -> None:
    one = agent(client, world)
    limited = pool(client, world, enterprise_limit=3)
    leads = [lead(client, world, limited["id"])["id"] for _ in range(12)]
    responses = _claim_all(client, [(one.admin, lead_id) for lead_id in leads])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 3 + [409] * 9, [r.text for r in responses if r.status_code not in (200, 409)]
    assert ok(call(client, one.admin, "GET", f"{PARTNER}/leads"))["total"] == 3


def run_reminders(app: Litestar, now: datetime) -> int:
    services: Services = app.state.services

    async def work(db: Database) -> int:
        own = copy.copy(services)
        own.db = db
        return await follow_up_reminders(own, now)

    return run_with_database(services.settings, work)


def test_a_next_step_reminds_its_author_once_on_its_date(client: TestClient, app: Litestar, world: World) -> None:
    one = agent(client, world)
    made = lead(client, world, pool(client, world)["id"])
    ok(claim(client, one.admin, made["id"]))
    day = (utcnow() + timedelta(days=3)).date()
    body = {"kind": "visit", "note": "Met the buyer", "next_step": "Send the quote", "next_date": day.isoformat()}
    ok(call(client, one.admin, "POST", f"{PARTNER}/leads/{made['id']}/follow-ups", json=body), 201)
    run_reminders(app, utcnow())
    assert notices(app, "agent.follow_up_due", made["company_name"]) == []
    on_the_day = datetime.combine(day, datetime.min.time(), tzinfo=utcnow().tzinfo) + timedelta(hours=12)
    run_reminders(app, on_the_day)
    run_reminders(app, on_the_day + timedelta(hours=1))
    (sent,) = notices(app, "agent.follow_up_due", made["company_name"])
    assert sent.recipient_id == uuid.UUID(one.admin.user_id) and sent.params["next_step"] == "Send the quote"


def test_a_pool_of_a_region_is_offered_to_that_regions_partners_only(client: TestClient, world: World) -> None:
    admin = world.a.admin
    region = ok(
        call(client, admin, "POST", "/api/interconnect/regions", json={"code": unique("r"), "name": unique("North")}),
        201,
    )
    one = agent(client, world)
    regional = pool(client, world, region_id=region["id"])
    made = lead(client, world, regional["id"])
    assert made["id"] not in str(ok(call(client, one.admin, "GET", f"{PARTNER}/pool")))
    assert claim(client, one.admin, made["id"]).status_code == 404


def test_the_console_and_portal_forms_work_and_refuse_readably(client: TestClient, world: World) -> None:
    one = agent(client, world)
    act_as(client, world.a.admin.cookie)
    name = unique("Form pool")
    agent_type = partner_type_id(client, world.a.admin, "agent")
    created = submit(
        client,
        "/console/agent/pools",
        {"name": name, "partner_type_id": agent_type, "person_limit": "1", "visible_fields": "company_name"},
    )
    assert created.status_code in (302, 303), created.text
    pools = ok(call(client, world.a.admin, "GET", f"{STAFF}/lead-pools"))
    (made_pool,) = [p for p in pools if p["name"] == name]
    assert made_pool["person_limit"] == 1 and made_pool["visible_fields"] == ["company_name"]
    refused = submit(
        client,
        f"/console/agent/pools/{made_pool['id']}",
        {"name": name, "person_limit": "-3"},
        form_page="/console/agent/pools",
    )
    assert refused.status_code == 422 and "must be between" in refused.text
    changed = submit(
        client,
        f"/console/agent/pools/{made_pool['id']}",
        {
            "name": name,
            "partner_type_id": agent_type,
            "person_limit": "2",
            "visible_fields": "company_name",
            "active": "1",
        },
        form_page=f"/console/agent/pools?edit={made_pool['id']}",
    )
    assert changed.status_code in (302, 303), changed.text
    (after,) = [p for p in ok(call(client, world.a.admin, "GET", f"{STAFF}/lead-pools")) if p["name"] == name]
    assert after["person_limit"] == 2 and after["active"] is True
    company = unique("Form lead")
    assert submit(client, "/console/agent/leads", {"company_name": company}).status_code in (302, 303)
    empty = submit(client, "/console/agent/leads", {"company_name": " "})
    assert empty.status_code == 422 and "is required" in empty.text
    (made,) = ok(call(client, world.a.admin, "GET", f"{STAFF}/leads", params={"q": company}))["items"]
    assert made["status"] == "new"
    distributed = submit(
        client,
        f"/console/agent/leads/{made['id']}/distribute",
        {"pool_id": made_pool["id"]},
        form_page=f"/console/agent/leads/{made['id']}",
    )
    assert distributed.status_code in (302, 303), distributed.text
    token = csrf_token(client, "/console/agent/leads")
    bad = client.post(
        "/console/agent/leads/import",
        data={"_csrf_token": token},
        files={"file": ("leads.csv", b"company_name,email\nLake Inn,not-an-email\n", "text/csv")},
    )
    assert bad.status_code == 422 and "Row 2" in bad.text
    # the partner claims it on the pool page, records a follow-up, and gives it back
    act_as(client, one.admin.cookie)
    base = f"/p/{world.a.slug}/agent"
    claimed = submit(client, f"{base}/pool/{made['id']}/claim", {}, form_page=f"{base}/pool")
    assert claimed.status_code in (302, 303), claimed.text
    lead_page = f"{base}/leads/{made['id']}"
    assert company in client.get(lead_page).text
    missing = submit(client, f"{lead_page}/follow-ups", {"kind": "call", "note": ""}, form_page=lead_page)
    assert missing.status_code == 422 and "is required" in missing.text
    noted = submit(client, f"{lead_page}/follow-ups", {"kind": "call", "note": "Called"}, form_page=lead_page)
    assert noted.status_code in (302, 303)
    back = submit(client, f"{lead_page}/return", {"note": "Too far"}, form_page=lead_page)
    assert back.status_code in (302, 303)
    assert client.get(lead_page).status_code == 404
    client.cookies.clear()


def test_an_integration_retrying_with_its_idempotency_key_makes_one_lead(client: TestClient, world: World) -> None:
    body = {"company_name": unique("Retried"), "distribute": False}
    headers = {**world.a.admin.bearer, "Idempotency-Key": unique("key")}
    first = ok(client.post(f"{STAFF}/leads", json=body, headers=headers), 201)
    second = ok(client.post(f"{STAFF}/leads", json=body, headers=headers), 201)
    assert first["id"] == second["id"]
    other = client.post(f"{STAFF}/leads", json={**body, "phone": "1"}, headers=headers)
    assert other.status_code == 409


def test_the_upstreams_staff_claim_under_the_same_rules(client: TestClient, app: Litestar, world: World) -> None:
    admin = world.a.admin
    timed = pool(client, world, person_limit=1, cooldown_days=5, follow_up_days=2)
    first, second = lead(client, world, timed["id"]), lead(client, world, timed["id"])
    mine = ok(call(client, admin, "POST", f"{STAFF}/leads/{first['id']}/claim"))
    assert mine["status"] == "assigned" and mine["enterprise_id"] is None and mine["holder_id"] == admin.user_id
    over = call(client, admin, "POST", f"{STAFF}/leads/{second['id']}/claim")
    assert over.status_code == 409 and over.json()["code"] == "lead_limit_reached"
    # partners never see a lead the upstream's staff hold
    one = agent(client, world)
    assert call(client, one.admin, "GET", f"{PARTNER}/leads/{first['id']}").status_code == 404
    assert first["id"] not in str(ok(call(client, one.admin, "GET", f"{PARTNER}/pool")))
    # recycled on time, with a notice to the staff member, who then waits out the cooldown
    due = datetime.fromisoformat(mine["follow_up_due"])
    run_recycling(app, due + timedelta(minutes=1))
    assert len(notices(app, "agent.lead_recycled", first["company_name"])) == 1
    cooling = call(client, admin, "POST", f"{STAFF}/leads/{first['id']}/claim")
    assert cooling.status_code == 409 and cooling.json()["code"] == "lead_cooldown"
    ok(call(client, admin, "POST", f"{STAFF}/leads/{second['id']}/claim"))
    back = ok(call(client, admin, "POST", f"{STAFF}/leads/{second['id']}/return", json={}))
    assert back["status"] == "pooled"
    refused = call(client, admin, "POST", f"{STAFF}/leads/{second['id']}/return", json={})
    assert refused.status_code == 409 and refused.json()["code"] == "lead_state"


def test_an_enterprise_given_leads_hears_of_it_once_per_handing(
    client: TestClient, app: Litestar, world: World
) -> None:
    one = agent(client, world)
    made = lead(client, world)
    ok(
        call(
            client, world.a.admin, "POST", f"{STAFF}/leads/{made['id']}/distribute", json={"enterprise_id": one.link_id}
        )
    )
    (sent,) = notices(app, "agent.leads_assigned", made["company_name"])
    assert sent.recipient_id == uuid.UUID(one.admin.user_id) and sent.params["count"] == 1
    mine = ok(call(client, one.admin, "GET", f"{PARTNER}/leads"))
    assert [i["id"] for i in mine["items"]] == [made["id"]] and mine["items"][0]["holder_id"] is None
