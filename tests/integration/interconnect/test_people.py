"""Partner self-administration: an enterprise admin manages the people of their own enterprise and only
those; who may call which side of the API."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient

from tests.integration.interconnect.support import (
    accept,
    add_colleague,
    bearer,
    create_invitation,
    new_email,
    new_mobile,
    partner_me,
    refresh,
    setup_token,
    sign_in,
)
from tests.world import PASSWORD, World, partner_type_id, unique


def colleague_ids(client: TestClient, headers: dict[str, str]) -> list[str]:
    response = client.get("/api/partner/colleagues", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return [c["id"] for c in body["items"]]


def test_an_admin_lists_only_their_own_enterprises_people(client: TestClient, world: World) -> None:
    response = client.get("/api/partner/colleagues", headers=world.x.admin.bearer)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [c["id"] for c in items] == [world.x.admin.user_id, world.x.people["colleague"].user_id]
    assert {c["enterprise_id"] for c in items} == {world.x.link_id}
    assert [c["is_enterprise_admin"] for c in items] == [True, False]
    for marker in world.y.markers() | world.a.markers() | world.b.markers():
        assert marker not in response.text

    y_view = client.get("/api/partner/colleagues", headers=world.y.admin.bearer)
    assert [c["id"] for c in y_view.json()["items"]] == [world.y.admin.user_id]
    for marker in world.x.markers():
        assert marker not in y_view.text


def test_adding_a_colleague_gives_a_setup_link_that_activates_them(client: TestClient, world: World) -> None:
    email = f"new-{uuid.uuid4().hex[:8]}@partner.example"
    response = client.post(
        "/api/partner/colleagues",
        headers=world.x.admin.bearer,
        json={"display_name": "Nina New", "email": email, "title": "Buyer"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    colleague = body["colleague"]
    assert colleague["status"] == "invited"
    assert (colleague["email"], colleague["title"], colleague["enterprise_id"]) == (email, "Buyer", world.x.link_id)
    assert colleague["is_enterprise_admin"] is False
    assert body["setup_url"].startswith("http://testserver.local/setup/")
    assert colleague["id"] in colleague_ids(client, world.x.admin.bearer)

    done = client.post("/api/partner/setup", json={"token": setup_token(body["setup_url"]), "password": PASSWORD})
    assert done.status_code == 204
    listed = client.get("/api/partner/colleagues", headers=world.x.admin.bearer).json()["items"]
    assert next(c for c in listed if c["id"] == colleague["id"])["status"] == "active"
    signed_in = sign_in(client, world.a.slug, email)
    assert signed_in.status_code == 200, signed_in.text
    me = partner_me(client, signed_in.json()["access_token"]).json()
    assert (me["membership_id"], me["enterprise_id"], me["is_enterprise_admin"]) == (
        colleague["id"],
        world.x.link_id,
        False,
    )


def test_a_colleague_made_admin_can_manage_the_enterprise_too(client: TestClient, world: World) -> None:
    added = add_colleague(client, world.x.admin, admin=True)
    assert added["colleague"]["is_enterprise_admin"] is True
    client.post("/api/partner/setup", json={"token": setup_token(added["setup_url"]), "password": PASSWORD})
    token = sign_in(client, world.a.slug, added["colleague"]["email"]).json()["access_token"]
    assert world.x.people["colleague"].user_id in colleague_ids(client, bearer(token))


def test_invalid_colleague_fields_are_refused(client: TestClient, world: World) -> None:
    before = colleague_ids(client, world.x.admin.bearer)
    for body, fields in (
        ({"display_name": "No contact"}, {"email"}),
        ({"display_name": " ", "email": "nobody@partner.example"}, {"display_name"}),
        ({"display_name": "Bad", "email": "not-an-email"}, {"email"}),
        ({"display_name": "Bad", "mobile": "12"}, {"mobile"}),
    ):
        response = client.post("/api/partner/colleagues", headers=world.x.admin.bearer, json=body)
        assert response.status_code == 422, body
        assert {e["field"] for e in response.json()["errors"]} == fields, body
    unknown = client.post(
        "/api/partner/colleagues",
        headers=world.x.admin.bearer,
        json={"display_name": "Sneaky", "email": f"{uuid.uuid4().hex[:8]}@p.example", "link_id": world.y.link_id},
    )
    assert unknown.status_code == 422
    assert colleague_ids(client, world.x.admin.bearer) == before


def test_a_person_already_in_the_programme_cannot_be_added_twice(client: TestClient, world: World) -> None:
    for email in (world.x.people["colleague"].email, world.y.admin.email):
        response = client.post(
            "/api/partner/colleagues", headers=world.x.admin.bearer, json={"display_name": "Again", "email": email}
        )
        assert response.status_code == 409, email
        assert response.json()["code"] == "already_member"
    assert world.y.admin.user_id not in colleague_ids(client, world.x.admin.bearer)


def test_adding_a_person_known_elsewhere_shows_nothing_another_upstream_holds(client: TestClient, world: World) -> None:
    # someone who joined tenant B with an email and a mobile number
    email, mobile = new_email("elsewhere"), new_mobile()
    code = create_invitation(client, world.b, "code")
    assert accept(client, workspace=world.b.slug, code=code["code"], email=email, mobile=mobile).status_code == 201
    # X's admin (tenant A) adds them by email only: A was never given the mobile number
    response = client.post(
        "/api/partner/colleagues", headers=world.x.admin.bearer, json={"display_name": "Known", "email": email}
    )
    assert response.status_code == 201, response.text
    assert mobile not in response.text
    assert mobile not in client.get("/api/partner/colleagues", headers=world.x.admin.bearer).text
    assert (
        mobile
        not in client.get(f"/api/interconnect/enterprises/{world.x.link_id}/users", headers=world.a.admin.bearer).text
    )


def test_disabling_a_colleague_ends_their_sessions_and_enabling_needs_a_new_sign_in(
    client: TestClient, world: World
) -> None:
    colleague = world.x.people["colleague"]
    url = f"/api/partner/colleagues/{colleague.user_id}"
    assert partner_me(client, colleague.token).status_code == 200

    off = client.patch(url, headers=world.x.admin.bearer, json={"status": "disabled"})
    assert off.status_code == 200
    assert off.json()["status"] == "disabled"
    assert partner_me(client, colleague.token).status_code == 401
    assert refresh(client, colleague.refresh_token).status_code == 401
    assert sign_in(client, world.a.slug, colleague.email).status_code == 401
    assert partner_me(client, world.x.admin.token).status_code == 200  # the admin's own session lives on

    on = client.patch(url, headers=world.x.admin.bearer, json={"status": "active"})
    assert on.status_code == 200
    assert on.json()["status"] == "active"
    assert partner_me(client, colleague.token).status_code == 401  # the old tokens stay dead
    again = sign_in(client, world.a.slug, colleague.email)
    assert again.status_code == 200
    assert partner_me(client, again.json()["access_token"]).status_code == 200


def test_an_admin_cannot_disable_themself(client: TestClient, world: World) -> None:
    response = client.patch(
        f"/api/partner/colleagues/{world.x.admin.user_id}", headers=world.x.admin.bearer, json={"status": "disabled"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "disable_self"
    assert partner_me(client, world.x.admin.token).status_code == 200


def test_an_unknown_status_is_a_field_error(client: TestClient, world: World) -> None:
    response = client.patch(
        f"/api/partner/colleagues/{world.x.people['colleague'].user_id}",
        headers=world.x.admin.bearer,
        json={"status": "banished"},
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["status"]


def test_another_enterprises_admin_cannot_reach_a_colleague(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    for status in ("disabled", "active"):
        response = client.patch(
            f"/api/partner/colleagues/{colleague.user_id}", headers=world.y.admin.bearer, json={"status": status}
        )
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert colleague.email not in response.text
    # nor X's admin, which is the same as an id that does not exist
    missing = client.patch(
        f"/api/partner/colleagues/{uuid.uuid4()}", headers=world.y.admin.bearer, json={"status": "disabled"}
    )
    assert missing.status_code == 404
    assert partner_me(client, colleague.token).status_code == 200


def test_a_plain_member_cannot_manage_colleagues(client: TestClient, world: World) -> None:
    member = world.x.people["colleague"]
    assert partner_me(client, member.token).status_code == 200
    calls = (
        client.get("/api/partner/colleagues", headers=member.bearer),
        client.post(
            "/api/partner/colleagues",
            headers=member.bearer,
            json={"display_name": "Friend", "email": f"{uuid.uuid4().hex[:8]}@partner.example"},
        ),
        client.patch(
            f"/api/partner/colleagues/{world.x.admin.user_id}", headers=member.bearer, json={"status": "disabled"}
        ),
    )
    for response in calls:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "permission_denied"
    assert partner_me(client, world.x.admin.token).status_code == 200


def test_internal_users_cannot_use_the_partner_api(client: TestClient, world: World) -> None:
    for headers in (world.a.admin.bearer, world.a.others["staff"].bearer, world.b.admin.bearer):
        for method, path, body in (
            ("GET", "/api/partner/me", None),
            ("GET", "/api/partner/workspaces", None),
            ("GET", "/api/partner/colleagues", None),
            ("POST", "/api/partner/colleagues", {"display_name": "X", "email": "x@partner.example"}),
            ("PATCH", f"/api/partner/colleagues/{world.x.people['colleague'].user_id}", {"status": "disabled"}),
        ):
            response = client.request(method, path, headers=headers, json=body)
            assert response.status_code == 403, (method, path, response.text)
    assert partner_me(client, world.x.people["colleague"].token).status_code == 200


def test_external_users_cannot_use_the_upstream_api(client: TestClient, world: World) -> None:
    type_id = partner_type_id(client, world.a.admin)
    for cred in (world.x.admin, world.x.people["colleague"]):
        for method, path, body in (
            ("GET", "/api/interconnect/partner-types", None),
            ("GET", "/api/interconnect/quota", None),
            ("GET", "/api/interconnect/enterprises", None),
            ("GET", f"/api/interconnect/enterprises/{world.x.link_id}", None),
            ("GET", f"/api/interconnect/enterprises/{world.x.link_id}/users", None),
            ("POST", "/api/interconnect/enterprises", {"name": unique("Self"), "partner_type_id": type_id}),
            ("POST", f"/api/interconnect/enterprises/{world.y.link_id}/status", {"status": "suspended"}),
            ("PATCH", f"/api/interconnect/users/{world.y.admin.user_id}", {"status": "disabled"}),
            ("GET", "/api/interconnect/invitations", None),
            ("POST", "/api/interconnect/invitations", {"kind": "code", "partner_type_id": type_id}),
            ("GET", "/api/audit", None),
        ):
            response = client.request(method, path, headers=cred.bearer, json=body)
            assert response.status_code == 403, (method, path, response.text)
    assert partner_me(client, world.y.admin.token).status_code == 200


def test_the_partner_api_needs_a_token(client: TestClient, world: World) -> None:
    for method, path in (("GET", "/api/partner/me"), ("GET", "/api/partner/colleagues")):
        response = client.request(method, path)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_the_upstream_sees_each_enterprises_people(client: TestClient, world: World) -> None:
    response = client.get(f"/api/interconnect/enterprises/{world.x.link_id}/users", headers=world.a.admin.bearer)
    assert response.status_code == 200
    assert [u["id"] for u in response.json()["items"]] == [world.x.admin.user_id, world.x.people["colleague"].user_id]
    assert response.json()["total"] == 2
    paged = client.get(
        f"/api/interconnect/enterprises/{world.x.link_id}/users",
        headers=world.a.admin.bearer,
        params={"limit": 1, "offset": 1},
    ).json()
    assert [u["id"] for u in paged["items"]] == [world.x.people["colleague"].user_id] and paged["total"] == 2
