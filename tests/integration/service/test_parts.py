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
from tests.world import World

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
