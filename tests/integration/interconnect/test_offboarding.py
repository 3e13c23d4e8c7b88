"""Offboarding: suspending or terminating an enterprise, or disabling one of its people, takes effect on
the very next request; terminating keeps the record and its history and frees the quota."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.integration.interconnect.support import (
    change_status,
    create_enterprise,
    enterprise,
    new_email,
    partner_me,
    quota,
    refresh,
    search,
    sign_in,
)
from tests.world import World


def test_suspending_ends_the_enterprises_sessions_at_once_and_only_its_own(client: TestClient, world: World) -> None:
    people = [world.x.admin, world.x.people["colleague"]]
    assert all(partner_me(client, p.token).status_code == 200 for p in people)

    suspended = change_status(client, world.a, world.x.link_id, "suspended", "audit pending")
    assert suspended["status"] == "suspended"
    for person in people:
        assert partner_me(client, person.token).status_code == 401
        assert refresh(client, person.refresh_token).status_code == 401
    assert sign_in(client, world.a.slug, world.x.admin.email).status_code == 401
    # Y goes on as before
    assert partner_me(client, world.y.admin.token).status_code == 200
    assert refresh(client, world.y.admin.refresh_token).status_code == 200
    # suspension is not termination: the people keep their memberships
    users = enterprise(client, world.a, world.x.link_id)["users"]
    assert {u["status"] for u in users} == {"active"}


def test_reactivating_restores_access_after_a_new_sign_in(client: TestClient, world: World) -> None:
    change_status(client, world.a, world.x.link_id, "suspended")
    change_status(client, world.a, world.x.link_id, "active", "cleared")
    assert partner_me(client, world.x.admin.token).status_code == 401  # the old tokens stay dead
    assert refresh(client, world.x.admin.refresh_token).status_code == 401
    for person in (world.x.admin, world.x.people["colleague"]):
        signed_in = sign_in(client, world.a.slug, person.email)
        assert signed_in.status_code == 200, signed_in.text
        assert partner_me(client, signed_in.json()["access_token"]).json()["membership_id"] == person.user_id


def test_terminating_keeps_the_record_disables_its_people_and_frees_the_quota(client: TestClient, world: World) -> None:
    before = quota(client, world.a)
    change_status(client, world.a, world.x.link_id, "suspended", "late payments")
    terminated = change_status(client, world.a, world.x.link_id, "terminated", "contract ended")
    assert terminated["status"] == "terminated" and terminated["terminated_at"] is not None

    after = quota(client, world.a)
    assert after["enterprises_used"] == before["enterprises_used"] - 1
    assert after["external_users_used"] == before["external_users_used"] - 2  # X's admin and colleague

    detail = enterprise(client, world.a, world.x.link_id)
    assert detail["enterprise"]["name"] == world.x.name
    assert detail["enterprise"]["status"] == "terminated"
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in detail["history"]][-2:] == [
        ("active", "suspended", "late payments"),
        ("suspended", "terminated", "contract ended"),
    ]
    assert [h["to_status"] for h in detail["history"]][:2] == ["invited", "active"]
    assert {u["id"]: u["status"] for u in detail["users"]} == {
        world.x.admin.user_id: "disabled",
        world.x.people["colleague"].user_id: "disabled",
    }
    assert world.x.link_id in {i["id"] for i in search(client, world.a, status="terminated")["items"]}
    for person in (world.x.admin, world.x.people["colleague"]):
        assert partner_me(client, person.token).status_code == 401
        assert refresh(client, person.refresh_token).status_code == 401
    assert partner_me(client, world.y.admin.token).status_code == 200

    again = client.post(
        f"/api/interconnect/enterprises/{world.x.link_id}/status",
        headers=world.a.admin.bearer,
        json={"status": "active"},
    )
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert quota(client, world.a) == after


def test_the_people_of_a_terminated_enterprise_cannot_be_re_enabled(client: TestClient, world: World) -> None:
    change_status(client, world.a, world.y.link_id, "terminated")
    before = quota(client, world.a)
    response = client.patch(
        f"/api/interconnect/users/{world.y.admin.user_id}", headers=world.a.admin.bearer, json={"status": "active"}
    )
    # they could never sign in again, so enabling them would only take back a freed quota slot
    assert response.status_code == 409, response.text
    assert quota(client, world.a) == before
    [admin] = enterprise(client, world.a, world.y.link_id)["users"]
    assert admin["status"] == "disabled"


def test_terminating_an_active_enterprise_directly_frees_its_slots(client: TestClient, world: World) -> None:
    before = quota(client, world.a)
    change_status(client, world.a, world.y.link_id, "terminated")
    after = quota(client, world.a)
    assert after["enterprises_used"] == before["enterprises_used"] - 1
    assert after["external_users_used"] == before["external_users_used"] - 1
    assert partner_me(client, world.y.admin.token).status_code == 401


def test_people_already_disabled_are_not_given_back_twice(client: TestClient, world: World) -> None:
    start = quota(client, world.a)
    colleague = world.x.people["colleague"]
    off = client.patch(
        f"/api/interconnect/users/{colleague.user_id}", headers=world.a.admin.bearer, json={"status": "disabled"}
    )
    assert off.status_code == 200
    change_status(client, world.a, world.x.link_id, "terminated")
    end = quota(client, world.a)
    assert end["external_users_used"] == start["external_users_used"] - 2
    assert end["enterprises_used"] == start["enterprises_used"] - 1


def test_terminating_an_invitation_not_taken_up_frees_its_admins_slot(client: TestClient, world: World) -> None:
    created = create_enterprise(client, world.a, "Never joined", admin={"display_name": "Late", "email": new_email()})
    before = quota(client, world.a)
    change_status(client, world.a, created["enterprise"]["id"], "terminated", "no answer")
    after = quota(client, world.a)
    assert after["enterprises_used"] == before["enterprises_used"] - 1
    assert after["external_users_used"] == before["external_users_used"] - 1
    [admin] = enterprise(client, world.a, created["enterprise"]["id"])["users"]
    assert admin["status"] == "disabled"


def test_disabling_a_membership_ends_its_sessions_at_once(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    before = quota(client, world.a)
    off = client.patch(
        f"/api/interconnect/users/{colleague.user_id}", headers=world.a.admin.bearer, json={"status": "disabled"}
    )
    assert off.status_code == 200
    assert (off.json()["id"], off.json()["status"], off.json()["email"]) == (
        colleague.user_id,
        "disabled",
        colleague.email,
    )
    assert partner_me(client, colleague.token).status_code == 401
    assert refresh(client, colleague.refresh_token).status_code == 401
    assert quota(client, world.a)["external_users_used"] == before["external_users_used"] - 1
    # the rest of the enterprise is unaffected
    assert partner_me(client, world.x.admin.token).status_code == 200
    listed = client.get("/api/partner/colleagues", headers=world.x.admin.bearer).json()["items"]
    assert next(c for c in listed if c["id"] == colleague.user_id)["status"] == "disabled"

    on = client.patch(
        f"/api/interconnect/users/{colleague.user_id}", headers=world.a.admin.bearer, json={"status": "active"}
    )
    assert on.status_code == 200 and on.json()["status"] == "active"
    assert partner_me(client, colleague.token).status_code == 401
    assert sign_in(client, world.a.slug, colleague.email).status_code == 200
    assert quota(client, world.a)["external_users_used"] == before["external_users_used"]


def test_only_the_upstreams_admin_may_disable_its_external_users(client: TestClient, world: World) -> None:
    url = f"/api/interconnect/users/{world.x.people['colleague'].user_id}"
    assert client.patch(url, headers=world.a.others["staff"].bearer, json={"status": "disabled"}).status_code == 403
    other = client.patch(url, headers=world.b.admin.bearer, json={"status": "disabled"})
    assert other.status_code == 404
    assert world.x.people["colleague"].email not in other.text
    assert partner_me(client, world.x.people["colleague"].token).status_code == 200
