"""Dispatch: the tenant's ordered rules (first match by region, product line and type; the partner chosen
by load or rating, under a cap; the staff's queue when none matches; automatic on opening), the open pool
of a region (one take wins, also twenty at once on PostgreSQL), the customer's rating link on resolution
and the automatic closing of unconfirmed tickets. Tenant B and the other enterprises see none of it."""

from __future__ import annotations

import copy
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select, update

from apps.service import public
from apps.service.dispatch.closing import auto_close
from apps.service.models import Ticket
from apps.service.public import PublicService
from interconnect.models import EnterpriseLink
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.notifications.models import Notification
from portal.services import Services
from tests.db import run_with_database
from tests.integration.service.support import (
    PARTNER,
    STAFF,
    call,
    device,
    fixit,
    ok,
    open_ticket,
    partner_act,
    staff_act,
)
from tests.integration.service.test_pages import in_chinese
from tests.integration.service.test_public import number_of, page_address, progress_link, send
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import World, background_jobs_ended, unique

RULES = f"{STAFF}/dispatch/rules"


def region(client: TestClient, world: World, name: str) -> str:
    body = {"code": unique(name), "name": name}
    return str(ok(call(client, world.a.admin, "POST", "/api/interconnect/regions", json=body), 201)["id"])


def write(app: Litestar, statement: Any) -> None:
    async def work(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            await session.execute(statement)

    run_with_database(app.state.services.settings, work)


def read_ticket(app: Litestar, ticket_id: str) -> Ticket:
    async def work(db: Database) -> Ticket:
        async with db.session(SYSTEM, write=False) as session:
            row = await session.scalar(select(Ticket).where(Ticket.id == uuid.UUID(ticket_id)))
            assert row is not None
            return row

    return run_with_database(app.state.services.settings, work)


def in_region(app: Litestar, link_id: str, region_id: str | None) -> None:
    """The partner's region, as the programme's editor would set it."""
    key = uuid.UUID(region_id) if region_id else None
    write(app, update(EnterpriseLink).where(EnterpriseLink.id == uuid.UUID(link_id)).values(region_id=key))


def rule(client: TestClient, world: World, name: str, partners: list[str], **values: Any) -> dict[str, Any]:
    return ok(call(client, world.a.admin, "POST", RULES, json={"name": name, "partner_ids": partners, **values}), 201)


def clear_rules(client: TestClient, world: World) -> None:
    for found in ok(call(client, world.a.admin, "GET", RULES)):
        ok(call(client, world.a.admin, "DELETE", f"{RULES}/{found['id']}"), 204)


def by_rules(client: TestClient, world: World, ticket_id: str) -> Any:
    return call(client, world.a.admin, "POST", f"{STAFF}/tickets/{ticket_id}/dispatch-by-rules")


def test_rules_are_edited_reordered_and_checked_and_belong_to_their_tenant(client: TestClient, world: World) -> None:
    clear_rules(client, world)
    fixit_id, other_id = world.service["fixit"].link_id, world.service["other"].link_id
    first = rule(client, world, "Repairs", [fixit_id], ticket_type="repair")
    second = rule(client, world, "Everything else", [fixit_id, other_id], prefer="rating", max_open=3)
    listed = ok(call(client, world.a.admin, "GET", RULES))
    assert [(r["name"], r["position"]) for r in listed] == [("Repairs", 1), ("Everything else", 2)]
    assert {p["id"] for p in listed[1]["partners"]} == {fixit_id, other_id}
    order = {"rule_ids": [second["id"], first["id"]]}
    assert [r["name"] for r in ok(call(client, world.a.admin, "PUT", f"{RULES}/order", json=order))] == [
        "Everything else",
        "Repairs",
    ]
    half = call(client, world.a.admin, "PUT", f"{RULES}/order", json={"rule_ids": [first["id"]]})
    assert half.status_code == 422 and half.json()["errors"][0]["field"] == "rule_ids"
    changed = ok(
        call(
            client,
            world.a.admin,
            "PUT",
            f"{RULES}/{first['id']}",
            json={"name": "Repairs east", "partner_ids": [other_id], "ticket_type": "repair", "active": False},
        )
    )
    assert (changed["name"], changed["position"], changed["active"]) == ("Repairs east", 2, False)
    assert [p["id"] for p in changed["partners"]] == [other_id]
    # refused whole, each mistake under its field, nothing written
    bad = call(
        client,
        world.a.admin,
        "POST",
        RULES,
        json={"name": "", "partner_ids": [str(uuid.uuid4())], "ticket_type": "painting", "prefer": "luck"},
    )
    assert bad.status_code == 422, bad.text
    assert bad.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"name", "partner_ids[0]", "ticket_type", "prefer"}
    none = call(client, world.a.admin, "POST", RULES, json={"name": "Nobody", "partner_ids": []})
    assert none.status_code == 422 and none.json()["errors"][0]["field"] == "partner_ids"
    assert len(ok(call(client, world.a.admin, "GET", RULES))) == 2
    # another tenant's rules are not found; its own list is empty; a partner may not read them
    assert ok(call(client, world.b.admin, "GET", RULES)) == []
    assert call(client, world.b.admin, "GET", f"{RULES}/{first['id']}").status_code == 404
    assert call(client, world.b.admin, "DELETE", f"{RULES}/{first['id']}").status_code == 404
    assert call(client, fixit(world)[0], "GET", RULES).status_code == 403
    # read-only staff read them but may not change them
    assert call(client, world.a.others["staff"], "DELETE", f"{RULES}/{first['id']}").status_code == 403
    ok(call(client, world.a.admin, "DELETE", f"{RULES}/{first['id']}"), 204)
    assert [r["position"] for r in ok(call(client, world.a.admin, "GET", RULES))] == [1]


def test_the_first_matching_rule_chooses_the_least_loaded_partner_and_says_so(
    client: TestClient, app: Litestar, world: World
) -> None:
    clear_rules(client, world)
    fixit_id, other_id = world.service["fixit"].link_id, world.service["other"].link_id
    east, west = region(client, world, "East"), region(client, world, "West")
    line = ok(
        call(client, world.a.admin, "POST", "/api/ordering/categories", json={"code": unique("c"), "name": "Pumps"}),
        201,
    )
    sku = unique("PUMP")
    ok(
        call(
            client,
            world.a.admin,
            "POST",
            "/api/ordering/products",
            json={"sku": sku, "name": "Pump", "category_id": line["id"]},
        ),
        201,
    )
    pump = device(client, world, sku=sku, product_name=None, region_id=east)
    rule(client, world, "West only", [fixit_id], region_id=west)
    rule(client, world, "Installations", [fixit_id], ticket_type="installation")
    chosen_rule = rule(client, world, "Pumps in the east", [fixit_id, other_id], region_id=east, category_id=line["id"])
    rule(client, world, "Catch-all", [fixit_id])
    # FixIt has more open tickets than the other partner: the rule chooses the other one
    busy = open_ticket(client, world)
    ok(staff_act(client, world, busy["id"], "dispatch", enterprise_id=fixit_id))
    ticket = open_ticket(client, world, device_id=pump["id"])
    sent = ok(by_rules(client, world, ticket["id"]))
    assert (sent["status"], sent["enterprise_id"]) == ("dispatched", other_id)
    assert sent["timeline"][-1]["rule"] == "Pumps in the east" and sent["timeline"][-1]["action"] == "dispatch"
    theirs = ok(call(client, world.service["other"].admin, "GET", f"{PARTNER}/tickets/{ticket['id']}"))
    assert theirs["timeline"][0]["rule"] == "Pumps in the east"
    # a ticket without the product line falls through to the catch-all
    plain = open_ticket(client, world, region_id=east)
    assert ok(by_rules(client, world, plain["id"]))["timeline"][-1]["rule"] == "Catch-all"
    # a second dispatch of the same ticket is refused by the state machine
    again = by_rules(client, world, ticket["id"])
    assert again.status_code == 409 and again.json()["code"] == "transition_refused"
    assert chosen_rule["position"] == 3


def test_by_rating_and_under_a_cap(client: TestClient, app: Litestar, world: World) -> None:
    clear_rules(client, world)
    fixit_id, other_id = world.service["fixit"].link_id, world.service["other"].link_id
    rated = []
    for partner, stars in ((fixit_id, 5), (other_id, 2)):
        done = open_ticket(client, world)
        ok(staff_act(client, world, done["id"], "dispatch", enterprise_id=partner))
        write(app, update(Ticket).where(Ticket.id == uuid.UUID(done["id"])).values(status="closed", rating=stars))
        rated.append(done["id"])
    best = rule(client, world, "Best rated", [fixit_id, other_id], prefer="rating")
    first = open_ticket(client, world)
    assert ok(by_rules(client, world, first["id"]))["enterprise_id"] == fixit_id
    # at most one open ticket each: FixIt now has one, so the other partner is chosen despite its rating
    ok(
        call(
            client,
            world.a.admin,
            "PUT",
            f"{RULES}/{best['id']}",
            json={"name": "Best rated", "partner_ids": [fixit_id, other_id], "prefer": "rating", "max_open": 1},
        )
    )
    second = open_ticket(client, world)
    assert ok(by_rules(client, world, second["id"]))["enterprise_id"] == other_id
    # both at their cap: no rule matches, 409, and nothing is written
    third = open_ticket(client, world)
    refused = by_rules(client, world, third["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "no_dispatch_rule", refused.text
    seen = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{third['id']}"))
    assert seen["status"] == "new" and [e["action"] for e in seen["timeline"]] == ["open"]


def test_auto_dispatch_on_opening_or_the_staff_queue(client: TestClient, app: Litestar, world: World) -> None:
    clear_rules(client, world)
    fixit_id = world.service["fixit"].link_id
    settings = {"auto_dispatch": True, "auto_close_days": 5}
    assert ok(call(client, world.a.admin, "PUT", f"{STAFF}/dispatch/settings", json=settings)) == settings
    assert call(client, world.a.others["staff"], "PUT", f"{STAFF}/dispatch/settings", json=settings).status_code == 403
    bad = call(
        client, world.a.admin, "PUT", f"{STAFF}/dispatch/settings", json={"auto_dispatch": True, "auto_close_days": 0}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "auto_close_days"
    # tenant B's settings are its own
    assert ok(call(client, world.b.admin, "GET", f"{STAFF}/dispatch/settings"))["auto_dispatch"] is False
    rule(client, world, "Inspections", [fixit_id], ticket_type="inspection")
    sent = open_ticket(client, world, type="inspection")
    assert (sent["status"], sent["enterprise_id"]) == ("dispatched", fixit_id)
    step = sent["timeline"][-1]
    assert (step["action"], step["rule"], step["by_kind"]) == ("dispatch", "Inspections", "system")
    waiting = open_ticket(client, world, type="repair")
    assert waiting["status"] == "new" and waiting["unmatched_at"] is not None
    assert waiting["timeline"][-1]["action"] == "unmatched"
    queue = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets", params={"queue": "staff"}))
    assert waiting["id"] in {t["id"] for t in queue["items"]} and sent["id"] not in {t["id"] for t in queue["items"]}
    # dispatched by hand at last, it leaves the queue
    ok(staff_act(client, world, waiting["id"], "dispatch", enterprise_id=fixit_id))
    queue = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets", params={"queue": "staff"}))
    assert waiting["id"] not in {t["id"] for t in queue["items"]}
    # the partner is told, as with a dispatch by hand
    assert background_jobs_ended(client)


def _pooled(client: TestClient, app: Litestar, world: World) -> tuple[dict[str, Any], str]:
    east = region(client, world, "East")
    for key in ("fixit", "other"):
        in_region(app, world.service[key].link_id, east)
    ticket = open_ticket(client, world, region_id=east)
    pooled = ok(staff_act(client, world, ticket["id"], "pool"))
    assert pooled["pooled_at"] is not None and pooled["status"] == "new"
    return pooled, east


def test_the_pool_of_a_region_and_one_take(client: TestClient, app: Litestar, world: World) -> None:
    regionless = open_ticket(client, world)
    refused = staff_act(client, world, regionless["id"], "pool")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "region_id"
    ticket, _east = _pooled(client, app, world)
    assert staff_act(client, world, ticket["id"], "pool").json()["code"] == "already_pooled"
    dispatcher, engineer = fixit(world)
    other = world.service["other"].admin
    seen = ok(call(client, dispatcher, "GET", f"{PARTNER}/pool"))
    mine = next(t for t in seen["items"] if t["id"] == ticket["id"])
    assert "contact_phone" not in mine and "address" not in mine  # not theirs until taken
    # a partner of another region, another enterprise (a dealer) and another tenant see nothing of it
    in_region(app, world.service["other"].link_id, None)
    assert ticket["id"] not in {t["id"] for t in ok(call(client, other, "GET", f"{PARTNER}/pool"))["items"]}
    assert call(client, other, "POST", f"{PARTNER}/pool/{ticket['id']}/take").status_code == 404
    assert call(client, world.y.admin, "GET", f"{PARTNER}/pool").status_code in (403, 200)
    assert call(client, world.b.admin, "POST", f"{PARTNER}/pool/{ticket['id']}/take").status_code in (401, 403, 404)
    # an engineer whose role may not accept the enterprise's tickets may not take one
    assert call(client, engineer, "POST", f"{PARTNER}/pool/{ticket['id']}/take").status_code == 403
    taken = ok(call(client, dispatcher, "POST", f"{PARTNER}/pool/{ticket['id']}/take"))
    assert (taken["status"], taken["enterprise_id"], taken["pooled_at"]) == ("accepted", fixit_id(world), None)
    assert taken["contact_phone"]  # taken on: the customer's phone is theirs now
    assert taken["timeline"][-1]["action"] == "take"
    again = call(client, dispatcher, "POST", f"{PARTNER}/pool/{ticket['id']}/take")
    assert again.status_code == 409 and again.json()["code"] == "pool_ticket_taken", again.text
    assert ticket["id"] not in {t["id"] for t in ok(call(client, dispatcher, "GET", f"{PARTNER}/pool"))["items"]}
    assert ok(call(client, dispatcher, "GET", f"{PARTNER}/tickets/{ticket['id']}"))["status"] == "accepted"
    staff_view = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{ticket['id']}"))
    assert [e["action"] for e in staff_view["timeline"]] == ["open", "pool", "take"]


def fixit_id(world: World) -> str:
    return world.service["fixit"].link_id


@pytest.mark.postgres_only
def test_twenty_takes_at_once_make_one(client: TestClient, app: Litestar, world: World) -> None:
    ticket, _east = _pooled(client, app, world)
    takers = [fixit(world)[0], world.service["other"].admin] * 10

    def take(who: Any) -> Any:
        return call(client, who, "POST", f"{PARTNER}/pool/{ticket['id']}/take")

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(take, takers))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 19, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"pool_ticket_taken"}
    winner = next(r.json() for r in responses if r.status_code == 200)
    seen = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{ticket['id']}"))
    assert seen["enterprise_id"] == winner["enterprise_id"] and seen["status"] == "accepted"
    assert [e["action"] for e in seen["timeline"]].count("take") == 1


def _resolved(client: TestClient, world: World, **values: Any) -> dict[str, Any]:
    dispatcher, _engineer = fixit(world)
    ticket = open_ticket(client, world, **values)
    ok(staff_act(client, world, ticket["id"], "dispatch", enterprise_id=fixit_id(world)))
    for action in ("accept", "start", "arrive"):
        ok(partner_act(client, dispatcher, ticket["id"], action))
    return ok(partner_act(client, dispatcher, ticket["id"], "resolve", note="Seal replaced"))


def test_resolution_sends_the_customer_the_rating_link(client: TestClient, app: Litestar, world: World) -> None:
    resolved = _resolved(client, world, contact_email="lake@customer.example")
    assert background_jobs_ended(client)
    row = read_ticket(app, resolved["id"])
    assert row.progress_nonce is not None and row.progress_expires_at is not None

    async def notices(db: Database) -> list[Notification]:
        async with db.session(SYSTEM, write=False) as session:
            found = await session.scalars(select(Notification).where(Notification.kind == "service.rating_request"))
            return [n for n in found if n.params.get("number") == resolved["number"] and n.tenant_id == row.tenant_id]

    (sent,) = run_with_database(app.state.services.settings, notices)
    assert (sent.recipient_kind, sent.recipient_name) == ("customer", "Mr Lake")
    services: Services = app.state.services
    desk = PublicService(
        services.accounts.guard, services.settings.secret_key, services.notifications, services.settings.base_url
    )
    link = desk.progress_link(row)
    if services.settings.email_configured:
        assert sent.email == "lake@customer.example" and link in (sent.secret_link or "")
    # the link is the ticket's progress page, which asks for the rating now
    page = client.get(f"/service/t/{link}")
    assert page.status_code == 200 and 'name="rating"' in page.text
    # delivered twice, the event sends nothing more
    assert background_jobs_ended(client)
    assert len(run_with_database(app.state.services.settings, notices)) == 1


def run_auto_close(app: Litestar, days_later: int) -> int:
    services: Services = app.state.services

    async def work(db: Database) -> int:
        own = copy.copy(services)
        own.db = db
        return await auto_close(own, utcnow() + timedelta(days=days_later))

    return run_with_database(services.settings, work)


def test_unconfirmed_resolved_tickets_close_by_themselves(client: TestClient, app: Litestar, world: World) -> None:
    ok(
        call(
            client,
            world.a.admin,
            "PUT",
            f"{STAFF}/dispatch/settings",
            json={"auto_dispatch": False, "auto_close_days": 3},
        )
    )
    waiting = _resolved(client, world)
    confirmed = _resolved(client, world)
    ok(staff_act(client, world, confirmed["id"], "confirm"))
    run_auto_close(app, 2)
    assert ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{waiting['id']}"))["status"] == "resolved"
    assert run_auto_close(app, 4) >= 1
    closed = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{waiting['id']}"))
    assert closed["status"] == "closed"
    assert (closed["timeline"][-1]["action"], closed["timeline"][-1]["by_kind"]) == ("close", "system")
    assert ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{confirmed['id']}"))["status"] == "confirmed"
    # run again: nothing more to close of these
    run_auto_close(app, 4)
    closes = [
        e["action"] for e in ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{waiting['id']}"))["timeline"]
    ]
    assert closes.count("close") == 1
    # "never": a tenant that turned it off keeps its resolved tickets
    ok(
        call(
            client,
            world.a.admin,
            "PUT",
            f"{STAFF}/dispatch/settings",
            json={"auto_dispatch": False, "auto_close_days": None},
        )
    )
    kept = _resolved(client, world)
    run_auto_close(app, 400)
    assert ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{kept['id']}"))["status"] == "resolved"


def test_the_console_edits_rules_and_dispatches_by_them(client: TestClient, app: Litestar, world: World) -> None:
    clear_rules(client, world)
    act_as(client, world.a.admin.cookie)
    listing = client.get("/console/service/dispatch")
    assert listing.status_code == 200 and "No dispatch rules yet" in listing.text
    refused = submit(
        client, "/console/service/dispatch/rules", {"name": ""}, form_page="/console/service/dispatch/rules/new"
    )
    assert_readable_page(refused, 422, "Choose at least one service partner")
    form = {"name": "Console rule", "partner_ids": fixit_id(world), "prefer": "load", "active": "on"}
    made = submit(client, "/console/service/dispatch/rules", form, form_page="/console/service/dispatch/rules/new")
    assert made.status_code in REDIRECTS, made.text
    second = {**form, "name": "Second rule"}
    assert (
        submit(client, "/console/service/dispatch/rules", second, form_page="/console/service/dispatch").status_code
        in REDIRECTS
    )
    rules = ok(call(client, world.a.admin, "GET", RULES))
    assert [r["name"] for r in rules] == ["Console rule", "Second rule"]
    shown = client.get("/console/service/dispatch").text
    assert "Console rule" in shown and world.service["fixit"].name in shown and "The fewest open tickets" in shown
    moved = submit(
        client,
        f"/console/service/dispatch/rules/{rules[1]['id']}/move",
        {"direction": "up"},
        form_page="/console/service/dispatch",
    )
    assert moved.status_code in REDIRECTS
    assert [r["name"] for r in ok(call(client, world.a.admin, "GET", RULES))] == ["Second rule", "Console rule"]
    edit = client.get(f"/console/service/dispatch/rules/{rules[0]['id']}")
    assert edit.status_code == 200 and "Console rule" in edit.text
    saved = submit(
        client,
        f"/console/service/dispatch/rules/{rules[0]['id']}",
        {**form, "name": "Renamed", "max_open": "x"},
        form_page=f"/console/service/dispatch/rules/{rules[0]['id']}",
    )
    assert_readable_page(saved, 422, "must be a whole number")
    settings = submit(
        client, "/console/service/dispatch/settings", {"auto_close_days": "0"}, form_page="/console/service/dispatch"
    )
    assert_readable_page(settings, 422, "from 1 to 365")
    # the ticket's page dispatches by the rules and the timeline names the rule
    ticket = open_ticket(client, world)
    path = f"/console/service/tickets/{ticket['id']}"
    assert "Dispatch by the rules" in client.get(path).text
    sent = submit(client, f"{path}/dispatch-by-rules", {}, form_page=path)
    assert sent.status_code in REDIRECTS, sent.text
    shown = client.get(sent.headers["location"]).text
    assert "the rules chose" in shown and "Dispatch rule: Second rule" in shown
    deleted = submit(
        client, f"/console/service/dispatch/rules/{rules[0]['id']}/delete", {}, form_page="/console/service/dispatch"
    )
    assert deleted.status_code in REDIRECTS
    in_chinese(client, "/console/service/dispatch")
    chinese = client.get("/console/service/dispatch").text
    assert "派单规则" in chinese and "未完成工单最少" in chinese
    # tenant B's admin finds none of it
    act_as(client, world.b.admin.cookie)
    assert client.get(f"/console/service/dispatch/rules/{rules[1]['id']}").status_code == 404
    assert "Second rule" not in client.get("/console/service/dispatch").text


def test_the_partner_takes_from_the_pool_on_its_page(client: TestClient, app: Litestar, world: World) -> None:
    ticket, _east = _pooled(client, app, world)
    dispatcher = fixit(world)[0]
    base = f"/p/{world.a.slug}/service/pool"
    act_as(client, dispatcher.cookie)
    pool_page = client.get(base)
    assert pool_page.status_code == 200 and ticket["number"] in pool_page.text
    taken = submit(client, f"{base}/{ticket['id']}/take", {}, form_page=base)
    assert taken.status_code in REDIRECTS, taken.text
    assert "You took the ticket" in client.get(taken.headers["location"]).text
    late = submit(client, f"{base}/{ticket['id']}/take", {}, form_page=base)
    assert_readable_page(late, 409, "took it first")


def test_a_customers_request_is_dispatched_by_the_rules(
    client: TestClient, app: Litestar, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public, "MIN_FILL", timedelta(0))
    clear_rules(client, world)
    settings = {"auto_dispatch": True, "auto_close_days": 7}
    ok(call(client, world.a.admin, "PUT", f"{STAFF}/dispatch/settings", json=settings))
    rule(client, world, "Customer repairs", [fixit_id(world)], ticket_type="repair")
    opened = send(client, page_address(client, world))
    assert opened.status_code == 201, opened.text
    number = number_of(opened)
    found = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets", params={"search": number, "status": "all"}))
    (ticket,) = found["items"]
    assert (ticket["status"], ticket["enterprise_id"]) == ("dispatched", fixit_id(world))
    seen = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{ticket['id']}"))
    assert [(e["action"], e["by_kind"], e["rule"]) for e in seen["timeline"]] == [
        ("open", "customer", None),
        ("dispatch", "system", "Customer repairs"),
    ]
    progress = client.get(f"/service/t/{progress_link(opened)}")
    assert progress.status_code == 200 and "A service partner is being arranged" in progress.text
