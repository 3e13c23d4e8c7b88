"""The ERP connector through HTTP: integration keys (shown once, hashed, scoped, rotated with an overlap,
revoked, expired), bulk upserts by external id of products, price lists, stock and customers (idempotent,
per-item results, nothing half-written, the apps' own checks), and the change feed (every change once, in
order; on PostgreSQL under concurrent writers). Every test also checks tenant B sees nothing of A's."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select, update

from apps.ordering.admin import CatalogAdmin
from portal.config import Settings
from portal.db.context import SYSTEM, tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.outbox import Event, OutboxEvent
from portal.services import Services
from sync.delivery.engine import DeliveryEngine
from sync.delivery.worker import subscribers_of
from sync.integrations.feed import objects_for, record
from sync.integrations.models import FeedChange, IntegrationKey
from tests.db import run_with_database
from tests.integration.sync.support import FAST, drain, run_engine
from tests.world import TenantWorld, World, background_jobs_ended, unique

ALL_SCOPES = [
    "integration.products",
    "integration.price_lists",
    "integration.stock",
    "integration.customers",
    "integration.changes",
]


def make_key(client: TestClient, tenant: TenantWorld, scopes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/integrations/keys",
        headers=tenant.admin.bearer,
        json={"name": unique("ERP"), "scopes": scopes or ALL_SCOPES, **extra},
    )
    assert response.status_code == 201, response.text
    return response.json()


def bearer(key: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {key['key']}"}


def upsert(client: TestClient, key: dict[str, Any], path: str, items: list[dict[str, Any]], **headers: str) -> Any:
    return client.post(f"/api/integration/{path}", headers={**bearer(key), **headers}, json={"items": items})


def feed(client: TestClient, key: dict[str, Any], cursor: str = "0", limit: int = 500) -> dict[str, Any]:
    response = client.get(f"/api/integration/changes?cursor={cursor}&limit={limit}", headers=bearer(key))
    assert response.status_code == 200, response.text
    return response.json()


def feed_end(client: TestClient, key: dict[str, Any]) -> str:
    """Deliver what is pending, then read the feed to its end: the cursor to ask from."""
    assert background_jobs_ended(client)
    cursor = "0"
    while True:
        page = feed(client, key, cursor)
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return cursor


def warehouse_code(client: TestClient, tenant: TenantWorld) -> str:
    warehouses = client.get("/api/ordering/warehouses", headers=tenant.admin.bearer)
    assert warehouses.status_code == 200, warehouses.text
    return str(warehouses.json()[0]["code"])


# --- keys ---


def test_a_key_is_shown_once_kept_hashed_and_reaches_only_the_integration_api(
    client: TestClient, world: World, settings: Settings
) -> None:
    created = make_key(client, world.a, ["integration.changes"], expires_in_days=30)
    key, shown = created["integration_key"], created["key"]
    assert shown.startswith("pik_") and key["state"] == "active" and key["hint"] == shown.split(".")[2][:6]
    listed = client.get("/api/integrations/keys", headers=world.a.admin.bearer)
    assert shown not in listed.text and key["id"] in listed.text
    assert key["id"] not in client.get("/api/integrations/keys", headers=world.b.admin.bearer).text

    async def stored(db: Database) -> str:
        async with db.session(SYSTEM) as session:
            row = await session.scalar(select(IntegrationKey).where(IntegrationKey.id == uuid.UUID(key["id"])))
            assert row is not None
            return row.secret_hash

    secret_hash = run_with_database(settings, stored)
    assert len(secret_hash) == 64 and shown.split(".")[2] not in secret_hash

    ok = client.get("/api/integration/changes", headers={"Authorization": f"Bearer {shown}"})
    assert ok.status_code == 200, ok.text
    # never on staff or partner routes, nor with a scope it does not hold
    for path in ("/api/me", "/api/ordering/products", "/api/partner/ordering/orders", "/api/integrations/keys"):
        refused = client.get(path, headers={"Authorization": f"Bearer {shown}"})
        assert refused.status_code == 401, (path, refused.text)
    scoped = client.post("/api/integration/products", headers={"Authorization": f"Bearer {shown}"}, json={"items": []})
    assert scoped.status_code == 403 and scoped.json()["code"] == "insufficient_scope"
    # a staff token or a partner's never passes on the integration API
    for token in (world.a.admin.bearer, world.x.admin.bearer):
        assert client.get("/api/integration/changes", headers=token).status_code == 403
    # a forged secret for the same key id
    forged = shown[: shown.rindex(".") + 1] + "A" * 43
    assert client.get("/api/integration/changes", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    # the same key id claimed for tenant B: looked up in B, found nowhere
    other = "pik_" + uuid.UUID(world.b.tenant_id).hex + shown[4 + 32 :]
    assert client.get("/api/integration/changes", headers={"Authorization": f"Bearer {other}"}).status_code == 401

    # the requests are logged for the workspace, refusals with their problem
    log = client.get("/api/integrations/requests", headers=world.a.admin.bearer).json()
    mine = [r for r in log if r["key_id"] == key["id"]]
    assert {(r["path"], r["status"], r["problem"]) for r in mine} >= {
        ("/api/integration/changes", 200, None),
        ("/api/integration/products", 403, "insufficient_scope"),
    }
    assert client.get("/api/integrations/requests", headers=world.b.admin.bearer).json() == []
    after = client.get("/api/integrations/keys", headers=world.a.admin.bearer).json()
    assert next(k for k in after if k["id"] == key["id"])["last_used_at"] is not None


def test_bad_key_requests_are_refused_with_the_field(client: TestClient, world: World) -> None:
    cases = [
        ({"name": "", "scopes": ALL_SCOPES}, "name"),
        ({"name": "x" * 101, "scopes": ALL_SCOPES}, "name"),
        ({"name": "ERP", "scopes": []}, "scopes"),
        ({"name": "ERP", "scopes": ["integration.orders"]}, "scopes"),
        ({"name": "ERP", "scopes": ALL_SCOPES, "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ERP", "scopes": ALL_SCOPES, "expires_in_days": 10**9}, "expires_in_days"),
        ({"name": "ERP\x07", "scopes": ALL_SCOPES}, "name"),
    ]
    before = len(client.get("/api/integrations/keys", headers=world.a.admin.bearer).json())
    for body, field in cases:
        response = client.post("/api/integrations/keys", headers=world.a.admin.bearer, json=body)
        assert response.status_code in (400, 422), (body, response.text)
        assert field in response.text, (body, response.text)
    assert len(client.get("/api/integrations/keys", headers=world.a.admin.bearer).json()) == before
    staff = client.post(
        "/api/integrations/keys", headers=world.a.others["staff"].bearer, json={"name": "ERP", "scopes": ALL_SCOPES}
    )
    assert staff.status_code == 403


def test_a_retried_key_creation_makes_one_key_and_never_shows_it_twice(client: TestClient, world: World) -> None:
    headers = {**world.a.admin.bearer, "Idempotency-Key": str(uuid.uuid4())}
    body = {"name": unique("ERP"), "scopes": ALL_SCOPES}
    first = client.post("/api/integrations/keys", headers=headers, json=body)
    assert first.status_code == 201
    second = client.post("/api/integrations/keys", headers=headers, json=body)
    assert second.status_code == 409 and second.json()["code"] == "idempotent_answer_withheld"
    assert first.json()["key"] not in second.text
    names = [k["name"] for k in client.get("/api/integrations/keys", headers=world.a.admin.bearer).json()]
    assert names.count(body["name"]) == 1


def test_rotation_overlaps_then_the_old_key_stops_and_revocation_is_at_once(
    client: TestClient, world: World, settings: Settings
) -> None:
    old = make_key(client, world.a)
    rotated = client.post(
        f"/api/integrations/keys/{old['integration_key']['id']}/rotate",
        headers=world.a.admin.bearer,
        json={"overlap_hours": 24},
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["key"] != old["key"] and new["integration_key"]["scopes"] == sorted(ALL_SCOPES)
    assert feed(client, old) and feed(client, new)  # both work during the overlap
    keys = {k["id"]: k for k in client.get("/api/integrations/keys", headers=world.a.admin.bearer).json()}
    assert keys[old["integration_key"]["id"]]["state"] == "retiring"
    assert keys[old["integration_key"]["id"]]["replaced_by"] == new["integration_key"]["id"]
    again = client.post(
        f"/api/integrations/keys/{old['integration_key']['id']}/rotate",
        headers=world.a.admin.bearer,
        json={"overlap_hours": 24},
    )
    assert again.status_code == 422
    wrong = client.post(
        f"/api/integrations/keys/{new['integration_key']['id']}/rotate",
        headers=world.a.admin.bearer,
        json={"overlap_hours": 5},
    )
    assert wrong.status_code == 422 and "overlap_hours" in wrong.text

    # the overlap ends: the old key stops
    async def end_overlap(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            await session.execute(
                update(IntegrationKey)
                .where(IntegrationKey.id == uuid.UUID(old["integration_key"]["id"]))
                .values(retires_at=utcnow() - timedelta(seconds=1))
            )

    run_with_database(settings, end_overlap)
    assert client.get("/api/integration/changes", headers=bearer(old)).status_code == 401
    assert client.get("/api/integration/changes", headers=bearer(new)).status_code == 200

    # an expired key is refused
    async def expire(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            await session.execute(
                update(IntegrationKey)
                .where(IntegrationKey.id == uuid.UUID(new["integration_key"]["id"]))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )

    run_with_database(settings, expire)
    assert client.get("/api/integration/changes", headers=bearer(new)).status_code == 401

    third = make_key(client, world.a)
    assert feed(client, third)
    # tenant B cannot revoke A's key; A's admin can, and it stops at once
    path = f"/api/integrations/keys/{third['integration_key']['id']}/revoke"
    assert client.post(path, headers=world.b.admin.bearer).status_code == 404
    revoked = client.post(path, headers=world.a.admin.bearer)
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert client.get("/api/integration/changes", headers=bearer(third)).status_code == 401


# --- bulk upserts ---


def test_products_upsert_by_external_id_idempotently_with_per_item_results(client: TestClient, world: World) -> None:
    key, other = make_key(client, world.a), make_key(client, world.b)
    sku = unique("ERP")
    items = [
        {"external_id": f"{sku}-1", "sku": f"{sku}-1", "name": "Valve", "cost_price": "12.5000", "unit": "pcs"},
        {"external_id": f"{sku}-2", "sku": f"{sku}-2", "name": "Seal", "pack_size": 10},
    ]
    first = upsert(client, key, "products", items)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["created"], body["updated"], body["unchanged"], body["failed"]) == (2, 0, 0, 0)
    ids = [r["id"] for r in body["results"]]
    again = upsert(client, key, "products", items).json()
    assert [r["outcome"] for r in again["results"]] == ["unchanged", "unchanged"]
    assert [r["id"] for r in again["results"]] == ids
    changed = upsert(client, key, "products", [{"external_id": f"{sku}-1", "name": "Valve DN50"}]).json()
    assert changed["results"][0]["outcome"] == "updated" and changed["results"][0]["id"] == ids[0]
    product = client.get(f"/api/ordering/products/{ids[0]}", headers=world.a.admin.bearer).json()
    assert product["name"] == "Valve DN50" and product["sku"] == f"{sku}-1"

    # the catalog's own checks, per item; the good items of the batch are written, the bad ones not at all
    mixed = upsert(
        client,
        key,
        "products",
        [
            {"external_id": f"{sku}-3", "sku": f"{sku}-1", "name": "Taken SKU"},
            {"external_id": f"{sku}-4", "name": "No SKU"},
            {"external_id": f"{sku}-5", "sku": f"{sku}-5", "name": "Bad image", "image_url": "ftp://x"},
            {"external_id": f"{sku}-6", "sku": f"{sku}-6", "name": "Fine"},
            {"external_id": f"{sku}-6", "sku": f"{sku}-7", "name": "Twice"},
            {"external_id": f"{sku}-8", "sku": f"{sku}-8", "name": "Dear", "cost_price": "100000000000000"},
        ],
    ).json()
    outcomes = [(r["outcome"], [e["field"] for e in r["errors"]]) for r in mixed["results"]]
    assert outcomes == [
        ("error", ["sku"]),
        ("error", ["sku"]),
        ("error", ["image_url"]),
        ("created", []),
        ("error", ["external_id"]),
        ("error", ["cost_price"]),
    ]
    assert all(e["message"] for r in mixed["results"] for e in r["errors"])
    found = client.get(f"/api/ordering/products?search={sku}", headers=world.a.admin.bearer).json()
    skus = sorted(p["sku"] for p in found["items"])
    assert skus == [f"{sku}-1", f"{sku}-2", f"{sku}-6"]
    # a retry with the Idempotency-Key replays the first answer
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    batch = [{"external_id": f"{sku}-9", "sku": f"{sku}-9", "name": "Pump"}]
    once = upsert(client, key, "products", batch, **headers)
    twice = upsert(client, key, "products", batch, **headers)
    assert once.json() == twice.json() and twice.headers.get("idempotent-replayed") == "true"
    assert once.json()["results"][0]["outcome"] == "created"
    # typing errors refuse the whole batch naming the field; too many items too
    typed = upsert(client, key, "products", [{"external_id": "z", "pack_size": "many"}])
    assert typed.status_code == 422 and "pack_size" in typed.text
    many = upsert(client, key, "products", [{"external_id": str(i)} for i in range(501)])
    assert many.status_code == 422 and "items" in many.text
    control = upsert(client, key, "products", [{"external_id": "a\x00b", "sku": "x", "name": "y"}])
    assert control.status_code in (400, 422)
    # tenant B's key writes into B only: the same external ids are B's own records
    theirs = upsert(client, other, "products", items).json()
    assert [r["outcome"] for r in theirs["results"]] == ["created", "created"]
    assert not set(ids) & {r["id"] for r in theirs["results"]}
    assert client.get(f"/api/ordering/products/{ids[0]}", headers=world.b.admin.bearer).status_code == 404


def test_price_lists_stock_and_customers(client: TestClient, world: World) -> None:
    key = make_key(client, world.a)
    sku = unique("PL")
    made = upsert(client, key, "products", [{"external_id": sku, "sku": sku, "name": "Pump"}]).json()
    product_id = made["results"][0]["id"]
    price_list = {
        "external_id": f"{sku}-list",
        "name": "ERP base",
        "kind": "base",
        "currency": "cny",
        "prices": [{"product": sku, "unit_price": "99.50"}, {"product": sku, "min_quantity": 10, "unit_price": "90"}],
    }
    created = upsert(client, key, "price-lists", [price_list]).json()["results"][0]
    assert created["outcome"] == "created", created
    list_id = created["id"]
    items = client.get(f"/api/ordering/price-lists/{list_id}", headers=world.a.admin.bearer).json()["items"]
    assert sorted((i["min_quantity"], Decimal(i["unit_price"])) for i in items) == [
        (1, Decimal("99.5")),
        (10, Decimal(90)),
    ]
    assert upsert(client, key, "price-lists", [price_list]).json()["results"][0]["outcome"] == "unchanged"
    cheaper = {**price_list, "prices": [{"product": sku, "unit_price": "95"}]}
    assert upsert(client, key, "price-lists", [cheaper]).json()["results"][0]["outcome"] == "updated"
    refused = [
        upsert(client, key, "price-lists", [item]).json()["results"][0]
        for item in (
            {**price_list, "prices": [{"product": "nobody", "unit_price": "1"}]},
            {**price_list, "kind": "tier"},
            {"external_id": f"{sku}-new", "name": "No currency", "kind": "base", "currency": "ZZZ"},
            {**price_list, "prices": [{"product": sku, "unit_price": "-1"}]},
        )
    ]
    assert [[e["field"] for e in r["errors"]] for r in refused] == [
        ["prices[0].product"],
        ["kind"],
        ["currency"],
        ["prices[0].unit_price"],
    ]
    items = client.get(f"/api/ordering/price-lists/{list_id}", headers=world.a.admin.bearer).json()["items"]
    assert [(i["min_quantity"], Decimal(i["unit_price"])) for i in items] == [(1, Decimal(95))]  # nothing half-written

    code = warehouse_code(client, world.a)
    level = [{"product": sku, "warehouse": code, "on_hand": 40}]
    assert upsert(client, key, "stock", level).json()["results"][0]["outcome"] == "created"
    assert upsert(client, key, "stock", level).json()["results"][0]["outcome"] == "unchanged"
    assert upsert(client, key, "stock", [{**level[0], "on_hand": 35}]).json()["results"][0]["outcome"] == "updated"
    bad = upsert(
        client,
        key,
        "stock",
        [
            {"product": "nobody", "warehouse": code, "on_hand": 1},
            {"product": sku, "warehouse": "NOWHERE", "on_hand": 1},
            {"product": sku, "warehouse": code, "on_hand": -1},
        ],
    ).json()["results"]
    assert [[e["field"] for e in r["errors"]] for r in bad] == [["product"], ["warehouse"], ["on_hand"]]
    huge = upsert(client, key, "stock", [{"product": sku, "warehouse": code, "on_hand": 10**12}])
    assert huge.status_code == 422 and "on_hand" in huge.text
    catalog = client.get(f"/api/ordering/products/{product_id}", headers=world.a.admin.bearer).json()
    assert catalog["available"] == 35

    customer = {
        "external_id": f"{sku}-c",
        "name": "Harbour Trading Co., Ltd.",
        "phone": "138 0013 8000",
        "email": "Buy@Harbour.example",
    }
    made_customer = upsert(client, key, "customers", [customer]).json()["results"][0]
    assert made_customer["outcome"] == "created", made_customer
    assert upsert(client, key, "customers", [customer]).json()["results"][0]["outcome"] == "unchanged"
    wrong = upsert(
        client,
        key,
        "customers",
        [
            {"external_id": f"{sku}-d", "name": "Bad phone", "phone": "12"},
            {"external_id": f"{sku}-e", "name": "Bad mail", "email": "nobody"},
            {"external_id": f"{sku}-f", "phone": "13800138000"},
            {"external_id": f"{sku}-g", "name": "x" * 201},
        ],
    ).json()["results"]
    assert [[e["field"] for e in r["errors"]] for r in wrong] == [["phone"], ["email"], ["name"], ["name"]]
    # the change is audited as the integration (its key), on A's side only
    audit = client.get(f"/api/audit?object_id={made_customer['id']}", headers=world.a.admin.bearer).json()
    assert audit and audit[0]["actor_kind"] == "integration" and audit[0]["channel"] == "integration"
    assert audit[0]["actor_id"] == key["integration_key"]["id"]
    assert audit[0]["after"]["phone"] == "+8613800138000" and audit[0]["after"]["email"] == "buy@harbour.example"
    assert client.get(f"/api/audit?object_id={made_customer['id']}", headers=world.b.admin.bearer).json() == []


# --- the change feed ---


def test_the_feed_gives_every_change_once_in_order_and_only_the_tenants_own(client: TestClient, world: World) -> None:
    key, other = make_key(client, world.a), make_key(client, world.b)
    start, other_start = feed_end(client, key), feed_end(client, other)
    sku = unique("F")
    upsert(client, key, "products", [{"external_id": sku, "sku": sku, "name": "Pump"}])
    upsert(client, key, "products", [{"external_id": sku, "name": "Pump II"}])
    upsert(client, key, "products", [{"external_id": sku, "name": "Pump II"}])  # unchanged: no change
    upsert(client, key, "customers", [{"external_id": sku, "name": "Harbour Trading"}])
    upsert(client, key, "stock", [{"product": sku, "warehouse": warehouse_code(client, world.a), "on_hand": 7}])
    # a change made in the console is in the feed too
    price_list = client.post(
        "/api/ordering/price-lists", headers=world.a.admin.bearer, json={"name": "Console list", "kind": "base"}
    )
    assert price_list.status_code == 201
    assert background_jobs_ended(client)

    seen, cursor = [], start
    while True:  # one at a time: each cursor moves past exactly one change
        page = feed(client, key, cursor, limit=1)
        seen += page["changes"]
        if not page["has_more"]:
            break
        assert page["next_cursor"] == page["changes"][-1]["cursor"]
        cursor = page["next_cursor"]
    # every change once; a record's changes in the order they were made (records of different aggregates
    # come in the order they reached the feed)
    kinds = sorted((c["object"], c["external_id"] or "", c["action"]) for c in seen)
    assert kinds == [
        ("customers", sku, "changed"),
        ("price_lists", "", "changed"),
        ("products", sku, "changed"),
        ("products", sku, "changed"),
        ("stock", "", "changed"),
    ]
    by_object = {c["object"]: c for c in seen}
    products = [c for c in seen if c["object"] == "products"]
    assert [c["event_type"] for c in products] == ["ordering.product.changed"] * 2
    assert products[1]["product"]["name"] == "Pump II" and products[1]["id"] == products[0]["id"]
    assert by_object["customers"]["customer"]["name"] == "Harbour Trading"
    assert by_object["stock"]["stock_level"]["on_hand"] == 7
    assert by_object["price_lists"]["price_list"]["name"] == "Console list"
    cursors = [int(c["cursor"]) for c in seen]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    # nothing again after the last cursor; the whole range at once is the same changes
    assert feed(client, key, seen[-1]["cursor"])["changes"] == []
    assert feed(client, key, start)["changes"] == seen
    # tenant B's feed has none of it
    theirs = feed(client, other, other_start)
    assert theirs["changes"] == [] and sku not in str(theirs)
    # a cursor that is no number is refused naming it
    bad = client.get("/api/integration/changes?cursor=abc", headers=bearer(key))
    assert bad.status_code in (400, 422) and "cursor" in bad.text


def test_an_event_delivered_twice_is_recorded_once(
    app: Litestar, client: TestClient, world: World, settings: Settings
) -> None:
    key = make_key(client, world.a)
    start = feed_end(client, key)
    sku = unique("D")
    made = upsert(client, key, "products", [{"external_id": sku, "sku": sku, "name": "Pump"}]).json()
    product_id = uuid.UUID(made["results"][0]["id"])

    async def work(services: Services, db: Database) -> None:
        tenant = uuid.UUID(world.a.tenant_id)
        async with db.session(SYSTEM) as session:
            row = await session.scalar(
                select(OutboxEvent).where(OutboxEvent.aggregate_id == product_id, OutboxEvent.tenant_id == tenant)
            )
            assert row is not None
            event = Event(
                row.id, tenant, row.event_type, row.aggregate_type, row.aggregate_id, row.payload, row.occurred_at
            )
        objects = objects_for(event.event_type)
        for _ in range(2):
            async with db.session(tenant_context(tenant)) as session:
                await record(session, objects, event)
        await drain(DeliveryEngine(services, subscribers_of(services), FAST, worker_id="t"))

    run_engine(app, settings, work)
    changes = feed(client, key, start)["changes"]
    assert [c["external_id"] for c in changes] == [sku]


# --- PostgreSQL: commit order is not sequence order ---


@pytest.mark.postgres_only
def test_a_change_committed_after_a_later_sequence_is_not_skipped(
    app: Litestar, client: TestClient, world: World, settings: Settings
) -> None:
    """T1 changes product 1 and draws the lower outbox sequence; T2 changes product 2, draws the higher one
    and commits first; the ERP reads the feed in between. When T1 commits, its change comes after the
    ERP's cursor: a feed numbered by the outbox's sequence would have skipped it."""
    key = make_key(client, world.a)
    sku = unique("C")
    made = upsert(
        client,
        key,
        "products",
        [
            {"external_id": f"{sku}-1", "sku": f"{sku}-1", "name": "One"},
            {"external_id": f"{sku}-2", "sku": f"{sku}-2", "name": "Two"},
        ],
    ).json()
    first, second = (uuid.UUID(r["id"]) for r in made["results"])
    start = feed_end(client, key)
    tenant = uuid.UUID(world.a.tenant_id)

    async def sequence_of(db: Database, product: uuid.UUID) -> int:
        async with db.session(SYSTEM) as session:
            found = await session.scalar(
                select(OutboxEvent.sequence)
                .where(OutboxEvent.aggregate_id == product, OutboxEvent.tenant_id == tenant)
                .order_by(OutboxEvent.sequence.desc())
                .limit(1)
            )
            assert found is not None
            return found

    async def work(services: Services, db: Database) -> tuple[list[Any], list[Any], int, int]:
        engine = DeliveryEngine(services, subscribers_of(services), FAST, worker_id="t")
        async with db.open(tenant_context(tenant)) as t1:
            await CatalogAdmin(t1).update_product(first, {"name": "One, later"})
            await t1.flush()  # the event's row is inserted: its sequence is drawn now
            async with db.session(tenant_context(tenant)) as t2:
                await CatalogAdmin(t2).update_product(second, {"name": "Two, sooner"})
            await drain(engine)
            middle = await asyncio.to_thread(feed, client, key, start)
            await t1.commit()
        await drain(engine)
        after = await asyncio.to_thread(feed, client, key, middle["next_cursor"])
        return middle["changes"], after["changes"], await sequence_of(db, first), await sequence_of(db, second)

    middle, after, first_sequence, second_sequence = run_engine(app, settings, work)
    assert first_sequence < second_sequence  # T1 drew the lower number and committed later
    assert [c["product"]["name"] for c in middle] == ["Two, sooner"]
    assert [c["product"]["name"] for c in after] == ["One, later"]  # not skipped
    assert int(after[0]["cursor"]) > int(middle[0]["cursor"])


@pytest.mark.postgres_only
def test_concurrent_feed_writers_take_positions_in_commit_order(
    app: Litestar, client: TestClient, world: World, settings: Settings
) -> None:
    """Two workers record changes of one tenant at once: the second waits for the first's commit, so every
    position is taken once and a reader that saw a position has seen all below it."""
    key = make_key(client, world.a)
    sku = unique("W")
    made = upsert(
        client,
        key,
        "products",
        [{"external_id": f"{sku}-{i}", "sku": f"{sku}-{i}", "name": f"P{i}"} for i in range(6)],
    ).json()
    products = [uuid.UUID(r["id"]) for r in made["results"]]
    start = int(feed_end(client, key))
    tenant = uuid.UUID(world.a.tenant_id)

    async def work(services: Services, db: Database) -> list[tuple[int, uuid.UUID]]:
        objects = objects_for("ordering.product.changed")
        events = [
            Event(uuid.uuid4(), tenant, "ordering.product.changed", "ordering.product", p, {"id": str(p)}, utcnow())
            for p in products
        ]
        committed: list[uuid.UUID] = []

        async def one(event: Event, pause: float) -> None:
            async with db.session(tenant_context(tenant)) as session:
                await record(session, objects, event)
                await asyncio.sleep(pause)  # hold the head while the others wait
            committed.append(event.aggregate_id)

        await asyncio.gather(*(one(e, 0.05 * (len(events) - i)) for i, e in enumerate(events)))
        async with db.session(SYSTEM) as session:
            rows = await session.execute(
                select(FeedChange.position, FeedChange.record_id)
                .where(FeedChange.tenant_id == tenant, FeedChange.position > start)
                .order_by(FeedChange.position)
            )
            positions = [(p, r) for p, r in rows]
        assert [r for _p, r in positions] == committed  # positions follow commit order
        return positions

    positions = run_engine(app, settings, work)
    assert [p for p, _r in positions] == list(range(start + 1, start + 7))


def test_a_record_deleted_here_is_reported_and_made_anew_by_the_next_batch(client: TestClient, world: World) -> None:
    key = make_key(client, world.a)
    start = feed_end(client, key)
    name = unique("L")
    item = {"external_id": name, "name": name, "kind": "base", "currency": "CNY"}
    first = upsert(client, key, "price-lists", [item]).json()["results"][0]
    deleted = client.delete(f"/api/ordering/price-lists/{first['id']}", headers=world.a.admin.bearer)
    assert deleted.status_code in (200, 204), deleted.text
    assert background_jobs_ended(client)
    changes = [c for c in feed(client, key, start)["changes"] if c["external_id"] == name]
    assert [c["action"] for c in changes][-1] == "deleted" and "price_list" not in changes[-1]
    again = upsert(client, key, "price-lists", [item]).json()["results"][0]
    assert again["outcome"] == "created" and again["id"] != first["id"]
    assert upsert(client, key, "price-lists", [item]).json()["results"][0]["outcome"] == "unchanged"
