"""A partner's home per role and channel: the widgets an admin composes for each external role, shown to a
person only where their permissions open the list behind them, with figures counted in their own scope,
the same through the portal page and `GET /api/partner/home`."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.integration.ordering.support import act, build_shop, ok, place
from tests.integration.web.test_pages import act_as
from tests.world import Credential, World, csrf_token


def home(client: TestClient, who: Credential, channel: str = "web") -> dict[str, dict[str, Any]]:
    body = ok(client.get("/api/partner/home", headers=who.bearer, params={"channel": channel}))
    assert body["channel"] == channel
    return {w["key"]: w for w in body["widgets"]}


def keys(client: TestClient, who: Credential, channel: str = "web") -> list[str]:
    return list(home(client, who, channel))


def compose(client: TestClient, world: World, role: str, layout: dict[str, list[str]]) -> Any:
    return client.patch(f"/api/roles/{role}", headers=world.a.admin.bearer, json={"home": layout})


def buyer_of_x(client: TestClient, world: World) -> Credential:
    colleague = world.x.people["colleague"]
    given = client.put(
        f"/api/interconnect/users/{colleague.user_id}/roles",
        headers=world.a.admin.bearer,
        json={"roles": ["member", "dealer_buyer"]},
    )
    assert given.status_code == 200, given.text
    return colleague


def test_the_default_home_shows_what_waits_counted_in_the_persons_scope(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    buyer = buyer_of_x(client, world)
    before = home(client, buyer)
    # a dealer buyer orders: the ordering widgets and the apps; no service widget, no deal registration link
    assert list(before) == ["ordering.to_receive", "ordering.spending", "interconnect.announcements", "roles.apps"]
    assert [link["page"] for link in before["roles.apps"]["links"]] == [f"/p/{world.a.slug}/ordering/catalog"]

    # an order shipped to X counts for X's buyer; one shipped to Y does not
    for who in (world.x.admin, world.y.admin):
        order = ok(place(client, who, [(shop.pump, 2)]), 201)
        ok(act(client, world.a.admin, order["id"], "approve"))
        ok(act(client, world.a.admin, order["id"], "shipments", own_delivery=True), 201)
    after = home(client, buyer)
    to_receive = after["ordering.to_receive"]
    assert to_receive["value"] == before["ordering.to_receive"]["value"] + 1
    assert to_receive["page"] == f"/p/{world.a.slug}/ordering/orders?status=shipped"
    listed = ok(client.get(to_receive["api"], headers=buyer.bearer))
    assert listed["total"] == to_receive["value"]
    spending = after["ordering.spending"]
    assert len(spending["series"]) == 6
    # the pump is X's own price 80.00 and 100.00 for Y: this month grew by X's order alone
    grown = spending["series"][-1]["value"]
    assert float(grown) - float(before["ordering.spending"]["series"][-1]["value"]) == 160.0

    # the page shows the same widgets, and each links to a list that opens for this person
    act_as(client, buyer.cookie)
    page = client.get(f"/p/{world.a.slug}/")
    assert page.status_code == 200
    for key, widget in after.items():
        assert f'data-widget="{key}"' in page.text
        assert client.get(widget["page"], follow_redirects=False).status_code == 200
    assert "Tickets to accept" not in page.text and "Balance due" not in page.text


def test_an_admin_composes_a_roles_home_per_channel(client: TestClient, world: World) -> None:
    buyer = buyer_of_x(client, world)
    composed = compose(client, world, "dealer_buyer", {"web": ["roles.apps", "ordering.spending"]})
    assert ok(composed)["home"] == {"web": ["roles.apps", "ordering.spending"]}
    assert keys(client, buyer) == ["roles.apps", "ordering.spending"]
    # the phone falls back to the web layout until it has its own
    assert keys(client, buyer, "mobile") == ["roles.apps", "ordering.spending"]
    ok(compose(client, world, "dealer_buyer", {"web": ["roles.apps"], "mobile": ["ordering.to_receive"]}))
    assert keys(client, buyer) == ["roles.apps"]
    assert keys(client, buyer, "mobile") == ["ordering.to_receive"]

    # a widget whose list the person may not open stays off their home, whatever the layout says
    ok(compose(client, world, "dealer_buyer", {"web": ["service.to_accept", "roles.apps"]}))
    assert keys(client, buyer) == ["roles.apps"]

    # the member role, held too and now composed, adds its widgets after the buyer's, each once
    ok(compose(client, world, "member", {"web": ["ordering.spending", "roles.apps"]}))
    assert keys(client, buyer) == ["roles.apps", "ordering.spending"]
    ok(compose(client, world, "dealer_buyer", {"web": []}))  # composed empty: the member's alone
    assert keys(client, buyer) == ["ordering.spending", "roles.apps"]

    # another tenant's roles are not these: B's admin cannot compose A's buyer's home
    foreign = client.patch("/api/roles/dealer_buyer", headers=world.b.admin.bearer, json={"home": {"web": []}})
    assert foreign.status_code in (200, 404)
    assert keys(client, buyer) == ["ordering.spending", "roles.apps"]


def test_a_layout_naming_what_is_not_there_is_refused_whole(client: TestClient, world: World) -> None:
    ok(compose(client, world, "dealer_buyer", {"web": ["roles.apps"]}))
    for layout, where in (
        ({"web": ["ordering.nothing"]}, "ordering.nothing is not a widget"),
        ({"tv": ["roles.apps"]}, "tv is not a channel"),
        ({"web": ["roles.apps", "roles.apps"]}, "a widget is shown once"),
    ):
        refused = compose(client, world, "dealer_buyer", layout)
        assert refused.status_code == 422, refused.text
        assert any(where in e["message"] for e in refused.json()["errors"]), refused.json()
    staff_role = compose(client, world, "order_desk", {"web": ["roles.apps"]})
    assert staff_role.status_code == 422 and "only partner roles" in staff_role.text
    role = ok(client.get("/api/roles/dealer_buyer", headers=world.a.admin.bearer))
    assert role["home"] == {"web": ["roles.apps"]}  # nothing half-written

    bad_channel = client.get("/api/partner/home", headers=world.x.admin.bearer, params={"channel": "tv"})
    assert bad_channel.status_code == 422 and bad_channel.headers["content-type"].startswith("application/problem")


def test_the_home_speaks_the_persons_language(client: TestClient, world: World) -> None:
    buyer = buyer_of_x(client, world)
    headers = {**buyer.bearer, "Accept-Language": "zh-CN"}
    body = ok(client.get("/api/partner/home", headers=headers, params={"channel": "mobile"}))
    titles = {w["key"]: w["title"] for w in body["widgets"]}
    assert titles["ordering.to_receive"] != "Orders to receive" and titles["roles.apps"] != "Your apps"


def test_the_role_editor_composes_each_channel(client: TestClient, world: World) -> None:
    buyer = buyer_of_x(client, world)
    act_as(client, world.a.admin.cookie)
    editor = client.get("/console/roles/dealer_buyer")
    assert editor.status_code == 200 and 'name="home:mobile:ordering.spending"' in editor.text
    form = {
        "name": "Dealer buyer",
        "apps": "ordering",
        "compose:web": "1",
        "home:web:roles.apps": "2",
        "home:web:ordering.to_receive": "1",
        "home:web:ordering.spending": "",
        "home:mobile:ordering.spending": "1",  # mobile is not composed: its positions are ignored
    }
    current = ok(client.get("/api/roles/dealer_buyer", headers=world.a.admin.bearer))
    grants = [f"{o}:{a}" for o, a in current["grants"]]
    token = csrf_token(client, "/console/roles/dealer_buyer")
    sent = {**form, "grant": grants, "_csrf_token": token}
    saved = client.post("/console/roles/dealer_buyer", data=sent, follow_redirects=False)
    assert saved.status_code in (302, 303), saved.text
    role = ok(client.get("/api/roles/dealer_buyer", headers=world.a.admin.bearer))
    assert role["home"] == {"web": ["ordering.to_receive", "roles.apps"]}
    assert role["grants"] == current["grants"]
    assert keys(client, buyer) == ["ordering.to_receive", "roles.apps"]
    assert keys(client, buyer, "mobile") == ["ordering.to_receive", "roles.apps"]
    # a staff role's editor has no home section
    assert 'id="home"' not in client.get("/console/roles/order_desk").text
