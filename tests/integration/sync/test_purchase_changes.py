"""A partner changes its purchase orders after sending them, through the API and the workers' own engine:
it corrects a refused one and sends it again, changes one awaiting the supplier's approval (the
supplier's order is replaced by one placed from the change), and cancels one not yet shipped (the
supplier's order is cancelled through the ordering app's own transition, or the refusal comes back with
its reason). Nobody else may touch them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import delete, select, update

from apps.ordering.purchasing.models import PurchaseOrder, PurchaseOrderLine
from portal.config import Settings
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.db.types import utcnow
from tests.db import run_with_database
from tests.integration.ordering.support import price_list, staff, stock
from tests.integration.sync.test_crosstenant import new_product, product
from tests.integration.sync.test_purchasing import Purchasing, purchase_order, sales_orders, send, set_up
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import World, background_jobs_ended


def revise(
    client: TestClient, setup: Purchasing, po_id: str, lines: list[tuple[str, int]], note: str = "Changed"
) -> Any:
    return client.put(
        f"/api/ordering/purchase-orders/{po_id}",
        headers=setup.north.admin.bearer,
        json={
            "lines": [{"product_id": p, "quantity": q} for p, q in lines],
            "ship_to": "North Supply, Quay 4",
            "note": note,
        },
    )


def test_a_refused_purchase_order_is_corrected_and_sent_again(client: TestClient, world: World) -> None:
    a = world.a
    setup = set_up(client, world)
    own = new_product(client, setup.north, name="North's own valve")
    po = send(client, setup, a.tenant_id, [(setup.mine["id"], 2), (own["id"], 1)])
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, po["id"])["refusal_code"] == "unknown_product"
    # sent again as it is: refused again, for the same reason
    again = client.post(f"/api/ordering/purchase-orders/{po['id']}/resend", headers=setup.north.admin.bearer)
    assert again.status_code == 200 and again.json()["status"] == "sent" and again.json()["revision"] == 1
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, po["id"])["status"] == "refused"
    # corrected: placed
    corrected = revise(client, setup, po["id"], [(setup.mine["id"], 2)])
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["status"] == "sent" and [ln["quantity"] for ln in corrected.json()["lines"]] == [2]
    assert background_jobs_ended(client)
    back = purchase_order(client, setup, po["id"])
    assert back["status"] == "submitted" and back["refusal"] is None
    (so,) = sales_orders(client, world, po["number"])
    assert so["total"] == "100.0000" and so["ship_to"] == "North Supply, Quay 4"
    # only a refused one is sent again
    assert (
        client.post(f"/api/ordering/purchase-orders/{po['id']}/resend", headers=setup.north.admin.bearer).status_code
        == 409
    )
    bad = revise(client, setup, po["id"], [(setup.mine["id"], 0)])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("lines[0]")


def test_a_purchase_order_awaiting_approval_is_changed(client: TestClient, world: World) -> None:
    a = world.a
    setup = set_up(client, world)
    po = send(client, setup, a.tenant_id, [(setup.mine["id"], 2)])
    assert background_jobs_ended(client)
    (first,) = sales_orders(client, world, po["number"])
    changed = revise(client, setup, po["id"], [(setup.mine["id"], 6)], note="Six, please")
    assert changed.status_code == 200, changed.text
    assert background_jobs_ended(client)
    placed = sales_orders(client, world, po["number"])
    statuses = sorted(o["status"] for o in placed)
    assert statuses == ["cancelled", "submitted"], placed
    (now,) = [o for o in placed if o["status"] == "submitted"]
    assert now["id"] != first["id"] and now["total"] == "300.0000"
    back = purchase_order(client, setup, po["id"])
    assert back["status"] == "submitted" and back["sales_order_number"] == now["number"] and back["total"] == "300.0000"
    # approved: no longer changed
    assert staff(client, a.admin, "POST", f"/orders/{now['id']}/approve", json={}).status_code == 200
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, po["id"])["status"] == "approved"
    late = revise(client, setup, po["id"], [(setup.mine["id"], 1)])
    assert late.status_code == 409 and late.json()["code"] == "not_revisable"


def test_a_purchase_order_not_yet_shipped_is_cancelled_at_the_supplier(client: TestClient, world: World) -> None:
    a = world.a
    setup = set_up(client, world)
    po = send(client, setup, a.tenant_id, [(setup.mine["id"], 2)])
    shipped = send(client, setup, a.tenant_id, [(setup.mine["id"], 2)])
    assert background_jobs_ended(client)
    (so,) = sales_orders(client, world, po["number"])
    assert staff(client, a.admin, "POST", f"/orders/{so['id']}/approve", json={}).status_code == 200
    asked = client.post(f"/api/ordering/purchase-orders/{po['id']}/cancel", headers=setup.north.admin.bearer)
    assert asked.status_code == 200 and asked.json()["cancel_requested_at"] is not None
    assert background_jobs_ended(client)
    (so,) = sales_orders(client, world, po["number"])
    assert so["status"] == "cancelled"
    back = purchase_order(client, setup, po["id"])
    assert back["status"] == "cancelled" and back["cancel_requested_at"] is None

    # shipped meanwhile: the supplier keeps its order, and says why
    (other,) = sales_orders(client, world, shipped["number"])
    assert staff(client, a.admin, "POST", f"/orders/{other['id']}/approve", json={}).status_code == 200
    asked = client.post(f"/api/ordering/purchase-orders/{shipped['id']}/cancel", headers=setup.north.admin.bearer)
    assert asked.status_code == 200
    done = staff(client, a.admin, "POST", f"/orders/{other['id']}/shipments", json={"own_delivery": True})
    assert done.status_code == 201, done.text
    assert background_jobs_ended(client)
    kept = purchase_order(client, setup, shipped["id"])
    assert kept["status"] == "shipped" and kept["cancel_requested_at"] is None
    assert kept["refusal_code"] == "cancel_refused" and kept["refusal"], kept
    assert (
        client.post(
            f"/api/ordering/purchase-orders/{shipped['id']}/cancel", headers=setup.north.admin.bearer
        ).status_code
        == 409
    )

    # a refused one is cancelled here at once
    own = new_product(client, setup.north)
    refused = send(client, setup, a.tenant_id, [(own["id"], 1)])
    assert background_jobs_ended(client)
    cancelled = client.post(f"/api/ordering/purchase-orders/{refused['id']}/cancel", headers=setup.north.admin.bearer)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    # nobody else may cancel, change or resend it
    for other_tenant in (world.b, a):
        for path in ("cancel", "resend"):
            refused_call = client.post(
                f"/api/ordering/purchase-orders/{po['id']}/{path}", headers=other_tenant.admin.bearer
            )
            assert refused_call.status_code == 404
        put = client.put(
            f"/api/ordering/purchase-orders/{po['id']}",
            headers=other_tenant.admin.bearer,
            json={"lines": [{"product_id": setup.mine["id"], "quantity": 1}], "ship_to": "X"},
        )
        assert put.status_code == 404


def test_purchase_order_change_pages(client: TestClient, world: World) -> None:
    a = world.a
    setup = set_up(client, world)
    own = new_product(client, setup.north)
    po = send(client, setup, a.tenant_id, [(own["id"], 1)])
    assert background_jobs_ended(client)
    act_as(client, setup.north.admin.cookie)
    path = f"/console/ordering/purchase-orders/{po['id']}"
    assert_readable_page(client.get(path), 200, "Correct and send again")
    form = client.get(f"{path}/edit")
    assert_readable_page(form, 200, "Send the changes to the supplier")
    sent = submit(
        client,
        f"{path}/edit",
        {"product.0": setup.mine["id"], "quantity.0": "2", "ship_to": "Quay 5"},
        form_page=f"{path}/edit",
    )
    assert sent.status_code in REDIRECTS, sent.text
    assert background_jobs_ended(client)
    assert_readable_page(client.get(path), 200, "Cancel the order")
    cancelled = submit(client, f"{path}/cancel", {}, form_page=path)
    assert cancelled.status_code in REDIRECTS, cancelled.text
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, po["id"])["status"] == "cancelled"
    act_as(client, world.b.admin.cookie)
    assert client.get(f"{path}/edit").status_code == 404


def _second_product(client: TestClient, world: World, setup: Purchasing) -> tuple[dict[str, Any], dict[str, Any]]:
    """Another pump of A's (50.00 a piece, 100 in stock), brought over to North by the catalog rule."""
    a = world.a
    made = new_product(client, a)
    price_list(client, a.admin, [{"product_id": made["id"], "unit_price": "50.00"}])
    warehouse = staff(client, a.admin, "GET", "/warehouses").json()[0]["id"]
    stock(client, a.admin, warehouse, made["id"], 100)
    assert background_jobs_ended(client)
    mine = product(client, setup.north, made["sku"])
    assert mine is not None
    return made, mine


def _north_on_hand(client: TestClient, setup: Purchasing, product_id: str) -> int:
    items = staff(client, setup.north.admin, "GET", f"/warehouses/{setup.warehouse}/stock").json()["items"]
    return sum(r["on_hand"] for r in items if r["product_id"] == product_id)


@pytest.mark.parametrize("first", ["revision", "approval"])
def test_a_revision_the_supplier_refused_goes_back_to_its_order_and_is_received(
    client: TestClient, world: World, first: str
) -> None:
    """The supplier approves its order just before the partner's change reaches it (the change delivered
    first, or the approval's progress first): the change is refused, the purchase order shows the lines and
    total the supplier kept, and the goods shipped are received into the partner's stock."""
    a = world.a
    setup = set_up(client, world)
    _b_upstream, b_mine = _second_product(client, world, setup)
    a_mine = setup.mine
    po = send(client, setup, a.tenant_id, [(a_mine["id"], 10), (b_mine["id"], 10)])
    assert background_jobs_ended(client)
    (so,) = sales_orders(client, world, po["number"])
    assert so["total"] == "1000.0000"
    if first == "revision":
        changed = revise(client, setup, po["id"], [(a_mine["id"], 20)])
        assert changed.status_code == 200, changed.text
        assert staff(client, a.admin, "POST", f"/orders/{so['id']}/approve", json={}).status_code == 200
    else:
        assert staff(client, a.admin, "POST", f"/orders/{so['id']}/approve", json={}).status_code == 200
        changed = revise(client, setup, po["id"], [(a_mine["id"], 20)])
        assert changed.status_code == 200, changed.text
    assert background_jobs_ended(client)
    back = purchase_order(client, setup, po["id"])
    assert back["status"] == "approved" and back["refusal_code"] == "revision_refused" and back["refusal"]
    assert back["total"] == "1000.0000" and back["sales_order_number"] == so["number"]
    assert [(ln["product_id"], ln["quantity"]) for ln in back["lines"]] == [(a_mine["id"], 10), (b_mine["id"], 10)]
    assert [o["id"] for o in sales_orders(client, world, po["number"])] == [so["id"]]

    shipped = staff(client, a.admin, "POST", f"/orders/{so['id']}/shipments", json={"own_delivery": True})
    assert shipped.status_code == 201, shipped.text
    assert background_jobs_ended(client)
    back = purchase_order(client, setup, po["id"])
    assert back["status"] == "shipped"
    assert [(ln["quantity"], ln["shipped_quantity"]) for ln in back["lines"]] == [(10, 10), (10, 10)]
    received = client.post(f"/api/ordering/purchase-orders/{po['id']}/receive", headers=setup.north.admin.bearer)
    assert received.status_code == 200, received.text
    assert background_jobs_ended(client)
    done = purchase_order(client, setup, po["id"])
    assert done["status"] == "received" and done["received_at"] is not None
    assert done["refusal_code"] == "revision_refused"
    assert client.get(f"/api/ordering/orders/{so['id']}", headers=a.admin.bearer).json()["status"] == "received"
    assert _north_on_hand(client, setup, a_mine["id"]) == 10
    assert _north_on_hand(client, setup, b_mine["id"]) == 10
    # the other tenant and the supplier's other side see none of it
    assert client.get(f"/api/ordering/purchase-orders/{po['id']}", headers=world.b.admin.bearer).status_code == 404
    assert client.get(f"/api/ordering/purchase-orders/{po['id']}", headers=a.admin.bearer).status_code == 404


def test_a_receipt_whose_lines_differ_from_the_suppliers_order_completes(
    client: TestClient, world: World, settings: Settings
) -> None:
    """A purchase order left showing a change the supplier refused (its lines not the order's, the receipt
    asked for and not done): asking for the receipt again receives the supplier's order, and the purchase
    order takes back the order's lines, with the goods shipped in stock and the refused change said."""
    a = world.a
    setup = set_up(client, world)
    _b_upstream, b_mine = _second_product(client, world, setup)
    a_mine = setup.mine
    po = send(client, setup, a.tenant_id, [(a_mine["id"], 10), (b_mine["id"], 10)])
    assert background_jobs_ended(client)
    (so,) = sales_orders(client, world, po["number"])
    assert staff(client, a.admin, "POST", f"/orders/{so['id']}/approve", json={}).status_code == 200
    assert (
        staff(client, a.admin, "POST", f"/orders/{so['id']}/shipments", json={"own_delivery": True}).status_code == 201
    )
    assert background_jobs_ended(client)
    assert purchase_order(client, setup, po["id"])["status"] == "shipped"

    async def diverge(db: Database) -> None:
        po_id = uuid.UUID(po["id"])
        async with db.session(SYSTEM) as session:
            line = await session.scalar(
                select(PurchaseOrderLine)
                .where(PurchaseOrderLine.purchase_order_id == po_id)
                .order_by(PurchaseOrderLine.line_no)
            )
            assert line is not None
            await session.execute(
                delete(PurchaseOrderLine).where(
                    PurchaseOrderLine.purchase_order_id == po_id, PurchaseOrderLine.line_no > 1
                )
            )
            await session.execute(
                update(PurchaseOrderLine)
                .where(PurchaseOrderLine.id == line.id)
                .values(quantity=20, shipped_quantity=10)
            )
            await session.execute(
                update(PurchaseOrder).where(PurchaseOrder.id == po_id).values(revision=1, receipt_requested_at=utcnow())
            )

    run_with_database(settings, diverge)
    stuck = purchase_order(client, setup, po["id"])
    assert [(ln["quantity"], ln["shipped_quantity"]) for ln in stuck["lines"]] == [(20, 10)]
    asked = client.post(f"/api/ordering/purchase-orders/{po['id']}/receive", headers=setup.north.admin.bearer)
    assert asked.status_code == 200, asked.text
    assert background_jobs_ended(client)
    done = purchase_order(client, setup, po["id"])
    assert done["status"] == "received" and done["received_at"] is not None, done
    assert done["refusal_code"] == "revision_refused" and done["revision"] == 0
    assert [(ln["product_id"], ln["quantity"], ln["shipped_quantity"]) for ln in done["lines"]] == [
        (a_mine["id"], 10, 10),
        (b_mine["id"], 10, 10),
    ]
    assert _north_on_hand(client, setup, a_mine["id"]) == 10
    assert _north_on_hand(client, setup, b_mine["id"]) == 10
    # asked again once received: nothing more comes in
    again = client.post(f"/api/ordering/purchase-orders/{po['id']}/receive", headers=setup.north.admin.bearer)
    assert again.status_code == 409
    assert background_jobs_ended(client)
    assert _north_on_hand(client, setup, a_mine["id"]) == 10
