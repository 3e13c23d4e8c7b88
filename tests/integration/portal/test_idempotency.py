"""Idempotency-Key on creating POSTs: replay, conflict, and concurrent duplicates."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

from litestar.testing import TestClient

from tests.world import PASSWORD, World


def new_user(email: str) -> dict[str, str]:
    return {"email": email, "display_name": "Idem", "password": PASSWORD}


def count_users(client: TestClient, world: World) -> int:
    return client.get("/api/users", headers=world.a.admin.bearer).json()["total"]


def test_same_key_and_body_replays_the_saved_response(client: TestClient, world: World) -> None:
    headers = {**world.a.admin.bearer, "Idempotency-Key": str(uuid.uuid4())}
    body = new_user(f"{uuid.uuid4().hex[:8]}@a.example")
    before = count_users(client, world)
    first = client.post("/api/users", headers=headers, json=body)
    second = client.post("/api/users", headers=headers, json=dict(reversed(list(body.items()))))  # same, reordered
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert count_users(client, world) == before + 1


def test_same_key_with_a_different_body_is_a_conflict(client: TestClient, world: World) -> None:
    headers = {**world.a.admin.bearer, "Idempotency-Key": str(uuid.uuid4())}
    assert (
        client.post("/api/users", headers=headers, json=new_user(f"{uuid.uuid4().hex[:8]}@a.example")).status_code
        == 201
    )
    other = client.post("/api/users", headers=headers, json=new_user(f"{uuid.uuid4().hex[:8]}@a.example"))
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"


def test_keys_belong_to_their_user(client: TestClient, world: World) -> None:
    key = str(uuid.uuid4())
    a = client.post(
        "/api/users",
        headers={**world.a.admin.bearer, "Idempotency-Key": key},
        json=new_user(f"{uuid.uuid4().hex[:8]}@a.example"),
    )
    b = client.post(
        "/api/users",
        headers={**world.b.admin.bearer, "Idempotency-Key": key},
        json=new_user(f"{uuid.uuid4().hex[:8]}@b.example"),
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_a_failed_attempt_does_not_burn_the_key(client: TestClient, world: World) -> None:
    headers = {**world.a.admin.bearer, "Idempotency-Key": str(uuid.uuid4())}
    email = f"{uuid.uuid4().hex[:8]}@a.example"
    failed = client.post("/api/users", headers=headers, json={**new_user(email), "password": "short"})
    assert failed.status_code == 422
    retried = client.post("/api/users", headers=headers, json={**new_user(email), "password": "short"})
    assert retried.status_code == 422  # evaluated again, not a replayed failure
    assert retried.headers.get("idempotent-replayed") is None


def test_concurrent_duplicates_create_one_record(client: TestClient, world: World) -> None:
    headers = {**world.a.admin.bearer, "Idempotency-Key": str(uuid.uuid4())}
    body = new_user(f"{uuid.uuid4().hex[:8]}@a.example")
    before = count_users(client, world)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: client.post("/api/users", headers=headers, json=body), range(8)))
    assert [r.status_code for r in responses] == [201] * 8, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert count_users(client, world) == before + 1


def test_an_invalid_key_is_a_clear_error(client: TestClient, world: World) -> None:
    headers = {**world.a.admin.bearer, "Idempotency-Key": "x" * 300}
    response = client.post("/api/users", headers=headers, json=new_user(f"{uuid.uuid4().hex[:8]}@a.example"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
