"""Ship-to addresses: each enterprise's address book (another enterprise's address is not found), an
order that must say where it ships and keeps a copy of the address, the optional PO number and
requested delivery date, staff choosing from the enterprise's book when ordering on its behalf, and
shipments that name their carrier and tracking number unless the manufacturer delivers itself."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar.testing import TestClient

from tests.integration.ordering.support import act, build_shop, ok, orders_count, partner_enterprise, place, staff
from tests.world import Credential, World

ADDRESSES = "/api/partner/ordering/addresses"


def address(client: TestClient, who: Credential, label: str, **values: Any) -> dict[str, Any]:
    body = {"label": label, "recipient": f"{label} desk", "phone": "555-0199", "address": f"{label} Road 1", **values}
    return ok(client.post(ADDRESSES, headers=who.bearer, json=body), 201)


def test_the_address_book_is_the_enterprises_own(client: TestClient, world: World) -> None:
    dock = partner_enterprise(client, world, "Dock")
    who = dock.admin
    assert ok(client.get(ADDRESSES, headers=who.bearer)) == []
    first = address(client, who, "Warehouse")
    assert first["is_default"] is True  # the first address is the default
    second = address(client, who, "Showroom", is_default=True)
    listed = ok(client.get(ADDRESSES, headers=who.bearer))
    assert [(a["label"], a["is_default"]) for a in listed] == [("Showroom", True), ("Warehouse", False)]
    changed = ok(
        client.patch(f"{ADDRESSES}/{first['id']}", headers=who.bearer, json={"is_default": True, "phone": "1"})
    )
    assert changed["is_default"] is True and changed["phone"] == "1" and changed["label"] == "Warehouse"
    assert ok(client.get(f"{ADDRESSES}/{second['id']}", headers=who.bearer))["is_default"] is False

    refused = client.post(
        ADDRESSES, headers=who.bearer, json={"label": " ", "recipient": "", "phone": "1", "address": "x" * 301}
    )
    assert refused.status_code == 422
    assert {(e["field"], e["code"]) for e in refused.json()["errors"]} == {
        ("label", "required"),
        ("recipient", "required"),
        ("address", "too_long"),
    }

    # another enterprise of the same manufacturer finds nothing of it
    other = world.y.admin.bearer
    assert all(a["id"] not in (first["id"], second["id"]) for a in ok(client.get(ADDRESSES, headers=other)))
    for method, body in (("GET", None), ("PATCH", {"label": "Mine"}), ("DELETE", None)):
        response = client.request(method, f"{ADDRESSES}/{first['id']}", headers=other, json=body)
        assert response.status_code == 404, (method, response.text)
    assert ok(client.get(f"{ADDRESSES}/{first['id']}", headers=who.bearer))["label"] == "Warehouse"

    # the order desk reads the book to order on the enterprise's behalf
    seen = ok(staff(client, world.a.admin, "GET", "/addresses", params={"enterprise_id": dock.link_id}))
    assert [a["label"] for a in seen] == ["Warehouse", "Showroom"]
    foreign = staff(client, world.b.admin, "GET", "/addresses", params={"enterprise_id": dock.link_id})
    assert foreign.status_code == 404

    # deleting the default hands it to the oldest address left
    assert client.delete(f"{ADDRESSES}/{first['id']}", headers=who.bearer).status_code == 204
    assert [(a["label"], a["is_default"]) for a in ok(client.get(ADDRESSES, headers=who.bearer))] == [
        ("Showroom", True)
    ]


def test_an_order_ships_to_a_copy_of_an_address_and_must_say_where(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    dock = partner_enterprise(client, world, "Dock")
    who = dock.admin
    book = address(client, who, "Warehouse", recipient="Ann Dock", phone="555-0101", address="18 Harbour Road")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    body = {"address_id": book["id"], "po_number": "PO-778", "requested_delivery_date": tomorrow}
    order = ok(place(client, who, [(shop.pump, 1)], **body), 201)
    assert order["ship_to"] == "Ann Dock, 555-0101\n18 Harbour Road"
    assert order["po_number"] == "PO-778" and order["requested_delivery_date"] == tomorrow

    # the order keeps its copy when the address changes or goes
    ok(client.patch(f"{ADDRESSES}/{book['id']}", headers=who.bearer, json={"address": "1 New Road"}))
    assert ok(client.get(f"/api/partner/ordering/orders/{order['id']}", headers=who.bearer))["ship_to"].endswith(
        "18 Harbour Road"
    )
    moved = ok(place(client, who, [(shop.pump, 1)], address_id=book["id"]), 201)
    assert moved["ship_to"].endswith("1 New Road") and moved["po_number"] is None
    assert client.delete(f"{ADDRESSES}/{book['id']}", headers=who.bearer).status_code == 204
    assert ok(client.get(f"/api/partner/ordering/orders/{order['id']}", headers=who.bearer))["ship_to"].endswith(
        "18 Harbour Road"
    )

    # refusals name the field and place nothing
    before = orders_count(client, world.a.admin)
    x_address = world.ids["ordering_address"]
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    for extra, field, code in (
        ({"ship_to": "  "}, "ship_to", "required"),
        ({"address_id": x_address}, "address_id", "unknown"),  # another enterprise's address
        ({"address_id": book["id"]}, "address_id", "unknown"),  # deleted
        ({"ship_to": "Dock 4", "requested_delivery_date": yesterday}, "requested_delivery_date", "past"),
        ({"ship_to": "Dock 4", "po_number": "P" * 61}, "po_number", "too_long"),
    ):
        refused = place(client, who, [(shop.pump, 1)], **extra)
        assert refused.status_code == 422, (extra, refused.text)
        assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [(field, code)], extra
    mine = address(client, who, "Yard")
    both = place(client, who, [(shop.pump, 1)], address_id=mine["id"], ship_to="Dock 4")
    assert both.status_code == 422 and both.json()["errors"][0]["code"] == "ambiguous"
    assert orders_count(client, world.a.admin) == before

    # staff ordering on the enterprise's behalf choose from its book, or type an address
    lines = [{"product_id": shop.pump, "quantity": 1}]
    for_dock = {"lines": lines, "enterprise_id": dock.link_id, "address_id": mine["id"]}
    assert ok(staff(client, world.a.admin, "POST", "/orders", json=for_dock), 201)["ship_to"].endswith("Yard Road 1")
    for_x = {"lines": lines, "enterprise_id": world.x.link_id, "address_id": mine["id"]}
    assert staff(client, world.a.admin, "POST", "/orders", json=for_x).json()["errors"][0]["field"] == "address_id"
    typed = {"lines": lines, "enterprise_id": world.x.link_id, "ship_to": "Gate 3"}
    assert ok(staff(client, world.a.admin, "POST", "/orders", json=typed), 201)["ship_to"] == "Gate 3"
    nowhere = staff(client, world.a.admin, "POST", "/orders", json={"lines": lines})
    assert nowhere.status_code == 422 and nowhere.json()["errors"][0]["field"] == "ship_to"


def test_a_shipment_names_carrier_and_tracking_unless_the_manufacturer_delivers(
    client: TestClient, world: World
) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    order = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)
    ok(act(client, admin, order["id"], "approve"))
    line = order["lines"][0]["id"]
    refused = act(client, admin, order["id"], "shipments", lines={line: 1}, carrier=" ")
    assert refused.status_code == 422
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("carrier", "required"),
        ("tracking_number", "required"),
    ]
    assert ok(staff(client, admin, "GET", f"/orders/{order['id']}"))["shipments"] == []
    part = ok(act(client, admin, order["id"], "shipments", lines={line: 1}, carrier="SF", tracking_number="SF9"), 201)
    assert part["shipments"][0]["own_delivery"] is False and part["shipments"][0]["carrier"] == "SF"
    rest = ok(act(client, admin, order["id"], "shipments", own_delivery=True), 201)
    own = rest["shipments"][1]
    assert own["own_delivery"] is True and own["carrier"] is None and own["tracking_number"] is None
    seen = ok(client.get(f"/api/partner/ordering/orders/{order['id']}", headers=world.x.admin.bearer))
    assert [s["own_delivery"] for s in seen["shipments"]] == [False, True]
