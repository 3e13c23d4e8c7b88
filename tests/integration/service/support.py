"""Tickets of tenant A made and moved through the API: as its admin on the staff side, as FixIt's
dispatcher (its enterprise admin) or engineer on the partner side."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from tests.world import Credential, World

STAFF = "/api/service"
PARTNER = "/api/partner/service"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def call(client: TestClient, who: Credential, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, headers=who.bearer, **kwargs)


def device(client: TestClient, world: World, **values: Any) -> dict[str, Any]:
    body = {
        "serial_number": f"SN-{uuid.uuid4().hex[:8]}",
        "product_name": "Centrifugal pump",
        "customer_name": "Lakeside School",
        "site_address": "3 Lake Road",
        "warranty_end": "2099-12-31",
        **values,
    }
    return ok(call(client, world.a.admin, "POST", f"{STAFF}/devices", json=body), 201)


def open_ticket(client: TestClient, world: World, who: Credential | None = None, **values: Any) -> dict[str, Any]:
    body = {
        "type": "repair",
        "symptoms": "Leaks at the seal",
        "contact_name": "Mr Lake",
        "contact_phone": "+86 138 0000 1111",
        "address": "3 Lake Road",
        **values,
    }
    return ok(call(client, who or world.a.admin, "POST", f"{STAFF}/tickets", json=body), 201)


def fixit(world: World) -> tuple[Credential, Credential]:
    """FixIt's dispatcher (its admin) and its engineer."""
    partner = world.service["fixit"]
    return partner.admin, partner.people["engineer"]


def staff_act(client: TestClient, world: World, ticket_id: str, action: str, **body: Any) -> Any:
    return call(client, world.a.admin, "POST", f"{STAFF}/tickets/{ticket_id}/{action}", json=body)


def partner_act(client: TestClient, who: Credential, ticket_id: str, action: str, **body: Any) -> Any:
    return call(client, who, "POST", f"{PARTNER}/tickets/{ticket_id}/{action}", json=body)


def job_act(client: TestClient, who: Credential, ticket_id: str, action: str, **body: Any) -> Any:
    return call(client, who, "POST", f"{PARTNER}/jobs/{ticket_id}/{action}", json=body)


def dispatched(client: TestClient, world: World, *, engineer: bool = True, **values: Any) -> dict[str, Any]:
    """A ticket dispatched to FixIt, with its engineer named (or not)."""
    ticket = open_ticket(client, world, **values)
    body: dict[str, Any] = {"enterprise_id": world.service["fixit"].link_id}
    if engineer:
        body["engineer_id"] = fixit(world)[1].user_id
    return ok(staff_act(client, world, ticket["id"], "dispatch", **body))


def closed(client: TestClient, world: World, partner: str = "fixit", **values: Any) -> dict[str, Any]:
    """A ticket dispatched to one of tenant A's service partners, worked by its dispatcher and closed by
    staff: what a settlement gathers."""
    ticket = open_ticket(client, world, **values)
    dispatcher = world.service[partner].admin
    ok(staff_act(client, world, ticket["id"], "dispatch", enterprise_id=world.service[partner].link_id))
    for action in ("accept", "start", "arrive"):
        ok(partner_act(client, dispatcher, ticket["id"], action))
    ok(partner_act(client, dispatcher, ticket["id"], "resolve", note="Seal replaced"))
    return ok(staff_act(client, world, ticket["id"], "close"))
