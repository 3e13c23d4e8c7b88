"""Invitation links and codes: accepting one creates an active enterprise and its first admin; every
refusal leaves no enterprise, no quota used, and the invitation's uses as they were."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from interconnect.invitations import InvitationSigner
from portal.config import Settings
from tests.integration.interconnect.support import (
    accept,
    accept_body,
    bearer,
    create_invitation,
    enterprise,
    expire_invitation,
    identity_exists,
    invitation,
    new_email,
    partner_me,
    programme_state,
    search,
    sign_in,
    token_of,
)
from tests.world import PASSWORD, World, partner_type_id, unique


def until(moment: str) -> timedelta:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")) - datetime.now(UTC)


def refused(client: TestClient, world: World, invitation_id: str | None, settings: Settings, **fields: Any) -> Any:
    """Try an acceptance that must fail, and check it left nothing behind in either tenant."""
    email = fields.setdefault("email", new_email("refused"))
    before_a = programme_state(client, world.a, invitation_id)
    before_b = programme_state(client, world.b)
    response = accept(client, **fields)
    assert response.status_code >= 400, response.text
    assert programme_state(client, world.a, invitation_id) == before_a
    assert programme_state(client, world.b) == before_b
    if email and "@" in email:
        assert not identity_exists(settings, email.strip().lower())
    return response


def test_a_link_is_single_use_and_lasts_fourteen_days_by_default(client: TestClient, world: World) -> None:
    link = create_invitation(client, world.a, "link")
    assert link["kind"] == "link" and link["code"] is None
    assert link["max_uses"] == 1 and link["uses"] == 0 and link["revoked_at"] is None
    assert timedelta(days=13, hours=23) < until(link["expires_at"]) <= timedelta(days=14)
    assert link["url"].startswith("http://testserver.local/join/")
    assert link["partner_type_id"] == partner_type_id(client, world.a.admin)


def test_a_code_is_multi_use_and_does_not_expire_by_default(client: TestClient, world: World) -> None:
    code = create_invitation(client, world.a, "code", "distributor")
    assert code["kind"] == "code" and code["url"] is None
    assert code["code"] and len(code["code"].replace("-", "")) == 8
    assert code["max_uses"] is None and code["expires_at"] is None


def test_invalid_invitation_settings_are_field_errors(client: TestClient, world: World) -> None:
    type_id = partner_type_id(client, world.a.admin)
    for body, field in (
        ({"kind": "postcard", "partner_type_id": type_id}, "kind"),
        ({"kind": "link", "partner_type_id": type_id, "max_uses": 0}, "max_uses"),
        ({"kind": "link", "partner_type_id": type_id, "expires_in_days": 0}, "expires_in_days"),
        ({"kind": "link", "partner_type_id": type_id, "expires_in_days": 366}, "expires_in_days"),
        ({"kind": "link", "partner_type_id": partner_type_id(client, world.b.admin)}, "partner_type"),
    ):
        response = client.post("/api/interconnect/invitations", headers=world.a.admin.bearer, json=body)
        assert response.status_code == 422, body
        assert [e["field"] for e in response.json()["errors"]] == [field], body


def test_another_tenants_tier_or_parent_is_refused_clearly(client: TestClient, world: World) -> None:
    b_tier = client.get("/api/interconnect/tiers", headers=world.b.admin.bearer).json()[0]["id"]
    b_link = client.post(
        "/api/interconnect/enterprises",
        headers=world.b.admin.bearer,
        json={"name": unique("B partner"), "partner_type_id": partner_type_id(client, world.b.admin)},
    ).json()["enterprise"]["id"]
    type_id = partner_type_id(client, world.a.admin)
    before = len(client.get("/api/interconnect/invitations", headers=world.a.admin.bearer).json())
    parent = client.post(
        "/api/interconnect/invitations",
        headers=world.a.admin.bearer,
        json={"kind": "code", "partner_type_id": type_id, "parent_id": b_link},
    )
    assert parent.status_code == 422, parent.text
    assert [e["field"] for e in parent.json()["errors"]] == ["parent"]
    # a tier the programme does not have is a field error, as when creating an enterprise directly
    tier = client.post(
        "/api/interconnect/invitations",
        headers=world.a.admin.bearer,
        json={"kind": "code", "partner_type_id": type_id, "tier_id": b_tier},
    )
    assert tier.status_code == 422, tier.text
    assert [e["field"] for e in tier.json()["errors"]] == ["tier"]
    assert len(client.get("/api/interconnect/invitations", headers=world.a.admin.bearer).json()) == before


def test_accepting_a_link_creates_an_active_enterprise_whose_admin_can_sign_in(
    client: TestClient, world: World
) -> None:
    gold = client.get("/api/interconnect/tiers", headers=world.a.admin.bearer).json()[0]
    link = create_invitation(client, world.a, "link", "distributor", tier_id=gold["id"])
    before = programme_state(client, world.a)
    email = new_email("north-admin")
    name = unique("North Supply")
    response = accept(client, token=token_of(link), enterprise_name=name, display_name="Nora North", email=email)
    assert response.status_code == 201, response.text
    accepted = response.json()
    assert accepted["workspace"] == world.a.slug

    detail = enterprise(client, world.a, accepted["enterprise_id"])
    assert detail["enterprise"]["name"] == name
    assert detail["enterprise"]["status"] == "active"
    assert detail["enterprise"]["partner_type_id"] == partner_type_id(client, world.a.admin, "distributor")
    assert detail["enterprise"]["tier_id"] == gold["id"]
    [admin] = detail["users"]
    assert admin["id"] == accepted["membership_id"]
    assert (admin["email"], admin["status"], admin["is_enterprise_admin"]) == (email, "active", True)

    after = programme_state(client, world.a)
    assert after["enterprises"] == before["enterprises"] + 1
    assert after["quota"]["enterprises_used"] == before["quota"]["enterprises_used"] + 1
    assert after["quota"]["external_users_used"] == before["quota"]["external_users_used"] + 1
    assert invitation(client, world.a, link["id"])["uses"] == 1

    signed_in = sign_in(client, world.a.slug, email)
    assert signed_in.status_code == 200, signed_in.text
    me = partner_me(client, signed_in.json()["access_token"]).json()
    assert me["enterprise_id"] == accepted["enterprise_id"] and me["enterprise_name"] == name
    assert me["is_enterprise_admin"] is True and me["workspace"] == world.a.slug
    # the new admin manages their own enterprise straight away
    colleagues = client.get("/api/partner/colleagues", headers=bearer(signed_in.json()["access_token"]))
    assert colleagues.status_code == 200
    assert [c["id"] for c in colleagues.json()["items"]] == [accepted["membership_id"]]


def test_an_invitation_under_a_parent_places_the_new_enterprise_in_the_tree(client: TestClient, world: World) -> None:
    code = create_invitation(client, world.a, "code", "store", parent_id=world.x.link_id)
    accepted = accept(client, workspace=world.a.slug, code=code["code"])
    assert accepted.status_code == 201, accepted.text
    store_id = accepted.json()["enterprise_id"]
    assert enterprise(client, world.a, store_id)["enterprise"]["parent_id"] == world.x.link_id
    assert {i["id"] for i in search(client, world.a, under=world.x.link_id)["items"]} == {world.x.link_id, store_id}


def test_a_code_serves_many_partners_and_tolerates_how_it_is_typed(client: TestClient, world: World) -> None:
    code = create_invitation(client, world.a, "code")
    typed = [code["code"], code["code"].lower(), code["code"].replace("-", "- ").lower()]
    ids = set()
    for text in typed:
        response = accept(client, workspace=world.a.slug.upper(), code=f" {text} ")
        assert response.status_code == 201, (text, response.text)
        ids.add(response.json()["enterprise_id"])
    assert len(ids) == 3
    assert invitation(client, world.a, code["id"])["uses"] == 3


def test_a_used_link_is_gone(client: TestClient, world: World, settings: Settings) -> None:
    link = create_invitation(client, world.a, "link")
    assert accept(client, token=token_of(link)).status_code == 201
    response = refused(client, world, link["id"], settings, token=token_of(link))
    assert response.status_code == 410
    assert response.json()["code"] == "invitation_used_up"
    assert invitation(client, world.a, link["id"])["uses"] == 1


def test_a_code_with_a_use_limit_is_gone_once_used_up(client: TestClient, world: World, settings: Settings) -> None:
    code = create_invitation(client, world.a, "code", max_uses=2)
    for _ in range(2):
        assert accept(client, workspace=world.a.slug, code=code["code"]).status_code == 201
    response = refused(client, world, code["id"], settings, workspace=world.a.slug, code=code["code"])
    assert response.status_code == 410
    assert response.json()["code"] == "invitation_used_up"


def test_a_revoked_invitation_is_gone(client: TestClient, world: World, settings: Settings) -> None:
    link = create_invitation(client, world.a, "link")
    code = create_invitation(client, world.a, "code")
    for item in (link, code):
        revoked = client.post(f"/api/interconnect/invitations/{item['id']}/revoke", headers=world.a.admin.bearer)
        assert revoked.status_code == 200
        assert revoked.json()["revoked_at"] is not None
    listed = {i["id"] for i in client.get("/api/interconnect/invitations", headers=world.a.admin.bearer).json()}
    assert not {link["id"], code["id"]} & listed  # gone from the active list, kept with include_inactive
    for item, fields in ((link, {"token": token_of(link)}), (code, {"workspace": world.a.slug, "code": code["code"]})):
        response = refused(client, world, item["id"], settings, **fields)
        assert response.status_code == 410, response.text
        assert response.json()["code"] == "invitation_revoked"


def test_another_tenant_cannot_revoke_an_invitation(client: TestClient, world: World) -> None:
    link = create_invitation(client, world.a, "link")
    response = client.post(f"/api/interconnect/invitations/{link['id']}/revoke", headers=world.b.admin.bearer)
    assert response.status_code == 404
    assert invitation(client, world.a, link["id"])["revoked_at"] is None
    assert link["id"] not in client.get("/api/interconnect/invitations", headers=world.b.admin.bearer).text


def test_an_expired_invitation_is_gone(client: TestClient, world: World, settings: Settings) -> None:
    link = create_invitation(client, world.a, "link", expires_in_days=1)
    code = create_invitation(client, world.a, "code", expires_in_days=3)
    assert timedelta(hours=23) < until(link["expires_at"]) <= timedelta(days=1)
    for item in (link, code):
        expire_invitation(settings, item["id"])
    listed = {i["id"] for i in client.get("/api/interconnect/invitations", headers=world.a.admin.bearer).json()}
    assert not {link["id"], code["id"]} & listed
    for item, fields in ((link, {"token": token_of(link)}), (code, {"workspace": world.a.slug, "code": code["code"]})):
        response = refused(client, world, item["id"], settings, **fields)
        assert response.status_code == 410, response.text
        assert response.json()["code"] == "invitation_expired"


def test_a_mistyped_link_is_not_found(client: TestClient, world: World, settings: Settings) -> None:
    link = create_invitation(client, world.a, "link")
    token = token_of(link)
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    for bad in (flipped, token[:-5], token.replace(".", "", 1), "not-a-token", f"{token}.extra"):
        response = refused(client, world, link["id"], settings, token=bad)
        assert response.status_code == 404, (bad, response.text)
        assert response.json()["code"] == "invitation_invalid"
    assert accept(client, token=token).status_code == 201  # the real link still works


def test_an_invitation_of_tenant_a_does_not_work_under_tenant_b(
    client: TestClient, world: World, settings: Settings
) -> None:
    link = create_invitation(client, world.a, "link")
    a_hex, invitation_hex, _signature = token_of(link).split(".")
    b_hex = uuid.UUID(world.b.tenant_id).hex
    # B's id pasted into A's link: the signature no longer matches
    swapped = ".".join((b_hex, invitation_hex, _signature))
    # correctly signed for B's id (as if the key had leaked): B has no such invitation
    signed_for_b = InvitationSigner(settings.secret_key).token(uuid.UUID(world.b.tenant_id), uuid.UUID(link["id"]))
    assert signed_for_b.split(".")[1] == invitation_hex and a_hex != b_hex
    for token in (swapped, signed_for_b):
        response = refused(client, world, link["id"], settings, token=token)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "invitation_invalid"
        assert world.a.slug not in response.text and world.a.name not in response.text


def test_a_wrong_code_is_a_field_error(client: TestClient, world: World, settings: Settings) -> None:
    code = create_invitation(client, world.a, "code")
    for workspace, typed in ((world.a.slug, "ZZZZ-ZZZZ"), (world.a.slug, "x"), (world.b.slug, code["code"])):
        response = refused(client, world, code["id"], settings, workspace=workspace, code=typed)
        assert response.status_code == 422, (workspace, typed, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["code"]


def test_an_unknown_workspace_is_not_found(client: TestClient, world: World, settings: Settings) -> None:
    code = create_invitation(client, world.a, "code")
    response = refused(client, world, code["id"], settings, workspace=unique("nowhere"), code=code["code"])
    assert response.status_code == 404


def test_neither_link_nor_code_is_a_field_error(client: TestClient, world: World, settings: Settings) -> None:
    for fields in ({}, {"workspace": world.a.slug}, {"code": "ABCD-EFGH"}):
        response = refused(client, world, None, settings, **fields)
        assert response.status_code == 422, fields
        assert [e["field"] for e in response.json()["errors"]] == ["token"]


def test_invalid_person_fields_are_refused_and_the_invitation_stays_usable(
    client: TestClient, world: World, settings: Settings
) -> None:
    link = create_invitation(client, world.a, "link")
    token = token_of(link)
    cases: list[tuple[dict[str, Any], set[str]]] = [
        ({"email": "not-an-email"}, {"email"}),
        ({"password": "short"}, {"password"}),
        ({"display_name": "   "}, {"display_name"}),
        ({"email": None, "mobile": None}, {"email"}),
        ({"email": None, "mobile": "call me"}, {"mobile"}),
        ({"email": "bad", "password": "short", "display_name": ""}, {"email", "password", "display_name"}),
        ({"enterprise_name": "  "}, {"name"}),
    ]
    for fields, invalid in cases:
        response = refused(client, world, link["id"], settings, token=token, **fields)
        assert response.status_code == 422, (fields, response.text)
        assert response.json()["code"] == "validation_failed"
        assert {e["field"] for e in response.json()["errors"]} == invalid, fields
    response = refused(client, world, link["id"], settings, token=token, password="")
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["password"]
    # none of the refusals used up the single-use link
    assert accept(client, token=token).status_code == 201


@pytest.mark.postgres_only
def test_concurrent_acceptances_of_a_single_use_link_make_one_enterprise(client: TestClient, world: World) -> None:
    link = create_invitation(client, world.a, "link")
    before = programme_state(client, world.a)
    bodies = [accept_body(token=token_of(link)) for _ in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda body: client.post("/api/partner/invitations/accept", json=body), bodies))
    assert sorted(r.status_code for r in responses) == [201] + [410] * 9, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 410} == {"invitation_used_up"}
    after = programme_state(client, world.a)
    assert after["enterprises"] == before["enterprises"] + 1
    assert after["quota"]["enterprises_used"] == before["quota"]["enterprises_used"] + 1
    assert after["quota"]["external_users_used"] == before["quota"]["external_users_used"] + 1
    assert invitation(client, world.a, link["id"])["uses"] == 1


def test_wrong_types_and_unknown_fields_are_refused(client: TestClient, world: World, settings: Settings) -> None:
    link = create_invitation(client, world.a, "link")
    for fields in ({"password": 12345678}, {"admin": True}):
        response = refused(client, world, link["id"], settings, token=token_of(link), **fields)
        assert response.status_code == 422, fields


def test_external_users_cannot_create_invitations(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/interconnect/invitations",
        headers=world.x.admin.bearer,
        json={"kind": "code", "partner_type_id": partner_type_id(client, world.a.admin)},
    )
    assert response.status_code == 403
    staff = client.post(
        "/api/interconnect/invitations",
        headers=world.a.others["staff"].bearer,
        json={"kind": "code", "partner_type_id": partner_type_id(client, world.a.admin)},
    )
    assert staff.status_code == 403


def test_the_person_accepting_chooses_their_password(client: TestClient, world: World) -> None:
    code = create_invitation(client, world.a, "code")
    email = new_email("chooser")
    chosen = f"{PASSWORD} of mine"
    assert accept(client, workspace=world.a.slug, code=code["code"], email=email, password=chosen).status_code == 201
    assert sign_in(client, world.a.slug, email, chosen).status_code == 200
