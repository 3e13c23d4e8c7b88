"""Purchasing across tenants in one deployment, through the API and the workers' own engine: a partner
that runs its own workspace sends a purchase order of its products (brought over by the catalog rule) to
its upstream; it becomes exactly one sales order there, placed by the ordering app's own rules (a second
delivery changes nothing), or is refused with the reason; approval, shipments and receipt come back, and
received goods go into the partner's stock. Nobody else sees any of it."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from portal.config import Settings
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.outbox import Event, OutboxEvent
from portal.services import Services
from sync.crosstenant.subscriber import deliver
from tests.db import run_with_database
from tests.integration.ordering.support import price_list, staff, stock
from tests.integration.sync.support import run_engine
from tests.integration.sync.test_crosstenant import active_rule, new_product, product
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import TenantWorld, World, background_jobs_ended, connect_workspace, partner_type_id, unique

PURCHASE_OBJECTS = ("ordering.purchase_order", "ordering.purchase_order_status")


@dataclass
class Purchasing:
    north: TenantWorld
    link_id: str
    upstream_product: dict[str, Any]
    mine: dict[str, Any]  # North's copy of it
    warehouse: str  # North's default warehouse


def set_up(client: TestClient, world: World) -> Purchasing:
    """Tenant A sells a pump (50.00 a piece, packs of 2, 100 in stock) to North, which runs its own
    workspace: the catalog travels down, purchase orders up, and their progress down again."""
    a = world.a
    made = new_product(client, a)
    price_list(client, a.admin, [{"product_id": made["id"], "unit_price": "50.00"}])
    warehouse = staff(client, a.admin, "GET", "/warehouses").json()[0]["id"]
    stock(client, a.admin, warehouse, made["id"], 100)
    north, link_id = connect_workspace(client, a, "north")
    active_rule(client, world, link_id)
    for obj in PURCHASE_OBJECTS:
        rule = client.post(
            "/api/sync/rules", headers=a.admin.bearer, json={"link_id": link_id, "object": obj, "name": obj}
        )
        assert rule.status_code == 201, rule.text
        assert rule.json()["direction"] == ("up" if obj == "ordering.purchase_order" else "down")
        activated = client.post(f"/api/sync/rules/{rule.json()['id']}/activate", headers=a.admin.bearer)
        assert activated.status_code == 202, activated.text
    assert background_jobs_ended(client)
    mine = product(client, north, made["sku"])
    assert mine is not None
    north_warehouse = staff(client, north.admin, "GET", "/warehouses").json()[0]["id"]
    return Purchasing(north, link_id, made, mine, north_warehouse)


def send(client: TestClient, setup: Purchasing, supplier: str, lines: list[tuple[str, int]]) -> dict[str, Any]:
    response = client.post(
        "/api/ordering/purchase-orders",
        headers=setup.north.admin.bearer,
        json={
            "supplier_id": supplier,
            "lines": [{"product_id": p, "quantity": q} for p, q in lines],
            "ship_to": "North Supply, Quay 3",
            "note": "Deliver to gate B",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "sent"
    return response.json()


def purchase_order(client: TestClient, setup: Purchasing, po_id: str) -> dict[str, Any]:
    response = client.get(f"/api/ordering/purchase-orders/{po_id}", headers=setup.north.admin.bearer)
    assert response.status_code == 200, response.text
    return response.json()


def sales_orders(client: TestClient, world: World, po_number: str) -> list[dict[str, Any]]:
    found = client.get(
        "/api/ordering/orders", headers=world.a.admin.bearer, params={"limit": 200, "status": "all"}
    ).json()["items"]
    return [o for o in found if o.get("po_number") == po_number]


def on_hand(client: TestClient, setup: Purchasing) -> int:
    path = f"/warehouses/{setup.warehouse}/stock"
    items = staff(client, setup.north.admin, "GET", path, params={"search": setup.mine["sku"]}).json()["items"]
    return sum(r["on_hand"] for r in items if r["product_id"] == setup.mine["id"])


def test_a_purchase_order_becomes_one_sales_order_and_its_progress_comes_back(client: TestClient, world: World) -> None:
    a = world.a
    setup = set_up(client, world)
    po = send(client, setup, a.tenant_id, [(setup.mine["id"], 4)])
    assert background_jobs_ended(client)
    placed = sales_orders(client, world, po["number"])
    assert len(placed) == 1, placed
    so = placed[0]
    assert so["enterprise_id"] == setup.link_id and so["from_purchase_order"] is True
    assert so["total"] == "200.0000" and so["ship_to"] == "North Supply, Quay 3"
    detail = client.get(f"/api/ordering/orders/{so['id']}", headers=a.admin.bearer).json()
    assert [(line["product_id"], line["quantity"]) for line in detail["lines"]] == [(setup.upstream_product["id"], 4)]
    back = purchase_order(client, setup, po["id"])
    assert back["status"] == "submitted" and back["sales_order_number"] == so["number"]
    assert back["total"] == "200.0000" and back["refusal"] is None

    # the event delivered again (a replay): still one sales order, nothing written twice
    deliveries = client.get(
        "/api/deliveries", headers=setup.north.admin.bearer, params={"subscriber": "sync", "aggregate_id": po["id"]}
    ).json()["items"]
    assert deliveries and all(d["status"] == "delivered" for d in deliveries)
    audit = client.get("/api/audit", headers=setup.north.admin.bearer, params={"object_id": po["id"]}).json()
    assert {"create", "sync.answered"} <= {e["action"] for e in audit}
    for delivery in deliveries:
        replayed = client.post(f"/api/deliveries/{delivery['id']}/replay", headers=setup.north.admin.bearer)
        assert replayed.status_code == 200, replayed.text
    assert background_jobs_ended(client)
    assert len(sales_orders(client, world, po["number"])) == 1
    assert client.get("/api/audit", headers=setup.north.admin.bearer, params={"object_id": po["id"]}).json() == audit
    upstream_audit = client.get("/api/audit", headers=a.admin.bearer, params={"object_id": so["id"]}).json()
    assert "sync.applied" in {e["action"] for e in upstream_audit}

    # approval, a partial shipment, the rest, then the goods arrive at North
    approved = staff(client, a.admin, "POST", f"/orders/{so['id']}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, po["id"])["status"] == "approved"
    line_id = detail["lines"][0]["id"]
    shipped = staff(
        client,
        a.admin,
        "POST",
        f"/orders/{so['id']}/shipments",
        json={"lines": {line_id: 2}, "carrier": "SF", "tracking_number": "SF1"},
    )
    assert shipped.status_code == 201, shipped.text
    assert background_jobs_ended(client)
    partly = purchase_order(client, setup, po["id"])
    assert partly["status"] == "partially_shipped" and partly["lines"][0]["shipped_quantity"] == 2
    early = client.post(f"/api/ordering/purchase-orders/{po['id']}/receive", headers=setup.north.admin.bearer)
    assert early.status_code == 409
    rest = staff(client, a.admin, "POST", f"/orders/{so['id']}/shipments", json={"own_delivery": True})
    assert rest.status_code == 201, rest.text
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, po["id"])["status"] == "shipped"
    before = on_hand(client, setup)
    received = client.post(f"/api/ordering/purchase-orders/{po['id']}/receive", headers=setup.north.admin.bearer)
    assert received.status_code == 200, received.text
    assert background_jobs_ended(client)
    done = purchase_order(client, setup, po["id"])
    assert done["status"] == "received" and done["received_at"] is not None
    assert client.get(f"/api/ordering/orders/{so['id']}", headers=a.admin.bearer).json()["status"] == "received"
    assert on_hand(client, setup) == before + 4
    # received once: delivering everything again adds nothing to the stock
    for delivery in client.get(
        "/api/deliveries", headers=a.admin.bearer, params={"subscriber": "sync", "aggregate_id": so["id"]}
    ).json()["items"]:
        client.post(f"/api/deliveries/{delivery['id']}/replay", headers=a.admin.bearer)
    assert background_jobs_ended(client)
    assert on_hand(client, setup) == before + 4

    # nobody else sees the purchase order or the sales order
    b = world.b
    assert client.get(f"/api/ordering/purchase-orders/{po['id']}", headers=b.admin.bearer).status_code == 404
    assert client.get(f"/api/ordering/purchase-orders/{po['id']}", headers=a.admin.bearer).status_code == 404
    assert client.get("/api/ordering/purchase-orders", headers=b.admin.bearer).json()["total"] == 0
    assert client.get(f"/api/ordering/orders/{so['id']}", headers=b.admin.bearer).status_code == 404
    assert client.get(f"/api/ordering/orders/{so['id']}", headers=setup.north.admin.bearer).status_code == 404
    assert client.get(f"/api/partner/ordering/orders/{so['id']}", headers=world.x.admin.bearer).status_code == 404


def test_a_refusal_comes_back_with_the_reason(client: TestClient, world: World) -> None:
    a = world.a
    setup = set_up(client, world)
    own = new_product(client, setup.north, name="North's own gasket")
    unknown = send(client, setup, a.tenant_id, [(setup.mine["id"], 2), (own["id"], 2)])
    limit = client.put(
        f"/api/ordering/accounts/{setup.link_id}/credit-limit", headers=a.admin.bearer, json={"amount": "150.00"}
    )
    assert limit.status_code == 200, limit.text
    over = send(client, setup, a.tenant_id, [(setup.mine["id"], 4)])
    within = send(client, setup, a.tenant_id, [(setup.mine["id"], 2)])
    assert background_jobs_ended(client)
    refused = purchase_order(client, setup, unknown["id"])
    assert refused["status"] == "refused" and refused["refusal_code"] == "unknown_product"
    assert own["sku"] in refused["refusal"] and refused["sales_order_number"] is None
    credit = purchase_order(client, setup, over["id"])
    assert credit["status"] == "refused" and credit["refusal_code"] == "credit_limit_exceeded"
    assert "credit limit" in credit["refusal"]
    assert sales_orders(client, world, unknown["number"]) == [] and sales_orders(client, world, over["number"]) == []
    audit = client.get("/api/audit", headers=a.admin.bearer, params={"limit": 200}).json()
    assert any(e["action"] == "sync.applied" and (e["after"] or {}).get("outcome") == "refused" for e in audit)
    # placed, then rejected at the supplier: the rejection and what it said come back
    (so,) = sales_orders(client, world, within["number"])
    rejected = staff(client, a.admin, "POST", f"/orders/{so['id']}/reject", json={"comment": "Not this month"})
    assert rejected.status_code == 200, rejected.text
    assert background_jobs_ended(client)
    back = purchase_order(client, setup, within["id"])
    assert back["status"] == "rejected" and back["refusal_code"] == "order_rejected"
    assert "Not this month" in back["refusal"]


def test_purchase_orders_are_checked(client: TestClient, world: World) -> None:
    """Nothing is written on bad input: another tenant's supplier or product, control characters, huge
    numbers; and only the workspaces whose link names yours are suppliers."""
    a = world.a
    setup = set_up(client, world)
    north = setup.north
    suppliers = client.get("/api/ordering/suppliers", headers=north.admin.bearer).json()
    assert suppliers == [{"tenant_id": a.tenant_id, "name": a.name}]
    assert client.get("/api/ordering/suppliers", headers=world.b.admin.bearer).json() == []
    before = client.get("/api/ordering/purchase-orders", headers=north.admin.bearer).json()["total"]
    cases = [
        {"supplier_id": world.b.tenant_id, "lines": [{"product_id": setup.mine["id"], "quantity": 2}]},
        {"supplier_id": a.tenant_id, "lines": [{"product_id": setup.upstream_product["id"], "quantity": 2}]},
        {"supplier_id": a.tenant_id, "lines": [{"product_id": setup.mine["id"], "quantity": 2_000_000_000}]},
        {"supplier_id": a.tenant_id, "lines": []},
    ]
    for body in cases:
        response = client.post(
            "/api/ordering/purchase-orders", headers=north.admin.bearer, json={"ship_to": "Quay 3", **body}
        )
        assert response.status_code == 422, (body, response.text)
    control = client.post(
        "/api/ordering/purchase-orders",
        headers=north.admin.bearer,
        json={
            "supplier_id": a.tenant_id,
            "ship_to": "Quay\x00 3",
            "lines": [{"product_id": setup.mine["id"], "quantity": 2}],
        },
    )
    assert control.status_code == 422, control.text
    huge = client.post(
        "/api/ordering/purchase-orders",
        headers=north.admin.bearer,
        json={
            "supplier_id": a.tenant_id,
            "ship_to": "x" * 501,
            "lines": [{"product_id": setup.mine["id"], "quantity": 2}],
        },
    )
    assert huge.status_code == 422, huge.text
    assert client.get("/api/ordering/purchase-orders", headers=north.admin.bearer).json()["total"] == before

    # the rule editor's objects say which way they travel; a preview maps a purchase order of the partner's
    directions = {o["name"]: o["direction"] for o in client.get("/api/sync/objects", headers=a.admin.bearer).json()}
    assert directions["ordering.purchase_order"] == "up" and directions["ordering.purchase_order_status"] == "down"
    po = send(client, setup, a.tenant_id, [(setup.mine["id"], 2)])
    preview = client.post(
        "/api/sync/preview",
        headers=a.admin.bearer,
        json={"link_id": setup.link_id, "object": "ordering.purchase_order", "sample_id": po["id"]},
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["target"]["po_number"] == po["number"] and preview.json()["passes"] is True


def test_another_manufacturer_of_the_partner_never_sees_its_purchase_orders(client: TestClient, world: World) -> None:
    """North buys from A and from B: B's rules never carry North's order to A, nor A's answer to B."""
    a, b = world.a, world.b
    setup = set_up(client, world)
    north = setup.north
    # B links the same workspace as a partner of its own
    created = client.post(
        "/api/interconnect/enterprises",
        headers=b.admin.bearer,
        json={"name": f"North {unique('N')}", "partner_type_id": partner_type_id(client, b.admin, "distributor")},
    )
    assert created.status_code == 201, created.text
    link_b = created.json()["enterprise"]["id"]
    _link_workspace(client, b, link_b, north)
    for obj in PURCHASE_OBJECTS:
        rule = client.post(
            "/api/sync/rules", headers=b.admin.bearer, json={"link_id": link_b, "object": obj, "name": obj}
        )
        assert rule.status_code == 201, rule.text
        assert client.post(f"/api/sync/rules/{rule.json()['id']}/activate", headers=b.admin.bearer).status_code == 202
    assert background_jobs_ended(client)
    assert {s["tenant_id"] for s in client.get("/api/ordering/suppliers", headers=north.admin.bearer).json()} == {
        a.tenant_id,
        b.tenant_id,
    }
    po = send(client, setup, a.tenant_id, [(setup.mine["id"], 2)])
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, po["id"])["status"] == "submitted"
    assert len(sales_orders(client, world, po["number"])) == 1
    b_orders = client.get("/api/ordering/orders", headers=b.admin.bearer, params={"limit": 200}).json()["items"]
    assert not [o for o in b_orders if o.get("po_number") == po["number"]]
    b_audit = client.get("/api/audit", headers=b.admin.bearer, params={"limit": 200}).json()
    assert po["id"] not in str(b_audit)
    # sent to B, the order refers to none of B's products: refused by B, unseen by A
    to_b = send(client, setup, b.tenant_id, [(setup.mine["id"], 2)])
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, to_b["id"])["refusal_code"] == "unknown_product"
    assert sales_orders(client, world, to_b["number"]) == []


def _link_workspace(client: TestClient, upstream: TenantWorld, link_id: str, downstream: TenantWorld) -> None:
    from interconnect.models import EnterpriseLink
    from portal.db.context import tenant_context

    async def work(db: Database) -> None:
        async with db.session(tenant_context(uuid.UUID(upstream.tenant_id), channel="system")) as session:
            link = (await session.scalars(select(EnterpriseLink).where(EnterpriseLink.id == uuid.UUID(link_id)))).one()
            link.downstream_tenant_id, link.status = uuid.UUID(downstream.tenant_id), "active"

    run_with_database(client.app.state.services.settings, work)


def test_console_pages(client: TestClient, world: World) -> None:
    """North's purchase order pages (list, new, detail with the supplier's answer and receipt), the
    upstream's mark on the sales order, the rule editor's objects with their direction; nothing of it for
    another tenant."""
    a = world.a
    setup = set_up(client, world)
    north = setup.north
    act_as(client, north.admin.cookie)
    assert_readable_page(client.get("/console/ordering/purchase-orders"), 200, "Purchase orders")
    new = client.get("/console/ordering/purchase-orders/new")
    assert_readable_page(new, 200, "New purchase order")
    assert a.name in new.text and setup.mine["sku"] in new.text
    form = {"supplier_id": a.tenant_id, "product.0": setup.mine["id"], "quantity.0": "2", "ship_to": "Quay 3"}
    bad = submit(
        client,
        "/console/ordering/purchase-orders",
        {**form, "quantity.0": "3"},
        form_page="/console/ordering/purchase-orders/new",
    )
    assert bad.status_code in REDIRECTS, bad.text  # the supplier checks packs: the refusal comes back
    location = bad.headers["location"]
    assert background_jobs_ended(client)
    refused = client.get(location)
    assert_readable_page(refused, 200, "The supplier refused this order")
    missing = submit(
        client,
        "/console/ordering/purchase-orders",
        {**form, "ship_to": ""},
        form_page="/console/ordering/purchase-orders/new",
    )
    assert_readable_page(missing, 422, "Please correct the marked fields.")
    sent = submit(client, "/console/ordering/purchase-orders", form, form_page="/console/ordering/purchase-orders/new")
    assert sent.status_code in REDIRECTS, sent.text
    assert background_jobs_ended(client)
    page = client.get(sent.headers["location"].split("?")[0])
    assert_readable_page(page, 200, "Awaiting approval")

    incoming = client.get("/console/sync/incoming")
    assert_readable_page(incoming, 200, "Your records to them")

    act_as(client, a.admin.cookie)
    orders = client.get("/console/ordering/orders")
    assert_readable_page(orders, 200, "From purchase order")
    rules = client.get("/console/sync")
    assert "Purchase orders (From the partner)" in rules.text
    up = [r for r in client.get("/api/sync/rules", headers=a.admin.bearer).json() if r["direction"] == "up"]
    assert up and up[0]["object"] == "ordering.purchase_order"
    rule_page = client.get(f"/console/sync/rules/{up[0]['id']}")
    assert_readable_page(rule_page, 200, "workspace to you")
    assert "When both sides changed it" not in rule_page.text

    act_as(client, world.b.admin.cookie)
    po_path = sent.headers["location"].split("?")[0]
    assert client.get(po_path).status_code == 404
    assert "Quay 3" not in client.get("/console/ordering/purchase-orders").text


def test_the_console_asks_again_for_a_receipt_not_yet_confirmed(client: TestClient, world: World) -> None:
    """Once North said the goods arrived, the page says it waits for the supplier and offers to ask again
    (the API's retry) until the supplier records it; another tenant cannot."""
    a = world.a
    setup = set_up(client, world)
    po = send(client, setup, a.tenant_id, [(setup.mine["id"], 2)])
    assert background_jobs_ended(client)
    (so,) = sales_orders(client, world, po["number"])
    assert staff(client, a.admin, "POST", f"/orders/{so['id']}/approve", json={}).status_code == 200
    shipped = staff(client, a.admin, "POST", f"/orders/{so['id']}/shipments", json={"own_delivery": True})
    assert shipped.status_code == 201, shipped.text
    assert background_jobs_ended(client)
    path = f"/console/ordering/purchase-orders/{po['id']}"
    act_as(client, setup.north.admin.cookie)
    page = client.get(path)
    assert "The goods arrived" in page.text and "Ask again" not in page.text
    asked = submit(client, f"{path}/receive", {}, form_page=path)
    assert asked.status_code in REDIRECTS, asked.text
    # the supplier has not recorded it yet (its worker has not run): the page offers to ask again
    waiting = client.get(path)
    assert_readable_page(waiting, 200, "waiting for the supplier to record it")
    assert "Ask again" in waiting.text and f'action="{path}/receive"' in waiting.text
    assert "The goods arrived" not in waiting.text
    again = submit(client, f"{path}/receive", {}, form_page=path)
    assert again.status_code in REDIRECTS and again.headers["location"].endswith("done=receipt"), again.text
    act_as(client, world.b.admin.cookie)
    assert client.get(path).status_code == 404
    act_as(client, setup.north.admin.cookie)
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, po["id"])["status"] == "received"
    done = client.get(path)
    assert "Ask again" not in done.text and "waiting for the supplier" not in done.text
    act_as(client, None)


@pytest.mark.postgres_only
def test_two_workers_delivering_the_same_purchase_order_place_one_sales_order(
    app: Litestar, settings: Settings, client: TestClient, world: World
) -> None:
    """Four deliveries of one purchase order's event at once (a lease taken over while the first worker
    still runs, say), each in its own transaction: one sales order, one answer, the others find it."""
    setup = set_up(client, world)
    po = send(client, setup, world.a.tenant_id, [(setup.mine["id"], 2)])

    async def the_event(db: Database) -> Event:
        async with db.session(SYSTEM) as session:
            row = (
                await session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == uuid.UUID(po["id"])))
            ).one()
            return Event(
                row.id,
                row.tenant_id,
                row.event_type,
                row.aggregate_type,
                row.aggregate_id,
                row.payload,
                row.occurred_at,
            )

    event = run_with_database(settings, the_event)

    async def race(services: Services, _db: Database) -> list[BaseException | None]:
        return await asyncio.gather(*(deliver(services, event) for _ in range(4)), return_exceptions=True)

    outcomes = run_engine(app, settings, race)
    assert any(o is None for o in outcomes), outcomes
    assert background_jobs_ended(client)  # the workers deliver it once more: nothing changes
    placed = sales_orders(client, world, po["number"])
    assert len(placed) == 1, placed
    back = purchase_order(client, setup, po["id"])
    assert back["status"] == "submitted" and back["sales_order_number"] == placed[0]["number"]
    answers = client.get("/api/audit", headers=setup.north.admin.bearer, params={"object_id": po["id"]}).json()
    assert [e["action"] for e in answers].count("sync.answered") == 1


def test_what_a_suspended_partnership_skipped_catches_up_once_it_is_active_again(
    client: TestClient, world: World
) -> None:
    """A change made while the link does not allow it is skipped (a purchase order sent just before the
    suspension, a product renamed during it); reactivating backfills every active rule of the link."""
    a = world.a
    setup = set_up(client, world)
    status = f"/api/interconnect/enterprises/{setup.link_id}/status"
    assert client.post(status, headers=a.admin.bearer, json={"status": "suspended"}).status_code == 200
    renamed = client.patch(
        f"/api/ordering/products/{setup.upstream_product['id']}", headers=a.admin.bearer, json={"name": "Lake pump II"}
    )
    assert renamed.status_code == 200, renamed.text
    assert background_jobs_ended(client)
    assert product(client, setup.north, setup.mine["sku"])["name"] != "Lake pump II"  # type: ignore[index]
    assert client.post(status, headers=a.admin.bearer, json={"status": "active"}).status_code == 200
    assert background_jobs_ended(client)
    assert product(client, setup.north, setup.mine["sku"])["name"] == "Lake pump II"  # type: ignore[index]
