"""Two tenants, built through the public API, with what each test may touch and must not see.

Tenant A has an admin, a staff member (read-only role) and a disabled user whose credentials were valid
before it was disabled; tenant B has an admin. The world is built once per lane and the database put back
to it before each test that uses it (tests/conftest.py), so its names are the same in every test of a
lane; what a test makes itself still takes a unique name, as tests without the world share the database.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select

from portal.db.context import SYSTEM
from portal.outbox import OutboxEvent
from portal.services import Services
from sync.delivery.engine import DeliveryEngine
from sync.delivery.worker import subscribers_of
from tests import dns
from tests.wechat import WORLD_APP_ID, WORLD_APP_SECRET

PASSWORD = "correct horse battery staple"
WORLD_PARTNER_DOMAIN = "partners.alpha-works.example"  # tenant A's verified partner domain


@dataclass
class Credential:
    user_id: str
    email: str
    token: str
    refresh_token: str
    cookie: str = ""

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class TenantWorld:
    tenant_id: str
    slug: str
    name: str
    admin: Credential
    others: dict[str, Credential] = field(default_factory=dict)
    partner_domain: str = ""  # its verified partner domain, if any

    def markers(self) -> set[str]:
        """Strings that identify this tenant's data; none may appear in another tenant's responses."""
        found = {self.tenant_id, self.slug, self.name, self.admin.user_id, self.admin.email}
        if self.partner_domain:
            found.add(self.partner_domain)
        for cred in self.others.values():
            found |= {cred.user_id, cred.email}
        return found


@dataclass
class Enterprise:
    """A partner enterprise of tenant A, with its external admin (and, for X, a colleague)."""

    link_id: str
    name: str
    admin: Credential
    people: dict[str, Credential] = field(default_factory=dict)

    def markers(self) -> set[str]:
        found = {self.link_id, self.name, self.admin.user_id, self.admin.email}
        for cred in self.people.values():
            found |= {cred.user_id, cred.email}
        return found


@dataclass
class World:
    a: TenantWorld
    b: TenantWorld
    x: Enterprise  # tenant A's dealer X
    y: Enterprise  # tenant A's dealer Y: must never see X's people
    ids: dict[str, str] = field(default_factory=dict)  # other sample records of tenant A
    # tenant A's service providers as the presets make them: "fixit" (its admin the dispatcher, its
    # colleague "engineer" an engineer) and "other" (its admin only)
    service: dict[str, Enterprise] = field(default_factory=dict)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def sign_up(client: TestClient, label: str) -> tuple[str, str, str, str]:
    slug = unique(label)
    name = f"{label.title()} Works {slug[-6:]}"
    email = f"admin@{slug}.example"
    response = client.post(
        "/api/signup",
        json={
            "company_name": name,
            "slug": slug,
            "admin_name": f"{label} admin",
            "email": email,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return body["tenant"]["id"], slug, name, body["admin"]["id"]


def api_login(client: TestClient, slug: str, email: str, password: str = PASSWORD) -> tuple[str, str]:
    response = client.post("/api/auth/token", json={"workspace": slug, "email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"], response.json()["refresh_token"]


def csrf_token(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def web_login(client: TestClient, slug: str, email: str, password: str = PASSWORD) -> str:
    """Sign in through the login page and return the session cookie, leaving the client's jar as it was."""
    saved = dict(client.cookies)
    client.cookies.clear()
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={"workspace": slug, "email": email, "password": password, "_csrf_token": token, "next": "/console"},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    cookie = response.cookies.get("portal_session") or client.cookies.get("portal_session")
    assert cookie
    client.cookies.clear()
    client.cookies.update(saved)
    return cookie


def credential(client: TestClient, slug: str, user_id: str, email: str) -> Credential:
    token, refresh = api_login(client, slug, email)
    return Credential(user_id, email, token, refresh, web_login(client, slug, email))


def add_user(client: TestClient, admin: Credential, email: str, role: str = "staff") -> str:
    response = client.post(
        "/api/users",
        headers=admin.bearer,
        json={
            "email": email,
            "display_name": email.split("@")[0],
            "password": PASSWORD,
            "roles": [role],
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def partner_login(client: TestClient, slug: str, login: str, password: str = PASSWORD) -> tuple[str, str]:
    response = client.post("/api/partner/auth/token", json={"workspace": slug, "login": login, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"], response.json()["refresh_token"]


def partner_web_login(client: TestClient, slug: str, login: str, password: str = PASSWORD) -> str:
    """Sign in through the partner portal's login page; return the session cookie, leaving the jar as it was."""
    saved = dict(client.cookies)
    client.cookies.clear()
    token = csrf_token(client, f"/p/{slug}/login")
    response = client.post(
        f"/p/{slug}/login",
        data={"login": login, "password": password, "_csrf_token": token, "next": f"/p/{slug}/"},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    cookie = response.cookies.get("portal_session") or client.cookies.get("portal_session")
    assert cookie
    client.cookies.clear()
    client.cookies.update(saved)
    return cookie


def complete_setup(client: TestClient, setup_url: str, password: str = PASSWORD) -> None:
    response = client.post("/api/partner/setup", json={"token": setup_url.rsplit("/", 1)[1], "password": password})
    assert response.status_code == 204, response.text


def partner_type_id(client: TestClient, admin: Credential, code: str = "dealer") -> str:
    types = client.get("/api/interconnect/partner-types", headers=admin.bearer).json()
    return next(t["id"] for t in types if t["code"] == code)


def add_enterprise(
    client: TestClient, tenant: TenantWorld, label: str, type_code: str = "dealer", parent_id: str | None = None
) -> Enterprise:
    name = f"{label} {uuid.uuid4().hex[:6]}"
    email = f"{label.lower().replace(' ', '-')}-admin-{uuid.uuid4().hex[:6]}@partner.example"
    response = client.post(
        "/api/interconnect/enterprises",
        headers=tenant.admin.bearer,
        json={
            "name": name,
            "partner_type_id": partner_type_id(client, tenant.admin, type_code),
            "parent_id": parent_id,
            "admin": {"display_name": f"{label} admin", "email": email},
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    complete_setup(client, body["setup_url"])
    token, refresh = partner_login(client, tenant.slug, email)
    cookie = partner_web_login(client, tenant.slug, email)
    return Enterprise(body["enterprise"]["id"], name, Credential(body["admin_id"], email, token, refresh, cookie))


def add_colleague(client: TestClient, slug: str, enterprise: Enterprise, key: str) -> Credential:
    email = f"{key}-{uuid.uuid4().hex[:6]}@partner.example"
    response = client.post(
        "/api/partner/colleagues", headers=enterprise.admin.bearer, json={"display_name": key, "email": email}
    )
    assert response.status_code == 201, response.text
    complete_setup(client, response.json()["setup_url"])
    token, refresh = partner_login(client, slug, email)
    cred = Credential(response.json()["colleague"]["id"], email, token, refresh, partner_web_login(client, slug, email))
    enterprise.people[key] = cred
    return cred


def background_jobs_ended(client: TestClient, within: float = 90.0) -> bool:
    """Have the work the app leaves to its workers done (today: import jobs, run by a subscriber of
    `interconnect.import.requested`): every pending outbox event that a registered subscriber accepts is
    delivered to it, until none is left or `within` seconds have passed; whether none is left. It runs on
    the client's event loop, with the app's own services, as the in-process worker does.

    The one place tests drive the workers: the worker's own engine, run until idle (a delivery that failed
    waits for its retry, as with a worker)."""
    services: Services = client.app.state.services

    async def deliver_all() -> bool:
        try:
            async with asyncio.timeout(within):
                while await deliver_pending(services):
                    pass
        except TimeoutError:
            return False
        return True

    return client.blocking_portal.call(deliver_all)


async def deliver_pending(services: Services) -> int:
    """One pass of the delivery worker's own engine over every registered subscriber: new events fanned
    out, then due deliveries claimed and delivered batch after batch (in the order written per aggregate);
    how many events and deliveries it handled."""
    engine = DeliveryEngine(services, subscribers_of(services), worker_id="tests")
    done = await engine.fan_out()
    while claimed := await engine.deliver_batch():
        done += claimed
    await engine.settle()
    return done


def sample_import_job(client: TestClient, tenant: TenantWorld) -> str:
    """A finished import job of the tenant (one invalid row, so it created nothing)."""
    response = client.post(
        "/api/interconnect/imports",
        headers=tenant.admin.bearer,
        files={"file": ("sample.csv", b"name,partner_type\nSample row,no-such-type\n", "text/csv")},
        data={"mode": "all_or_nothing"},
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    assert background_jobs_ended(client), f"import job {job_id} did not finish"
    job = client.get(f"/api/interconnect/imports/{job_id}", headers=tenant.admin.bearer).json()
    assert job["status"] in ("done", "failed"), job
    return job_id


def sample_deal(client: TestClient, tenant: TenantWorld, enterprise: Enterprise) -> str:
    """Dealer admins may work on their enterprise's deals (so another enterprise's admin passes the
    function check and only the data scope stands in the way); one deal of enterprise X."""
    admin = tenant.admin.bearer
    role = client.get("/api/roles/dealer_admin", headers=admin).json()
    granted = client.patch(
        "/api/roles/dealer_admin",
        headers=admin,
        json={"apps": [*role["apps"], "agent"], "grants": [*role["grants"], ["partner.agent.deal", "*"]]},
    )
    assert granted.status_code == 200, granted.text
    dealer = partner_type_id(client, tenant.admin)
    rule = {"object": "partner.agent.deal", "level": "enterprise_write", "partner_type_id": dealer}
    assert client.put("/api/access/data", headers=admin, json=rule).status_code == 200
    deal = client.post(
        "/api/agent/deals",
        headers=admin,
        json={"customer_name": "Harbour Hotel", "amount": "120000.00", "enterprise_id": enterprise.link_id},
    )
    assert deal.status_code == 201, deal.text
    return deal.json()["id"]


def sample_leads(client: TestClient, tenant: TenantWorld, enterprise: Enterprise) -> dict[str, str]:
    """Tenant A's lead set-up: a pool for agents (dealers may not claim from it) with a follow-up deadline,
    an assignment rule into it, and a lead assigned by hand to enterprise X with that pool as its home,
    on which X's admin asked for more time. Dealer admins work their enterprise's leads here (so another
    enterprise's admin passes the function check and only the data scope stands in the way)."""
    admin = tenant.admin.bearer

    def made(response: Any, status: int = 201) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    role = made(client.get("/api/roles/dealer_admin", headers=admin), 200)
    made(
        client.patch(
            "/api/roles/dealer_admin",
            headers=admin,
            json={"apps": sorted({*role["apps"], "agent"}), "grants": [*role["grants"], ["partner.agent.lead", "*"]]},
        ),
        200,
    )
    rule = {
        "object": "partner.agent.lead",
        "level": "enterprise_write",
        "partner_type_id": partner_type_id(client, tenant.admin),
    }
    made(client.put("/api/access/data", headers=admin, json=rule), 200)
    pool = made(
        client.post(
            "/api/agent/lead-pools",
            headers=admin,
            json={
                "name": "Harbour pool",
                "partner_type_id": partner_type_id(client, tenant.admin, "agent"),
                "follow_up_days": 7,
            },
        )
    )
    lead_rule = made(
        client.post(
            "/api/agent/lead-rules",
            headers=admin,
            json={"name": "Harbour leads", "product_line": "Harbour pumps", "strategy": "pool", "pool_id": pool["id"]},
        )
    )
    lead = made(
        client.post("/api/agent/leads", headers=admin, json={"company_name": "Harbour Yacht Club", "distribute": False})
    )
    made(
        client.post(
            f"/api/agent/leads/{lead['id']}/distribute",
            headers=admin,
            json={"enterprise_id": enterprise.link_id, "pool_id": pool["id"]},
        ),
        200,
    )
    extension = made(
        client.post(
            f"/api/partner/agent/leads/{lead['id']}/extension", headers=enterprise.admin.bearer, json={"days": 5}
        )
    )
    return {"lead": lead["id"], "pool": pool["id"], "rule": lead_rule["id"], "extension": extension["id"]}


def sample_sharing_rule(client: TestClient, tenant: TenantWorld) -> str:
    """A sharing rule of tenant A on the first data-scoped partner object."""
    objects = client.get("/api/access/objects", headers=tenant.admin.bearer).json()["objects"]
    scoped = next(o for o in objects if o["data_scoped"] and o["audience"] == "external")
    response = client.post(
        "/api/access/sharing",
        headers=tenant.admin.bearer,
        json={
            "name": "Shared with members",
            "object": scoped["name"],
            "field": "owner_id",
            "operator": "eq",
            "value": str(uuid.uuid4()),
            "target_kind": "role",
            "target": "member",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def ended_month(months_ago: int = 1) -> tuple[str, date]:
    """A month that has ended (UTC), `months_ago` before this one: its "YYYY-MM" and its last day."""
    first = datetime.now(UTC).date().replace(day=1)
    for _ in range(months_ago):
        last = first - timedelta(days=1)
        first = last.replace(day=1)
    return f"{first:%Y-%m}", last


def date_commissions(client: TestClient, enterprise_id: str, day: date) -> int:
    """The enterprise's commission lines not on a statement yet, dated `day` as if earned then (only an
    ended month's statements are made, and a line is dated the day its deal was won): the clock is
    ours, so the test moves it for these lines. How many were dated."""
    from sqlalchemy import update

    from apps.agent.commissions.models import CommissionLine
    from portal.db.engine import Database
    from tests.db import run_with_database

    async def work(db: Database) -> int:
        async with db.session(SYSTEM) as session:
            moved = await session.execute(
                update(CommissionLine)
                .where(CommissionLine.enterprise_id == uuid.UUID(enterprise_id), CommissionLine.statement_id.is_(None))
                .values(earned_on=day)
            )
            return moved.rowcount

    return run_with_database(client.app.state.services.settings, work)


def sample_commissions(client: TestClient, tenant: TenantWorld, enterprise: Enterprise) -> dict[str, str]:
    """Tenant A's commissions and funds: a rule, a won deal of enterprise X on X's statement of last month,
    a fund budget, and X's fund request. Dealer admins review their enterprise's statements and ask for
    funds here (so another enterprise's admin passes the function check and only the enterprise stands
    in the way)."""
    admin = tenant.admin.bearer

    def made(response: Any, status: int = 201) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    role = made(client.get("/api/roles/dealer_admin", headers=admin), 200)
    grants = [*role["grants"], ["partner.agent.commission", "*"], ["partner.agent.fund", "*"]]
    made(
        client.patch(
            "/api/roles/dealer_admin", headers=admin, json={"apps": sorted({*role["apps"], "agent"}), "grants": grants}
        ),
        200,
    )
    rule = made(client.post("/api/agent/commission-rules", headers=admin, json={"name": "Base", "rate": "0.05"}))
    deal = made(
        client.post(
            "/api/agent/deals",
            headers=admin,
            json={"customer_name": "Harbour Marina", "amount": "80000", "enterprise_id": enterprise.link_id},
        )
    )
    made(client.patch(f"/api/agent/deals/{deal['id']}", headers=admin, json={"stage": "won"}), 200)
    period, last_day = ended_month()
    assert date_commissions(client, enterprise.link_id, last_day) == 1
    closed = made(
        client.post(
            "/api/agent/commission-statements",
            headers=admin,
            json={"period": period, "enterprise_id": enterprise.link_id},
        )
    )
    budget = made(
        client.post(
            "/api/agent/fund-budgets",
            headers=admin,
            json={
                "name": "Harbour MDF",
                "starts_on": (date.today() - timedelta(days=30)).isoformat(),
                "ends_on": (date.today() + timedelta(days=60)).isoformat(),
                "amount": "50000",
            },
        )
    )
    request = made(
        client.post(
            "/api/partner/agent/fund-requests",
            headers=enterprise.admin.bearer,
            json={"amount": "3000", "purpose": "Harbour trade show"},
        )
    )
    return {
        "rule": rule["id"],
        "statement": closed["items"][0]["id"],
        "budget": budget["id"],
        "request": request["id"],
    }


def sample_ordering(client: TestClient, tenant: TenantWorld, enterprise: Enterprise) -> dict[str, str]:
    """Tenant A's ordering records: a product on the base price list, an address of enterprise X and
    its order waiting for approval, a payment of X, the main warehouse and the first approval rule."""
    admin = tenant.admin.bearer

    def made(response: Any, status: int = 201) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    product = made(
        client.post("/api/ordering/products", headers=admin, json={"sku": unique("P"), "name": "Harbour pump"})
    )
    price_list = made(client.post("/api/ordering/price-lists", headers=admin, json={"name": "Base", "kind": "base"}))
    items = [{"product_id": product["id"], "unit_price": "120.00"}]
    made(client.put(f"/api/ordering/price-lists/{price_list['id']}/items", headers=admin, json=items), 200)
    address = made(
        client.post(
            "/api/partner/ordering/addresses",
            headers=enterprise.admin.bearer,
            json={"label": "Harbour dock", "recipient": "Dock office", "phone": "555-0100", "address": "Pier 4"},
        )
    )
    order = made(
        client.post(
            "/api/partner/ordering/orders",
            headers=enterprise.admin.bearer,
            json={
                "lines": [{"product_id": product["id"], "quantity": 1}],
                "address_id": address["id"],
                "note": "Harbour order",
            },
        )
    )
    payment = made(
        client.post(
            "/api/ordering/payments",
            headers=admin,
            json={"enterprise_id": enterprise.link_id, "amount": "10.00", "received_on": "2026-01-05"},
        )
    )
    rules = made(client.get("/api/ordering/settings/approval-rules", headers=admin), 200)
    warehouses = made(client.get("/api/ordering/warehouses", headers=admin), 200)
    return {
        "product": product["id"],
        "price_list": price_list["id"],
        "address": address["id"],
        "order": order["id"],
        "order_number": order["number"],
        "payment": payment["id"],
        "approval_rule": rules[0]["id"],
        "warehouse": warehouses[0]["id"],
    }


def sample_approvals(client: TestClient, tenant: TenantWorld, order_id: str) -> dict[str, str]:
    """Tenant A's approvals: the step of X's order waiting for the admin, the orders' flow and its first
    step, and the admin's delegation to an order desk clerk (who may approve orders) for days long ahead."""
    admin = tenant.admin.bearer
    desk = add_user(client, tenant.admin, f"approval-delegate@{tenant.slug}.example", role="order_desk")

    def made(response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    items = made(client.get("/api/approvals?limit=200", headers=admin))["items"]
    (flow,) = made(client.get("/api/approvals/flows?kind=ordering.order", headers=admin))
    delegation = made(
        client.post(
            "/api/approvals/delegations",
            headers=admin,
            json={"delegate_id": desk, "starts_on": "2099-01-01", "ends_on": "2099-01-10"},
        ),
        201,
    )
    return {
        "item": next(i["id"] for i in items if i["subject_id"] == order_id),
        "flow": flow["id"],
        "flow_step": flow["steps"][0]["id"],
        "delegation": delegation["id"],
    }


def sample_delivery(client: TestClient, tenant: TenantWorld) -> str:
    """A delivered delivery of the tenant's latest outbox event, as a worker leaves one (subscriber "world")."""

    from portal.db.engine import Database
    from sync.delivery.models import Delivery
    from tests.db import run_with_database

    async def work(db: Database) -> str:
        async with db.session(SYSTEM) as session:
            event = (
                await session.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.tenant_id == uuid.UUID(tenant.tenant_id))
                    .order_by(OutboxEvent.sequence.desc())
                    .limit(1)
                )
            ).one()
            delivery = Delivery(
                tenant_id=event.tenant_id,
                event_id=event.id,
                subscriber="world",
                event_type=event.event_type,
                aggregate_type=event.aggregate_type,
                aggregate_id=event.aggregate_id,
                sequence=event.sequence,
                status="delivered",
                attempts=1,
                delivered_at=event.occurred_at,
            )
            session.add(delivery)
            await session.flush()
            return str(delivery.id)

    return run_with_database(client.app.state.services.settings, work)


# Allowlisted for the tests' app (conftest.make_settings): a loopback port nobody listens on.
WEBHOOK_URL = "http://127.0.0.1:9/world-hook"


def sample_webhook(client: TestClient, tenant: TenantWorld) -> dict[str, str]:
    """A disabled webhook endpoint of tenant A (no event reaches it) and its ping, refused at connecting."""
    created = client.post(
        "/api/webhooks/endpoints",
        headers=tenant.admin.bearer,
        json={"url": WEBHOOK_URL, "event_types": ["link.terminated"], "active": False},
    )
    assert created.status_code == 201, created.text
    endpoint_id = created.json()["endpoint"]["id"]
    ping = client.post(f"/api/webhooks/endpoints/{endpoint_id}/ping", headers=tenant.admin.bearer)
    assert ping.status_code == 200 and ping.json()["outcome"] == "failed", ping.text
    return {"endpoint": endpoint_id, "delivery": ping.json()["id"]}


def sample_integration_key(client: TestClient, tenant: TenantWorld) -> dict[str, str]:
    """An integration key of the tenant with every scope: its id and the key itself."""
    created = client.post(
        "/api/integrations/keys",
        headers=tenant.admin.bearer,
        json={
            "name": "World ERP",
            "scopes": [
                "integration.products",
                "integration.price_lists",
                "integration.stock",
                "integration.customers",
                "integration.changes",
            ],
        },
    )
    assert created.status_code == 201, created.text
    return {"key": created.json()["integration_key"]["id"], "secret": created.json()["key"]}


def sample_service(client: TestClient, tenant: TenantWorld, enterprise: Enterprise) -> dict[str, str]:
    """A device enterprise X looks after and its ticket, dispatched to X with X's admin as the engineer.
    Dealer admins may work on their enterprise's tickets and devices here (so another enterprise's admin
    passes the function check and only the data scope stands in the way)."""
    admin = tenant.admin.bearer
    role = client.get("/api/roles/dealer_admin", headers=admin).json()
    grants = [
        ["partner.service.ticket", "*"],
        ["partner.service.job", "*"],
        ["partner.service.device", "read"],
        ["partner.service.parts", "read"],
        ["partner.service.part_request", "*"],
        ["partner.service.settlement", "*"],
    ]
    granted = client.patch(
        "/api/roles/dealer_admin",
        headers=admin,
        json={"apps": [*role["apps"], "service"], "grants": [*role["grants"], *grants]},
    )
    assert granted.status_code == 200, granted.text
    dealer = partner_type_id(client, tenant.admin)
    for obj, level in (
        ("partner.service.ticket", "enterprise_write"),
        ("partner.service.job", "private"),
        ("partner.service.device", "enterprise_read"),
        ("partner.service.parts", "enterprise_read"),
        ("partner.service.part_request", "enterprise_write"),
        ("partner.service.settlement", "enterprise_write"),
    ):
        rule = {"object": obj, "level": level, "partner_type_id": dealer}
        assert client.put("/api/access/data", headers=admin, json=rule).status_code == 200
    device = client.post(
        "/api/service/devices",
        headers=admin,
        json={
            "serial_number": unique("SN"),
            "product_name": "Harbour pump",
            "customer_name": "Harbour Hotel",
            "site_address": "Pier 4",
            "enterprise_id": enterprise.link_id,
            "warranty_end": "2099-12-31",
        },
    )
    assert device.status_code == 201, device.text
    ticket = client.post(
        "/api/service/tickets",
        headers=admin,
        json={
            "type": "repair",
            "symptoms": "Harbour pump leaks",
            "contact_name": "Dock office",
            "contact_phone": "555-0100",
            "device_id": device.json()["id"],
        },
    )
    assert ticket.status_code == 201, ticket.text
    dispatched = client.post(
        f"/api/service/tickets/{ticket.json()['id']}/dispatch",
        headers=admin,
        json={"enterprise_id": enterprise.link_id, "engineer_id": enterprise.admin.user_id},
    )
    assert dispatched.status_code == 200, dispatched.text
    page = client.post(f"/api/service/devices/{device.json()['id']}/public-page", headers=admin)
    assert page.status_code == 200, page.text
    address = page.json()["url"].split("/service/d/", 1)[1]  # the device's QR page: <tenant>.<token>
    rule = client.post(
        "/api/service/dispatch/rules",
        headers=admin,
        json={"name": "Harbour repairs", "partner_ids": [enterprise.link_id], "ticket_type": "repair"},
    )
    assert rule.status_code == 201, rule.text
    settlement = sample_settlement(client, tenant, enterprise, device.json()["id"])
    return {
        "device": device.json()["id"],
        "ticket": ticket.json()["id"],
        "device_page": address,
        "dispatch_rule": rule.json()["id"],
        "settlement": settlement["id"],
        "settlement_line": settlement["lines"][0]["id"],
    }


def sample_settlement(client: TestClient, tenant: TenantWorld, enterprise: Enterprise, device_id: str) -> Any:
    """A settlement in review of enterprise X's one closed ticket, priced by tenant A's fee schedule."""
    admin = tenant.admin.bearer
    fees = {"fees": [{"ticket_type": "maintenance", "labour": "80.00", "travel": "20.00"}]}
    assert client.put("/api/service/fees", headers=admin, json=fees).status_code == 200
    body = {
        "type": "maintenance",
        "symptoms": "Yearly check",
        "contact_name": "Dock office",
        "contact_phone": "555-0100",
    }
    ticket = client.post("/api/service/tickets", headers=admin, json={**body, "device_id": device_id}).json()["id"]
    steps = [
        (admin, "/api/service/tickets", "dispatch", {"enterprise_id": enterprise.link_id}),
        *((enterprise.admin.bearer, "/api/partner/service/tickets", a, {}) for a in ("accept", "start", "arrive")),
        (enterprise.admin.bearer, "/api/partner/service/tickets", "resolve", {"note": "Checked"}),
        (admin, "/api/service/tickets", "close", {}),
    ]
    for headers, base, action, step in steps:
        moved = client.post(f"{base}/{ticket}/{action}", headers=headers, json=step)
        assert moved.status_code == 200, moved.text
    today = datetime.now(UTC).date().isoformat()
    run = {"enterprise_id": enterprise.link_id, "period_start": today, "period_end": today}
    settlement = client.post("/api/service/settlements", headers=admin, json=run)
    assert settlement.status_code == 201, settlement.text
    return settlement.json()


def sample_oauth_client(client: TestClient, tenant: TenantWorld) -> str:
    """A confidential OAuth client of tenant A (an application its partners may sign in to)."""
    created = client.post(
        "/api/channels/oauth-clients",
        headers=tenant.admin.bearer,
        json={
            "name": "Harbour planner",
            "kind": "confidential",
            "redirect_uris": ["https://planner.example/callback"],
            "scopes": ["profile", "ordering"],
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["client"]["id"])


def sample_mini_program(client: TestClient, tenant: TenantWorld) -> None:
    """Tenant A's WeChat mini-program (the fake WeChat server knows its app id and secret)."""
    saved = client.put(
        "/api/channels/wechat/mini-program",
        headers=tenant.admin.bearer,
        json={"app_id": WORLD_APP_ID, "secret": WORLD_APP_SECRET},
    )
    assert saved.status_code == 200, saved.text


def sample_partner_domain(client: TestClient, tenant: TenantWorld) -> str:
    """Tenant A's partner domain, verified through its TXT record (tests.dns)."""
    fake = dns.install(client.app)
    claimed = client.put("/api/channels/domain", headers=tenant.admin.bearer, json={"domain": WORLD_PARTNER_DOMAIN})
    assert claimed.status_code == 200, claimed.text
    fake.publish(claimed.json()["record_name"], claimed.json()["record_value"])
    verified = client.post("/api/channels/domain/verify", headers=tenant.admin.bearer)
    assert verified.status_code == 200 and verified.json()["status"] == "verified", verified.text
    return WORLD_PARTNER_DOMAIN


def build_world(client: TestClient) -> World:
    tenants = []
    for label in ("alpha", "beta"):
        tenant_id, slug, name, admin_id = sign_up(client, label)
        admin = credential(client, slug, admin_id, f"admin@{slug}.example")
        tenants.append(TenantWorld(tenant_id, slug, name, admin))
    a = tenants[0]
    for key in ("staff", "disabled"):
        email = f"{key}@{a.slug}.example"
        user_id = add_user(client, a.admin, email)
        a.others[key] = credential(client, a.slug, user_id, email)
    response = client.patch(
        f"/api/users/{a.others['disabled'].user_id}", headers=a.admin.bearer, json={"status": "disabled"}
    )
    assert response.status_code == 200, response.text
    x = add_enterprise(client, a, "Dealer X")
    y = add_enterprise(client, a, "Dealer Y")
    colleague = add_colleague(client, a.slug, x, "colleague")
    # "a partner user without admin rights": the member role only, whatever the dealer template gives
    only_member = client.put(
        f"/api/interconnect/users/{colleague.user_id}/roles", headers=a.admin.bearer, json={"roles": ["member"]}
    )
    assert only_member.status_code == 200, only_member.text
    invitation = client.post(
        "/api/interconnect/invitations",
        headers=a.admin.bearer,
        json={"kind": "link", "partner_type_id": partner_type_id(client, a.admin)},
    )
    assert invitation.status_code == 201, invitation.text
    tiers = client.get("/api/interconnect/tiers", headers=a.admin.bearer).json()
    role = client.post(
        "/api/roles", headers=a.admin.bearer, json={"key": "harbour_sales", "name": "Harbour sales", "kind": "internal"}
    )
    assert role.status_code == 201, role.text
    team = client.post("/api/access/teams", headers=a.admin.bearer, json={"name": "North sales"})
    assert team.status_code == 201, team.text
    ids = {
        "deal": sample_deal(client, a, x),
        "team": team.json()["id"],
        "sharing_rule": sample_sharing_rule(client, a),
        "invitation": invitation.json()["id"],
        "tier": tiers[0]["id"],
        "partner_type": partner_type_id(client, a.admin),
        "import_job": sample_import_job(client, a),
        **{f"ordering_{k}": v for k, v in sample_ordering(client, a, x).items()},
        **{f"webhook_{k}": v for k, v in sample_webhook(client, a).items()},
        "notification": sample_notification(client, a, x),
        **{f"service_{k}": v for k, v in sample_service(client, a, x).items()},
        "oauth_client": sample_oauth_client(client, a),
        "announcement": sample_announcement(client, a),
        **{f"sync_{k}": v for k, v in sample_sync(client, a).items()},
        **{f"lead_{k}": v for k, v in sample_leads(client, a, x).items()},
        **{f"commission_{k}": v for k, v in sample_commissions(client, a, x).items()},
    }
    ids.update({f"approval_{k}": v for k, v in sample_approvals(client, a, ids["ordering_order"]).items()})
    ids["delivery"] = sample_delivery(client, a)
    ids.update({f"integration_{k}": v for k, v in sample_integration_key(client, a).items()})
    # tenant B's key: the isolation sweep sends it everywhere (not a marker of A's)
    ids.update({f"integration_b_{k}": v for k, v in sample_integration_key(client, tenants[1]).items()})
    ids["service_part_request"] = sample_part_request(client, x, ids["ordering_product"])
    sample_mini_program(client, a)
    a.partner_domain = sample_partner_domain(client, a)
    fixit = add_enterprise(client, a, "FixIt", "service_provider")
    add_colleague(client, a.slug, fixit, "engineer")
    service = {"fixit": fixit, "other": add_enterprise(client, a, "Other Service", "service_provider")}
    return World(a, tenants[1], x, y, ids, service)


def sample_part_request(client: TestClient, enterprise: Enterprise, product_id: str) -> str:
    """Enterprise X's request for spare parts (it may request them as the service sample grants)."""
    body = {"lines": [{"product_id": product_id, "quantity": 2}], "note": "For the harbour pump"}
    made = client.post("/api/partner/service/parts/requests", headers=enterprise.admin.bearer, json=body)
    assert made.status_code == 201, made.text
    return made.json()["id"]


def sample_announcement(client: TestClient, a: TenantWorld) -> str:
    """An announcement of tenant A's to all its partners."""
    body = {"title": "Spring prices", "body": "New prices from 1 March.\nSee the catalog."}
    created = client.post("/api/interconnect/announcements", headers=a.admin.bearer, json=body)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def connect_workspace(client: TestClient, upstream: TenantWorld, label: str) -> tuple[TenantWorld, str]:
    """A new workspace that is a partner of `upstream` through a link recording it as the partner's own
    workspace (what accepting an invitation for one's workspace leaves): the workspace and the link."""
    from portal.db.engine import Database
    from tests.db import run_with_database

    tenant_id, slug, name, admin_id = sign_up(client, label)
    downstream = TenantWorld(tenant_id, slug, name, credential(client, slug, admin_id, f"admin@{slug}.example"))
    created = client.post(
        "/api/interconnect/enterprises",
        headers=upstream.admin.bearer,
        json={"name": name, "partner_type_id": partner_type_id(client, upstream.admin, "distributor")},
    )
    assert created.status_code == 201, created.text
    link_id = created.json()["enterprise"]["id"]

    async def work(db: Database) -> None:
        from interconnect.models import EnterpriseLink
        from portal.db.context import tenant_context

        async with db.session(tenant_context(uuid.UUID(upstream.tenant_id), channel="system")) as session:
            link = (await session.scalars(select(EnterpriseLink).where(EnterpriseLink.id == uuid.UUID(link_id)))).one()
            link.downstream_tenant_id, link.status = uuid.UUID(tenant_id), "active"

    run_with_database(client.app.state.services.settings, work)
    return downstream, link_id


def sample_sync(client: TestClient, a: TenantWorld) -> dict[str, str]:
    """A draft sync rule of tenant A for a partner that runs its own workspace, a conflict held under it
    (as the "sync" subscriber leaves one), a finished reconciliation of it with a drift row, and a
    purchase order of tenant A's to that workspace."""
    from portal.db.engine import Database
    from sync.crosstenant.models import SyncConflict, SyncDrift, SyncReconciliation
    from sync.peers.models import SyncPeer
    from tests.db import run_with_database

    north, link_id = connect_workspace(client, a, "north")
    rule = client.post(
        "/api/sync/rules",
        headers=a.admin.bearer,
        json={"link_id": link_id, "object": "ordering.product", "name": "Catalog to North"},
    )
    assert rule.status_code == 201, rule.text

    async def work(db: Database) -> tuple[str, str]:
        from apps.ordering.purchasing.models import PurchaseOrder
        from portal.db.context import tenant_context

        async with db.session(tenant_context(uuid.UUID(a.tenant_id), channel="system")) as session:
            # tenant A buying from North's workspace: a purchase order of A's the supplier has not answered
            purchase = PurchaseOrder(
                number="PO900001",
                supplier_tenant_id=uuid.UUID(north.tenant_id),
                supplier_name=north.name,
                ship_to="Harbour Road 1",
                created_by=uuid.UUID(a.admin.user_id),
            )
            session.add(purchase)
            conflict = SyncConflict(
                rule_id=uuid.UUID(rule.json()["id"]),
                mapping_id=uuid.uuid4(),
                peer_tenant_id=uuid.UUID(north.tenant_id),
                local_id=uuid.uuid4(),
                peer_id=uuid.uuid4(),
                field="name",
                upstream_value="Harbour pump",
                downstream_value="Harbour pump (North)",
            )
            session.add(conflict)
            run = SyncReconciliation(
                rule_id=uuid.UUID(rule.json()["id"]),
                peer_tenant_id=uuid.UUID(north.tenant_id),
                status="done",
                phase="mappings",
                total=1,
                done=1,
                missing=1,
            )
            session.add(run)
            await session.flush()
            session.add(
                SyncDrift(
                    reconciliation_id=run.id,
                    rule_id=run.rule_id,
                    kind="missing",
                    local_id=uuid.uuid4(),
                    label="HARBOUR-DRIFT",
                    fields=[],
                )
            )
            await session.flush()
            # tenant A paired, as a partner, with a manufacturer on another deployment
            peer_id = uuid.uuid4()
            session.add(
                SyncPeer(
                    id=peer_id,
                    role="downstream",
                    peer_url="https://portal.elsewhere.example",
                    peer_tenant_id=uuid.uuid4(),
                    peer_tenant_name="Elsewhere Pumps",
                    peer_pairing_id=uuid.uuid4(),
                    own_secret=box.seal(peer_id, "pssec_world-own"),
                    peer_secret=box.seal(peer_id, "pssec_world-peer"),
                )
            )
            await session.flush()
            return str(conflict.id), str(purchase.id), str(run.id), str(peer_id)

    box = client.app.state.services.extensions["webhooks"].box
    conflict, purchase, run, peer = run_with_database(client.app.state.services.settings, work)
    return {
        "link": link_id,
        "rule": rule.json()["id"],
        "conflict": conflict,
        "purchase_order": purchase,
        "reconciliation": run,
        "peer": peer,
    }


def sample_notification(client: TestClient, a: TenantWorld, x: Enterprise) -> str:
    """An inbox entry of X's colleague (a notice of X's status), written by the notification service as a
    subscriber would; with no channel configured it reaches the inbox only."""
    from interconnect.notices import ENTERPRISE_STATUS
    from portal.db.context import tenant_context
    from portal.db.engine import Database
    from portal.notifications.service import Recipient
    from tests.db import run_with_database

    services = client.app.state.services
    colleague = x.people["colleague"]

    async def work(db: Database) -> str:
        async with db.session(tenant_context(uuid.UUID(a.tenant_id), channel="system")) as session:
            sent = await services.notifications.notify(
                session,
                Recipient("external", uuid.UUID(colleague.user_id), "colleague", colleague.email),
                ENTERPRISE_STATUS,
                {"name": "colleague", "workspace": a.name, "enterprise": x.name, "status": "active"},
            )
            return str(sent.notification.id)

    return run_with_database(services.settings, work)
