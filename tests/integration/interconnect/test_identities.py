"""External users: one identity across upstreams with a membership (and status) per upstream, switching
workspaces, signing in by mobile number, and one-time set-password links."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from tests.integration.interconnect.support import (
    accept,
    add_colleague,
    bearer,
    create_invitation,
    invitation,
    new_email,
    new_mobile,
    partner_me,
    programme_state,
    setup_token,
    sign_in,
)
from tests.world import PASSWORD, World, unique


def join_b_as_x_admin(client: TestClient, world: World, password: str = PASSWORD) -> tuple[dict[str, Any], Any]:
    """X's admin (a partner of A) accepts an invite code of tenant B with the same email."""
    code = create_invitation(client, world.b, "code")
    response = accept(
        client,
        workspace=world.b.slug,
        code=code["code"],
        email=world.x.admin.email.upper(),  # typed differently, still the same person
        display_name="X admin at B",
        password=password,
    )
    return code, response


def workspaces(client: TestClient, token: str) -> list[dict[str, object]]:
    response = client.get("/api/partner/workspaces", headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_partner_of_a_joins_b_with_the_same_login_and_uses_both(client: TestClient, world: World) -> None:
    _code, response = join_b_as_x_admin(client, world)
    assert response.status_code == 201, response.text
    joined = response.json()
    assert joined["workspace"] == world.b.slug

    in_a = sign_in(client, world.a.slug, world.x.admin.email)
    in_b = sign_in(client, world.b.slug, world.x.admin.email)
    assert in_a.status_code == in_b.status_code == 200
    me_a = partner_me(client, in_a.json()["access_token"]).json()
    me_b = partner_me(client, in_b.json()["access_token"]).json()
    assert (me_a["workspace"], me_a["membership_id"], me_a["enterprise_id"]) == (
        world.a.slug,
        world.x.admin.user_id,
        world.x.link_id,
    )
    assert (me_b["workspace"], me_b["membership_id"], me_b["enterprise_id"]) == (
        world.b.slug,
        joined["membership_id"],
        joined["enterprise_id"],
    )
    assert me_b["display_name"] == "X admin at B"  # each upstream has its own membership

    listed = workspaces(client, in_a.json()["access_token"])
    assert sorted((w["slug"], w["current"]) for w in listed) == sorted([(world.a.slug, True), (world.b.slug, False)])
    assert {w["slug"]: w["name"] for w in listed}[world.b.slug] == world.b.name
    # each upstream still sees only its own side
    b_users = client.get(f"/api/interconnect/enterprises/{joined['enterprise_id']}/users", headers=world.b.admin.bearer)
    assert [u["id"] for u in b_users.json()["items"]] == [joined["membership_id"]]
    assert world.x.admin.user_id not in b_users.text and world.x.link_id not in b_users.text
    assert (
        client.get(f"/api/interconnect/enterprises/{joined['enterprise_id']}", headers=world.a.admin.bearer).status_code
        == 404
    )
    # and B's colleagues of this person are not A's
    b_colleagues = client.get("/api/partner/colleagues", headers=bearer(in_b.json()["access_token"]))
    assert [c["id"] for c in b_colleagues.json()["items"]] == [joined["membership_id"]]


def test_switching_workspace_needs_no_password(client: TestClient, world: World) -> None:
    _code, response = join_b_as_x_admin(client, world)
    assert response.status_code == 201
    switched = client.post(f"/api/partner/workspaces/{world.b.slug}/token", headers=world.x.admin.bearer)
    assert switched.status_code == 200, switched.text
    tokens = switched.json()
    assert tokens["access_token"] and tokens["refresh_token"]
    me = partner_me(client, tokens["access_token"]).json()
    assert (me["workspace"], me["membership_id"]) == (world.b.slug, response.json()["membership_id"])
    assert [w["slug"] for w in workspaces(client, tokens["access_token"]) if w["current"]] == [world.b.slug]
    # the B token opens nothing of A's
    a_side = client.get("/api/partner/colleagues", headers=bearer(tokens["access_token"]))
    assert world.x.people["colleague"].user_id not in a_side.text
    # the refresh token of the new session works like any other
    assert client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 200
    # switching back to A
    back = client.post(f"/api/partner/workspaces/{world.a.slug}/token", headers=bearer(tokens["access_token"]))
    assert back.status_code == 200
    assert partner_me(client, back.json()["access_token"]).json()["membership_id"] == world.x.admin.user_id


def test_switching_to_a_workspace_without_a_membership_is_refused(client: TestClient, world: World) -> None:
    assert [w["slug"] for w in workspaces(client, world.y.admin.token)] == [world.a.slug]
    response = client.post(f"/api/partner/workspaces/{world.b.slug}/token", headers=world.y.admin.bearer)
    assert response.status_code == 409
    assert response.json()["code"] == "no_membership"
    unknown = client.post(f"/api/partner/workspaces/{unique('nowhere')}/token", headers=world.y.admin.bearer)
    assert unknown.status_code == 404


def test_a_wrong_existing_password_creates_nothing(client: TestClient, world: World) -> None:
    code = create_invitation(client, world.b, "code")
    before = programme_state(client, world.b, code["id"])
    response = accept(
        client, workspace=world.b.slug, code=code["code"], email=world.x.admin.email, password=f"{PASSWORD} not"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"  # the same answer as any sign-in refusal
    assert programme_state(client, world.b, code["id"]) == before
    assert [w["slug"] for w in workspaces(client, world.x.admin.token)] == [world.a.slug]
    # the account's own password is unchanged
    assert sign_in(client, world.a.slug, world.x.admin.email).status_code == 200


def test_joining_the_same_upstream_twice_is_refused_and_creates_nothing(client: TestClient, world: World) -> None:
    code = create_invitation(client, world.a, "code")
    before = programme_state(client, world.a, code["id"])
    response = accept(client, workspace=world.a.slug, code=code["code"], email=world.y.admin.email, password=PASSWORD)
    assert response.status_code == 409
    assert response.json()["code"] == "already_member"
    assert programme_state(client, world.a, code["id"]) == before


def test_an_email_and_a_mobile_of_two_different_people_are_refused(client: TestClient, world: World) -> None:
    mobile = new_mobile()
    code_a = create_invitation(client, world.a, "code")
    assert accept(client, workspace=world.a.slug, code=code_a["code"], email=None, mobile=mobile).status_code == 201
    code_b = create_invitation(client, world.b, "code")
    before = programme_state(client, world.b, code_b["id"])
    response = accept(client, workspace=world.b.slug, code=code_b["code"], email=world.x.admin.email, mobile=mobile)
    assert response.status_code == 409
    assert response.json()["code"] == "identity_mismatch"
    assert programme_state(client, world.b, code_b["id"]) == before


def test_each_membership_has_its_own_status(client: TestClient, world: World) -> None:
    _code, response = join_b_as_x_admin(client, world)
    membership_in_b = response.json()["membership_id"]
    b_token = sign_in(client, world.b.slug, world.x.admin.email).json()["access_token"]

    off = client.patch(
        f"/api/interconnect/users/{membership_in_b}", headers=world.b.admin.bearer, json={"status": "disabled"}
    )
    assert off.status_code == 200
    assert off.json()["status"] == "disabled"
    assert partner_me(client, b_token).status_code == 401
    assert sign_in(client, world.b.slug, world.x.admin.email).status_code == 401
    # A is untouched: the same person keeps working there
    assert partner_me(client, world.x.admin.token).status_code == 200
    assert sign_in(client, world.a.slug, world.x.admin.email).status_code == 200
    assert [w["slug"] for w in workspaces(client, world.x.admin.token)] == [world.a.slug]
    switched = client.post(f"/api/partner/workspaces/{world.b.slug}/token", headers=world.x.admin.bearer)
    assert switched.status_code == 409
    assert switched.json()["code"] == "no_membership"
    # and B cannot reach A's membership of the same person
    reach = client.patch(
        f"/api/interconnect/users/{world.x.admin.user_id}", headers=world.b.admin.bearer, json={"status": "disabled"}
    )
    assert reach.status_code == 404
    assert partner_me(client, world.x.admin.token).status_code == 200


def test_signing_in_with_a_mobile_number(client: TestClient, world: World) -> None:
    mobile = new_mobile()
    link = create_invitation(client, world.a, "link")
    response = accept(client, token=link["url"].rsplit("/", 1)[1], email=None, mobile=mobile)
    assert response.status_code == 201, response.text
    typed = f"{mobile[:3]} {mobile[3:6]}-{mobile[6:10]}-{mobile[10:]}"
    for login in (mobile, typed):
        signed_in = sign_in(client, world.a.slug, login)
        assert signed_in.status_code == 200, (login, signed_in.text)
        me = partner_me(client, signed_in.json()["access_token"]).json()
        assert me["sign_in"] == mobile and me["membership_id"] == response.json()["membership_id"]
    # a colleague with both may use either
    email = new_email("both")
    colleague_mobile = new_mobile()
    added = add_colleague(client, world.x.admin, email=email, mobile=colleague_mobile)
    client.post("/api/partner/setup", json={"token": setup_token(added["setup_url"]), "password": PASSWORD})
    for login in (email, colleague_mobile):
        assert sign_in(client, world.a.slug, login).status_code == 200, login


def test_a_setup_link_works_once(client: TestClient, world: World) -> None:
    added = add_colleague(client, world.x.admin)
    token = setup_token(added["setup_url"])
    assert client.post("/api/partner/setup", json={"token": token, "password": PASSWORD}).status_code == 204
    again = client.post("/api/partner/setup", json={"token": token, "password": f"{PASSWORD} again"})
    assert again.status_code == 410
    assert again.json()["code"] == "setup_link_used"
    # the password set the first time still holds
    assert sign_in(client, world.a.slug, added["colleague"]["email"]).status_code == 200


def test_a_mistyped_setup_link_is_not_found(client: TestClient, world: World) -> None:
    added = add_colleague(client, world.x.admin)
    token = setup_token(added["setup_url"])
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (flipped, token[:-4], "nonsense", f"{token}x"):
        response = client.post("/api/partner/setup", json={"token": bad, "password": PASSWORD})
        assert response.status_code == 404, (bad, response.text)
        assert response.json()["code"] == "setup_link_invalid"
    # none of that spent the real link
    assert client.post("/api/partner/setup", json={"token": token, "password": PASSWORD}).status_code == 204


def test_a_weak_password_is_refused_and_the_link_stays_usable(client: TestClient, world: World) -> None:
    added = add_colleague(client, world.x.admin)
    token = setup_token(added["setup_url"])
    for weak in ("short", ""):
        response = client.post("/api/partner/setup", json={"token": token, "password": weak})
        assert response.status_code == 422, weak
        assert [e["field"] for e in response.json()["errors"]] == ["password"]
    listed = client.get("/api/partner/colleagues", headers=world.x.admin.bearer).json()["items"]
    assert next(c for c in listed if c["id"] == added["colleague"]["id"])["status"] == "invited"
    assert client.post("/api/partner/setup", json={"token": token, "password": PASSWORD}).status_code == 204


def test_a_setup_link_of_one_tenant_does_not_open_another(client: TestClient, world: World) -> None:
    added = add_colleague(client, world.x.admin)
    token = setup_token(added["setup_url"])
    a_hex, b_hex = uuid.UUID(world.a.tenant_id).hex, uuid.UUID(world.b.tenant_id).hex
    assert token.startswith(f"{a_hex}.")
    forged = b_hex + token[len(a_hex) :]
    response = client.post("/api/partner/setup", json={"token": forged, "password": PASSWORD})
    assert response.status_code == 404
    assert response.json()["code"] == "setup_link_invalid"
    assert client.post("/api/partner/setup", json={"token": token, "password": PASSWORD}).status_code == 204


def test_an_invitation_accepted_by_a_known_person_counts_as_used(client: TestClient, world: World) -> None:
    code, response = join_b_as_x_admin(client, world)
    assert response.status_code == 201
    assert invitation(client, world.b, code["id"])["uses"] == 1
    usage = client.get("/api/interconnect/quota", headers=world.b.admin.bearer).json()
    assert (usage["enterprises_used"], usage["external_users_used"]) == (1, 1)


def test_a_suspended_enterprise_drops_out_of_the_workspace_list(client: TestClient, world: World) -> None:
    _code, response = join_b_as_x_admin(client, world)
    assert response.status_code == 201
    b_token = sign_in(client, world.b.slug, world.x.admin.email).json()["access_token"]
    suspended = client.post(
        f"/api/interconnect/enterprises/{world.x.link_id}/status",
        headers=world.a.admin.bearer,
        json={"status": "suspended"},
    )
    assert suspended.status_code == 200
    assert [w["slug"] for w in workspaces(client, b_token)] == [world.b.slug]
    switched = client.post(f"/api/partner/workspaces/{world.a.slug}/token", headers=bearer(b_token))
    assert switched.status_code == 409
    assert switched.json()["code"] == "no_membership"
    assert partner_me(client, b_token).status_code == 200  # B's side goes on
