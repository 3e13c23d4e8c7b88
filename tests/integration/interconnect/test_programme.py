"""The partner programme's settings: partner types, tiers and regions, per upstream tenant."""

from __future__ import annotations

from litestar.testing import TestClient

from interconnect.models import PRESET_PARTNER_TYPES
from tests.world import World, unique

PRESETS = {"distributor", "dealer", "agent", "service_provider", "subsidiary", "store"}


def codes(client: TestClient, path: str, headers: dict[str, str]) -> list[str]:
    response = client.get(f"/api/interconnect/{path}", headers=headers)
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()]


def test_sign_up_seeds_the_six_preset_partner_types(client: TestClient, world: World) -> None:
    assert set(PRESET_PARTNER_TYPES) == PRESETS
    for tenant in (world.a, world.b):
        types = client.get("/api/interconnect/partner-types", headers=tenant.admin.bearer).json()
        assert {t["code"] for t in types} == PRESETS
        assert all(t["preset"] is True and t["active"] is True for t in types)
    # each tenant has its own rows
    a_ids = {t["id"] for t in client.get("/api/interconnect/partner-types", headers=world.a.admin.bearer).json()}
    b_ids = {t["id"] for t in client.get("/api/interconnect/partner-types", headers=world.b.admin.bearer).json()}
    assert not a_ids & b_ids


def test_sign_up_seeds_gold_silver_bronze_best_first(client: TestClient, world: World) -> None:
    tiers = client.get("/api/interconnect/tiers", headers=world.a.admin.bearer).json()
    assert [(t["code"], t["rank"]) for t in tiers] == [("gold", 30), ("silver", 20), ("bronze", 10)]


def test_a_custom_partner_type_is_the_tenants_own(client: TestClient, world: World) -> None:
    code = unique("installer").lower()
    created = client.post(
        "/api/interconnect/partner-types", headers=world.a.admin.bearer, json={"code": code, "name": "Installer"}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["code"] == code and body["name"] == "Installer"
    assert body["preset"] is False and body["active"] is True

    assert code in codes(client, "partner-types", world.a.admin.bearer)
    # B never sees it, cannot touch it, and cannot use it
    assert code not in codes(client, "partner-types", world.b.admin.bearer)
    patched = client.patch(
        f"/api/interconnect/partner-types/{body['id']}", headers=world.b.admin.bearer, json={"name": "Mine now"}
    )
    assert patched.status_code == 404
    used = client.post(
        "/api/interconnect/enterprises",
        headers=world.b.admin.bearer,
        json={"name": unique("B partner"), "partner_type_id": body["id"]},
    )
    assert used.status_code == 422
    assert [e["field"] for e in used.json()["errors"]] == ["partner_type"]
    # the same code is free in B: codes are unique per tenant
    again_in_b = client.post(
        "/api/interconnect/partner-types", headers=world.b.admin.bearer, json={"code": code, "name": "B's installer"}
    )
    assert again_in_b.status_code == 201
    assert again_in_b.json()["id"] != body["id"]


def test_duplicate_codes_are_refused_for_types_tiers_and_regions(client: TestClient, world: World) -> None:
    for path in ("partner-types", "tiers", "regions"):
        code = unique("dup").lower()
        first = client.post(
            f"/api/interconnect/{path}", headers=world.a.admin.bearer, json={"code": code, "name": "First"}
        )
        assert first.status_code == 201, (path, first.text)
        # codes are compared lower-case and trimmed
        second = client.post(
            f"/api/interconnect/{path}", headers=world.a.admin.bearer, json={"code": f" {code.upper()} ", "name": "Two"}
        )
        assert second.status_code == 409, (path, second.text)
        assert second.json()["code"] == "code_taken"
        assert codes(client, path, world.a.admin.bearer).count(code) == 1


def test_a_preset_code_cannot_be_created_again(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/interconnect/partner-types", headers=world.a.admin.bearer, json={"code": "dealer", "name": "Dealer 2"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "code_taken"
    tiers = client.post("/api/interconnect/tiers", headers=world.a.admin.bearer, json={"code": "gold", "name": "G"})
    assert tiers.status_code == 409
    assert tiers.json()["code"] == "code_taken"


def test_custom_tier_takes_its_place_by_rank(client: TestClient, world: World) -> None:
    code = unique("platinum").lower()
    created = client.post(
        "/api/interconnect/tiers", headers=world.a.admin.bearer, json={"code": code, "name": "Platinum", "rank": 40}
    )
    assert created.status_code == 201, created.text
    assert created.json()["rank"] == 40
    assert codes(client, "tiers", world.a.admin.bearer) == [code, "gold", "silver", "bronze"]
    assert codes(client, "tiers", world.b.admin.bearer) == ["gold", "silver", "bronze"]


def test_regions_start_empty_and_stay_with_their_tenant(client: TestClient, world: World) -> None:
    assert codes(client, "regions", world.a.admin.bearer) == []
    code = unique("east").lower()
    created = client.post(
        "/api/interconnect/regions", headers=world.a.admin.bearer, json={"code": code, "name": "East China"}
    )
    assert created.status_code == 201, created.text
    assert codes(client, "regions", world.a.admin.bearer) == [code]
    assert codes(client, "regions", world.b.admin.bearer) == []


def test_invalid_codes_and_names_are_field_errors(client: TestClient, world: World) -> None:
    for body, field in (
        ({"code": "has space", "name": "X"}, "code"),
        ({"code": "-leading", "name": "X"}, "code"),
        ({"code": "x" * 41, "name": "X"}, "code"),
        ({"code": unique("ok").lower(), "name": "   "}, "name"),
    ):
        response = client.post("/api/interconnect/partner-types", headers=world.a.admin.bearer, json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_failed"
        assert [e["field"] for e in response.json()["errors"]] == [field], body


def test_a_deactivated_type_can_no_longer_be_used(client: TestClient, world: World) -> None:
    created = client.post(
        "/api/interconnect/partner-types",
        headers=world.a.admin.bearer,
        json={"code": unique("temp").lower(), "name": "Temporary"},
    ).json()
    off = client.patch(
        f"/api/interconnect/partner-types/{created['id']}", headers=world.a.admin.bearer, json={"active": False}
    )
    assert off.status_code == 200
    assert off.json()["active"] is False
    for path, body in (
        ("enterprises", {"name": unique("Late"), "partner_type_id": created["id"]}),
        ("invitations", {"kind": "code", "partner_type_id": created["id"]}),
    ):
        response = client.post(f"/api/interconnect/{path}", headers=world.a.admin.bearer, json=body)
        assert response.status_code == 422, (path, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["partner_type"]


def test_staff_may_read_the_programme_but_not_change_it(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"]
    assert client.get("/api/interconnect/partner-types", headers=staff.bearer).status_code == 200
    response = client.post(
        "/api/interconnect/partner-types", headers=staff.bearer, json={"code": unique("nope").lower(), "name": "N"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
