"""Spare parts through the API: FixIt requests parts, staff approve and ship them (FixIt's stock grows),
an engineer's use takes them out again and never below zero (also twenty uses of the last units at once
on PostgreSQL). The other service partner, tenant B and a partner without the permission see none of it."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.integration.service.support import PARTNER, STAFF, call, fixit, ok
from tests.integration.service.test_field import field, on_site, stocked
from tests.integration.service.test_pages import page
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import World, unique

REQUESTS = f"{PARTNER}/parts/requests"


def held(client: TestClient, world: World, product: str) -> int:
    rows = ok(call(client, fixit(world)[0], "GET", f"{PARTNER}/parts/stock"))
    return sum(r["quantity"] for r in rows if r["product_id"] == product)


def test_a_request_is_approved_and_shipped_into_the_partners_stock(client: TestClient, world: World) -> None:
    dispatcher, engineer = fixit(world)
    product = world.ids["ordering_product"]
    before = held(client, world, product)
    made = ok(
        call(
            client,
            dispatcher,
            "POST",
            REQUESTS,
            json={"lines": [{"product_id": product, "quantity": 4}], "note": "Seals"},
        ),
        201,
    )
    assert (
        made["status"] == "requested"
        and made["lines"][0]["quantity"] == 4
        and made["enterprise"] == world.service["fixit"].name
    )
    early = call(client, world.a.admin, "POST", f"{STAFF}/parts/requests/{made['id']}/ship", json={})
    assert early.status_code == 409 and early.json()["code"] == "part_request_refused"
    assert held(client, world, product) == before
    # a decision without a note needs no body
    approved = ok(call(client, world.a.admin, "POST", f"{STAFF}/parts/requests/{made['id']}/approve"))
    assert approved["status"] == "approved"
    shipped = ok(call(client, world.a.admin, "POST", f"{STAFF}/parts/requests/{made['id']}/ship"))
    assert shipped["status"] == "shipped" and shipped["shipped_at"]
    assert held(client, world, product) == before + 4
    again = call(client, world.a.admin, "POST", f"{STAFF}/parts/requests/{made['id']}/ship", json={})
    assert again.status_code == 409 and held(client, world, product) == before + 4
    staff_stock = ok(
        call(client, world.a.admin, "GET", f"{STAFF}/parts/stock?enterprise_id={world.service['fixit'].link_id}")
    )
    assert [r["quantity"] for r in staff_stock if r["product_id"] == product] == [before + 4]
    # the engineer reads the stock but does not request parts
    assert call(client, engineer, "GET", f"{PARTNER}/parts/stock").status_code == 200
    assert (
        call(client, engineer, "POST", REQUESTS, json={"lines": [{"product_id": product, "quantity": 1}]}).status_code
        == 403
    )
    # what the others see: nothing of FixIt's
    other = world.service["other"].admin
    assert ok(call(client, other, "GET", f"{PARTNER}/parts/stock")) == []
    assert call(client, other, "GET", f"{REQUESTS}/{made['id']}").status_code == 404
    assert made["id"] not in {r["id"] for r in ok(call(client, other, "GET", REQUESTS))["items"]}
    assert call(client, world.b.admin, "GET", f"{STAFF}/parts/requests/{made['id']}").status_code == 404
    assert ok(call(client, world.b.admin, "GET", f"{STAFF}/parts/stock")) == []
    assert call(client, other, "POST", f"{STAFF}/parts/requests/{made['id']}/approve", json={}).status_code in (
        401,
        403,
    )


def test_a_rejection_needs_a_reason_and_adds_nothing(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    product = world.ids["ordering_product"]
    before = held(client, world, product)
    made = ok(call(client, dispatcher, "POST", REQUESTS, json={"lines": [{"product_id": product, "quantity": 2}]}), 201)
    refused = call(client, world.a.admin, "POST", f"{STAFF}/parts/requests/{made['id']}/reject", json={})
    assert refused.status_code == 422 and "note" in refused.text
    rejected = ok(
        call(
            client,
            world.a.admin,
            "POST",
            f"{STAFF}/parts/requests/{made['id']}/reject",
            json={"note": "Use the old ones"},
        )
    )
    assert rejected["status"] == "rejected" and rejected["reject_reason"] == "Use the old ones"
    assert call(client, world.a.admin, "POST", f"{STAFF}/parts/requests/{made['id']}/ship", json={}).status_code == 409
    assert held(client, world, product) == before


def test_a_bad_request_is_refused_whole_naming_each_line(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    product = world.ids["ordering_product"]
    b_product = ok(
        call(
            client,
            world.b.admin,
            "POST",
            "/api/ordering/products",
            json={"sku": f"B-{uuid.uuid4().hex[:6]}", "name": "B"},
        ),
        201,
    )["id"]
    before = ok(call(client, dispatcher, "GET", REQUESTS))["total"]
    body: dict[str, Any] = {
        "lines": [
            {"product_id": product, "quantity": 0},
            {"product_id": b_product, "quantity": 1},
            {"product_id": product, "quantity": 20_000},
        ]
    }
    refused = call(client, dispatcher, "POST", REQUESTS, json=body)
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert {"lines[0].quantity", "lines[1].product_id", "lines[2].product_id", "lines[2].quantity"} <= fields
    assert call(client, dispatcher, "POST", REQUESTS, json={"lines": []}).status_code == 422
    assert call(
        client, dispatcher, "POST", REQUESTS, json={"lines": [{"product_id": product, "quantity": 10**12}]}
    ).status_code in (400, 422)
    assert call(
        client,
        dispatcher,
        "POST",
        REQUESTS,
        json={"lines": [{"product_id": product, "quantity": 1}], "note": "\x1b[31m"},
    ).status_code in (400, 422)
    assert ok(call(client, dispatcher, "GET", REQUESTS))["total"] == before


@pytest.mark.postgres_only
def test_twenty_uses_of_the_last_units_at_once_never_go_below_zero(client: TestClient, world: World) -> None:
    _dispatcher, engineer = fixit(world)
    product = world.ids["ordering_product"]
    ticket = on_site(client, world)
    left = held(client, world, product)
    if left:  # start from exactly five: use up what earlier tests left
        ok(field(client, engineer, ticket["id"], "parts", json={"product_id": product, "quantity": left}), 201)
    stocked(client, world, 5)

    def use(_index: int) -> Any:
        return field(client, engineer, ticket["id"], "parts", json={"product_id": product, "quantity": 1})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(use, range(20)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 5 + [409] * 15, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"part_not_in_stock"}
    assert held(client, world, product) == 0
    record = ok(call(client, engineer, "GET", f"{PARTNER}/jobs/{ticket['id']}/field"))
    used = [e for e in record["entries"] if e["kind"] == "part"]
    assert sum(e["quantity"] for e in used) == 5 + left


@pytest.mark.postgres_only
def test_shipments_of_a_part_the_partner_never_held_add_up_when_made_at_once(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    product = ok(
        call(
            client,
            world.a.admin,
            "POST",
            "/api/ordering/products",
            json={"sku": f"NEW-{uuid.uuid4().hex[:6]}", "name": "Valve"},
        ),
        201,
    )["id"]
    made = [
        ok(call(client, dispatcher, "POST", REQUESTS, json={"lines": [{"product_id": product, "quantity": n}]}), 201)[
            "id"
        ]
        for n in (1, 2, 3, 4, 5)
    ]
    for request_id in made:
        ok(call(client, world.a.admin, "POST", f"{STAFF}/parts/requests/{request_id}/approve", json={}))

    def ship(request_id: str) -> Any:
        return call(client, world.a.admin, "POST", f"{STAFF}/parts/requests/{request_id}/ship", json={})

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(ship, made))
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert held(client, world, product) == 15


ADJUSTMENTS = f"{STAFF}/parts/stock/adjustments"


def test_staff_correct_a_partners_stock_with_a_reason_never_below_zero(client: TestClient, world: World) -> None:
    admin = world.a.admin
    product = ok(
        call(client, admin, "POST", "/api/ordering/products", json={"sku": unique("SK"), "name": "Valve"}), 201
    )
    fixit_id = world.service["fixit"].link_id
    body = {"enterprise_id": fixit_id, "product_id": product["id"], "change": 4, "reason": "Counted on the visit"}
    key = {"Idempotency-Key": unique("adjust")}
    added = ok(client.post(ADJUSTMENTS, headers={**admin.bearer, **key}, json=body), 201)
    assert (added["change"], added["quantity_after"], added["reason"]) == (4, 4, "Counted on the visit")
    again = client.post(ADJUSTMENTS, headers={**admin.bearer, **key}, json=body)
    assert ok(again, 201)["id"] == added["id"] and held(client, world, product["id"]) == 4  # not added twice
    taken = ok(call(client, admin, "POST", ADJUSTMENTS, json={**body, "change": -3, "reason": "Two were broken"}), 201)
    assert taken["quantity_after"] == 1 and held(client, world, product["id"]) == 1

    below = call(client, admin, "POST", ADJUSTMENTS, json={**body, "change": -2, "reason": "Lost"})
    assert below.status_code == 409 and below.json()["code"] == "stock_below_zero"
    assert "Valve" in below.json()["detail"] and "holds 1" in below.json()["detail"]
    never = {**body, "product_id": world.ids["ordering_product"], "enterprise_id": world.service["other"].link_id}
    assert call(client, admin, "POST", ADJUSTMENTS, json={**never, "change": -1}).status_code == 409
    bad = call(
        client,
        admin,
        "POST",
        ADJUSTMENTS,
        json={**body, "change": 0, "reason": " ", "enterprise_id": str(uuid.uuid4())},
    )
    assert {e["field"] for e in bad.json()["errors"]} == {"change", "reason", "enterprise_id"}
    assert call(client, admin, "POST", ADJUSTMENTS, json={**body, "change": 10**6}).status_code == 422
    for change in ("5", 5.0, True):  # an integer only, as everywhere in the API
        typed_wrong = call(client, admin, "POST", ADJUSTMENTS, json={**body, "change": change})
        assert typed_wrong.status_code == 422 and "change" in typed_wrong.text, (change, typed_wrong.text)
    dealer = call(client, admin, "POST", ADJUSTMENTS, json={**body, "enterprise_id": world.x.link_id})
    assert dealer.status_code == 422, dealer.text
    assert [(e["field"], e["code"]) for e in dealer.json()["errors"]] == [("enterprise_id", "not_a_service_partner")]
    assert held(client, world, product["id"]) == 1  # nothing written by any refusal

    # listed with who did it and why, and audited
    listed = ok(call(client, admin, "GET", ADJUSTMENTS, params={"enterprise_id": fixit_id}))
    assert [a["id"] for a in listed[:2]] == [taken["id"], added["id"]] and listed[0]["by"]
    audit = ok(client.get("/api/audit", headers=admin.bearer, params={"object_id": added["id"]}))
    assert audit and audit[-1]["action"] == "create" and audit[-1]["after"]["reason"] == "Counted on the visit"

    # only staff whose role grants it; tenant B knows neither the partner nor the part
    dispatcher, _engineer = fixit(world)
    for who in (dispatcher, world.a.others["staff"]):
        assert call(client, who, "POST", ADJUSTMENTS, json=body).status_code == 403
    assert call(client, world.b.admin, "POST", ADJUSTMENTS, json=body).status_code == 422
    assert ok(call(client, world.b.admin, "GET", ADJUSTMENTS)) == []
    assert call(client, dispatcher, "GET", ADJUSTMENTS).status_code == 403


def test_the_console_corrects_a_partners_stock(client: TestClient, world: World) -> None:
    product = stocked(client, world, 2)
    before = held(client, world, product)
    act_as(client, world.a.admin.cookie)
    parts = "/console/service/parts"
    assert "Correct a partner" in page(client, parts)
    form = {"enterprise_id": world.service["fixit"].link_id, "product_id": product, "change": "-9999", "reason": "x"}
    refused = submit(client, f"{parts}/adjustments", form, form_page=parts)
    assert_readable_page(refused, 409, "cannot go down")
    missing = submit(client, f"{parts}/adjustments", {**form, "reason": "", "product_id": ""}, form_page=parts)
    assert_readable_page(missing, 422, "Choose the part")
    done = submit(
        client, f"{parts}/adjustments", {**form, "change": "-1", "reason": "Found one damaged"}, form_page=parts
    )
    assert done.status_code in REDIRECTS, done.text
    shown = page(client, done.headers["location"])
    assert "The stock is corrected." in shown and "Found one damaged" in shown
    assert held(client, world, product) == before - 1


@pytest.mark.postgres_only
def test_ten_corrections_taking_off_at_once_never_go_below_zero(client: TestClient, world: World) -> None:
    admin = world.a.admin
    product = ok(call(client, admin, "POST", "/api/ordering/products", json={"sku": unique("SK"), "name": "Bolt"}), 201)
    body = {"enterprise_id": world.service["fixit"].link_id, "product_id": product["id"], "reason": "Count"}
    ok(call(client, admin, "POST", ADJUSTMENTS, json={**body, "change": 4}), 201)

    def take(_index: int) -> Any:
        return call(client, admin, "POST", ADJUSTMENTS, json={**body, "change": -1})

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(take, range(10)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 4 + [409] * 6, [r.text for r in responses]
    assert held(client, world, product["id"]) == 0
    left = sorted(r.json()["quantity_after"] for r in responses if r.status_code == 201)
    assert left == [0, 1, 2, 3]
