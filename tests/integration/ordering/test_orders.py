"""Journey 4 through the API: a dealer orders at its own prices, the order desk approves and ships, the
dealer receives, pays and sees the statement; and every refusal on the way."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.ordering.support import act, build_shop, ok, place, staff
from tests.world import World


def test_dealer_orders_at_own_price_and_the_order_runs_its_course(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    dealer = world.x.admin
    catalog = ok(client.get("/api/partner/ordering/catalog", headers=dealer.bearer))
    prices = {p["id"]: p for p in catalog["items"]}
    assert prices[shop.pump]["price"] == "80.0000" and prices[shop.pump]["price_source"] == "enterprise"
    assert shop.hidden not in prices
    assert "cost_price" not in prices[shop.pump] and "margin" not in prices[shop.pump]

    order = ok(place(client, dealer, [(shop.pump, 2), (shop.valve, 10)], key="k1"), 201)
    assert order["status"] == "submitted" and order["total"] == "415.0000"
    assert "cost_price" not in order and all("cost_price" not in line for line in order["lines"])

    admin = world.a.admin
    staff_view = ok(staff(client, admin, "GET", f"/orders/{order['id']}"))
    assert staff_view["cost_price"] == "220.0000" and staff_view["margin"] is not None
    approved = ok(act(client, admin, order["id"], "approve", comment="fine"))
    assert approved["status"] == "approved"
    shipped = ok(act(client, admin, order["id"], "shipments", carrier="SF Express", tracking_number="SF123"), 201)
    assert shipped["status"] == "shipped" and shipped["shipments"][0]["tracking_number"] == "SF123"
    received = ok(client.post(f"/api/partner/ordering/orders/{order['id']}/receive", headers=dealer.bearer, json={}))
    assert received["status"] == "received"

    paid = staff(
        client,
        admin,
        "POST",
        "/payments",
        json={"enterprise_id": world.x.link_id, "amount": "415.00", "received_on": "2026-01-05"},
    )
    assert ok(paid, 201)["allocations"][0]["order_id"] == order["id"]
    done = ok(client.get(f"/api/partner/ordering/orders/{order['id']}", headers=dealer.bearer))
    assert done["status"] == "completed"
    statement = ok(client.get("/api/partner/ordering/account/statement?start=2020-01-01", headers=dealer.bearer))
    # the world's sample: X paid 10.00 in advance before this order
    assert statement["opening_balance"] == "0.0000" and statement["closing_balance"] == "-10.0000"
    assert [line["kind"] for line in statement["lines"]] == ["payment", "order", "payment"]
    assert statement["lines"][1]["balance"] == "405.0000"

    # dealer Y sees none of it
    other = world.y.admin
    assert client.get(f"/api/partner/ordering/orders/{order['id']}", headers=other.bearer).status_code == 404
    assert ok(client.get("/api/partner/ordering/orders", headers=other.bearer))["total"] == 0
