"""Who sees and does what with tickets: the function permissions of each preset role, the data levels of
service providers (the dispatcher the enterprise's tickets, the engineer their own), the staff
dispatcher's region scope, and the rule that keeps the customer's phone and address from a partner until
it has accepted the ticket."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.integration.service.support import (
    PARTNER,
    STAFF,
    call,
    dispatched,
    fixit,
    job_act,
    ok,
    open_ticket,
    partner_act,
    staff_act,
)
from tests.world import World, add_user, credential, unique


def ids(page: dict[str, Any]) -> set[str]:
    return {t["id"] for t in page["items"]}


def test_a_service_partner_sees_its_tickets_and_its_engineer_only_their_own(client: TestClient, world: World) -> None:
    dispatcher, engineer = fixit(world)
    other = world.service["other"].admin
    mine = dispatched(client, world)  # FixIt's engineer named
    unassigned = dispatched(client, world, engineer=False)
    waiting = open_ticket(client, world)
    assert ids(ok(call(client, dispatcher, "GET", f"{PARTNER}/tickets"))) == {mine["id"], unassigned["id"]}
    assert ids(ok(call(client, engineer, "GET", f"{PARTNER}/jobs"))) == {mine["id"]}
    assert ids(ok(call(client, other, "GET", f"{PARTNER}/tickets"))) == set()
    for who, path in ((engineer, f"jobs/{unassigned['id']}"), (other, f"tickets/{mine['id']}")):
        assert call(client, who, "GET", f"{PARTNER}/{path}").status_code == 404
    assert call(client, dispatcher, "GET", f"{PARTNER}/tickets/{waiting['id']}").status_code == 404
    # the engineer's role grants their own tickets, not the enterprise's
    assert call(client, engineer, "GET", f"{PARTNER}/tickets").status_code == 403
    # assigned by the dispatcher, the ticket is among the engineer's own, who may take it from there
    assigned = ok(partner_act(client, dispatcher, unassigned["id"], "assign", engineer_id=engineer.user_id))
    assert assigned["engineer_name"] and assigned["engineer_id"] == engineer.user_id
    assert ids(ok(call(client, engineer, "GET", f"{PARTNER}/jobs"))) == {mine["id"], unassigned["id"]}
    assert ok(job_act(client, engineer, unassigned["id"], "accept"))["status"] == "accepted"
    # nor may an engineer reject or assign: those are the dispatcher's
    assert call(client, engineer, "POST", f"{PARTNER}/jobs/{mine['id']}/reject", json={}).status_code == 404
    # another service partner's people can do nothing with it
    assert partner_act(client, other, mine["id"], "accept").status_code == 404


def test_an_engineer_whose_role_says_more_sees_the_enterprise_s_tickets(client: TestClient, world: World) -> None:
    _dispatcher, engineer = fixit(world)
    unassigned = dispatched(client, world, engineer=False)
    admin = world.a.admin.bearer
    roles = client.put(
        f"/api/interconnect/users/{engineer.user_id}/roles",
        headers=admin,
        json={"roles": ["member", "service_engineer", "service_dispatcher"]},
    )
    assert roles.status_code == 200, roles.text
    assert unassigned["id"] in ids(ok(call(client, engineer, "GET", f"{PARTNER}/tickets")))


def test_staff_roles_grant_what_they_say(client: TestClient, world: World) -> None:
    ticket = open_ticket(client, world)
    reader = world.a.others["staff"]  # reads and exports everything
    assert ticket["id"] in ids(ok(call(client, reader, "GET", f"{STAFF}/tickets")))
    refused = call(
        client, reader, "POST", f"{STAFF}/tickets/{ticket['id']}/dispatch", json={"enterprise_id": world.x.link_id}
    )
    assert refused.status_code == 403
    assert call(client, reader, "POST", f"{STAFF}/tickets", json={}).status_code == 403
    # partners never reach the staff side, nor a member without a service role the partner side
    assert call(client, fixit(world)[0], "GET", f"{STAFF}/tickets").status_code == 403
    assert call(client, world.x.people["colleague"], "GET", f"{PARTNER}/tickets").status_code == 403
    # another tenant's ticket is simply not found
    assert call(client, world.b.admin, "GET", f"{STAFF}/tickets/{ticket['id']}").status_code == 404


def test_a_dispatcher_sees_the_regions_of_their_teams(client: TestClient, world: World) -> None:
    admin = world.a.admin
    east, west = (
        ok(call(client, admin, "POST", "/api/interconnect/regions", json={"code": unique(c), "name": c}), 201)["id"]
        for c in ("East", "West")
    )
    email = f"{unique('dispatch')}@{world.a.slug}.example"
    dispatcher = credential(client, world.a.slug, add_user(client, admin, email, "dispatcher"), email)
    team = ok(call(client, admin, "POST", "/api/access/teams", json={"name": unique("East desk")}), 201)
    ok(call(client, admin, "PUT", f"/api/access/teams/{team['id']}/members", json={"user_ids": [dispatcher.user_id]}))
    covered = ok(call(client, admin, "PUT", f"/api/access/teams/{team['id']}/regions", json={"region_ids": [east]}))
    assert covered["region_ids"] == [east]
    in_east = open_ticket(client, world, region_id=east)
    in_west = open_ticket(client, world, region_id=west)
    nowhere = open_ticket(client, world)
    own = open_ticket(client, world, who=dispatcher, region_id=west)
    seen = ids(ok(call(client, dispatcher, "GET", f"{STAFF}/tickets")))
    assert {in_east["id"], own["id"]} <= seen
    assert not {in_west["id"], nowhere["id"]} & seen
    assert call(client, dispatcher, "GET", f"{STAFF}/tickets/{in_west['id']}").status_code == 404
    # the dispatcher works the tickets of their region: dispatches one
    body = {"enterprise_id": world.service["fixit"].link_id}
    assert (
        ok(call(client, dispatcher, "POST", f"{STAFF}/tickets/{in_east['id']}/dispatch", json=body))["status"]
        == "dispatched"
    )
    # the explanation names the region
    explained = ok(
        client.get(
            "/api/access/explain",
            headers=admin.bearer,
            params={"user_id": dispatcher.user_id, "object": "service.ticket", "record_id": in_east["id"]},
        )
    )
    assert [r["kind"] for r in explained["read"]] == ["staff_region"]
    # a service manager sees every region
    email = f"{unique('manager')}@{world.a.slug}.example"
    manager = credential(client, world.a.slug, add_user(client, admin, email, "service_manager"), email)
    assert {in_east["id"], in_west["id"], nowhere["id"], own["id"]} <= ids(
        ok(call(client, manager, "GET", f"{STAFF}/tickets"))
    )


def test_the_customer_s_phone_and_address_reach_a_partner_once_it_accepted(client: TestClient, world: World) -> None:
    dispatcher, engineer = fixit(world)
    ticket = dispatched(client, world)
    for who, path in ((dispatcher, "tickets"), (engineer, "jobs")):
        offered = ok(call(client, who, "GET", f"{PARTNER}/{path}/{ticket['id']}"))
        assert "contact_phone" not in offered and "address" not in offered, offered
        assert offered["contact_name"] == "Mr Lake"  # who to ask for is not hidden
        listed = next(t for t in ok(call(client, who, "GET", f"{PARTNER}/{path}"))["items"] if t["id"] == ticket["id"])
        assert "contact_phone" not in listed and "address" not in listed
        assert "+86 138" not in call(client, who, "GET", f"{PARTNER}/{path}/{ticket['id']}").text
    export = call(client, dispatcher, "GET", f"{PARTNER}/tickets/export.xlsx")
    assert export.status_code == 200 and b"3 Lake Road" not in export.content
    staff_view = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{ticket['id']}"))
    assert staff_view["contact_phone"] == "+86 138 0000 1111"
    accepted = ok(job_act(client, engineer, ticket["id"], "accept"))
    assert accepted["contact_phone"] == "+86 138 0000 1111" and accepted["address"] == "3 Lake Road"
    assert ok(call(client, dispatcher, "GET", f"{PARTNER}/tickets/{ticket['id']}"))["address"] == "3 Lake Road"


def test_the_manufacturer_may_show_the_phone_before_acceptance(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    ticket = dispatched(client, world, engineer=False)
    opened = client.patch("/api/roles/service_dispatcher", headers=world.a.admin.bearer, json={"fields": {}})
    assert opened.status_code == 200, opened.text
    seen = ok(call(client, dispatcher, "GET", f"{PARTNER}/tickets/{ticket['id']}"))
    assert seen["contact_phone"] == "+86 138 0000 1111"
    # a role that does not grant "tickets not yet accepted" sees neither before acceptance
    role = ok(call(client, world.a.admin, "GET", "/api/roles/service_dispatcher"))
    grants = [g for g in role["grants"] if g[0] != "partner.service.offer"]
    ok(call(client, world.a.admin, "PATCH", "/api/roles/service_dispatcher", json={"grants": grants}))
    assert "contact_phone" not in ok(call(client, dispatcher, "GET", f"{PARTNER}/tickets/{ticket['id']}"))


def test_only_an_engineer_of_the_enterprise_may_be_assigned(client: TestClient, world: World) -> None:
    dispatcher, engineer = fixit(world)
    ticket = dispatched(client, world, engineer=False)
    engineers = ok(call(client, dispatcher, "GET", f"{PARTNER}/engineers"))
    assert engineer.user_id in {e["id"] for e in engineers}
    stranger = world.service["other"].admin.user_id
    refused = partner_act(client, dispatcher, ticket["id"], "assign", engineer_id=stranger)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "engineer_id"
    body = {"enterprise_id": world.service["fixit"].link_id, "engineer_id": stranger}
    other = open_ticket(client, world)
    assert staff_act(client, world, other["id"], "dispatch", **body).status_code == 422
    assert ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{other['id']}"))["status"] == "new"
