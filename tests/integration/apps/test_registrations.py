"""Deal registration through HTTP: the duplicate check (folded names, tax id, phone, email), protection
and its one extension, the conflict queue and its three decisions, stage rules, follow-ups on deals and
their reminder, a lead converted into an account, a contact and a registered deal, and (PostgreSQL)
concurrent registrations of one customer."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update

from apps.agent.models import Deal
from apps.agent.objects import STAFF_OBJECT, STAFF_REGISTRATION
from portal.config import Settings
from portal.crm.models import Account
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from tests.db import run_with_database
from tests.integration.apps.support import Roles
from tests.integration.apps.test_deals import deal_partners
from tests.integration.apps.test_leads import agent, claim, lead, notices, pool, run_reminders
from tests.integration.web.test_pages import act_as, submit
from tests.world import Credential, Enterprise, World, add_enterprise, add_user, unique, web_login

PARTNER = "/api/partner/agent"
STAFF = "/api/agent"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def call(client: TestClient, who: Credential, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, headers=who.bearer, **kwargs)


def register(client: TestClient, who: Enterprise, status: int = 201, **values: Any) -> Any:
    body = {"amount": "1000", **values}
    return ok(call(client, who.admin, "POST", f"{PARTNER}/registrations", json=body), status)


def in_tenant(app: Litestar, tenant_id: str, work: Any) -> Any:
    async def run(db: Database) -> Any:
        async with db.session(tenant_context(uuid.UUID(tenant_id), channel="cli")) as session:
            return await work(session)

    return run_with_database(app.state.services.settings, run)


def expire(app: Litestar, world: World, deal_id: str) -> None:
    async def work(session: Any) -> None:
        moment = utcnow() - timedelta(minutes=1)
        await session.execute(update(Deal).where(Deal.id == uuid.UUID(deal_id)).values(protected_until=moment))

    in_tenant(app, world.a.tenant_id, work)


def upstream_account(app: Litestar, world: World, name: str, **keys: Any) -> None:
    async def work(session: Any) -> None:
        session.add(Account(name=name, kind="customer", **keys))
        await session.flush()

    in_tenant(app, world.a.tenant_id, work)


def test_an_approved_registration_protects_the_customer_from_another_partner(client: TestClient, world: World) -> None:
    one, other = agent(client, world, "First"), agent(client, world, "Second")
    base = unique("Acme")
    mine = register(client, one, customer_name=f"{base} Co., Ltd.", tax_id="91310000-ma1k2b3c4d", contact_name="Ann Li")
    assert mine["registration"] == "approved" and mine["enterprise_id"] == one.link_id
    until = datetime.fromisoformat(mine["protected_until"])
    assert timedelta(days=89) < until - utcnow() <= timedelta(days=90)
    assert mine["account_id"] and mine["contact_id"] and mine["customer_contact"] == "Ann Li"

    # the same company, typed otherwise: its name folded (case, spaces, legal form), or its tax id
    for values in (
        {"customer_name": f"  {base.upper()}  有限公司"},
        {"customer_name": "Other", "tax_id": "91310000MA1K2B3C4D"},
    ):
        refused = register(client, other, 409, **values)
        assert refused["code"] == "customer_protected" and str(until.year) in refused["detail"]
    assert ok(call(client, other.admin, "GET", f"{PARTNER}/registrations"))["items"] == []
    # the hints say so while typing, without naming the partner
    hints = ok(call(client, other.admin, "GET", f"{PARTNER}/registrations/hints", params={"customer_name": base}))
    (hint,) = hints["hints"]
    assert hint["blocking"] and hint["keys"] == ["name"] and hint["protected_until"]
    assert one.name not in str(hints) and one.link_id not in str(hints)
    # met by its tax id only, the customer's name is not told
    by_tax = ok(
        call(client, other.admin, "GET", f"{PARTNER}/registrations/hints", params={"tax_id": "91310000MA1K2B3C4D"})
    )
    assert by_tax["hints"][0]["account_name"] is None and by_tax["hints"][0]["blocking"] and base not in str(by_tax)
    # the protecting partner registers another deal of its customer
    again = register(client, one, customer_name=base)
    assert again["registration"] == "approved" and again["account_id"] == mine["account_id"]
    # another tenant and another enterprise see nothing of it
    assert call(client, world.b.admin, "GET", f"{STAFF}/registrations").status_code in (200, 403)
    assert mine["id"] not in call(client, world.b.admin, "GET", f"{STAFF}/registrations").text
    assert call(client, other.admin, "GET", f"/api/partner/deals/{mine['id']}").status_code == 404
    assert base not in call(client, world.b.admin, "GET", f"{STAFF}/registrations/conflicts").text
    # another tenant's partner registers the same company freely: its own account, nothing of tenant A's
    elsewhere = add_enterprise(client, world.b, "Agent", "agent")
    theirs = register(client, elsewhere, customer_name=f"{base} Co., Ltd.", tax_id="91310000MA1K2B3C4D")
    assert theirs["registration"] == "approved" and theirs["account_id"] != mine["account_id"]
    hints_b = ok(call(client, elsewhere.admin, "GET", f"{PARTNER}/registrations/hints", params={"customer_name": base}))
    assert [h["yours"] for h in hints_b["hints"]] == [True] and one.name not in str(hints_b)


def test_an_expired_protection_lets_another_partner_register_the_same_account(
    client: TestClient, app: Litestar, world: World
) -> None:
    one, other = agent(client, world, "First"), agent(client, world, "Second")
    name = unique("Harbour Hotel")
    first = register(client, one, customer_name=name)
    expire(app, world, first["id"])
    second = register(client, other, customer_name=name.lower())
    assert second["registration"] == "approved" and second["account_id"] == first["account_id"]


def test_meeting_another_partner_by_phone_or_an_upstream_account_waits_in_the_conflict_queue(
    client: TestClient, app: Litestar, world: World
) -> None:
    one, other, third = (agent(client, world, label) for label in ("First", "Second", "Third"))
    phone = f"+86 138 {uuid.uuid4().int % 10**8:08d}"
    first = register(client, one, customer_name=unique("Lakeside"), phone=phone)
    flagged = register(client, other, customer_name=unique("Lakeside Brewery"), phone=phone.replace(" ", "-"))
    assert flagged["registration"] == "conflict" and flagged["protected_until"] is None
    owned = unique("Metro Hospital")
    upstream_account(app, world, owned, email="buyer@metro.example")
    second_flag = register(client, third, customer_name=unique("Other"), email="BUYER@metro.example")
    assert second_flag["registration"] == "conflict"

    queue = ok(call(client, world.a.admin, "GET", f"{STAFF}/registrations/conflicts"))
    sides = {c["registration"]["id"]: c for c in queue}
    (met,) = sides[flagged["id"]]["matches"]
    assert met["key"] == "phone" and met["deal"]["id"] == first["id"] and met["deal"]["enterprise_name"] == one.name
    assert sides[flagged["id"]]["registration"]["enterprise_name"] == other.name
    (owned_match,) = sides[second_flag["id"]]["matches"]
    assert owned_match["upstream_account"] and owned_match["deal"] is None and owned_match["account_name"] == owned
    # partners never see the queue; the staff member without the grant neither
    assert call(client, one.admin, "GET", f"{STAFF}/registrations/conflicts").status_code in (401, 403)
    assert (
        call(
            client,
            world.a.others["staff"],
            "POST",
            f"{STAFF}/registrations/{flagged['id']}/decision",
            json={"outcome": "approve"},
        ).status_code
        == 403
    )
    # a flagged registration's stage does not move until it is approved
    refused = call(client, other.admin, "PATCH", f"/api/partner/deals/{flagged['id']}", json={"stage": "qualified"})
    assert refused.status_code == 422

    # approve: the flagged one is protected, the one it met loses its protection
    decided = ok(
        call(
            client,
            world.a.admin,
            "POST",
            f"{STAFF}/registrations/{flagged['id']}/decision",
            json={"outcome": "approve"},
        )
    )
    assert decided["registration"] == "approved" and decided["protected_until"]
    loser = ok(call(client, one.admin, "GET", f"{PARTNER}/registrations"))["items"]
    assert datetime.fromisoformat(next(r for r in loser if r["id"] == first["id"])["protected_until"]) <= utcnow()
    again = call(
        client, world.a.admin, "POST", f"{STAFF}/registrations/{flagged['id']}/decision", json={"outcome": "reject"}
    )
    assert again.status_code == 409 and again.json()["code"] == "registration_state"
    # split: the upstream's account stays its own, the partner proceeds beside it
    split = ok(
        call(
            client,
            world.a.admin,
            "POST",
            f"{STAFF}/registrations/{second_flag['id']}/decision",
            json={"outcome": "split"},
        )
    )
    assert split["registration"] == "approved"
    # reject
    third_flag = register(client, one, customer_name=unique("Another"), email="buyer@metro.example")
    rejected = ok(
        call(
            client,
            world.a.admin,
            "POST",
            f"{STAFF}/registrations/{third_flag['id']}/decision",
            json={"outcome": "reject"},
        )
    )
    assert rejected["registration"] == "rejected" and rejected["protected_until"] is None
    bad = call(
        client, world.a.admin, "POST", f"{STAFF}/registrations/{third_flag['id']}/decision", json={"outcome": "maybe"}
    )
    assert bad.status_code == 422
    # another tenant's admin cannot decide tenant A's registrations
    foreign = call(
        client, world.b.admin, "POST", f"{STAFF}/registrations/{third_flag['id']}/decision", json={"outcome": "approve"}
    )
    assert foreign.status_code == 404


def test_a_protection_is_extended_once_when_the_upstream_approves(client: TestClient, world: World) -> None:
    one = agent(client, world)
    made = register(client, one, customer_name=unique("Greenfield Farms"))
    asked = ok(call(client, one.admin, "POST", f"{PARTNER}/registrations/{made['id']}/extension"))
    assert asked["extension"] == "pending"
    assert call(client, one.admin, "POST", f"{PARTNER}/registrations/{made['id']}/extension").status_code == 409
    approved = ok(call(client, world.a.admin, "POST", f"{STAFF}/registrations/{made['id']}/extension/approve"))
    added = datetime.fromisoformat(approved["protected_until"]) - datetime.fromisoformat(made["protected_until"])
    assert approved["extension"] == "approved" and added == timedelta(days=30)
    assert call(client, one.admin, "POST", f"{PARTNER}/registrations/{made['id']}/extension").status_code == 409
    assert (
        call(client, world.a.admin, "POST", f"{STAFF}/registrations/{made['id']}/extension/reject").status_code == 409
    )
    # another agent may not ask for it
    other = agent(client, world, "Other")
    assert call(client, other.admin, "POST", f"{PARTNER}/registrations/{made['id']}/extension").status_code == 404
    # the programme's days
    saved = ok(
        call(
            client,
            world.a.admin,
            "PUT",
            f"{STAFF}/registration-settings",
            json={"protection_days": 10, "extension_days": 5},
        )
    )
    assert saved == {"protection_days": 10, "extension_days": 5}
    short = register(client, one, customer_name=unique("Short"))
    left = datetime.fromisoformat(short["protected_until"]) - utcnow()
    assert timedelta(days=9) < left <= timedelta(days=10)
    too_long = call(
        client,
        world.a.admin,
        "PUT",
        f"{STAFF}/registration-settings",
        json={"protection_days": 10**9, "extension_days": 5},
    )
    assert too_long.status_code == 422
    assert ok(call(client, world.b.admin, "GET", f"{STAFF}/registration-settings"))["protection_days"] == 90


def test_bad_input_is_refused_whole(client: TestClient, world: World) -> None:
    one = agent(client, world)
    name = unique("Quay")
    for values, field in (
        ({"customer_name": f"{name}\x00"}, None),
        ({"customer_name": name, "amount": "1e30"}, "amount"),
        ({"customer_name": name, "phone": "12"}, "phone"),
        ({"customer_name": name, "email": "no-at-sign"}, "email"),
        ({"customer_name": "Co., Ltd."}, "customer_name"),
        ({"customer_name": name, "stage": "won"}, None),
    ):
        refused = call(client, one.admin, "POST", f"{PARTNER}/registrations", json={"amount": "1", **values})
        assert refused.status_code in (400, 422), (values, refused.text)
        if field:
            assert field in {e["field"] for e in refused.json().get("errors", [])}, refused.text
    assert ok(call(client, one.admin, "GET", f"{PARTNER}/registrations"))["items"] == []


def test_a_lead_converts_into_an_account_a_contact_and_a_registered_deal_keeping_its_history(
    client: TestClient, app: Litestar, world: World
) -> None:
    one, other = agent(client, world), agent(client, world, "Other")
    made = lead(client, world, pool(client, world)["id"], contact_name="Wei Zhang", email="wei@harbour.example")
    ok(claim(client, one.admin, made["id"]))
    note = {"kind": "call", "note": "Wants a quote"}
    ok(call(client, one.admin, "POST", f"{PARTNER}/leads/{made['id']}/follow-ups", json=note), 201)

    converted = ok(call(client, one.admin, "POST", f"{PARTNER}/leads/{made['id']}/convert", json={"amount": "25000"}))
    assert converted["status"] == "converted"
    deal = converted["deal"]
    assert deal["lead_id"] == made["id"] and deal["registration"] == "approved" and deal["amount"] == "25000.0000"
    assert deal["account_id"] and deal["contact_id"] and deal["customer_name"] == made["company_name"]
    history = ok(call(client, one.admin, "GET", f"{PARTNER}/deals/{deal['id']}/follow-ups"))
    assert history["lead_id"] == made["id"] and [f["note"] for f in history["lead_follow_ups"]] == ["Wants a quote"]
    assert {"claimed", "followed_up", "converted"} <= {e["action"] for e in history["lead_events"]}
    # converting again is refused; another agent, the other tenant see nothing
    assert call(client, one.admin, "POST", f"{PARTNER}/leads/{made['id']}/convert").status_code == 409
    assert call(client, other.admin, "GET", f"{PARTNER}/deals/{deal['id']}/follow-ups").status_code == 404
    assert call(client, world.b.admin, "GET", f"{STAFF}/deals/{deal['id']}/follow-ups").status_code == 404

    # a follow-up on the deal, seen by the upstream, reminds its author on the date
    day = (utcnow() + timedelta(days=2)).date()
    body = {"kind": "visit", "note": "Site visit", "next_step": "Sign", "next_date": day.isoformat()}
    ok(call(client, one.admin, "POST", f"{PARTNER}/deals/{deal['id']}/follow-ups", json=body), 201)
    seen = ok(call(client, world.a.admin, "GET", f"{STAFF}/deals/{deal['id']}/follow-ups"))
    assert [f["note"] for f in seen["follow_ups"]] == ["Site visit"]
    on_the_day = datetime.combine(day, datetime.min.time(), tzinfo=utcnow().tzinfo) + timedelta(hours=12)
    run_reminders(app, on_the_day)
    run_reminders(app, on_the_day + timedelta(hours=1))
    (sent,) = notices(app, "agent.follow_up_due", made["company_name"])
    assert sent.recipient_id == uuid.UUID(one.admin.user_id) and sent.params["next_step"] == "Sign"

    # a lead of a customer another partner protects does not convert, and stays held
    protected = lead(client, world, pool(client, world)["id"], company_name=unique("Protected Inn"))
    register(client, other, customer_name=protected["company_name"])
    ok(claim(client, one.admin, protected["id"]))
    refused = call(client, one.admin, "POST", f"{PARTNER}/leads/{protected['id']}/convert")
    assert refused.status_code == 409 and refused.json()["code"] == "customer_protected"
    assert ok(call(client, one.admin, "GET", f"{PARTNER}/leads/{protected['id']}"))["status"] == "assigned"


def test_a_lead_converts_from_its_page_with_an_amount(client: TestClient, world: World) -> None:
    one = agent(client, world)
    made = lead(client, world, pool(client, world)["id"])
    ok(claim(client, one.admin, made["id"]))
    act_as(client, one.admin.cookie)
    page = f"/p/{world.a.slug}/agent/leads/{made['id']}"
    refused = submit(client, f"{page}/convert", {"amount": "-5"}, form_page=page)
    assert refused.status_code == 422 and "must be between" in refused.text
    converted = submit(client, f"{page}/convert", {"amount": "4200.50", "tax_id": "91310000MA1K9Z9Z9Z"}, form_page=page)
    assert converted.status_code in (302, 303), converted.text
    act_as(client, None)
    (deal,) = [
        r for r in ok(call(client, one.admin, "GET", f"{PARTNER}/registrations"))["items"] if r["lead_id"] == made["id"]
    ]
    assert deal["amount"] == "4200.5000" and deal["registration"] == "approved"
    assert ok(call(client, one.admin, "GET", f"{PARTNER}/leads/{made['id']}"))["status"] == "converted"


def test_the_upstream_alone_moves_the_stage_and_sets_commission(client: TestClient, world: World) -> None:
    one = agent(client, world)
    made = register(client, one, customer_name=unique("Pier Inn"))
    path = f"/api/partner/deals/{made['id']}"
    for body in ({"stage": "won"}, {"stage": "qualified"}, {"commission_rate": "0.9"}):
        refused = call(client, one.admin, "PATCH", path, json=body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "field_read_only", refused.text
    staff = f"/api/agent/deals/{made['id']}"
    won = ok(call(client, world.a.admin, "PATCH", staff, json={"stage": "won", "commission_rate": "0.05"}))
    assert won["stage"] == "won" and ok(call(client, one.admin, "GET", path))["stage"] == "won"
    follow = {"kind": "call", "note": "Thanks"}
    assert call(client, one.admin, "POST", f"{PARTNER}/deals/{made['id']}/follow-ups", json=follow).status_code == 409


def test_a_registration_in_conflict_keeps_its_stage_even_where_the_rules_let_partners_move_it(
    client: TestClient, app: Litestar, settings: Settings, world: World
) -> None:
    deal_partners(Roles(app, settings, world.a), world, "private")  # dealers X and Y may set every field
    phone = f"+86 139 {uuid.uuid4().int % 10**8:08d}"
    first = register(client, world.y, customer_name=unique("Quay Hotel"), phone=phone)
    flagged = register(client, world.x, customer_name=unique("Quay Lodge"), phone=phone)
    assert flagged["registration"] == "conflict"
    path = "/api/partner/deals"
    refused = call(client, world.x.admin, "PATCH", f"{path}/{flagged['id']}", json={"stage": "won"})
    assert refused.status_code == 422 and refused.json()["errors"] == [
        {"field": "stage", "message": "the stage moves once the registration is approved", "code": "stage_not_allowed"}
    ]
    moved = ok(call(client, world.y.admin, "PATCH", f"{path}/{first['id']}", json={"stage": "qualified"}))
    assert moved["stage"] == "qualified"
    assert call(client, world.x.admin, "GET", f"{path}/{first['id']}").status_code == 404


def test_the_pages_register_with_hints_and_decide_conflicts_side_by_side(client: TestClient, world: World) -> None:
    one, other = agent(client, world, "First"), agent(client, world, "Second")
    portal = f"/p/{world.a.slug}/agent/registrations"
    name = unique("Riverside Dairy")
    act_as(client, one.admin.cookie)
    page = client.get(portal)
    assert page.status_code == 200 and "registration-hints.js" in page.text
    assert client.get("/static/agent/registration-hints.js").status_code == 200
    made = submit(client, portal, {"customer_name": name, "amount": "1200", "phone": "+86 138 5555 0101"})
    assert made.status_code in (302, 303), made.text
    listed = client.get(portal)
    assert name in listed.text and "days left" in listed.text
    refused = submit(client, portal, {"customer_name": "Co., Ltd.", "amount": "1" + "0" * 40})
    assert refused.status_code == 422 and "must be between" in refused.text

    act_as(client, other.admin.cookie)
    hints = client.get(f"{portal}/hints", params={"customer_name": name.upper()})
    assert hints.status_code == 200 and hints.json()["hints"][0]["blocking"] is True
    assert one.name not in hints.text
    blocked = submit(client, portal, {"customer_name": f"{name} 有限公司", "amount": "5"})
    assert blocked.status_code == 409 and "protects it until" in blocked.text
    flagged = submit(client, portal, {"customer_name": unique("Dairy Depot"), "amount": "5", "phone": "13855550101"})
    assert flagged.status_code in (302, 303), flagged.text
    assert name not in client.get(portal).text  # the other partner's registration is not listed

    act_as(client, world.a.admin.cookie)
    console = client.get("/console/agent/registrations")
    assert console.status_code == 200 and one.name in console.text and other.name in console.text
    queue = ok(call(client, world.a.admin, "GET", f"{STAFF}/registrations/conflicts"))
    (item,) = [c for c in queue if c["registration"]["enterprise_id"] == other.link_id]
    decided = submit(
        client,
        f"/console/agent/registrations/{item['registration']['id']}/decision",
        {"outcome": "split"},
        form_page="/console/agent/registrations",
    )
    assert decided.status_code in (302, 303), decided.text
    again = submit(
        client,
        f"/console/agent/registrations/{item['registration']['id']}/decision",
        {"outcome": "approve"},
        form_page="/console/agent/registrations",
    )
    assert again.status_code == 409 and "Only a registration in conflict" in again.text
    bad_days = submit(
        client,
        "/console/agent/registrations/settings",
        {"protection_days": "-1", "extension_days": "5"},
        form_page="/console/agent/registrations",
    )
    assert bad_days.status_code == 422
    # a partner, the staff member without the grant, the other tenant: no console page
    act_as(client, world.b.admin.cookie)
    assert one.name not in client.get("/console/agent/registrations").text
    act_as(client, None)


def test_the_console_moves_a_deals_stage_only_where_the_role_may_set_it(
    client: TestClient, app: Litestar, settings: Settings, world: World
) -> None:
    one = agent(client, world)
    made = register(client, one, customer_name=unique("Quarry Inn"))
    console = "/console/agent/registrations"
    action = f"{console}/deals/{made['id']}/stage"

    # the channel manager: a form with every stage, the deal's own chosen; won is set here, never by the partner
    email = f"cm-{uuid.uuid4().hex[:8]}@acme.example"
    add_user(client, world.a.admin, email, "channel_manager")
    act_as(client, web_login(client, world.a.slug, email))
    page = client.get(console)
    assert page.status_code == 200 and f'action="{action}"' in page.text
    assert '<option value="won" >' in page.text and '<option value="registered" selected>' in page.text
    moved = submit(client, action, {"stage": "won"}, form_page=console)
    assert moved.status_code in (302, 303) and moved.headers["location"] == f"{console}?done=staged"
    assert "The deal&#39;s stage is changed." in client.get(moved.headers["location"]).text
    assert ok(call(client, one.admin, "GET", f"/api/partner/deals/{made['id']}"))["stage"] == "won"
    unknown = submit(client, action, {"stage": "signed"}, form_page=console)
    assert unknown.status_code == 422 and "Stage: must be one of registered, qualified, won, lost" in unknown.text

    # a role whose field rule keeps the stage read-only: no form, and a post made anyway is refused by name
    Roles(app, settings, world.a).define(
        "deal_clerk",
        "internal",
        grants=[(STAFF_OBJECT, "read"), (STAFF_OBJECT, "update"), (STAFF_REGISTRATION, "read")],
        fields={STAFF_OBJECT: {"stage": "read_only"}},
        scopes={STAFF_OBJECT: "all"},
    )
    clerk = f"clerk-{uuid.uuid4().hex[:8]}@acme.example"
    add_user(client, world.a.admin, clerk, "deal_clerk")
    act_as(client, web_login(client, world.a.slug, clerk))
    page = client.get(console)
    assert page.status_code == 200 and made["customer_name"] in page.text and f'action="{action}"' not in page.text
    refused = submit(client, action, {"stage": "lost"}, form_page=console)
    assert refused.status_code == 422 and "Stage: you may not change this field" in refused.text
    assert ok(call(client, one.admin, "GET", f"/api/partner/deals/{made['id']}"))["stage"] == "won"

    # a staff member who only reads: no form, refused; the other tenant: not found
    act_as(client, world.a.others["staff"].cookie)
    assert f'action="{action}"' not in client.get(console).text
    assert submit(client, action, {"stage": "lost"}, form_page=console).status_code == 403
    act_as(client, world.b.admin.cookie)
    assert submit(client, action, {"stage": "lost"}, form_page=console).status_code == 404
    act_as(client, None)
    assert ok(call(client, one.admin, "GET", f"/api/partner/deals/{made['id']}"))["stage"] == "won"


def test_a_refused_stage_change_shows_nothing_of_a_page_the_person_may_not_open(
    client: TestClient, app: Litestar, settings: Settings, world: World
) -> None:
    one, other = agent(client, world, "Mover"), agent(client, world, "Bystander")
    made = register(client, one, customer_name=unique("Harbour Mill"))
    elsewhere = register(client, other, customer_name=unique("Ridge Farm"))
    console = "/console/agent/registrations"
    action = f"{console}/deals/{made['id']}/stage"

    # may update deals, not their stage, and may not open the registrations page
    Roles(app, settings, world.a).define(
        "deal_editor",
        "internal",
        grants=[(STAFF_OBJECT, "read"), (STAFF_OBJECT, "update")],
        fields={STAFF_OBJECT: {"stage": "read_only"}},
        scopes={STAFF_OBJECT: "all"},
    )
    editor = f"editor-{uuid.uuid4().hex[:8]}@acme.example"
    add_user(client, world.a.admin, editor, "deal_editor")
    act_as(client, web_login(client, world.a.slug, editor))
    assert client.get(console).status_code == 403
    refused = submit(client, action, {"stage": "won"}, form_page=console)
    assert refused.status_code == 422 and "you may not change this field" in refused.text
    for hidden in (made["customer_name"], elsewhere["customer_name"], "Conflicts", "Requests to extend a protection"):
        assert hidden not in refused.text
    # an unknown stage, the same: the plain error page
    unknown = submit(client, action, {"stage": "signed"}, form_page=console)
    assert unknown.status_code == 422 and elsewhere["customer_name"] not in unknown.text
    # deciding and the protection days are refused before anything is shown
    days = submit(client, f"{console}/settings", {"protection_days": "x", "extension_days": "1"}, form_page=console)
    assert days.status_code == 403 and elsewhere["customer_name"] not in days.text

    # who may open the page still gets it back with why
    clerk = f"clerk-{uuid.uuid4().hex[:8]}@acme.example"
    Roles(app, settings, world.a).define(
        "deal_reader",
        "internal",
        grants=[(STAFF_OBJECT, "read"), (STAFF_OBJECT, "update"), (STAFF_REGISTRATION, "read")],
        fields={STAFF_OBJECT: {"stage": "read_only"}},
        scopes={STAFF_OBJECT: "all"},
    )
    add_user(client, world.a.admin, clerk, "deal_reader")
    act_as(client, web_login(client, world.a.slug, clerk))
    shown = submit(client, action, {"stage": "won"}, form_page=console)
    assert shown.status_code == 422 and "Stage: you may not change this field" in shown.text
    assert elsewhere["customer_name"] in shown.text
    # tenant B: not found
    act_as(client, world.b.admin.cookie)
    assert submit(client, action, {"stage": "won"}, form_page=console).status_code == 404
    act_as(client, None)
    assert ok(call(client, one.admin, "GET", f"/api/partner/deals/{made['id']}"))["stage"] == "registered"


@pytest.mark.postgres_only
def test_concurrent_registrations_of_one_customer_give_one_protected_winner(client: TestClient, world: World) -> None:
    partners = [agent(client, world, f"Racer {n}") for n in range(6)]
    name = unique("Racing Works")

    def one(partner: Enterprise) -> Any:
        return call(
            client, partner.admin, "POST", f"{PARTNER}/registrations", json={"customer_name": name, "amount": "5"}
        )

    with ThreadPoolExecutor(max_workers=len(partners)) as workers:
        responses = list(workers.map(one, partners))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 5, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"customer_protected"}
    (winner,) = [r.json() for r in responses if r.status_code == 201]
    assert winner["registration"] == "approved"


def test_a_person_guessing_customers_through_the_hints_is_stopped(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apps.agent.registrations import service

    monkeypatch.setattr(service, "HINTS_PER_WINDOW", 3)
    guesser, typist = agent(client, world, "Guesser"), agent(client, world, "Typist")
    url = f"{PARTNER}/registrations/hints"
    for number in range(3):
        ok(call(client, guesser.admin, "GET", url, params={"phone": f"+86 138 0013 8{number:03d}"}))
    stopped = call(client, guesser.admin, "GET", url, params={"phone": "+86 138 0013 8003"})
    assert stopped.status_code == 429 and stopped.json()["code"] == "too_many_attempts"
    assert int(stopped.headers["retry-after"]) > 0
    # counted per person: another partner's person typing is not held back
    ok(call(client, typist.admin, "GET", url, params={"customer_name": "Lakeside"}))


def test_a_registration_in_an_unknown_currency_is_refused(client: TestClient, world: World) -> None:
    one = agent(client, world, "Currency")
    refused = register(client, one, 422, customer_name=unique("Cur"), currency="ZZZ")
    assert [e["field"] for e in refused["errors"]] == ["currency"]
    assert ok(call(client, one.admin, "GET", f"{PARTNER}/registrations"))["items"] == []
    assert register(client, one, customer_name=unique("Cur"), currency="usd")["currency"] == "USD"
    price_list = call(
        client,
        world.a.admin,
        "POST",
        "/api/ordering/price-lists",
        json={"name": "Z", "kind": "base", "currency": "ZZZ"},
    )
    assert price_list.status_code == 422 and price_list.json()["errors"][0]["field"] == "currency"


def test_the_home_counts_the_protections_about_to_end_and_links_to_them(
    client: TestClient, app: Litestar, world: World
) -> None:
    one = agent(client, world, "Soon")
    ending = register(client, one, customer_name=unique("Ending"))
    later = register(client, one, customer_name=unique("Later"))
    assert ending["registration"] == later["registration"] == "approved"

    async def work(session: Any) -> None:
        soon = utcnow() + timedelta(days=3)
        await session.execute(update(Deal).where(Deal.id == uuid.UUID(ending["id"])).values(protected_until=soon))

    in_tenant(app, world.a.tenant_id, work)
    widgets = {w["key"]: w for w in ok(call(client, one.admin, "GET", "/api/partner/home"))["widgets"]}
    tile = widgets["agent.registrations_expiring"]
    assert tile["value"] == 1 and tile["page"].endswith("agent/registrations?expiring=1")
    listed = ok(call(client, one.admin, "GET", f"{PARTNER}/registrations", params={"expiring": "true"}))
    assert [r["id"] for r in listed["items"]] == [ending["id"]] and listed["total"] == 1
    # paged like every list: the second registration on its own page
    first = ok(call(client, one.admin, "GET", f"{PARTNER}/registrations", params={"limit": 1}))
    second = ok(call(client, one.admin, "GET", f"{PARTNER}/registrations", params={"limit": 1, "offset": 1}))
    assert first["total"] == second["total"] == 2
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {ending["id"], later["id"]}
    # another partner's person counts only their own
    other = agent(client, world, "Elsewhere")
    others = {w["key"]: w for w in ok(call(client, other.admin, "GET", "/api/partner/home"))["widgets"]}
    assert others["agent.registrations_expiring"]["value"] == 0
    act_as(client, one.admin.cookie)
    page = client.get(f"/p/{world.a.slug}/agent/registrations", params={"expiring": "1"})
    assert page.status_code == 200 and ending["customer_name"] in page.text and later["customer_name"] not in page.text
