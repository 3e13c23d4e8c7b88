"""The store refuses, as a field error on both databases, a text longer than its column or a number its
column cannot hold, wherever a service did not check it first; nothing is written."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.world import World, partner_type_id, unique


def test_an_overlong_text_is_a_field_error_and_nothing_is_stored(client: TestClient, world: World) -> None:
    name = unique("Overlong")
    before = client.get("/api/interconnect/quota", headers=world.a.admin.bearer).json()
    for field, value in (("code", "C" * 61), ("contact_phone", "1" * 41)):
        answer = client.post(
            "/api/interconnect/enterprises",
            headers=world.a.admin.bearer,
            json={"name": name, "partner_type_id": partner_type_id(client, world.a.admin), field: value},
        )
        assert answer.status_code == 422, answer.text
        [error] = answer.json()["errors"]
        assert (error["field"], error["code"]) == (field, "too_long"), error
    found = client.get("/api/interconnect/enterprises", params={"q": name}, headers=world.a.admin.bearer).json()
    assert found["total"] == 0
    assert client.get("/api/interconnect/quota", headers=world.a.admin.bearer).json() == before


def test_a_text_as_long_as_its_column_is_stored_whole(client: TestClient, world: World) -> None:
    code = unique("K").ljust(60, "k")
    answer = client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={"name": unique("Fits"), "partner_type_id": partner_type_id(client, world.a.admin), "code": code},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["enterprise"]["code"] == code
