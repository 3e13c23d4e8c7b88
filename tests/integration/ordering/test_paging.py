"""Lists say how many records they have on every page, a page past the last one too, and page through
them in order without repeating or skipping one."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.ordering.support import build_shop, ok, place, staff
from tests.world import World


def test_orders_and_catalog_count_on_every_page(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    dealer = world.x.admin
    for n in range(3):
        ok(place(client, dealer, [(shop.pump, 1 + n)], key=f"paging-{n}"), 201)

    orders = "/api/partner/ordering/orders"
    everything = ok(client.get(orders, headers=dealer.bearer, params={"limit": 200}))
    total = everything["total"]
    assert total == len(everything["items"]) >= 3
    pages = [
        ok(client.get(orders, headers=dealer.bearer, params={"limit": 2, "offset": o})) for o in range(0, total, 2)
    ]
    assert {page["total"] for page in pages} == {total}
    assert [o["id"] for page in pages for o in page["items"]] == [o["id"] for o in everything["items"]]
    past = ok(client.get(orders, headers=dealer.bearer, params={"limit": 2, "offset": total + 4}))
    assert past["items"] == [] and past["total"] == total
    searched = ok(client.get(orders, headers=dealer.bearer, params={"search": everything["items"][0]["number"]}))
    assert [o["id"] for o in searched["items"]] == [everything["items"][0]["id"]] and searched["total"] == 1
    open_orders = ok(client.get(orders, headers=dealer.bearer, params={"status": "open", "limit": 1, "offset": 50}))
    assert open_orders["items"] == [] and open_orders["total"] == total  # every one still waits for approval
    staff_list = ok(staff(client, world.a.admin, "GET", "/orders", params={"limit": 1, "offset": 10_000}))
    assert staff_list["items"] == [] and staff_list["total"] >= total

    catalog = "/api/partner/ordering/catalog"
    shown = ok(client.get(catalog, headers=dealer.bearer, params={"limit": 200}))
    assert shop.hidden not in {p["id"] for p in shown["items"]} and shown["total"] == len(shown["items"]) >= 2
    first = ok(client.get(catalog, headers=dealer.bearer, params={"limit": 1}))
    assert first["total"] == shown["total"] and [p["id"] for p in first["items"]] == [shown["items"][0]["id"]]
    past = ok(client.get(catalog, headers=dealer.bearer, params={"limit": 1, "offset": shown["total"] + 3}))
    assert past["items"] == [] and past["total"] == shown["total"]
    pumps = ok(client.get(catalog, headers=dealer.bearer, params={"category_id": shop.ids["category"]}))
    assert [p["id"] for p in pumps["items"]] == [shop.pump] and pumps["total"] == 1
    assert pumps["items"][0]["category"] == "Pumps" and pumps["items"][0]["available"] == 100
