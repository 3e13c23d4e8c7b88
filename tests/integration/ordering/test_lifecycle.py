"""Every transition allowed and refused, approval steps by amount and role, stock reservations, the
credit limit, minimum quantities and pack sizes, idempotent submits; each refusal leaves nothing behind."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from litestar.testing import TestClient

from tests.integration.ordering.support import (
    act,
    available,
    build_shop,
    ok,
    orders_count,
    place,
    staff,
    stock,
)
from tests.world import World, add_user, credential


def partner(client: TestClient, world: World, order_id: str, action: str, **body: object) -> object:
    return client.post(f"/api/partner/ordering/orders/{order_id}/{action}", headers=world.x.admin.bearer, json=body)


def test_transitions_allowed_and_refused(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    order = ok(place(client, world.x.admin, [(shop.pump, 3)]), 201)
    oid = order["id"]
    assert order["actions"] == ["cancel"]  # a partner may cancel a submitted order, nothing else

    assert partner(client, world, oid, "receive").status_code == 409  # not shipped yet
    assert act(client, admin, oid, "shipments").status_code == 409  # not approved yet
    assert act(client, admin, oid, "complete").status_code == 409
    assert act(client, admin, oid, "reject").status_code == 422  # a rejection says why

    ok(act(client, admin, oid, "approve"))
    assert act(client, admin, oid, "approve").status_code == 409
    refused = partner(client, world, oid, "cancel", comment="too late")
    assert refused.status_code == 409 and refused.json()["code"] == "transition_refused"

    line = ok(staff(client, admin, "GET", f"/orders/{oid}"))["lines"][0]["id"]
    over = act(client, admin, oid, "shipments", lines={line: 4}, carrier="SF", tracking_number="SF1")
    assert over.status_code == 422 and over.json()["errors"][0]["code"] == "over_shipped"
    part = ok(act(client, admin, oid, "shipments", lines={line: 1}, carrier="SF", tracking_number="SF1"), 201)
    assert part["status"] == "partially_shipped" and part["lines"][0]["shipped_quantity"] == 1
    assert available(client, admin, shop, shop.pump) == (99, 2)  # one left, two still reserved
    rest = ok(act(client, admin, oid, "shipments", own_delivery=True), 201)
    assert rest["status"] == "shipped" and len(rest["shipments"]) == 2
    assert available(client, admin, shop, shop.pump) == (97, 0)
    assert act(client, admin, oid, "cancel", comment="no").status_code == 409

    received = ok(partner(client, world, oid, "receive"))
    assert received["status"] == "received" and received["actions"] == []
    completed = ok(act(client, admin, oid, "complete"))
    assert completed["status"] == "completed"
    assert [t["to_status"] for t in completed["timeline"]] == [
        "submitted",
        "approved",
        "partially_shipped",
        "shipped",
        "received",
        "completed",
    ]

    # rejected and cancelled orders release what they reserved, and a cancelled approved order is reversed
    second = ok(place(client, world.x.admin, [(shop.valve, 10)]), 201)
    ok(act(client, admin, second["id"], "approve"))
    assert available(client, admin, shop, shop.valve) == (100, 10)
    ok(act(client, admin, second["id"], "cancel", comment="dealer called"))
    assert available(client, admin, shop, shop.valve) == (100, 0)
    kinds = [
        line["kind"] for line in ok(staff(client, admin, "GET", f"/accounts/{world.x.link_id}/statement"))["lines"]
    ]
    assert kinds[-2:] == ["order", "reversal"]
    third = ok(place(client, world.x.admin, [(shop.valve, 10)]), 201)
    rejected = ok(act(client, admin, third["id"], "reject", comment="discontinued colour"))
    assert rejected["status"] == "rejected" and rejected["timeline"][-1]["comment"] == "discontinued colour"


def test_minimum_quantity_pack_size_and_availability(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    before = orders_count(client, world.a.admin)
    refused = place(client, world.x.admin, [(shop.valve, 7), (shop.hidden, 1)])
    assert refused.status_code == 422
    codes = sorted(e["code"] for e in refused.json()["errors"])
    assert codes == ["below_minimum", "pack_size", "unavailable"]
    assert place(client, world.x.admin, []).status_code == 422
    assert orders_count(client, world.a.admin) == before
    # a product visible only to distributors is not for dealer X
    distributors = ok(client.get("/api/interconnect/partner-types", headers=world.a.admin.bearer))
    distributor = next(t["id"] for t in distributors if t["code"] == "distributor")
    audience = {"visible_to_all": False, "audiences": [{"partner_type_id": distributor}]}
    ok(staff(client, world.a.admin, "PUT", f"/products/{shop.pump}/visibility", json=audience))
    page = ok(client.get("/api/partner/ordering/catalog", headers=world.x.admin.bearer))
    assert shop.pump not in {p["id"] for p in page["items"]}
    assert client.get(f"/api/partner/ordering/catalog/{shop.pump}", headers=world.x.admin.bearer).status_code == 404
    assert place(client, world.x.admin, [(shop.pump, 1)]).json()["errors"][0]["code"] == "unavailable"


def test_approval_steps_by_amount_and_role(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    rule = {"name": "Big orders", "step": 2, "role_key": "admin", "min_amount": "1000"}
    ok(staff(client, admin, "POST", "/settings/approval-rules", json=rule), 201)
    email = f"desk@{world.a.slug}.example"
    desk = credential(client, world.a.slug, add_user(client, admin, email, role="order_desk"), email)

    small = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)
    assert [a["role"] for a in small["approvals"]] == ["order_desk"]
    assert ok(act(client, desk, small["id"], "approve"))["status"] == "approved"

    big = ok(place(client, world.x.admin, [(shop.pump, 20)]), 201)
    assert [a["role"] for a in big["approvals"]] == ["order_desk", "admin"]
    first = ok(act(client, desk, big["id"], "approve", comment="checked"))
    assert first["status"] == "submitted" and first["approvals"][0]["status"] == "approved"
    refused = act(client, desk, big["id"], "approve")
    assert refused.status_code == 403  # step 2 is the administrator's
    assert ok(act(client, admin, big["id"], "approve"))["status"] == "approved"


def test_credit_limit_refuses_or_routes_to_approval(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    # the world's sample: X paid 10.00 in advance and has an order of 120.00 waiting: 110.00 used
    ok(staff(client, admin, "PUT", f"/accounts/{world.x.link_id}/credit-limit", json={"amount": "610.00"}))
    first = ok(place(client, world.x.admin, [(shop.pump, 5)]), 201)  # 400 more: 510 of 610
    before = orders_count(client, admin)
    refused = place(client, world.x.admin, [(shop.pump, 2)])  # 160 more would be 670
    assert refused.status_code == 409 and refused.json()["code"] == "credit_limit_exceeded"
    assert orders_count(client, admin) == before
    account = ok(client.get("/api/partner/ordering/account", headers=world.x.admin.bearer))
    assert (account["credit_limit"], account["balance"], account["awaiting_approval"], account["credit_left"]) == (
        "610.0000",
        "-10.0000",
        "520.0000",
        "100.0000",
    )
    ok(act(client, admin, first["id"], "approve"))  # now a receivable of 400
    ok(staff(client, admin, "PATCH", "/settings", json={"over_credit": "approval"}))
    routed = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)
    assert routed["over_credit"] is True
    assert [(a["role"], a["reason"]) for a in routed["approvals"]] == [("order_desk", "rule"), ("admin", "credit")]
    ok(staff(client, admin, "PUT", f"/accounts/{world.x.link_id}/credit-limit", json={"amount": None}))
    assert ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)["over_credit"] is False


def test_reserving_on_approval_never_oversells(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    stock(client, admin, shop.warehouse_id, shop.pump, 3)
    one = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)
    two = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)  # submitted: nothing reserved yet
    ok(act(client, admin, one["id"], "approve"))
    refused = act(client, admin, two["id"], "approve")
    assert refused.status_code == 409 and refused.json()["code"] == "out_of_stock"
    assert ok(staff(client, admin, "GET", f"/orders/{two['id']}"))["status"] == "submitted"
    assert available(client, admin, shop, shop.pump) == (3, 2)
    below = staff(client, admin, "PUT", f"/warehouses/{shop.warehouse_id}/stock/{shop.pump}", json={"on_hand": 1})
    assert below.status_code == 422 and below.json()["errors"][0]["code"] == "below_reserved"


def test_a_retried_submit_returns_the_same_order(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    first = place(client, world.x.admin, [(shop.pump, 1)], key="checkout-1")
    again = place(client, world.x.admin, [(shop.pump, 1)], key="checkout-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
    other = place(client, world.x.admin, [(shop.pump, 2)], key="checkout-1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    page = ok(client.get("/api/partner/ordering/orders", headers=world.x.admin.bearer))
    assert page["total"] == 2  # the world's sample order and this one


def test_the_cart_becomes_the_order(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    dealer = world.x.admin.bearer
    ok(client.put(f"/api/partner/ordering/cart/{shop.pump}", headers=dealer, json={"quantity": 10}))
    cart = ok(client.put(f"/api/partner/ordering/cart/{shop.valve}", headers=dealer, json={"quantity": 10}))
    assert cart["total"] == "1055.0000"  # 10 x 80 (X's price) + 10 x 25.50
    assert (
        client.put(f"/api/partner/ordering/cart/{shop.hidden}", headers=dealer, json={"quantity": 1}).status_code == 404
    )
    order = ok(client.post("/api/partner/ordering/orders", headers=dealer, json={"ship_to": "Dock 4"}), 201)
    assert order["total"] == "1055.0000" and order["ship_to"] == "Dock 4"
    assert ok(client.get("/api/partner/ordering/cart", headers=dealer))["items"] == []


def test_the_cart_refuses_a_quantity_that_breaks_the_pack_or_minimum(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)  # the valve: packs of 5, at least 10
    dealer = world.x.admin.bearer
    line = f"/api/partner/ordering/cart/{shop.valve}"
    refused = client.put(line, headers=dealer, json={"quantity": 3})
    assert refused.status_code == 422, refused.text
    errors = {(e["field"], e["code"]) for e in refused.json()["errors"]}
    assert errors == {("quantity", "pack_size"), ("quantity", "below_minimum")}
    messages = " ".join(e["message"] for e in refused.json()["errors"])
    assert "comes in packs of 5" in messages and "is ordered in at least 10" in messages
    assert client.put(line, headers=dealer, json={"quantity": 12}).json()["errors"][0]["code"] == "pack_size"
    assert ok(client.get("/api/partner/ordering/cart", headers=dealer))["items"] == []

    # a line that was right until the manufacturer changed the pack size is named on the cart
    assert ok(client.put(line, headers=dealer, json={"quantity": 10}))["items"][0]["problems"] == []
    ok(staff(client, world.a.admin, "PATCH", f"/products/{shop.valve}", json={"pack_size": 4}))
    [item] = ok(client.get("/api/partner/ordering/cart", headers=dealer))["items"]
    assert item["quantity"] == 10 and [p["code"] for p in item["problems"]] == ["pack_size"]
    assert "comes in packs of 4" in item["problems"][0]["message"]
    placed = client.post("/api/partner/ordering/orders", headers=dealer, json={"ship_to": "Dock 4"})
    assert placed.status_code == 422 and placed.json()["errors"][0]["code"] == "pack_size"
    assert ok(client.put(line, headers=dealer, json={"quantity": 12}))["items"][0]["problems"] == []


@pytest.mark.postgres_only
def test_fifty_concurrent_orders_at_a_stock_of_ten(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    ok(staff(client, admin, "PATCH", "/settings", json={"reserve_on": "submit"}))
    stock(client, admin, shop.warehouse_id, shop.pump, 10)
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda n: place(client, world.x.admin, [(shop.pump, 1)], key=f"c{n}"), range(50)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 40, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    assert available(client, admin, shop, shop.pump) == (10, 10)


@pytest.mark.postgres_only
def test_twenty_concurrent_orders_at_a_credit_limit_of_five(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    # the world's sample: X has 110.00 in use; a pump is 80.00, so 510.00 leaves room for five
    ok(staff(client, admin, "PUT", f"/accounts/{world.x.link_id}/credit-limit", json={"amount": "510.00"}))
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda n: place(client, world.x.admin, [(shop.pump, 1)], key=f"k{n}"), range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [409] * 15, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"credit_limit_exceeded"}
    # refused on what was committed when it was placed, or by the check made again with its COMMIT: alike
    assert {r.json()["detail"] for r in responses if r.status_code == 409} == {
        "This order of 80.0000 would go over the credit limit of 510.0000 (0 left)"
    }
    account = ok(client.get("/api/partner/ordering/account", headers=world.x.admin.bearer))
    assert (account["awaiting_approval"], account["credit_left"]) == ("520.0000", "0.0000")


@pytest.mark.postgres_only
def test_a_concurrent_double_submit_makes_one_order(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: place(client, world.x.admin, [(shop.pump, 1)], key="double"), range(8)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1


def test_comments_and_tracking_numbers_have_their_lengths(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    order = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
    long = act(client, admin, order["id"], "approve", comment="x" * 1001)
    assert long.status_code == 422 and long.json()["errors"][0]["field"] == "comment"
    ok(act(client, admin, order["id"], "approve"))
    refused = act(client, admin, order["id"], "shipments", carrier="SF", tracking_number="9" * 101)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "tracking_number"
    assert ok(staff(client, admin, "GET", f"/orders/{order['id']}"))["status"] == "approved"
