"""A small catalog of tenant A, set up through the staff API as its admin: two products priced on the
base list, one with a quantity break, a Gold tier list, an override for dealer X, stock in the main
warehouse; and helpers to order as a partner and to move an order along as staff."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from litestar.testing import TestClient

from tests.world import Credential, Enterprise, World


@dataclass
class Shop:
    warehouse_id: str
    pump: str  # base 100.00, from 10: 90.00; X's own price 80.00; cost 60.00
    valve: str  # base 25.50; pack of 5, at least 10; cost 10.00
    hidden: str  # unlisted
    base_list: str
    x_list: str
    ids: dict[str, str] = field(default_factory=dict)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def staff(client: TestClient, admin: Credential, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, f"/api/ordering{path}", headers=admin.bearer, **kwargs)


def product(client: TestClient, admin: Credential, sku: str, **values: Any) -> str:
    body = {"sku": f"{sku}-{uuid.uuid4().hex[:6]}", "name": values.pop("name", sku.title()), **values}
    return ok(staff(client, admin, "POST", "/products", json=body), 201)["id"]


def price_list(client: TestClient, admin: Credential, items: list[dict[str, Any]], **values: Any) -> str:
    created = ok(staff(client, admin, "POST", "/price-lists", json={"name": "List", "kind": "base", **values}), 201)
    ok(staff(client, admin, "PUT", f"/price-lists/{created['id']}/items", json=items))
    return created["id"]


def stock(client: TestClient, admin: Credential, warehouse_id: str, product_id: str, on_hand: int) -> None:
    ok(staff(client, admin, "PUT", f"/warehouses/{warehouse_id}/stock/{product_id}", json={"on_hand": on_hand}))


def build_shop(client: TestClient, world: World) -> Shop:
    admin = world.a.admin
    warehouse_id = ok(staff(client, admin, "GET", "/warehouses"))[0]["id"]
    category = ok(
        staff(client, admin, "POST", "/categories", json={"code": uuid.uuid4().hex[:8], "name": "Pumps"}), 201
    )
    pump = product(client, admin, "pump", name="Centrifugal pump", cost_price="60.00", category_id=category["id"])
    valve = product(client, admin, "valve", name="Ball valve", cost_price="10.00", pack_size=5, min_order_quantity=10)
    hidden = product(client, admin, "old", name="Retired pump", listed=False)
    base = price_list(
        client,
        admin,
        [
            {"product_id": pump, "unit_price": "100.00"},
            {"product_id": pump, "unit_price": "90.00", "min_quantity": 10},
            {"product_id": valve, "unit_price": "25.50"},
            {"product_id": hidden, "unit_price": "1.00"},
        ],
    )
    x_list = price_list(
        client, admin, [{"product_id": pump, "unit_price": "80.00"}], kind="enterprise", enterprise_id=world.x.link_id
    )
    for product_id in (pump, valve):
        stock(client, admin, warehouse_id, product_id, 100)
    return Shop(warehouse_id, pump, valve, hidden, base, x_list, {"category": category["id"]})


def place(
    client: TestClient, who: Credential, lines: list[tuple[str, int]], key: str | None = None, **extra: Any
) -> Any:
    headers = {**who.bearer, **({"Idempotency-Key": key} if key else {})}
    if "address_id" not in extra:
        extra.setdefault("ship_to", "Dock 4, Harbour Road")
    body = {"lines": [{"product_id": p, "quantity": q} for p, q in lines], **extra}
    return client.post("/api/partner/ordering/orders", headers=headers, json=body)


def act(client: TestClient, admin: Credential, order_id: str, action: str, **body: Any) -> Any:
    return staff(client, admin, "POST", f"/orders/{order_id}/{action}", json=body)


def partner_enterprise(
    client: TestClient, world: World, label: str, type_code: str = "dealer", **values: Any
) -> Enterprise:
    """Another enterprise of tenant A (a tier, a parent as given) with its first admin."""
    from tests.world import complete_setup, partner_login, partner_type_id

    email = f"{label.lower()}-{uuid.uuid4().hex[:6]}@partner.example"
    name = f"{label} {uuid.uuid4().hex[:6]}"
    response = client.post(
        "/api/interconnect/enterprises",
        headers=world.a.admin.bearer,
        json={
            "name": name,
            "partner_type_id": partner_type_id(client, world.a.admin, type_code),
            "admin": {"display_name": f"{label} admin", "email": email},
            **values,
        },
    )
    body = ok(response, 201)
    complete_setup(client, body["setup_url"])
    token, refresh = partner_login(client, world.a.slug, email)
    return Enterprise(body["enterprise"]["id"], name, Credential(body["admin_id"], email, token, refresh))


def orders_count(client: TestClient, admin: Credential) -> int:
    return ok(staff(client, admin, "GET", "/orders"))["total"]


def available(client: TestClient, admin: Credential, shop: Shop, product_id: str) -> tuple[int, int]:
    page = ok(staff(client, admin, "GET", f"/warehouses/{shop.warehouse_id}/stock", params={"limit": 200}))
    row = next(r for r in page["items"] if r["product_id"] == product_id)
    return row["on_hand"], row["reserved"]
