"""Enterprise links: direct creation, the status machine and its history, the link tree, and search."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from litestar.testing import TestClient

from portal.config import Settings
from tests.integration.interconnect.support import (
    change_status,
    create_enterprise,
    enterprise,
    new_email,
    outbox_events,
    search,
    setup_token,
)
from tests.integration.web.test_pages import act_as
from tests.world import PASSWORD, World, csrf_token, partner_type_id, unique


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def recent(moment: str) -> bool:
    return abs(datetime.now(UTC) - parse(moment)) < timedelta(minutes=5)


def test_created_without_an_admin_it_is_active_at_once(client: TestClient, world: World) -> None:
    body = create_enterprise(client, world.a, "Direct", code=unique("D"), contact_phone="+86 21 5555 0101")
    link = body["enterprise"]
    assert body["admin_id"] is None and body["setup_url"] is None
    assert link["status"] == "active"
    assert link["activated_at"] is not None and link["terminated_at"] is None
    assert link["partner_type_id"] == partner_type_id(client, world.a.admin, "dealer")
    detail = enterprise(client, world.a, link["id"])
    assert detail["users"] == [] and detail["children"] == []
    [created] = detail["history"]
    assert (created["from_status"], created["to_status"]) == (None, "active")
    assert created["actor_kind"] == "internal" and created["actor_id"] == world.a.admin.user_id
    assert recent(created["changed_at"])


def test_created_with_a_first_admin_it_waits_for_the_admin_to_set_a_password(client: TestClient, world: World) -> None:
    email = new_email("east-admin")
    body = create_enterprise(
        client, world.a, "East Dealer", admin={"display_name": "East Admin", "email": email, "title": "Owner"}
    )
    link = body["enterprise"]
    assert link["status"] == "invited" and link["activated_at"] is None
    assert body["admin_id"] and body["setup_url"].startswith("http://testserver.local/setup/")
    [admin] = enterprise(client, world.a, link["id"])["users"]
    assert admin == {
        "id": body["admin_id"],
        "display_name": "East Admin",
        "email": email,
        "mobile": None,
        "title": "Owner",
        "is_enterprise_admin": True,
        "status": "invited",
        "enterprise_id": link["id"],
    }
    assert (
        client.post(
            "/api/partner/setup", json={"token": setup_token(body["setup_url"]), "password": PASSWORD}
        ).status_code
        == 204
    )
    detail = enterprise(client, world.a, link["id"])
    assert detail["enterprise"]["status"] == "active" and detail["enterprise"]["activated_at"] is not None
    assert detail["users"][0]["status"] == "active"
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [(None, "invited"), ("invited", "active")]
    signed_in = client.post(
        "/api/partner/auth/token", json={"workspace": world.a.slug, "login": email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    me = client.get("/api/partner/me", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
    assert me.json()["enterprise_id"] == link["id"] and me.json()["is_enterprise_admin"] is True


def test_status_moves_only_along_the_allowed_transitions_and_each_move_is_recorded(
    client: TestClient, world: World
) -> None:
    link_id = create_enterprise(client, world.a, "Machine")["enterprise"]["id"]
    assert change_status(client, world.a, link_id, "suspended", "overdue invoices")["status"] == "suspended"
    assert change_status(client, world.a, link_id, "active", "paid")["status"] == "active"
    assert change_status(client, world.a, link_id, "suspended")["status"] == "suspended"
    terminated = change_status(client, world.a, link_id, "terminated", "contract ended")
    assert terminated["status"] == "terminated" and terminated["terminated_at"] is not None

    history = enterprise(client, world.a, link_id)["history"]
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history] == [
        (None, "active", None),
        ("active", "suspended", "overdue invoices"),
        ("suspended", "active", "paid"),
        ("active", "suspended", None),
        ("suspended", "terminated", "contract ended"),
    ]
    assert all(h["actor_kind"] == "internal" and h["actor_id"] == world.a.admin.user_id for h in history)
    moments = [parse(h["changed_at"]) for h in history]
    assert moments == sorted(moments) and all(recent(h["changed_at"]) for h in history)


def test_refused_transitions_change_nothing(client: TestClient, world: World) -> None:
    invited = create_enterprise(client, world.a, "Invited", admin={"display_name": "I", "email": new_email()})
    active = create_enterprise(client, world.a, "Active")
    terminated = create_enterprise(client, world.a, "Gone")
    change_status(client, world.a, terminated["enterprise"]["id"], "terminated")
    cases = [
        (invited, "suspended"),  # an invitation not taken up cannot be suspended
        (active, "active"),
        (active, "invited"),
        (terminated, "active"),  # terminated is final
        (terminated, "suspended"),
        (terminated, "terminated"),
    ]
    for body, target in cases:
        link_id = body["enterprise"]["id"]
        before = enterprise(client, world.a, link_id)
        response = client.post(
            f"/api/interconnect/enterprises/{link_id}/status", headers=world.a.admin.bearer, json={"status": target}
        )
        assert response.status_code == 409, (before["enterprise"]["status"], target, response.text)
        assert response.json()["code"] == "invalid_transition"
        assert enterprise(client, world.a, link_id) == before


def test_staff_and_other_tenants_cannot_change_a_status(client: TestClient, world: World) -> None:
    url = f"/api/interconnect/enterprises/{world.x.link_id}/status"
    staff = client.post(url, headers=world.a.others["staff"].bearer, json={"status": "suspended"})
    assert staff.status_code == 403
    other = client.post(url, headers=world.b.admin.bearer, json={"status": "suspended"})
    assert other.status_code == 404
    assert enterprise(client, world.a, world.x.link_id)["enterprise"]["status"] == "active"


def test_another_tenant_sees_none_of_the_enterprises(client: TestClient, world: World) -> None:
    for path in (world.x.link_id, f"{world.x.link_id}/users"):
        response = client.get(f"/api/interconnect/enterprises/{path}", headers=world.b.admin.bearer)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    listing = client.get("/api/interconnect/enterprises", headers=world.b.admin.bearer)
    assert listing.json()["total"] == 0
    for marker in world.x.markers() | world.y.markers():
        assert marker not in listing.text
    # nor can B hang its own enterprise under A's
    under_a = client.post(
        "/api/interconnect/enterprises",
        headers=world.b.admin.bearer,
        json={
            "name": unique("Sneaky"),
            "partner_type_id": partner_type_id(client, world.b.admin),
            "parent_id": world.x.link_id,
        },
    )
    # a reference in a body to another tenant's record reads as unknown, exactly like a made-up id
    assert under_a.status_code == 422
    assert [(e["field"], e["code"]) for e in under_a.json()["errors"]] == [("parent", "unknown")]
    assert world.x.link_id not in under_a.text.replace(under_a.json()["instance"], "")


def test_under_returns_an_enterprise_and_everything_below_it_at_any_depth(client: TestClient, world: World) -> None:
    distributor = create_enterprise(client, world.a, "North Supply", "distributor")["enterprise"]
    sub = create_enterprise(client, world.a, "North Sub", "distributor", parent_id=distributor["id"])["enterprise"]
    store = create_enterprise(client, world.a, "Corner Store", "store", parent_id=sub["id"])["enterprise"]
    sibling = create_enterprise(client, world.a, "Other Distributor", "distributor")["enterprise"]
    sibling_store = create_enterprise(client, world.a, "Other Store", "store", parent_id=sibling["id"])["enterprise"]

    def under(link_id: str) -> set[str]:
        page = search(client, world.a, under=link_id)
        assert page["total"] == len(page["items"])
        return {item["id"] for item in page["items"]}

    assert under(distributor["id"]) == {distributor["id"], sub["id"], store["id"]}
    assert under(sub["id"]) == {sub["id"], store["id"]}
    assert under(store["id"]) == {store["id"]}
    assert under(sibling["id"]) == {sibling["id"], sibling_store["id"]}
    assert under(world.x.link_id) == {world.x.link_id}
    # combined with another filter
    stores = search(
        client, world.a, under=distributor["id"], partner_type_id=partner_type_id(client, world.a.admin, "store")
    )
    assert [item["id"] for item in stores["items"]] == [store["id"]]
    # the detail shows direct children only
    assert [c["id"] for c in enterprise(client, world.a, distributor["id"])["children"]] == [sub["id"]]
    assert [c["id"] for c in enterprise(client, world.a, sub["id"])["children"]] == [store["id"]]
    assert store["parent_id"] == sub["id"] and sub["parent_id"] == distributor["id"]
    # another tenant asking for the same tree gets nothing
    assert (
        client.get(
            "/api/interconnect/enterprises", headers=world.b.admin.bearer, params={"under": distributor["id"]}
        ).json()["total"]
        == 0
    )


def test_under_an_unknown_enterprise_is_empty(client: TestClient, world: World) -> None:
    page = search(client, world.a, under=str(uuid.uuid4()))
    assert page["items"] == [] and page["total"] == 0


def test_a_terminated_enterprise_cannot_take_new_children(client: TestClient, world: World) -> None:
    parent = create_enterprise(client, world.a, "Closed")["enterprise"]
    change_status(client, world.a, parent["id"], "terminated")
    response = client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={
            "name": unique("Orphan"),
            "partner_type_id": partner_type_id(client, world.a.admin, "store"),
            "parent_id": parent["id"],
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["parent"]


def test_search_by_text_and_filter_by_type_tier_region_and_status(client: TestClient, world: World) -> None:
    tag = uuid.uuid4().hex[:8]
    gold = next(
        t["id"]
        for t in client.get("/api/interconnect/tiers", headers=world.a.admin.bearer).json()
        if t["code"] == "gold"
    )
    region = client.post(
        "/api/interconnect/regions",
        headers=world.a.admin.bearer,
        json={"code": unique("south").lower(), "name": "South"},
    ).json()["id"]
    agent = create_enterprise(client, world.a, f"Agent {tag}", "agent", code=f"AG-{tag}")["enterprise"]
    gold_dealer = create_enterprise(client, world.a, f"Gold {tag}", tier_id=gold)["enterprise"]
    southern = create_enterprise(client, world.a, f"South {tag}", region_id=region)["enterprise"]
    suspended = create_enterprise(client, world.a, f"Paused {tag}")["enterprise"]
    change_status(client, world.a, suspended["id"], "suspended")

    def found(**params: str) -> set[str]:
        return {item["id"] for item in search(client, world.a, q=tag, **params)["items"]}

    assert found() == {agent["id"], gold_dealer["id"], southern["id"], suspended["id"]}
    assert {i["id"] for i in search(client, world.a, q=f"ag-{tag.upper()}")["items"]} == {agent["id"]}  # by code
    assert {i["id"] for i in search(client, world.a, q=f"GOLD {tag}")["items"]} == {gold_dealer["id"]}  # any case
    assert found(partner_type_id=partner_type_id(client, world.a.admin, "agent")) == {agent["id"]}
    assert found(tier_id=gold) == {gold_dealer["id"]}
    assert found(region_id=region) == {southern["id"]}
    assert found(status="suspended") == {suspended["id"]}
    assert found(status="active") == {agent["id"], gold_dealer["id"], southern["id"]}
    assert search(client, world.a, q=uuid.uuid4().hex)["total"] == 0
    # another tenant finds none of them
    assert (
        client.get("/api/interconnect/enterprises", headers=world.b.admin.bearer, params={"q": tag}).json()["total"]
        == 0
    )


def test_search_text_is_taken_literally(client: TestClient, world: World) -> None:
    tag = uuid.uuid4().hex[:8]
    percent = create_enterprise(client, world.a, f"100% {tag}")["enterprise"]
    create_enterprise(client, world.a, f"Plain {tag}")
    # "%" and "_" are what the partner's name contains, not wildcards
    assert {i["id"] for i in search(client, world.a, q=f"100% {tag}")["items"]} == {percent["id"]}
    assert search(client, world.a, q="%")["total"] == 1
    assert search(client, world.a, q="_")["total"] == 0


def test_another_tenants_tier_or_region_is_a_field_error(client: TestClient, world: World) -> None:
    b_tier = client.get("/api/interconnect/tiers", headers=world.b.admin.bearer).json()[0]["id"]
    b_region = client.post(
        "/api/interconnect/regions", headers=world.b.admin.bearer, json={"code": unique("west").lower(), "name": "W"}
    ).json()["id"]
    for field, value in (("tier", b_tier), ("region", b_region)):
        response = client.post(
            "/api/interconnect/enterprises",
            headers=world.a.admin.bearer,
            json={
                "name": unique("Mixed"),
                "partner_type_id": partner_type_id(client, world.a.admin),
                f"{field}_id": value,
            },
        )
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]


def test_pagination_walks_the_whole_result_once(client: TestClient, world: World) -> None:
    tag = uuid.uuid4().hex[:8]
    names = [f"Page {tag} {n}" for n in range(5)]
    for name in names:
        response = client.post(
            "/api/interconnect/enterprises",
            headers=world.a.admin.bearer,
            json={"name": name, "partner_type_id": partner_type_id(client, world.a.admin)},
        )
        assert response.status_code == 201
    pages = [search(client, world.a, q=tag, limit=2, offset=offset) for offset in (0, 2, 4, 6)]
    assert [(p["total"], p["limit"], p["offset"]) for p in pages] == [(5, 2, 0), (5, 2, 2), (5, 2, 4), (5, 2, 6)]
    assert [len(p["items"]) for p in pages] == [2, 2, 1, 0]
    assert [item["name"] for p in pages for item in p["items"]] == names  # ordered by name, no repeats, no gaps


def test_paging_parameters_are_validated(client: TestClient, world: World) -> None:
    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"status": "active", "under": "not-a-uuid"}):
        response = client.get("/api/interconnect/enterprises", headers=world.a.admin.bearer, params=params)
        assert response.status_code in (400, 422), (params, response.text)


def test_enterprise_codes_are_unique_within_the_tenant(client: TestClient, world: World) -> None:
    code = unique("CODE")
    create_enterprise(client, world.a, "First", code=code)
    again = client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={"name": unique("Second"), "partner_type_id": partner_type_id(client, world.a.admin), "code": code},
    )
    assert again.status_code == 409
    assert again.json()["code"] == "enterprise_code_taken"
    in_b = client.post(
        "/api/interconnect/enterprises",
        headers=world.b.admin.bearer,
        json={"name": unique("B first"), "partner_type_id": partner_type_id(client, world.b.admin), "code": code},
    )
    assert in_b.status_code == 201


def test_staff_may_read_enterprises_but_not_create_them(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"]
    assert client.get("/api/interconnect/enterprises", headers=staff.bearer).status_code == 200
    response = client.post(
        "/api/interconnect/enterprises",
        headers=staff.bearer,
        json={"name": unique("Nope"), "partner_type_id": partner_type_id(client, world.a.admin)},
    )
    assert response.status_code == 403


def test_an_admin_changes_an_enterprises_details_and_the_change_is_announced(
    client: TestClient, world: World, settings: Settings
) -> None:
    link = create_enterprise(client, world.a, "Before", code=unique("E"), contact_phone="+86 21 1")["enterprise"]
    region = client.post(
        "/api/interconnect/regions", headers=world.a.admin.bearer, json={"code": unique("north").lower(), "name": "N"}
    ).json()["id"]
    tier = client.get("/api/interconnect/tiers", headers=world.a.admin.bearer).json()[0]["id"]
    code = unique("NEW")
    answer = client.patch(
        f"/api/interconnect/enterprises/{link['id']}",
        headers=world.a.admin.bearer,
        json={"name": "  After  ", "region_id": region, "tier_id": tier, "code": code, "contact_phone": None},
    )
    assert answer.status_code == 200, answer.text
    after = answer.json()
    assert (after["name"], after["region_id"], after["tier_id"], after["code"]) == ("After", region, tier, code)
    assert enterprise(client, world.a, link["id"])["enterprise"]["name"] == "After"
    assert search(client, world.a, region_id=region)["total"] == 1
    # a field left out stays; clearing the region leaves the rest
    cleared = client.patch(
        f"/api/interconnect/enterprises/{link['id']}", headers=world.a.admin.bearer, json={"region_id": None}
    ).json()
    assert cleared["region_id"] is None and cleared["tier_id"] == tier and cleared["name"] == "After"
    [first, second] = [
        e for e in outbox_events(settings, world.a.tenant_id, link["id"]) if e["event_type"] == "link.updated"
    ]
    assert first["payload"]["changed"]["name"] == [link["name"], "After"]
    assert set(first["payload"]["changed"]) == {"name", "region_id", "tier_id", "code", "contact_phone"}
    assert set(second["payload"]["changed"]) == {"region_id"}


def test_a_refused_change_changes_nothing(client: TestClient, world: World) -> None:
    taken = create_enterprise(client, world.a, "Holder", code=unique("T"))["enterprise"]["code"]
    link = create_enterprise(client, world.a, "Keeps", code=unique("K"))["enterprise"]
    b_region = client.post(
        "/api/interconnect/regions", headers=world.b.admin.bearer, json={"code": unique("b").lower(), "name": "B"}
    ).json()["id"]
    url = f"/api/interconnect/enterprises/{link['id']}"
    for body, status, field_or_code in (
        ({"name": "Renamed", "code": taken}, 409, "enterprise_code_taken"),
        ({"name": "Renamed", "region_id": b_region}, 422, "region"),
        ({"name": "   "}, 422, "name"),
        ({"name": "Renamed", "contact_phone": "1" * 41}, 422, "contact_phone"),
        ({"name": "Renamed\u202e"}, 422, "name"),
        ({"name": "Renamed", "status": "terminated"}, 422, "status"),
        ({"name": None}, 422, "name"),
    ):
        answer = client.patch(url, headers=world.a.admin.bearer, json=body)
        assert answer.status_code == status, (body, answer.text)
        problem = answer.json()
        if status == 409:
            assert problem["code"] == field_or_code
        elif status == 422:
            assert [e["field"] for e in problem["errors"]] == [field_or_code], problem
    assert enterprise(client, world.a, link["id"])["enterprise"] == link


def test_only_the_owning_admin_may_change_an_enterprise(client: TestClient, world: World) -> None:
    link = create_enterprise(client, world.a, "Guarded")["enterprise"]
    url = f"/api/interconnect/enterprises/{link['id']}"
    assert client.patch(url, headers=world.b.admin.bearer, json={"name": "Taken"}).status_code == 404
    assert client.patch(url, headers=world.a.others["staff"].bearer, json={"name": "Taken"}).status_code == 403
    assert client.patch(url, headers=world.x.admin.bearer, json={"name": "Taken"}).status_code in (401, 403)
    change_status(client, world.a, link["id"], "terminated")
    ended = client.patch(url, headers=world.a.admin.bearer, json={"name": "Again"})
    assert ended.status_code == 409 and ended.json()["code"] == "enterprise_terminated"
    assert enterprise(client, world.a, link["id"])["enterprise"]["name"] == link["name"]


def test_the_console_edits_an_enterprise_and_shows_mistakes_beside_their_fields(
    client: TestClient, world: World
) -> None:
    link = create_enterprise(client, world.a, "Paged", code=unique("P"))["enterprise"]
    page_url = f"/console/partners/enterprises/{link['id']}"
    act_as(client, world.a.admin.cookie)
    assert f'href="{page_url}/edit"' in client.get(page_url).text
    form = client.get(f"{page_url}/edit")
    assert form.status_code == 200 and f'value="{link["name"]}"' in form.text
    token = csrf_token(client, f"{page_url}/edit")
    fields = {"partner_type": link["partner_type_id"], "code": link["code"], "_csrf_token": token}
    bad = client.post(f"{page_url}/edit", data={**fields, "name": ""}, follow_redirects=False)
    assert bad.status_code == 422 and 'id="name-error"' in bad.text
    good = client.post(f"{page_url}/edit", data={**fields, "name": "Paged again"}, follow_redirects=False)
    assert good.status_code in (302, 303) and good.headers["location"] == page_url
    assert enterprise(client, world.a, link["id"])["enterprise"]["name"] == "Paged again"
    act_as(client, world.a.others["staff"].cookie)
    assert client.get(f"{page_url}/edit").status_code == 403
