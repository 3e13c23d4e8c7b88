"""The effective price: the enterprise's own list beats its tier's, which beats the base list; the
largest quantity break not above the quantity; lists outside their dates or inactive count for nothing."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.ordering.support import build_shop, ok, partner_enterprise, place, price_list, staff
from tests.world import World


def catalog_price(client: TestClient, who: object, product_id: str) -> dict[str, object]:
    page = ok(client.get("/api/partner/ordering/catalog", headers=who.bearer))  # type: ignore[attr-defined]
    return next(p for p in page["items"] if p["id"] == product_id)


def test_enterprise_tier_and_base_prices(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    tiers = ok(client.get("/api/interconnect/tiers", headers=admin.bearer))
    gold = tiers[0]["id"]
    price_list(client, admin, [{"product_id": shop.pump, "unit_price": "95.00"}], kind="tier", tier_id=gold)
    gold_dealer = partner_enterprise(client, world, "Gold", tier_id=gold)

    assert catalog_price(client, world.x.admin, shop.pump)["price"] == "80.0000"  # X's own list
    gold_view = catalog_price(client, gold_dealer.admin, shop.pump)
    assert (gold_view["price"], gold_view["price_source"]) == ("95.0000", "tier")
    base_view = catalog_price(client, world.y.admin, shop.pump)
    assert (base_view["price"], base_view["price_source"]) == ("100.0000", "base")
    assert base_view["breaks"] == [
        {"min_quantity": 1, "unit_price": "100.0000"},
        {"min_quantity": 10, "unit_price": "90.0000"},
    ]

    # the quantity break applies from 10 on the base list; X's own list has no break and stays 80
    order = ok(place(client, world.y.admin, [(shop.pump, 10)]), 201)
    assert order["lines"][0]["unit_price"] == "90.0000" and order["total"] == "900.0000"
    assert ok(place(client, world.x.admin, [(shop.pump, 10)]), 201)["total"] == "800.0000"
    preview = ok(staff(client, admin, "GET", "/price-preview", params={"product_id": shop.pump, "quantity": 9}))
    assert (preview["price"], preview["source"], preview["from_quantity"]) == ("100.0000", "base", 1)


def test_lists_outside_their_dates_or_inactive_do_not_count(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    expired = price_list(
        client,
        admin,
        [{"product_id": shop.valve, "unit_price": "1.00"}],
        kind="enterprise",
        enterprise_id=world.y.link_id,
        valid_from="2020-01-01",
        valid_to="2020-12-31",
    )
    price_list(
        client,
        admin,
        [{"product_id": shop.valve, "unit_price": "2.00"}],
        kind="enterprise",
        enterprise_id=world.y.link_id,
        valid_from="2099-01-01",
    )
    assert catalog_price(client, world.y.admin, shop.valve)["price"] == "25.5000"
    ok(staff(client, admin, "PATCH", f"/price-lists/{expired}", json={"valid_to": None}))
    assert catalog_price(client, world.y.admin, shop.valve)["price"] == "1.0000"
    ok(staff(client, admin, "PATCH", f"/price-lists/{expired}", json={"active": False}))
    assert catalog_price(client, world.y.admin, shop.valve)["price"] == "25.5000"
    refused = staff(
        client, admin, "POST", "/price-lists", json={"name": "Bad", "kind": "tier", "valid_from": "2026-02-01"}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "tier_id"


def test_a_product_without_a_price_cannot_be_ordered(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    unpriced = ok(staff(client, world.a.admin, "POST", "/products", json={"sku": "NOPRICE-1", "name": "No price"}), 201)
    refused = place(client, world.x.admin, [(unpriced["id"], 1), (shop.pump, 1)])
    assert refused.status_code == 422
    assert [e["code"] for e in refused.json()["errors"]] == ["unpriced"]
