"""Idempotency-Key on creating POSTs: replay, conflict, and concurrent duplicates."""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from portal.config import Settings
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.http.guard import is_public
from portal.idempotency import IdempotencyRecord
from tests.db import run_with_database
from tests.integration.service.test_field import on_site, on_the_way, stocked
from tests.isolation.harness import tenant_fingerprint
from tests.world import (
    PASSWORD,
    WEBHOOK_URL,
    Credential,
    World,
    add_user,
    connect_workspace,
    ended_month,
    partner_type_id,
)


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


# What creates a new record on each creating route of tenant A, and who may send it. A creating route
# missing here fails the test below, so none is added without its replay being proven.
def _approved_order(client: TestClient, world: World) -> str:
    order_id, admin = world.ids["ordering_order"], world.a.admin.bearer
    stock = f"/api/ordering/warehouses/{world.ids['ordering_warehouse']}/stock/{world.ids['ordering_product']}"
    assert client.put(stock, headers=admin, json={"on_hand": 10}).status_code == 200
    path = f"/api/ordering/orders/{order_id}"
    for _ in range(5):
        if client.get(path, headers=admin).json()["status"] != "submitted":
            break
        approved = client.post(f"{path}/approve", headers=admin, json={"comment": "ok"})
        assert approved.status_code == 200, approved.text
    return order_id


def _code() -> str:
    return f"c{uuid.uuid4().hex[:10]}"


def _held_lead(client: TestClient, world: World) -> str:
    """A new lead of tenant A given to enterprise X, its home pool the world's (a deadline to extend)."""
    admin = world.a.admin.bearer
    made = client.post("/api/agent/leads", headers=admin, json={"company_name": _code(), "distribute": False})
    assert made.status_code == 201, made.text
    lead_id = made.json()["id"]
    body = {"enterprise_id": world.x.link_id, "pool_id": world.ids["lead_pool"]}
    given = client.post(f"/api/agent/leads/{lead_id}/distribute", headers=admin, json=body)
    assert given.status_code == 200, given.text
    return str(lead_id)


def _partner_deal(client: TestClient, world: World) -> str:
    """A deal of dealer X, which X's admin may follow up."""
    made = client.post(
        "/api/partner/deals", headers=world.x.admin.bearer, json={"customer_name": _code(), "amount": "10.00"}
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


CreatingCase = Callable[[TestClient, World], tuple[Credential, str, dict[str, Any]]]


def _field_case(way: str, step: str) -> Callable[[TestClient, World], tuple[Credential, str, dict[str, Any]]]:
    """A field step on a ticket FixIt's engineer has on site (checking in: on the way), by its dispatcher
    (the enterprise's tickets) or its engineer (their own)."""

    def case(c: TestClient, w: World) -> tuple[Credential, str, dict[str, Any]]:
        fixit = w.service["fixit"]
        who = fixit.admin if way == "tickets" else fixit.people["engineer"]
        ticket = on_the_way(c, w) if step == "check-in" else on_site(c, w)
        body: dict[str, Any] = {"latitude": 31.2, "longitude": 121.5}
        if step == "notes":
            body = {"text": "Seal replaced"}
        elif step == "parts":
            body = {"product_id": stocked(c, w, 1), "quantity": 1}
        return who, f"/api/partner/service/{way}/{ticket['id']}/{step}", body

    return case


CREATING: dict[str, CreatingCase] = {
    "/api/agent/leads": lambda c, w: (w.a.admin, "/api/agent/leads", {"company_name": _code(), "distribute": False}),
    "/api/agent/lead-pools": lambda c, w: (w.a.admin, "/api/agent/lead-pools", {"name": _code()}),
    "/api/agent/commission-rules": lambda c, w: (
        w.a.admin,
        "/api/agent/commission-rules",
        {"name": _code(), "rate": "0.01"},
    ),
    "/api/agent/commission-statements": lambda c, w: (
        w.a.admin,
        "/api/agent/commission-statements",
        {"period": ended_month(2)[0], "enterprise_id": w.x.link_id},
    ),
    "/api/agent/fund-budgets": lambda c, w: (
        w.a.admin,
        "/api/agent/fund-budgets",
        {"name": _code(), "starts_on": "2026-01-01", "ends_on": "2026-03-31", "amount": "100"},
    ),
    "/api/partner/agent/fund-requests": lambda c, w: (
        w.x.admin,
        "/api/partner/agent/fund-requests",
        {"amount": "10", "purpose": _code()},
    ),
    "/api/agent/lead-rules": lambda c, w: (w.a.admin, "/api/agent/lead-rules", {"name": _code()}),
    "/api/agent/leads/{lead_id:uuid}/follow-ups": lambda c, w: (
        w.a.admin,
        f"/api/agent/leads/{w.ids['lead_lead']}/follow-ups",
        {"kind": "call", "note": _code()},
    ),
    "/api/partner/agent/leads/{lead_id:uuid}/follow-ups": lambda c, w: (
        w.x.admin,
        f"/api/partner/agent/leads/{w.ids['lead_lead']}/follow-ups",
        {"kind": "visit", "note": _code()},
    ),
    "/api/partner/agent/leads/{lead_id:uuid}/extension": lambda c, w: (
        w.x.admin,
        f"/api/partner/agent/leads/{_held_lead(c, w)}/extension",
        {"days": 3},
    ),
    "/api/users": lambda c, w: (w.a.admin, "/api/users", new_user(f"{_code()}@a.example")),
    "/api/interconnect/regions": lambda c, w: (
        w.a.admin,
        "/api/interconnect/regions",
        {"code": _code(), "name": "North"},
    ),
    "/api/interconnect/tiers": lambda c, w: (w.a.admin, "/api/interconnect/tiers", {"code": _code(), "name": "Gold"}),
    "/api/interconnect/partner-types": lambda c, w: (
        w.a.admin,
        "/api/interconnect/partner-types",
        {"code": _code(), "name": "Agent"},
    ),
    "/api/interconnect/enterprises": lambda c, w: (
        w.a.admin,
        "/api/interconnect/enterprises",
        {"name": f"Dealer {_code()}", "partner_type_id": w.ids["partner_type"]},
    ),
    "/api/interconnect/invitations": lambda c, w: (
        w.a.admin,
        "/api/interconnect/invitations",
        {"kind": "link", "partner_type_id": w.ids["partner_type"]},
    ),
    "/api/partner/colleagues": lambda c, w: (
        w.x.admin,
        "/api/partner/colleagues",
        {"display_name": "New colleague", "email": f"{_code()}@partner.example"},
    ),
    "/api/roles": lambda c, w: (w.a.admin, "/api/roles", {"key": _code(), "name": "Desk", "kind": "internal"}),
    "/api/access/sharing": lambda c, w: (
        w.a.admin,
        "/api/access/sharing",
        {
            "name": "Shared",
            "object": "partner.agent.deal",
            "field": "stage",
            "operator": "eq",
            "value": "won",
            "target_kind": "role",
            "target": "member",
        },
    ),
    "/api/access/teams": lambda c, w: (w.a.admin, "/api/access/teams", {"name": f"Team {_code()}"}),
    "/api/partner/deals": lambda c, w: (
        w.x.admin,
        "/api/partner/deals",
        {"customer_name": "Quay Hotel", "amount": "100.00"},
    ),
    "/api/agent/deals": lambda c, w: (w.a.admin, "/api/agent/deals", {"customer_name": "Pier Inn", "amount": "5.00"}),
    "/api/partner/agent/registrations": lambda c, w: (
        w.x.admin,
        "/api/partner/agent/registrations",
        {"customer_name": _code(), "amount": "7.00", "phone": "+86 138 0000 1111"},
    ),
    "/api/partner/agent/deals/{deal_id:uuid}/follow-ups": lambda c, w: (
        w.x.admin,
        f"/api/partner/agent/deals/{_partner_deal(c, w)}/follow-ups",
        {"kind": "call", "note": _code()},
    ),
    "/api/agent/deals/{deal_id:uuid}/follow-ups": lambda c, w: (
        w.a.admin,
        f"/api/agent/deals/{_partner_deal(c, w)}/follow-ups",
        {"kind": "visit", "note": _code()},
    ),
    "/api/partner/ordering/orders": lambda c, w: (
        w.x.admin,
        "/api/partner/ordering/orders",
        {"lines": [{"product_id": w.ids["ordering_product"], "quantity": 1}], "ship_to": "1 Quay Road, Harbour"},
    ),
    "/api/partner/ordering/addresses": lambda c, w: (
        w.x.admin,
        "/api/partner/ordering/addresses",
        {"label": f"Site {_code()}", "recipient": "Ann Lee", "phone": "+8613800000000", "address": "2 Quay Road"},
    ),
    "/api/partner/ordering/account/payments": lambda c, w: (
        w.x.admin,
        "/api/partner/ordering/account/payments",
        {"amount": "3.00", "received_on": "2026-01-05"},
    ),
    "/api/ordering/categories": lambda c, w: (
        w.a.admin,
        "/api/ordering/categories",
        {"code": _code(), "name": "Pumps"},
    ),
    "/api/ordering/products": lambda c, w: (w.a.admin, "/api/ordering/products", {"sku": _code(), "name": "Pump"}),
    "/api/ordering/price-lists": lambda c, w: (
        w.a.admin,
        "/api/ordering/price-lists",
        {"name": "Spring", "kind": "base"},
    ),
    "/api/ordering/warehouses": lambda c, w: (
        w.a.admin,
        "/api/ordering/warehouses",
        {"code": _code(), "name": "East"},
    ),
    "/api/ordering/orders": lambda c, w: (
        w.a.admin,
        "/api/ordering/orders",
        {"lines": [{"product_id": w.ids["ordering_product"], "quantity": 1}], "ship_to": "Main warehouse dock"},
    ),
    "/api/ordering/orders/{order_id:uuid}/shipments": lambda c, w: (
        w.a.admin,
        f"/api/ordering/orders/{_approved_order(c, w)}/shipments",
        {"carrier": "SF", "tracking_number": "SF100200300"},
    ),
    "/api/ordering/payments": lambda c, w: (
        w.a.admin,
        "/api/ordering/payments",
        {"enterprise_id": w.x.link_id, "amount": "2.00", "received_on": "2026-01-05"},
    ),
    "/api/approvals/flows": lambda c, w: (
        w.a.admin,
        "/api/approvals/flows",
        {"kind": "ordering.order", "name": f"Flow {_code()}", "position": 9},
    ),
    "/api/approvals/flows/{flow_id:uuid}/steps": lambda c, w: (
        w.a.admin,
        f"/api/approvals/flows/{w.ids['approval_flow']}/steps",
        {"name": f"Step {_code()}", "step": 3, "role_key": "admin", "min_amount": "1000000"},
    ),
    "/api/approvals/delegations": lambda c, w: (
        w.a.admin,
        "/api/approvals/delegations",
        {
            "delegate_id": add_user(c, w.a.admin, f"{_code()}@{w.a.slug}.example", role="order_desk"),
            "starts_on": "2099-02-01",
            "ends_on": "2099-02-02",
        },
    ),
    "/api/approvals/{approval_id:uuid}/comments": lambda c, w: (
        w.a.admin,
        f"/api/approvals/{w.ids['approval_item']}/comments",
        {"comment": f"Checked {_code()}"},
    ),
    "/api/ordering/settings/approval-rules": lambda c, w: (
        w.a.admin,
        "/api/ordering/settings/approval-rules",
        {"name": f"Rule {_code()}", "role_key": "admin", "step": 2},
    ),
    "/api/service/tickets": lambda c, w: (
        w.a.admin,
        "/api/service/tickets",
        {"type": "repair", "symptoms": "Leaks", "contact_name": "Ann Lee", "contact_phone": "1", "address": "Pier 2"},
    ),
    "/api/service/devices": lambda c, w: (
        w.a.admin,
        "/api/service/devices",
        {"serial_number": _code(), "product_name": "Pump", "customer_name": "Pier Inn", "site_address": "Pier 3"},
    ),
    # the world's allowlisted loopback port (tests.world.WEBHOOK_URL); the saved answer holds the secret
    "/api/webhooks/endpoints": lambda c, w: (
        w.a.admin,
        "/api/webhooks/endpoints",
        {"url": f"http://127.0.0.1:9/{_code()}", "event_types": ["user.joined"]},
    ),
    # the answer holds the integration key itself: never stored, a retry refused
    "/api/integrations/keys": lambda c, w: (
        w.a.admin,
        "/api/integrations/keys",
        {"name": _code(), "scopes": ["integration.changes"]},
    ),
    # the saved answer holds a confidential client's secret, as the first answer did
    "/api/channels/oauth-clients": lambda c, w: (
        w.a.admin,
        "/api/channels/oauth-clients",
        {
            "name": f"App {_code()}",
            "kind": "confidential",
            "redirect_uris": ["https://app.example/cb"],
            "scopes": ["profile"],
        },
    ),
    "/api/service/dispatch/rules": lambda c, w: (
        w.a.admin,
        "/api/service/dispatch/rules",
        {"name": f"Rule {_code()}", "partner_ids": [w.service["fixit"].link_id]},
    ),
    # a settlement needs a closed ticket no settlement has: one of its own, of the other service partner
    "/api/service/settlements": lambda c, w: (w.a.admin, "/api/service/settlements", _settlement_run(c, w)),
    # a pairing code for partner X, as if its workspace ran on another deployment (shown once)
    "/api/sync/peer-codes": lambda c, w: (w.a.admin, "/api/sync/peer-codes", {"link_id": w.x.link_id}),
    # tenant A's admin pairs A, as a partner, with a manufacturer's deployment (a stand-in on loopback)
    "/api/sync/peers": lambda c, w: (
        w.a.admin,
        "/api/sync/peers",
        {"upstream_url": _upstream_stand_in(c), "code": _code()},
    ),
    # one rule per partner link and object: a partner workspace of its own for this case
    "/api/sync/rules": lambda c, w: (
        w.a.admin,
        "/api/sync/rules",
        {"link_id": connect_workspace(c, w.a, _code())[1], "object": "ordering.product", "name": "Catalog"},
    ),
    **{
        f"/api/partner/service/{way}/{{ticket_id:uuid}}/{step}": _field_case(way, step)
        for way in ("tickets", "jobs")
        for step in ("check-in", "notes", "parts")
    },
    "/api/partner/service/parts/requests": lambda c, w: (
        w.service["fixit"].admin,
        "/api/partner/service/parts/requests",
        {"lines": [{"product_id": w.ids["ordering_product"], "quantity": 1}]},
    ),
    # a correction of FixIt's stock by staff, and a ticket dealer X opens for no device
    "/api/service/parts/stock/adjustments": lambda c, w: (
        w.a.admin,
        "/api/service/parts/stock/adjustments",
        {
            "enterprise_id": w.service["fixit"].link_id,
            "product_id": w.ids["ordering_product"],
            "change": 1,
            "reason": _code(),
        },
    ),
    "/api/partner/service/opened-tickets": lambda c, w: (
        w.x.admin,
        "/api/partner/service/opened-tickets",
        {
            "type": "repair",
            "symptoms": _code(),
            "contact_name": "Ms Shore",
            "contact_phone": "555-0142",
            "address": "4 Harbour Street",
        },
    ),
    # a purchase order of a partner's own workspace to tenant A, of one of its own products
    "/api/ordering/purchase-orders": lambda c, w: _purchase_order(c, w),
    "/api/interconnect/announcements": lambda c, w: (
        w.a.admin,
        "/api/interconnect/announcements",
        {"title": f"Notice {_code()}", "body": "Closed on Monday."},
    ),
}


def _settlement_run(client: TestClient, world: World) -> dict[str, str]:
    from tests.integration.service.support import closed

    fees = {"fees": [{"ticket_type": "repair", "labour": "50.00"}, {"ticket_type": "maintenance", "labour": "80.00"}]}
    assert client.put("/api/service/fees", headers=world.a.admin.bearer, json=fees).status_code == 200
    closed(client, world, "other")
    today = datetime.now(UTC).date().isoformat()
    return {"enterprise_id": world.service["other"].link_id, "period_start": today, "period_end": today}


def _purchase_order(client: TestClient, world: World) -> tuple[Credential, str, dict[str, Any]]:
    north, _link = connect_workspace(client, world.a, _code())
    made = client.post("/api/ordering/products", headers=north.admin.bearer, json={"sku": _code(), "name": "Gasket"})
    assert made.status_code == 201, made.text
    body = {
        "supplier_id": world.a.tenant_id,
        "lines": [{"product_id": made.json()["id"], "quantity": 2}],
        "ship_to": "Quay 3",
    }
    return north.admin, "/api/ordering/purchase-orders", body


_STAND_IN: list[str] = []


def _upstream_stand_in(client: TestClient) -> str:
    """The address of a stand-in for a manufacturer's deployment that takes any pairing code (started once,
    on a loopback port, for this module's run): each pairing it answers is a new one. The app may send to
    it as PORTAL_WEBHOOK_ALLOW_HOSTS lets it send to an on-premises peer (the test puts the setting back)."""
    webhooks = client.app.state.services.extensions["webhooks"]
    webhooks.config = dataclasses.replace(webhooks.config, allow_hosts=frozenset({"127.0.0.1"}))
    if not _STAND_IN:

        class Pairing(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = {
                    "pairing_id": str(uuid.uuid4()),
                    "tenant_id": str(uuid.uuid4()),
                    "tenant_name": "Stand-in Pumps",
                    "secret": f"pssec_{uuid.uuid4().hex}",
                }
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Pairing)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        _STAND_IN.append(f"http://127.0.0.1:{server.server_address[1]}")
    return _STAND_IN[0]


def creating_routes(app: Litestar) -> dict[str, tuple[str, ...]]:
    """Every POST of the API a signed-in actor sends that answers 201, read from the route table, with the
    fields of its answer that hold a secret shown only once."""
    return {
        route.path: tuple(handler.opt.get("shown_once", ()))
        for route in sorted(app.routes, key=lambda r: r.path)
        for handler in getattr(route, "route_handlers", ())
        if route.path.startswith("/api/")
        and "POST" in handler.http_methods
        and handler.status_code == 201
        and not is_public(handler)
    }


def test_every_creating_route_replays_its_saved_response_and_creates_nothing_more(
    app: Litestar, client: TestClient, world: World, settings: Settings
) -> None:
    routes = creating_routes(app)
    assert len(routes) >= 20
    assert not set(routes) - set(CREATING), f"creating routes without a case here: {set(routes) - set(CREATING)}"
    webhooks = app.state.services.extensions["webhooks"]
    config = webhooks.config
    try:
        _replays(app, client, world, settings, routes)
    finally:
        webhooks.config = config


def _replays(
    app: Litestar, client: TestClient, world: World, settings: Settings, routes: dict[str, tuple[str, ...]]
) -> None:
    failures = []
    for template, secrets in routes.items():
        who, path, body = CREATING[template](client, world)
        headers = {**who.bearer, "Idempotency-Key": str(uuid.uuid4())}
        first = client.post(path, headers=headers, json=body)
        assert first.status_code == 201, f"{template}: {first.text}"
        before = tenant_fingerprint(settings, world.a.tenant_id)
        again = client.post(path, headers=headers, json=body)
        changed = tenant_fingerprint(settings, world.a.tenant_id) != before
        other = client.post(path, headers=headers, json={**body, "unrelated": 1})
        if any(first.json().get(field) is not None for field in secrets):
            # the answer held a secret shown once: not stored, so refused rather than replayed
            if again.status_code != 409 or again.json()["code"] != "idempotent_answer_withheld" or changed:
                failures.append(f"{template}: a withheld answer gave {again.status_code} {again.text[:120]}")
        elif (again.status_code, again.content) != (201, first.content) or changed:
            failures.append(f"{template}: replay {again.status_code} {again.text[:120]}, data changed: {changed}")
        elif again.headers.get("idempotent-replayed") != "true":
            failures.append(f"{template}: replay not marked as such")
        elif other.status_code != 409 or other.json()["code"] != "idempotency_key_reused":
            failures.append(f"{template}: another body with the key gave {other.status_code} {other.text[:120]}")
    assert failures == [], "\n".join(failures)


def _stored_answers(settings: Settings) -> list[bytes]:
    async def work(db: Database) -> list[bytes]:
        async with db.session(SYSTEM) as session:
            return [b for b in await session.scalars(select(IdempotencyRecord.response_body)) if b is not None]

    return run_with_database(settings, work)


def test_an_answer_with_a_secret_shown_once_is_never_stored(
    client: TestClient, world: World, settings: Settings
) -> None:
    """A webhook endpoint's signing secret (or a one-time link) is in the creating answer only: the
    idempotency table does not keep it, and a retry with the key is refused with a clear problem
    instead of a replay, still without creating anything twice."""
    headers = {**world.a.admin.bearer, "Idempotency-Key": str(uuid.uuid4())}
    body = {"url": WEBHOOK_URL, "event_types": ["link.terminated"], "active": False}
    before = len(client.get("/api/webhooks/endpoints", headers=world.a.admin.bearer).json())
    created = client.post("/api/webhooks/endpoints", headers=headers, json=body)
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    assert not any(secret.encode() in answer for answer in _stored_answers(settings))
    again = client.post("/api/webhooks/endpoints", headers=headers, json=body)
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["code"] == "idempotent_answer_withheld" and "shown only once" in again.json()["detail"]
    assert secret not in again.text
    assert len(client.get("/api/webhooks/endpoints", headers=world.a.admin.bearer).json()) == before + 1

    # a first admin's one-time set-password link, when it is returned rather than sent, likewise
    headers = {**world.a.admin.bearer, "Idempotency-Key": str(uuid.uuid4())}
    enterprise = {
        "name": f"Idem {uuid.uuid4().hex[:6]}",
        "partner_type_id": partner_type_id(client, world.a.admin),
        "admin": {"display_name": "First Admin", "email": f"{uuid.uuid4().hex[:8]}@first.example"},
    }
    made = client.post("/api/interconnect/enterprises", headers=headers, json=enterprise)
    assert made.status_code == 201, made.text
    link = made.json()["setup_url"]
    assert link and not any(link.encode() in answer for answer in _stored_answers(settings))
    assert client.post("/api/interconnect/enterprises", headers=headers, json=enterprise).status_code == 409

    # an answer without a secret is replayed as before
    headers = {**world.a.admin.bearer, "Idempotency-Key": str(uuid.uuid4())}
    enterprise = {"name": f"Idem {uuid.uuid4().hex[:6]}", "partner_type_id": partner_type_id(client, world.a.admin)}
    first = client.post("/api/interconnect/enterprises", headers=headers, json=enterprise)
    second = client.post("/api/interconnect/enterprises", headers=headers, json=enterprise)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
