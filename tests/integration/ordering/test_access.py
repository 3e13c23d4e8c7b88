"""Field rules and data scopes on the ordering app: dealer roles never see the manufacturer's cost or
margin (catalog, cart, orders, lines, exports), a dealer sees its own enterprise's orders only, a
distributor its stores' where the manufacturer says so, and an order staff keep to themselves is seen
by no partner."""

from __future__ import annotations

import io

from litestar.testing import TestClient
from openpyxl import load_workbook

from tests.integration.ordering.support import build_shop, ok, partner_enterprise, place, staff
from tests.world import World, add_user, credential, partner_type_id


def test_dealer_roles_never_see_cost_or_margin(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    dealer = world.x.admin.bearer
    order = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)
    ok(client.put(f"/api/partner/ordering/cart/{shop.pump}", headers=dealer, json={"quantity": 1}))
    answers = [
        client.get("/api/partner/ordering/catalog", headers=dealer),
        client.get(f"/api/partner/ordering/catalog/{shop.pump}", headers=dealer),
        client.get("/api/partner/ordering/cart", headers=dealer),
        client.get("/api/partner/ordering/orders", headers=dealer),
        client.get(f"/api/partner/ordering/orders/{order['id']}", headers=dealer),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert '"cost_price"' not in answer.text and '"margin"' not in answer.text
        assert '"60.0000"' not in answer.text  # the pump's cost
    sheet = client.get("/api/partner/ordering/orders/export.xlsx", headers=dealer)
    assert sheet.status_code == 200
    header = [c.value for c in next(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(max_row=1))]
    assert "number" in header and "cost_price" not in header and "margin" not in header
    # the manufacturer's staff do see them
    mine = ok(staff(client, world.a.admin, "GET", f"/orders/{order['id']}"))
    assert mine["lines"][0]["cost_price"] == "60.0000" and mine["lines"][0]["margin"] == "0.2500"
    staff_sheet = staff(client, world.a.admin, "GET", "/orders/export.xlsx")
    header = [c.value for c in next(load_workbook(io.BytesIO(staff_sheet.content)).active.iter_rows(max_row=1))]
    assert "cost_price" in header


def test_a_partner_cannot_write_prices_owners_or_enterprises(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    for extra in ({"enterprise_id": world.y.link_id}, {"owner_id": world.y.admin.user_id}, {"total": "1"}):
        refused = place(client, world.x.admin, [(shop.pump, 1)], **extra)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == next(iter(extra))
    line = {"product_id": shop.pump, "quantity": 1, "unit_price": "0.01"}
    refused = client.post("/api/partner/ordering/orders", headers=world.x.admin.bearer, json={"lines": [line]})
    assert refused.status_code == 422


def test_staff_field_rule_read_only_cost_is_refused_naming_the_field(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin.bearer
    role = {"key": "catalog_clerk", "name": "Catalog clerk", "kind": "internal"}
    ok(client.post("/api/roles", headers=admin, json=role), 201)
    grants = [["ordering.catalog", "read"], ["ordering.catalog", "update"]]
    fields = {"ordering.catalog": {"cost_price": "read_only", "margin": "hidden"}}
    ok(client.patch("/api/roles/catalog_clerk", headers=admin, json={"grants": grants, "fields": fields}))
    email = f"clerk@{world.a.slug}.example"
    clerk = credential(client, world.a.slug, add_user(client, world.a.admin, email, role="catalog_clerk"), email)
    refused = staff(client, clerk, "PATCH", f"/products/{shop.pump}", json={"cost_price": "1.00", "name": "New"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "cost_price"
    product = ok(staff(client, clerk, "GET", f"/products/{shop.pump}"))
    assert product["cost_price"] == "60.0000" and "margin" not in product and product["name"] != "New"


def test_dealers_see_their_own_enterprise_only_and_distributors_their_stores(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    north = partner_enterprise(client, world, "North", "distributor")
    store = partner_enterprise(client, world, "Store", "store", parent_id=north.link_id)
    store_order = ok(place(client, store.admin, [(shop.pump, 1)]), 201)
    x_order = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)

    def numbers(who: object) -> set[str]:
        page = ok(client.get("/api/partner/ordering/orders", headers=who.bearer))  # type: ignore[attr-defined]
        return {o["number"] for o in page["items"]}

    assert store_order["number"] in numbers(north.admin)  # the distributor's preset: its stores too
    assert x_order["number"] not in numbers(north.admin)
    assert numbers(store.admin) == {store_order["number"]}
    assert x_order["number"] in numbers(world.x.admin) and store_order["number"] not in numbers(world.x.admin)
    assert numbers(world.y.admin) == set()

    # sub-enterprises off: the distributor's very next request no longer shows the store's order
    rule = {
        "object": "partner.ordering.order",
        "level": "enterprise_write",
        "partner_type_id": partner_type_id(client, admin, "distributor"),
        "include_sub_enterprises": False,
    }
    ok(client.put("/api/access/data", headers=admin.bearer, json=rule))
    assert store_order["number"] not in numbers(north.admin)
    gone = client.get(f"/api/partner/ordering/orders/{store_order['id']}", headers=north.admin.bearer)
    assert gone.status_code == 404


def test_an_order_staff_keep_to_themselves_is_seen_by_no_partner(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    lines = [{"product_id": shop.pump, "quantity": 1}]
    own = ok(staff(client, admin, "POST", "/orders", json={"lines": lines, "ship_to": "Upstream yard"}), 201)
    assert own["total"] == "100.0000"  # base prices: no enterprise
    body = {"lines": lines, "enterprise_id": world.x.link_id, "address_id": world.ids["ordering_address"]}
    for_x = ok(staff(client, admin, "POST", "/orders", json=body), 201)
    assert for_x["total"] == "80.0000" and for_x["placed_by_kind"] == "internal"
    seen = {o["id"] for o in ok(client.get("/api/partner/ordering/orders", headers=world.x.admin.bearer))["items"]}
    assert for_x["id"] in seen and own["id"] not in seen
    hidden = client.get(f"/api/partner/ordering/orders/{own['id']}", headers=world.x.admin.bearer)
    assert hidden.status_code == 404


def test_order_text_fields_follow_field_rules_and_lengths(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    long = place(client, world.x.admin, [(shop.pump, 1)], note="x" * 2001)
    assert long.status_code == 422 and long.json()["errors"][0] == {
        "field": "note",
        "message": "may be at most 2000 characters",
        "code": "too_long",
    }
    admin = world.a.admin.bearer
    role = ok(client.get("/api/roles/dealer_admin", headers=admin))
    fields = {
        **role["fields"],
        "partner.ordering.order": {**role["fields"]["partner.ordering.order"], "note": "read_only"},
    }
    ok(client.patch("/api/roles/dealer_admin", headers=admin, json={"fields": fields}))
    refused = place(client, world.x.admin, [(shop.pump, 1)], note="call first")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "note"
    assert ok(place(client, world.x.admin, [(shop.pump, 1)], ship_to="Dock 4"), 201)["note"] is None
