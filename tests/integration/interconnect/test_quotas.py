"""Interconnect quotas: counted on every way in, refused with a clear error when used up, never exceeded
even by concurrent acceptances, and given back when people or enterprises leave."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from litestar.testing import TestClient

from portal.config import Settings
from tests.integration.interconnect.support import (
    accept,
    accept_body,
    add_colleague,
    create_invitation,
    invitation,
    leave_slots,
    new_email,
    programme_state,
    quota,
    quota_row,
    setup_token,
    token_of,
)
from tests.world import PASSWORD, World, partner_type_id, unique


def test_quota_counts_the_enterprises_and_people_of_each_tenant(client: TestClient, world: World) -> None:
    # the world: A has dealers X and Y, their two admins and X's colleague, and the service partners
    # FixIt (its admin and engineer) and Other (its admin), and North, a partner running its own workspace
    # (no people of A's: its people are its workspace's); B has nobody yet
    assert quota(client, world.a) == {
        "max_enterprises": 50,
        "enterprises_used": 5,
        "max_external_users": 500,
        "external_users_used": 6,
    }
    assert quota(client, world.b) == {
        "max_enterprises": 50,
        "enterprises_used": 0,
        "max_external_users": 500,
        "external_users_used": 0,
    }


def test_every_way_in_is_counted(client: TestClient, world: World) -> None:
    start = quota(client, world.a)
    client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={"name": unique("No admin"), "partner_type_id": partner_type_id(client, world.a.admin)},
    )
    client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={
            "name": unique("With admin"),
            "partner_type_id": partner_type_id(client, world.a.admin),
            "admin": {"display_name": "Admin", "email": new_email()},
        },
    )
    add_colleague(client, world.x.admin)
    code = create_invitation(client, world.a, "code")
    assert accept(client, workspace=world.a.slug, code=code["code"]).status_code == 201
    now = quota(client, world.a)
    assert now["enterprises_used"] == start["enterprises_used"] + 3
    assert now["external_users_used"] == start["external_users_used"] + 3


def test_staff_may_read_the_quota_and_partners_may_not(client: TestClient, world: World) -> None:
    assert client.get("/api/interconnect/quota", headers=world.a.others["staff"].bearer).status_code == 200
    assert client.get("/api/interconnect/quota", headers=world.x.admin.bearer).status_code == 403


def test_a_used_up_enterprise_quota_refuses_the_next_enterprise_clearly(
    client: TestClient, world: World, settings: Settings
) -> None:
    leave_slots(settings, world.a.tenant_id, enterprises=0)
    code = create_invitation(client, world.a, "code")  # inviting is free; joining takes a slot
    before = programme_state(client, world.a, code["id"])

    direct = client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={"name": unique("One too many"), "partner_type_id": partner_type_id(client, world.a.admin)},
    )
    assert direct.status_code == 409
    problem = direct.json()
    assert problem["code"] == "quota_exceeded"
    assert "50" in problem["detail"] or str(before["quota"]["max_enterprises"]) in problem["detail"]

    joined = accept(client, workspace=world.a.slug, code=code["code"])
    assert joined.status_code == 409
    assert joined.json()["code"] == "quota_exceeded"
    assert programme_state(client, world.a, code["id"]) == before
    # B's quota is its own
    b = client.post(
        "/api/interconnect/enterprises",
        headers=world.b.admin.bearer,
        json={"name": unique("B partner"), "partner_type_id": partner_type_id(client, world.b.admin)},
    )
    assert b.status_code == 201


def test_the_last_slot_can_be_taken_and_then_no_more(client: TestClient, world: World, settings: Settings) -> None:
    leave_slots(settings, world.a.tenant_id, enterprises=1)
    code = create_invitation(client, world.a, "code")
    assert accept(client, workspace=world.a.slug, code=code["code"]).status_code == 201
    second = accept(client, workspace=world.a.slug, code=code["code"])
    assert second.status_code == 409
    assert second.json()["code"] == "quota_exceeded"
    row = quota_row(settings, world.a.tenant_id)
    assert row["enterprises_used"] == row["max_enterprises"]
    assert invitation(client, world.a, code["id"])["uses"] == 1


def test_a_used_up_user_quota_refuses_the_next_colleague(client: TestClient, world: World, settings: Settings) -> None:
    leave_slots(settings, world.a.tenant_id, users=1)
    add_colleague(client, world.x.admin)
    email = new_email("surplus")
    refused = client.post(
        "/api/partner/colleagues", headers=world.x.admin.bearer, json={"display_name": "Surplus", "email": email}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "quota_exceeded"
    usage = quota(client, world.a)
    assert usage["external_users_used"] == usage["max_external_users"]
    listed = client.get("/api/partner/colleagues", headers=world.x.admin.bearer).json()["items"]
    assert email not in {c["email"] for c in listed}


def test_a_used_up_user_quota_refuses_an_acceptance_and_takes_no_enterprise_slot(
    client: TestClient, world: World, settings: Settings
) -> None:
    leave_slots(settings, world.a.tenant_id, users=0)
    link = create_invitation(client, world.a, "link")
    before = programme_state(client, world.a, link["id"])
    response = accept(client, token=token_of(link))
    assert response.status_code == 409
    assert response.json()["code"] == "quota_exceeded"
    assert programme_state(client, world.a, link["id"]) == before  # the enterprise slot was given back too
    direct = client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={
            "name": unique("Admin included"),
            "partner_type_id": partner_type_id(client, world.a.admin),
            "admin": {"display_name": "Nobody", "email": new_email()},
        },
    )
    assert direct.status_code == 409
    assert direct.json()["code"] == "quota_exceeded"
    assert programme_state(client, world.a, link["id"]) == before


def test_disabling_gives_a_user_slot_back_and_enabling_takes_one(
    client: TestClient, world: World, settings: Settings
) -> None:
    colleague = world.x.people["colleague"]
    start = quota(client, world.a)
    off = client.patch(
        f"/api/partner/colleagues/{colleague.user_id}", headers=world.x.admin.bearer, json={"status": "disabled"}
    )
    assert off.status_code == 200
    assert quota(client, world.a)["external_users_used"] == start["external_users_used"] - 1
    # the freed slot goes to someone else; now the disabled colleague cannot come back
    leave_slots(settings, world.a.tenant_id, users=0)
    back = client.patch(
        f"/api/partner/colleagues/{colleague.user_id}", headers=world.x.admin.bearer, json={"status": "active"}
    )
    assert back.status_code == 409
    assert back.json()["code"] == "quota_exceeded"
    detail = client.get(f"/api/interconnect/enterprises/{world.x.link_id}", headers=world.a.admin.bearer).json()
    assert next(u for u in detail["users"] if u["id"] == colleague.user_id)["status"] == "disabled"
    leave_slots(settings, world.a.tenant_id, users=1)
    assert (
        client.patch(
            f"/api/partner/colleagues/{colleague.user_id}", headers=world.x.admin.bearer, json={"status": "active"}
        ).status_code
        == 200
    )
    assert quota(client, world.a)["external_users_used"] == start["external_users_used"]


def test_a_colleague_still_setting_a_password_holds_a_slot(client: TestClient, world: World) -> None:
    start = quota(client, world.a)
    added = add_colleague(client, world.x.admin)
    assert added["colleague"]["status"] == "invited"
    assert quota(client, world.a)["external_users_used"] == start["external_users_used"] + 1
    assert (
        client.post(
            "/api/partner/setup", json={"token": setup_token(added["setup_url"]), "password": PASSWORD}
        ).status_code
        == 204
    )
    assert quota(client, world.a)["external_users_used"] == start["external_users_used"] + 1  # not counted twice


@pytest.mark.postgres_only
def test_concurrent_acceptances_never_exceed_the_quota(client: TestClient, world: World, settings: Settings) -> None:
    code = create_invitation(client, world.a, "code")
    leave_slots(settings, world.a.tenant_id, enterprises=1)
    limits = quota_row(settings, world.a.tenant_id)
    assert limits["enterprises_used"] + 1 == limits["max_enterprises"]
    bodies = [accept_body(workspace=world.a.slug, code=code["code"]) for _ in range(20)]

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda body: client.post("/api/partner/invitations/accept", json=body), bodies))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"quota_exceeded"}
    row = quota_row(settings, world.a.tenant_id)
    assert row["enterprises_used"] == row["max_enterprises"]
    assert row["external_users_used"] == limits["external_users_used"] + 1
    assert invitation(client, world.a, code["id"])["uses"] == 1
    winner = next(r for r in responses if r.status_code == 201).json()
    names = {b["enterprise_name"] for b in bodies}
    listed = client.get("/api/interconnect/enterprises", headers=world.a.admin.bearer, params={"limit": 200}).json()
    assert [e["id"] for e in listed["items"] if e["name"] in names] == [winner["enterprise_id"]]
