"""Settlement: the fee schedule prices closed tickets; a settlement gathers a partner's closed, unsettled
tickets of a period; the partner disputes a line, staff adjust or reject, the manufacturer approves and the
total is credited to the partner's account; the XLSX export. A ticket is settled once, also with two runs at
once (PostgreSQL). Tenant B, the other enterprises and the other partner see none of it."""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import delete, update

from apps.service.settlement.models import SettlementLine, SettlementPart
from portal.db.context import SYSTEM
from portal.db.engine import Database
from tests.db import run_with_database
from tests.integration.service.support import PARTNER, STAFF, call, closed, device, dispatched, fixit, job_act, ok
from tests.integration.service.test_field import stocked
from tests.integration.service.test_pages import in_chinese, page
from tests.integration.service.test_sla import notices
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.notifications import Workers
from tests.world import World, add_user, unique

FEES = f"{STAFF}/fees"
SETTLEMENTS = f"{STAFF}/settlements"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def schedule(client: TestClient, world: World, *fees: dict[str, Any]) -> list[dict[str, Any]]:
    return ok(call(client, world.a.admin, "PUT", FEES, json={"fees": list(fees)}))


def run(client: TestClient, world: World, partner: str = "fixit", start: str | None = None) -> Any:
    body = {"enterprise_id": world.service[partner].link_id, "period_start": start or today(), "period_end": today()}
    return call(client, world.a.admin, "POST", SETTLEMENTS, json=body)


def test_the_fee_schedule_is_checked_whole_and_belongs_to_its_tenant(client: TestClient, world: World) -> None:
    saved = schedule(
        client,
        world,
        {"ticket_type": "repair", "labour": "120.50", "travel": "30"},
        {"ticket_type": "maintenance", "labour": "80"},
    )
    assert [(f["ticket_type"], Decimal(str(f["labour"]))) for f in saved] == [
        ("repair", Decimal("120.50")),
        ("maintenance", Decimal("80")),
    ]
    bad = call(
        client,
        world.a.admin,
        "PUT",
        FEES,
        json={
            "fees": [
                {"ticket_type": "repair", "labour": "1000000000000"},
                {"ticket_type": "teleport", "labour": "-1"},
                {"ticket_type": "repair", "labour": "0.001", "region_id": world.ids["team"]},
                {"ticket_type": "repair", "labour": "NaN"},
            ]
        },
    )
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert {"fees[0].labour", "fees[1].ticket_type", "fees[1].labour", "fees[2].region_id", "fees[2].labour"} <= fields
    assert "fees[3].labour" in fields
    # nothing written: the schedule is as it was; tenant B has none, and partners may not read it
    assert len(ok(call(client, world.a.admin, "GET", FEES))) == 2
    assert ok(call(client, world.b.admin, "GET", FEES)) == []
    assert call(client, fixit(world)[0], "GET", FEES).status_code == 403


def test_a_settlement_is_disputed_answered_approved_and_credited_to_the_partner(
    client: TestClient, world: World
) -> None:
    schedule(client, world, {"ticket_type": "repair", "labour": "100", "travel": "25"})
    first = closed(client, world)
    second = closed(client, world)
    created = ok(run(client, world), 201)
    numbers = [line["ticket_number"] for line in created["lines"]]
    assert first["number"] in numbers and second["number"] in numbers
    assert created["status"] == "review" and created["enterprise"].startswith("FixIt")
    line = next(line for line in created["lines"] if line["ticket_number"] == first["number"])
    # no device: not under warranty, so no parts
    assert (Decimal(str(line["amount"])), Decimal(str(line["parts"]))) == (Decimal(125), Decimal(0))
    total = Decimal(str(created["total"]))
    assert total == Decimal(125) * len(created["lines"])

    # a ticket is settled once: a second run finds nothing
    again = run(client, world)
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "nothing_to_settle"

    dispatcher, engineer = fixit(world)
    mine = f"{PARTNER}/settlements/{created['id']}"
    assert ok(call(client, dispatcher, "GET", mine))["number"] == created["number"]
    listed = ok(call(client, dispatcher, "GET", f"{PARTNER}/settlements"))
    assert created["id"] in {s["id"] for s in listed["items"]}
    # what must not be seen: the other partner, an enterprise of another type, tenant B, the engineer's role
    for other in (world.service["other"].admin, world.x.admin, world.b.admin):
        assert call(client, other, "GET", mine).status_code in (403, 404)
        assert created["id"] not in {
            s["id"] for s in call(client, other, "GET", f"{PARTNER}/settlements").json().get("items", [])
        }
    assert call(client, engineer, "GET", mine).status_code == 403
    assert call(client, world.b.admin, "GET", f"{SETTLEMENTS}/{created['id']}").status_code == 404

    # the partner disputes a line (a reason is required, once); control characters are refused
    dispute = f"{mine}/lines/{line['id']}/dispute"
    assert call(client, dispatcher, "POST", dispute, json={"reason": ""}).status_code == 422
    assert call(client, dispatcher, "POST", dispute, json={"reason": "bad\x00"}).status_code in (400, 422)
    disputed = ok(call(client, dispatcher, "POST", dispute, json={"reason": "We drove 80 km"}))
    assert disputed["open_disputes"] == 1
    assert call(client, dispatcher, "POST", dispute, json={"reason": "Again"}).json()["code"] == "line_disputed"

    # not approved while a dispute is open
    refused = call(client, world.a.admin, "POST", f"{SETTLEMENTS}/{created['id']}/approve")
    assert refused.status_code == 409 and refused.json()["code"] == "disputes_open"

    answer = f"{SETTLEMENTS}/{created['id']}/lines/{line['id']}/answer"
    huge = call(client, world.a.admin, "POST", answer, json={"decision": "adjust", "answer": "ok", "travel": "1e20"})
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "travel"
    # money is never written with an exponent, nor in other digits than 0-9 (Decimal reads "١٢" as 12)
    for written in ("1e3", " 1E3", "2.5e-1", ".5e1", "\u0661\u0662", "\uff11\uff12"):
        exponent = call(
            client, world.a.admin, "POST", answer, json={"decision": "adjust", "answer": "ok", "labour": written}
        )
        assert exponent.status_code == 422, (written, exponent.text)
        assert [e["field"] for e in exponent.json()["errors"]] == ["labour"], exponent.text
    adjusted = ok(
        call(client, world.a.admin, "POST", answer, json={"decision": "adjust", "answer": "Fair", "travel": "60"})
    )
    assert Decimal(str(adjusted["total"])) == total + 35 and adjusted["open_disputes"] == 0
    assert call(client, world.a.admin, "POST", answer, json={"decision": "reject", "answer": "x"}).status_code == 409

    account = f"/api/ordering/accounts/{world.service['fixit'].link_id}"
    before = ok(call(client, world.a.admin, "GET", account))
    approved = ok(call(client, world.a.admin, "POST", f"{SETTLEMENTS}/{created['id']}/approve"))
    assert approved["status"] == "approved"
    after = ok(call(client, world.a.admin, "GET", account))
    assert Decimal(str(before["balance"])) - Decimal(str(after["balance"])) == total + 35
    # final: no more disputes, no second approval
    other_line = next(x for x in created["lines"] if x["id"] != line["id"])
    late = call(client, dispatcher, "POST", f"{mine}/lines/{other_line['id']}/dispute", json={"reason": "Late"})
    assert late.status_code == 409 and late.json()["code"] == "settlement_approved"
    assert call(client, world.a.admin, "POST", f"{SETTLEMENTS}/{created['id']}/approve").status_code == 409

    sheet = call(client, dispatcher, "GET", f"{mine}/export.xlsx")
    assert sheet.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("settlement", "partner", "ticket") and rows[-1][10] == f"{total + 35:.2f}"


def test_a_run_is_checked_and_writes_nothing_when_refused(client: TestClient, world: World) -> None:
    schedule(client, world, {"ticket_type": "maintenance", "labour": "80"})
    closed(client, world)  # a repair: no fee for it, left for a later run
    nothing = run(client, world)
    assert nothing.status_code == 422
    later = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    body = {"enterprise_id": world.service["fixit"].link_id, "period_start": today(), "period_end": later}
    assert call(client, world.a.admin, "POST", SETTLEMENTS, json=body).json()["errors"][0]["field"] == "period_end"
    body = {"enterprise_id": world.b.admin.user_id, "period_start": today(), "period_end": today()}
    assert call(client, world.a.admin, "POST", SETTLEMENTS, json=body).json()["errors"][0]["field"] == "enterprise_id"
    assert call(client, fixit(world)[0], "POST", SETTLEMENTS, json=body).status_code == 403


@pytest.mark.postgres_only
def test_two_runs_at_once_settle_each_ticket_once(client: TestClient, world: World) -> None:
    schedule(client, world, {"ticket_type": "repair", "labour": "10"})
    tickets = {closed(client, world, "other")["number"] for _ in range(3)}

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _n: run(client, world, "other"), range(2)))
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 201 and codes[1] in (409, 422), [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert tickets <= {line["ticket_number"] for line in winner["lines"]}
    listed = ok(
        call(client, world.a.admin, "GET", SETTLEMENTS, params={"enterprise_id": world.service["other"].link_id})
    )
    settled = [
        line["ticket_number"]
        for s in listed["items"]
        for line in ok(call(client, world.a.admin, "GET", f"{SETTLEMENTS}/{s['id']}"))["lines"]
    ]
    assert all(settled.count(number) == 1 for number in tickets)


def test_the_console_and_the_partner_portal_settle_through_their_pages(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    fees_page = "/console/service/fees"
    form = {"count": "2", "fees-0-ticket_type": "repair", "fees-0-labour": "99.5", "fees-0-travel": "abc"}
    refused = submit(client, fees_page, form, form_page=fees_page)
    assert_readable_page(refused, 422, "must be an amount")
    form["fees-0-travel"] = "10"
    saved = submit(client, fees_page, form, form_page=fees_page)
    assert saved.status_code in REDIRECTS, saved.text
    assert "99.50" in page(client, saved.headers["location"])

    ticket = closed(client, world)
    listing = "/console/service/settlements"
    run_form = {"enterprise_id": world.service["fixit"].link_id, "period_start": today(), "period_end": "soon"}
    assert_readable_page(submit(client, listing, run_form, form_page=listing), 422, "must be a date")
    run_form["period_end"] = today()
    made = submit(client, listing, run_form, form_page=listing)
    assert made.status_code in REDIRECTS, made.text
    console = made.headers["location"].split("?")[0]
    shown = page(client, made.headers["location"])
    assert ticket["number"] in shown and "109.50" in shown and "The settlement is made" in shown

    dispatcher, _engineer = fixit(world)
    act_as(client, dispatcher.cookie)
    mine = f"/p/{world.a.slug}/service/settlements/{console.rsplit('/', 1)[1]}"
    assert console.rsplit("/", 1)[1] in page(client, f"/p/{world.a.slug}/service/settlements")
    line_id = ok(call(client, dispatcher, "GET", f"{PARTNER}/settlements/{console.rsplit('/', 1)[1]}"))["lines"][0][
        "id"
    ]
    assert_readable_page(
        submit(client, f"{mine}/lines/{line_id}/dispute", {"reason": ""}, form_page=mine), 422, "is required"
    )
    disputed = submit(client, f"{mine}/lines/{line_id}/dispute", {"reason": "Two visits"}, form_page=mine)
    assert disputed.status_code in REDIRECTS, disputed.text
    assert "Two visits" in page(client, disputed.headers["location"])
    act_as(client, world.service["other"].admin.cookie)
    assert client.get(mine, follow_redirects=False).status_code in (403, 404)

    act_as(client, world.a.admin.cookie)
    assert_readable_page(submit(client, f"{console}/approve", {}, form_page=console), 409, "wait for an answer")
    answered = submit(
        client,
        f"{console}/lines/{line_id}/answer",
        {"decision": "adjust", "answer": "Agreed", "travel": "20"},
        form_page=console,
    )
    assert answered.status_code in REDIRECTS, answered.text
    approved = submit(client, f"{console}/approve", {}, form_page=console)
    assert approved.status_code in REDIRECTS, approved.text
    assert "credited" in page(client, approved.headers["location"])
    assert client.get(f"{console}/export.xlsx").content.startswith(b"PK")
    in_chinese(client, listing)
    assert "结算" in page(client, console)


def test_a_new_settlement_reaches_the_partners_dispatcher_once(client: TestClient, app: Litestar, world: World) -> None:
    schedule(client, world, {"ticket_type": "repair", "labour": "70"})
    closed(client, world)
    made = ok(run(client, world), 201)
    workers = Workers(app)
    assert workers.run(only="service.settlement_notices") == []
    assert Workers(app).run(only="service.settlement_notices") == []  # every event delivered again
    dispatcher, engineer = fixit(world)

    def notices(person: Any) -> list[str]:
        items = ok(client.get("/api/partner/notifications", headers=person.bearer))["items"]
        return [i["title"] for i in items if i["kind"] == "service.settlement_ready" and made["number"] in i["title"]]

    assert notices(dispatcher) == [f"Settlement {made['number']} to review"]
    assert notices(engineer) == [] and notices(world.service["other"].admin) == [] and notices(world.x.admin) == []


def priced_part(client: TestClient, world: World, name: str, price: str | None) -> str:
    """A catalog product of tenant A, on a base price list of its own at `price` (None: no price)."""
    admin = world.a.admin
    product = ok(call(client, admin, "POST", "/api/ordering/products", json={"sku": unique("SK"), "name": name}), 201)
    if price is not None:
        listed = ok(call(client, admin, "POST", "/api/ordering/price-lists", json={"name": name, "kind": "base"}), 201)
        items = [{"product_id": product["id"], "unit_price": price}]
        ok(call(client, admin, "PUT", f"/api/ordering/price-lists/{listed['id']}/items", json=items))
    return str(product["id"])


def worked(client: TestClient, world: World, parts: list[tuple[str, int]], **values: Any) -> dict[str, Any]:
    """A ticket FixIt's engineer works on site, fitting `parts`, resolved and closed by staff."""
    _dispatcher, engineer = fixit(world)
    ticket = dispatched(client, world, **values)
    for action in ("accept", "start"):
        ok(job_act(client, engineer, ticket["id"], action))
    ok(call(client, engineer, "POST", f"{PARTNER}/jobs/{ticket['id']}/check-in", json={}), 201)
    for product, quantity in parts:
        body = {"product_id": product, "quantity": quantity}
        ok(call(client, engineer, "POST", f"{PARTNER}/jobs/{ticket['id']}/parts", json=body), 201)
    ok(job_act(client, engineer, ticket["id"], "resolve", note="Fixed"))
    return ok(call(client, world.a.admin, "POST", f"{STAFF}/tickets/{ticket['id']}/close", json={}))


def test_a_settlement_bills_the_parts_each_ticket_used_at_the_catalog_price(client: TestClient, world: World) -> None:
    schedule(client, world, {"ticket_type": "inspection", "labour": "100", "travel": "20"})
    seal = stocked(client, world, 5, priced_part(client, world, "Seal kit", "15.50"))
    gasket = stocked(client, world, 2, priced_part(client, world, "Gasket", None))
    covered = device(client, world)  # under warranty until 2099
    warranty = worked(client, world, [(seal, 1), (seal, 1), (gasket, 1)], type="inspection", device_id=covered["id"])
    outside = worked(client, world, [(seal, 1)], type="inspection")  # no device: the customer pays the parts
    created = ok(run(client, world), 201)
    lines = {line["ticket_number"]: line for line in created["lines"]}
    billed = lines[warranty["number"]]
    used = [
        (p["name"], p["quantity"], None if p["unit_price"] is None else Decimal(str(p["unit_price"])), p["amount"])
        for p in billed["parts_used"]
    ]
    assert [(n, q, u, Decimal(str(a))) for n, q, u, a in used] == [
        ("Gasket", 1, None, Decimal(0)),
        ("Seal kit", 2, Decimal("15.50"), Decimal("31.00")),
    ]
    assert (Decimal(str(billed["parts"])), Decimal(str(billed["amount"]))) == (Decimal("31.00"), Decimal("151.00"))
    plain = lines[outside["number"]]
    assert plain["parts_used"] == [] and Decimal(str(plain["parts"])) == 0 and Decimal(str(plain["amount"])) == 120

    # the partner reads the same lines, with each part's price, on the API, the page and the export
    dispatcher, _engineer = fixit(world)
    mine = f"{PARTNER}/settlements/{created['id']}"
    assert ok(call(client, dispatcher, "GET", mine))["lines"] == created["lines"]
    sheet = call(client, dispatcher, "GET", f"{mine}/export.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[0][8:11] == ("parts", "parts_used", "amount")
    row = next(r for r in rows if r[2] == warranty["number"])
    assert "Seal kit" in row[9] and "2 x 15.50 = 31.00" in row[9]
    act_as(client, dispatcher.cookie)
    shown = page(client, f"/p/{world.a.slug}/service/settlements/{created['id']}")
    assert "Seal kit" in shown and "no catalog price" in shown

    # a line run before parts were billed from use (its parts a flat amount) still reads as it was
    forget_parts(client, billed["id"], Decimal(40))
    old = next(line for line in ok(call(client, dispatcher, "GET", mine))["lines"] if line["id"] == billed["id"])
    assert old["parts_used"] == [] and Decimal(str(old["parts"])) == 40
    act_as(client, world.a.admin.cookie)
    assert "flat amount" in page(client, f"/console/service/settlements/{created['id']}")


def forget_parts(client: TestClient, line_id: str, flat: Decimal) -> None:
    """Make a line as the settlements run before parts were billed from use left it."""
    key = uuid.UUID(line_id)

    async def work(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            await session.execute(delete(SettlementPart).where(SettlementPart.line_id == key))
            await session.execute(update(SettlementLine).where(SettlementLine.id == key).values(parts=flat))

    run_with_database(client.app.state.services.settings, work)


def test_a_dispute_notifies_the_service_managers_and_its_answer_the_partner(
    client: TestClient, app: Litestar, world: World
) -> None:
    manager = add_user(client, world.a.admin, f"settle-{uuid.uuid4().hex[:6]}@a.example", role="service_manager")
    schedule(client, world, {"ticket_type": "repair", "labour": "50"})
    closed(client, world, "other")
    created = ok(run(client, world, "other"), 201)
    line = created["lines"][0]
    partner = world.service["other"].admin
    base = f"{PARTNER}/settlements/{created['id']}/lines/{line['id']}"
    ok(call(client, partner, "POST", f"{base}/dispute", json={"reason": "Two visits were needed"}))
    workers = Workers(app)
    assert workers.run(only="service.settlement_notices") == []
    disputed = notices(app, "service.settlement_disputed", created["number"])
    assert str(manager) in {str(n.recipient_id) for n in disputed}
    assert all(n.recipient_kind == "internal" for n in disputed)
    assert all(n.params["reason"] == "Two visits were needed" and n.params["ticket"] for n in disputed)
    # the partner's people hear nothing of their own dispute, FixIt nothing of another partner's
    assert "service.settlement_disputed" not in kinds(client, partner)
    assert "service.settlement_answered" not in kinds(client, fixit(world)[0])

    answer = f"{SETTLEMENTS}/{created['id']}/lines/{line['id']}/answer"
    ok(
        call(
            client,
            world.a.admin,
            "POST",
            answer,
            json={"decision": "adjust", "answer": "Second visit paid", "travel": "30"},
        )
    )
    assert workers.run(only="service.settlement_notices") == []
    assert Workers(app).run(only="service.settlement_notices") == []  # every event delivered again
    assert kinds(client, partner).count("service.settlement_answered") == 1
    answered = notices(app, "service.settlement_answered", created["number"])
    assert {n.params["decision"] for n in answered} == {"adjusted"}
    assert len(notices(app, "service.settlement_disputed", created["number"])) == len(disputed)
    assert "service.settlement_answered" not in kinds(client, fixit(world)[0])
    assert "service.settlement_answered" not in kinds(client, world.x.admin)


def kinds(client: TestClient, person: Any) -> list[str]:
    items = ok(client.get("/api/partner/notifications", headers=person.bearer))["items"]
    return [i["kind"] for i in items]
