"""Bad input is a clear 4xx problem detail, never a 500, and loses nothing."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient

from portal.config import Settings
from tests.world import World


def problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:portal:problem:{code}"
    assert body["title"] and body["detail"] and body["instance"]
    return body


def test_malformed_json_is_a_400(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/users", headers={**world.a.admin.bearer, "Content-Type": "application/json"}, content=b'{"email": '
    )
    problem(response, 400, "malformed_request")


def test_a_multipart_field_that_is_not_utf8_is_refused_naming_it(client: TestClient, world: World) -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="mode"\r\n\r\n'.encode()
        + b"\x8e\xff\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    headers = {**world.a.admin.bearer, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    body = problem(client.post("/api/interconnect/imports", headers=headers, content=body), 422, "validation_failed")
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("mode", "invalid_encoding")]


def test_wrong_types_name_the_field(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/users", headers=world.a.admin.bearer, json={"email": 42, "display_name": "x", "password": "y" * 12}
    )
    body = problem(response, 422, "validation_failed")
    assert body["errors"][0]["field"] == "email"


def test_unknown_fields_are_refused_not_ignored(client: TestClient, world: World) -> None:
    response = client.patch(
        f"/api/users/{world.a.others['staff'].user_id}",
        headers=world.a.admin.bearer,
        json={"display_name": "ok", "tenant_id": world.b.tenant_id},
    )
    body = problem(response, 422, "validation_failed")
    assert body["errors"] == [{"field": "tenant_id", "message": "is not a known field", "code": "unknown_field"}]
    # and nothing changed
    user = client.get(f"/api/users/{world.a.others['staff'].user_id}", headers=world.a.admin.bearer).json()
    assert user["display_name"] != "ok"


def test_oversized_body_is_a_413(client: TestClient, world: World, settings: Settings) -> None:
    big = {"email": "a@b.example", "display_name": "x" * (settings.max_body_bytes + 10), "password": "y" * 12}
    problem(client.post("/api/users", headers=world.a.admin.bearer, json=big), 413, "payload_too_large")


def test_a_bad_query_parameter_is_a_4xx(client: TestClient, world: World) -> None:
    response = client.get("/api/users?limit=100000", headers=world.a.admin.bearer)
    assert 400 <= response.status_code < 500
    response = client.get("/api/users/not-a-uuid", headers=world.a.admin.bearer)
    assert 400 <= response.status_code < 500


def test_another_tenants_record_is_simply_not_found(client: TestClient, world: World) -> None:
    a_staff = world.a.others["staff"].user_id
    problem(client.get(f"/api/users/{a_staff}", headers=world.b.admin.bearer), 404, "not_found")
    problem(client.get(f"/api/users/{uuid.uuid4()}", headers=world.b.admin.bearer), 404, "not_found")
    problem(
        client.patch(f"/api/users/{a_staff}", headers=world.b.admin.bearer, json={"status": "disabled"}),
        404,
        "not_found",
    )
    assert client.get("/api/me", headers=world.a.others["staff"].bearer).status_code == 200  # untouched


def test_unauthenticated_api_calls_get_a_401_problem(client: TestClient) -> None:
    problem(client.get("/api/users"), 401, "not_authenticated")


def test_validation_errors_leave_stored_data_alone(client: TestClient, world: World) -> None:
    before = client.get("/api/users", headers=world.a.admin.bearer).json()["total"]
    response = client.post(
        "/api/users",
        headers=world.a.admin.bearer,
        json={"email": world.a.admin.email, "display_name": "dup", "password": "long enough pw"},
    )
    problem(response, 409, "email_taken")
    response = client.patch(
        f"/api/users/{world.a.others['staff'].user_id}",
        headers=world.a.admin.bearer,
        json={"display_name": "renamed", "roles": ["emperor"]},
    )
    problem(response, 422, "validation_failed")
    assert client.get("/api/users", headers=world.a.admin.bearer).json()["total"] == before
    staff = client.get(f"/api/users/{world.a.others['staff'].user_id}", headers=world.a.admin.bearer).json()
    assert staff["display_name"] != "renamed"  # the valid half of a refused change was not kept


def test_a_missing_field_is_named(client: TestClient, world: World) -> None:
    response = client.post("/api/users", headers=world.a.admin.bearer, json={"display_name": "x", "password": "y" * 12})
    body = problem(response, 422, "validation_failed")
    assert body["errors"] == [{"field": "email", "message": "is required", "code": "required"}]
