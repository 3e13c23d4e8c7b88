"""The isolation harness: every registered route, against every actor that must be refused.

Routes are read from the application itself, so a route added by any later change is swept without
anyone adding a case. A route with a path parameter the harness has no sample for fails loudly
(add the sample to SAMPLE_PATH_VALUES); it is never silently skipped. Public routes reached by a token in
their address are sent forged tokens (PUBLIC_FORGERIES) and must find nothing.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from portal.actor import Actor
from portal.config import Settings
from portal.db.base import Base
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.http.guard import is_public
from portal.identity import tokens
from portal.permissions import SIGNED_IN
from tests.db import run_with_database
from tests.world import WORLD_PARTNER_DOMAIN, Credential, World, ended_month

# A value of tenant A's for every path parameter a route may have.
# Parameters naming a record of enterprise X: another enterprise of tenant A must find nothing there.
ENTERPRISE_OWNED = frozenset(
    {
        "link_id",
        "membership_id",
        "deal_id",
        "order_id",
        "enterprise_id",
        "address_id",
        "notification_id",
        "ticket_id",
        "device_id",
        "lead_id",
        "request_id",
        "settlement_id",
        "statement_id",
        "fund_request_id",
    }
)
SAMPLE_PATH_VALUES: dict[str, Callable[[World], str]] = {
    "user_id": lambda w: w.a.others["staff"].user_id,
    "link_id": lambda w: w.x.link_id,
    "membership_id": lambda w: w.x.people["colleague"].user_id,
    "partner_type_id": lambda w: w.ids["partner_type"],
    "tier_id": lambda w: w.ids["tier"],
    "invitation_id": lambda w: w.ids["invitation"],
    "job_id": lambda w: w.ids["import_job"],
    "workspace": lambda w: w.a.slug,
    "slug": lambda w: w.a.slug,  # a partner portal: /p/{slug}/...
    "rest": lambda w: "no-such-page",  # any other address inside a portal
    "key": lambda w: "harbour_sales",  # a role only tenant A has
    "team_id": lambda w: w.ids["team"],
    "rule_id": lambda w: w.ids["sharing_rule"],
    "deal_id": lambda w: w.ids["deal"],
    "settlement_id": lambda w: w.ids["service_settlement"],
    "line_id": lambda w: w.ids["service_settlement_line"],
    "order_id": lambda w: w.ids["ordering_order"],
    "address_id": lambda w: w.ids["ordering_address"],
    "product_id": lambda w: w.ids["ordering_product"],
    "price_list_id": lambda w: w.ids["ordering_price_list"],
    "payment_id": lambda w: w.ids["ordering_payment"],
    "warehouse_id": lambda w: w.ids["ordering_warehouse"],
    "approval_rule_id": lambda w: w.ids["ordering_approval_rule"],
    "approval_id": lambda w: w.ids["approval_item"],  # the step of X's order waiting for A's admin
    "flow_id": lambda w: w.ids["approval_flow"],
    "step_id": lambda w: w.ids["approval_flow_step"],
    "delegation_id": lambda w: w.ids["approval_delegation"],  # A's admin's, to A's staff member
    "enterprise_id": lambda w: w.x.link_id,
    "delivery_id": lambda w: w.ids["delivery"],
    "job_name": lambda w: "sync.outbox_purge",
    "kind": lambda w: "ordering.order_approved",  # a kind of notification (WeChat template messages)
    "endpoint_id": lambda w: w.ids["webhook_endpoint"],
    "integration_key_id": lambda w: w.ids["integration_key"],
    "webhook_delivery_id": lambda w: w.ids["webhook_delivery"],
    "sync_rule_id": lambda w: w.ids["sync_rule"],
    "sync_conflict_id": lambda w: w.ids["sync_conflict"],
    "peer_id": lambda w: w.ids["sync_peer"],
    "sync_peer_id": lambda w: w.ids["sync_peer"],
    "sync_reconciliation_id": lambda w: w.ids["sync_reconciliation"],
    "purchase_order_id": lambda w: w.ids["sync_purchase_order"],
    "notification_id": lambda w: w.ids["notification"],  # an inbox entry of X's colleague
    "client_id": lambda w: w.ids["oauth_client"],  # an OAuth client (application) of tenant A
    # a partner's sign-in to an application (a token family): the world has none, so every caller finds none
    "grant_id": lambda w: w.ids.get("oauth_grant", "01900000-0000-7000-8000-000000000002"),
    # a stored file: no feature of the world attaches files yet, so none exists (every caller finds none)
    "attachment_id": lambda w: w.ids.get("attachment", "01900000-0000-7000-8000-000000000000"),
    "ticket_id": lambda w: w.ids["service_ticket"],  # dispatched to X, X's admin its engineer
    "device_id": lambda w: w.ids["service_device"],  # looked after by X
    "announcement_id": lambda w: w.ids["announcement"],  # tenant A's, to all its partners
    "dispatch_rule_id": lambda w: w.ids["service_dispatch_rule"],  # may choose X
    "lead_id": lambda w: w.ids["lead_lead"],  # assigned to X by hand, its home pool the agents'
    "pool_id": lambda w: w.ids["lead_pool"],
    "lead_rule_id": lambda w: w.ids["lead_rule"],
    "extension_id": lambda w: w.ids["lead_extension"],  # X's request for more time on that lead
    "request_id": lambda w: w.ids["service_part_request"],  # X's parts request
    # a sign-in session of X's admin (their password-issued tokens): only X's admin may end it
    "session_id": lambda w: str(session_of(w.x.admin.refresh_token)),
    "commission_rule_id": lambda w: w.ids["commission_rule"],
    "statement_id": lambda w: w.ids["commission_statement"],  # X's commission statement, open
    "budget_id": lambda w: w.ids["commission_budget"],  # a fund budget for every partner
    "fund_request_id": lambda w: w.ids["commission_request"],  # X's fund request, waiting
}
# Public routes (no account) reached by a token in their address: each forged address, made from tenant A's
# real ones, must be "not found" and show nothing of tenant A's. A device page's address is
# `<tenant>.<token>`, a progress link `<tenant>.<ticket>.<signature>`.
PUBLIC_FORGERIES: dict[str, Callable[[World], list[str]]] = {
    "address": lambda w: [
        f"{uuid.UUID(w.b.tenant_id).hex}.{w.ids['service_device_page'].split('.', 1)[1]}",  # tenant B's id
        f"{uuid.UUID(w.a.tenant_id).hex}.no-such-token",
        w.ids["service_device_page"] + "x",
    ],
    "link": lambda w: [
        f"{uuid.UUID(w.a.tenant_id).hex}.{uuid.UUID(w.ids['service_ticket']).hex}.{'0' * 32}",
        f"{uuid.UUID(w.b.tenant_id).hex}.{uuid.UUID(w.ids['service_ticket']).hex}.{'0' * 32}",
        f"{uuid.UUID(w.a.tenant_id).hex}.{uuid.UUID(w.ids['service_ticket']).hex}",
    ],
}

# Parameters naming what the platform shares by every tenant rather than a tenant's record (a scheduled
# job passes over every tenant; a kind of notification is named alike in every tenant, each keeping its own
# settings for it): another tenant reaches it too, and must find none of tenant A's data there.
PLATFORM_WIDE = frozenset({"job_name", "kind"})

NOBODY = "00000000-0000-7000-8000-000000000000"  # an id no record has
# A body that would succeed if the actor were allowed; defaults to an empty object / form.
SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/api/approvals/flows/{flow_id:uuid}"): {"name": "Intruded"},
    ("POST", "/api/approvals/flows/{flow_id:uuid}/steps"): {"name": "Intruder"},
    ("POST", "/api/approvals/{approval_id:uuid}/comments"): {"comment": "Intruder"},
    # the step is looked up before the person: whoever it names, another tenant's step is not found
    ("POST", "/api/approvals/{approval_id:uuid}/reassign"): {"user_id": "01a24411-0000-7000-8000-000000000000"},
    ("POST", "/console/approvals/{approval_id:uuid}/reassign"): {"user_id": "01a24411-0000-7000-8000-000000000000"},
    ("PATCH", "/api/users/{user_id:uuid}"): {"display_name": "Intruder", "status": "disabled"},
    ("POST", "/api/users"): {"email": "intruder@x.example", "display_name": "I", "password": "intruder password"},
    ("POST", "/console/users/{user_id:uuid}/status"): {"status": "disabled"},
    ("PATCH", "/api/workspace"): {"time_zone": "Pacific/Apia"},
    ("POST", "/console/settings"): {"time_zone": "Pacific/Apia"},
    ("POST", "/console/users"): {"email": "intruder@x.example", "display_name": "I", "password": "intruder password"},
    ("POST", "/api/interconnect/enterprises/{link_id:uuid}/status"): {"status": "suspended"},
    ("PATCH", "/api/interconnect/enterprises/{link_id:uuid}"): {"name": "Intruded"},
    ("PUT", "/api/service/devices/{device_id:uuid}"): {
        "serial_number": "INTRUDED",
        "customer_name": "Intruder",
        "site_address": "Elsewhere",
    },
    ("PATCH", "/api/interconnect/users/{membership_id:uuid}"): {"status": "disabled"},
    ("PATCH", "/api/partner/colleagues/{membership_id:uuid}"): {"status": "disabled"},
    ("PATCH", "/api/interconnect/partner-types/{partner_type_id:uuid}"): {"name": "Intruded"},
    ("PATCH", "/api/interconnect/tiers/{tier_id:uuid}"): {"name": "Intruded"},
    ("POST", "/api/partner/colleagues"): {"display_name": "Intruder", "email": "intruder@x.example"},
    ("PATCH", "/api/roles/{key:str}"): {"grants": [["*", "*"]]},
    ("POST", "/api/roles"): {"key": "intruder", "name": "Intruder", "kind": "internal", "grants": [["*", "*"]]},
    ("PUT", "/api/interconnect/users/{membership_id:uuid}/roles"): {"roles": ["enterprise_admin"]},
    ("PUT", "/api/partner/colleagues/{membership_id:uuid}/roles"): {"roles": ["enterprise_admin"]},
    ("PUT", "/api/access/teams/{team_id:uuid}/members"): {"user_ids": []},
    ("POST", "/api/access/teams"): {"name": "Intruders"},
    ("PUT", "/api/access/templates/{partner_type_id:uuid}"): [{"role_key": "member"}],
    ("PUT", "/api/access/sharing/{rule_id:uuid}"): {
        "name": "Intruded",
        "object": "partner.agent.deal",
        "field": "stage",
        "operator": "eq",
        "value": "won",
        "target_kind": "role",
        "target": "member",
    },
    ("PATCH", "/api/partner/deals/{deal_id:uuid}"): {"customer_name": "Intruded"},
    ("PATCH", "/api/agent/deals/{deal_id:uuid}"): {"customer_name": "Intruded"},
    ("POST", "/console/agent/registrations/deals/{deal_id:uuid}/stage"): {"stage": "lost"},
    ("POST", "/api/agent/deals/{deal_id:uuid}/team"): {"membership_id": "00000000-0000-7000-8000-000000000000"},
    ("POST", "/api/partner/ordering/orders/{order_id:uuid}/cancel"): {"comment": "Intruded"},
    ("PATCH", "/api/partner/ordering/addresses/{address_id:uuid}"): {"label": "Intruded", "is_default": True},
    ("POST", "/api/partner/ordering/addresses"): {
        "label": "Intruded",
        "recipient": "Intruder",
        "phone": "1",
        "address": "Elsewhere",
    },
    ("POST", "/api/ordering/orders/{order_id:uuid}/reject"): {"comment": "Intruded"},
    ("POST", "/api/ordering/orders/{order_id:uuid}/cancel"): {"comment": "Intruded"},
    ("PUT", "/api/partner/ordering/cart/{product_id:uuid}"): {"quantity": 1},
    ("POST", "/api/partner/ordering/account/payments"): {"amount": "1.00", "received_on": "2026-01-05"},
    ("PUT", "/api/ordering/warehouses/{warehouse_id:uuid}/stock/{product_id:uuid}"): {"on_hand": 5},
    ("PUT", "/api/ordering/accounts/{enterprise_id:uuid}/credit-limit"): {"amount": "1.00"},
    ("POST", "/api/ordering/payments/{payment_id:uuid}/reject"): {"note": "Intruded"},
    ("PATCH", "/api/ordering/products/{product_id:uuid}"): {"name": "Intruded"},
    ("PUT", "/api/ordering/products/{product_id:uuid}/visibility"): {"visible_to_all": True},
    ("PATCH", "/api/ordering/price-lists/{price_list_id:uuid}"): {"name": "Intruded"},
    ("PUT", "/api/ordering/price-lists/{price_list_id:uuid}/items"): [],
    ("POST", "/api/ordering/products"): {"sku": "INTRUDER", "name": "Intruder"},
    ("POST", "/api/ordering/categories"): {"code": "intruder", "name": "Intruder"},
    ("POST", "/api/ordering/price-lists"): {"name": "Intruder", "kind": "base"},
    ("POST", "/api/ordering/warehouses"): {"code": "INTRUDER", "name": "Intruder"},
    ("PATCH", "/api/ordering/settings"): {"reserve_on": "submit"},
    ("POST", "/api/ordering/settings/approval-rules"): {"name": "Intruder", "role_key": "admin"},
    ("PATCH", "/api/webhooks/endpoints/{endpoint_id:uuid}"): {"description": "Intruded", "active": True},
    ("PUT", "/api/access/teams/{team_id:uuid}/regions"): {"region_ids": []},
    ("POST", "/api/service/tickets/{ticket_id:uuid}/dispatch"): {"enterprise_id": NOBODY},
    ("POST", "/api/service/tickets/{ticket_id:uuid}/reassign"): {"enterprise_id": NOBODY},
    ("POST", "/api/partner/service/tickets/{ticket_id:uuid}/assign"): {"engineer_id": NOBODY},
    **{
        ("POST", f"/api/partner/service/{way}/{{ticket_id:uuid}}/{step}"): body
        for way in ("tickets", "jobs")
        for step, body in (("notes", {"text": "Intruded"}), ("parts", {"product_id": NOBODY, "quantity": 1}))
    },
    ("POST", "/api/service/dispatch/rules"): {"name": "Intruder", "partner_ids": [NOBODY]},
    ("PUT", "/api/service/dispatch/rules/{dispatch_rule_id:uuid}"): {"name": "Intruded", "partner_ids": [NOBODY]},
    ("PUT", "/api/service/dispatch/rules/order"): {"rule_ids": []},
    ("PUT", "/api/service/dispatch/settings"): {"auto_dispatch": True, "auto_close_days": 1},
    ("PUT", "/api/service/fees"): {"fees": []},
    ("POST", "/api/service/settlements"): {
        "enterprise_id": NOBODY,
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
    },
    ("POST", "/api/service/settlements/{settlement_id:uuid}/lines/{line_id:uuid}/answer"): {
        "decision": "reject",
        "answer": "Intruded",
    },
    ("POST", "/api/partner/service/settlements/{settlement_id:uuid}/lines/{line_id:uuid}/dispute"): {
        "reason": "Intruded"
    },
    ("POST", "/console/service/settlements/{settlement_id:uuid}/lines/{line_id:uuid}/answer"): {
        "decision": "reject",
        "answer": "Intruded",
    },
    ("POST", "/p/{slug:str}/service/settlements/{settlement_id:uuid}/lines/{line_id:uuid}/dispute"): {
        "reason": "Intruded"
    },
    ("POST", "/console/service/dispatch/rules"): {"name": "Intruder"},
    ("POST", "/console/service/dispatch/settings"): {"auto_dispatch": "on", "auto_close_days": "1"},
    ("POST", "/console/webhooks/{endpoint_id:uuid}"): {"description": "Intruded", "active": "on"},
    ("PATCH", "/api/channels/oauth-clients/{client_id:uuid}"): {"status": "disabled"},
    ("PATCH", "/api/sync/rules/{sync_rule_id:uuid}"): {"name": "Intruded"},
    ("PUT", "/api/ordering/purchase-orders/{purchase_order_id:uuid}"): {
        "lines": [{"product_id": NOBODY, "quantity": 1}],
        "ship_to": "Intruded",
    },
    ("POST", "/console/ordering/purchase-orders/{purchase_order_id:uuid}/edit"): {"ship_to": "Intruded"},
    ("POST", "/api/sync/conflicts/{sync_conflict_id:uuid}/resolve"): {"resolution": "upstream"},
    ("POST", "/console/sync/conflicts/{sync_conflict_id:uuid}/resolve"): {"resolution": "upstream"},
    ("POST", "/console/sync/rules/{sync_rule_id:uuid}"): {"name": "Intruded", "action": "save"},
    ("POST", "/api/agent/leads/{lead_id:uuid}/distribute"): {"pool_id": NOBODY},
    ("POST", "/api/partner/agent/leads/{lead_id:uuid}/follow-ups"): {"kind": "call", "note": "Intruded"},
    ("POST", "/api/agent/leads/{lead_id:uuid}/follow-ups"): {"kind": "call", "note": "Intruded"},
    ("POST", "/api/partner/agent/deals/{deal_id:uuid}/follow-ups"): {"kind": "call", "note": "Intruded"},
    ("POST", "/api/agent/deals/{deal_id:uuid}/follow-ups"): {"kind": "call", "note": "Intruded"},
    ("POST", "/api/agent/registrations/{deal_id:uuid}/decision"): {"outcome": "approve"},
    ("POST", "/console/agent/registrations/{deal_id:uuid}/decision"): {"outcome": "approve"},
    ("POST", "/api/partner/agent/leads/{lead_id:uuid}/extension"): {"days": 3},
    ("POST", "/api/agent/commission-rules"): {"name": "Intruded", "rate": "1"},
    ("PATCH", "/api/agent/commission-rules/{commission_rule_id:uuid}"): {"rate": "1"},
    ("PUT", "/api/agent/deals/{deal_id:uuid}/commission-terms"): {"deal_type": "renewal"},
    ("POST", "/api/agent/commission-statements"): {"period": ended_month()[0]},
    ("POST", "/api/agent/fund-budgets"): {
        "name": "Intruded",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "amount": "1",
    },
    ("PATCH", "/api/agent/fund-budgets/{budget_id:uuid}"): {"amount": "99999"},
    ("POST", "/api/agent/fund-requests/{fund_request_id:uuid}/approve"): {"budget_id": NOBODY},
    ("POST", "/api/agent/fund-requests/{fund_request_id:uuid}/reject"): {"note": "Intruded"},
    ("POST", "/api/partner/agent/fund-requests"): {"amount": "5", "purpose": "Intruded"},
    ("POST", "/api/partner/agent/commission-statements/{statement_id:uuid}/dispute"): {"note": "Intruded"},
    ("PATCH", "/api/agent/lead-pools/{pool_id:uuid}"): {"name": "Intruded"},
    ("PATCH", "/api/agent/lead-rules/{lead_rule_id:uuid}"): {"name": "Intruded"},
    ("POST", "/api/agent/leads"): {"company_name": "Intruder", "distribute": False},
    ("POST", "/api/agent/lead-pools"): {"name": "Intruders"},
    ("POST", "/api/agent/lead-rules"): {"name": "Intruders", "strategy": "round_robin"},
    ("POST", "/console/channels/oauth-clients/{client_id:uuid}"): {"name": "Intruded"},
    # tenant B's integration key writes into B only; tenant B's admin finds no key of A's to rotate
    ("POST", "/api/integration/products"): {
        "items": [{"external_id": "intruder", "sku": "INTRUDER", "name": "Intruded"}]
    },
    ("POST", "/api/integration/customers"): {"items": [{"external_id": "intruder", "name": "Intruded"}]},
    ("POST", "/api/integration/stock"): {"items": [{"product": "intruder", "warehouse": "MAIN", "on_hand": 1}]},
    ("POST", "/api/integration/price-lists"): {
        "items": [{"external_id": "intruder", "name": "Intruded", "kind": "base", "currency": "CNY"}]
    },
    ("POST", "/api/integrations/keys"): {"name": "Intruder", "scopes": ["integration.changes"]},
    ("POST", "/api/integrations/keys/{integration_key_id:uuid}/rotate"): {"overlap_hours": 0},
    ("POST", "/console/integrations"): {"name": "Intruder", "scopes": "integration.changes"},
    ("POST", "/console/integrations/{integration_key_id:uuid}/rotate"): {"overlap_hours": "0"},
    # another workspace's admin registers a mini-program of its own, and tenant A's stays as it was
    ("PUT", "/api/channels/wechat/mini-program"): {"app_id": "wx" + "e" * 16, "secret": "f" * 32},
    ("POST", "/console/channels/wechat"): {"app_id": "wx" + "e" * 16, "secret": "f" * 32, "active": "on"},
    # another workspace's admin claims tenant A's verified partner domain: refused, and A's stays as it was
    ("PUT", "/api/channels/domain"): {"domain": WORLD_PARTNER_DOMAIN},
    ("POST", "/console/channels/domain"): {"domain": "partners.intruder.example"},
    # and an official account of its own
    ("PUT", "/api/channels/wechat/official-account"): {"app_id": "wx" + "c" * 16, "secret": "d" * 32},
    ("POST", "/console/channels/wechat/official-account"): {
        "app_id": "wx" + "c" * 16,
        "secret": "d" * 32,
        "active": "on",
    },
}


def session_of(refresh_token: str) -> uuid.UUID:
    parsed = tokens.parse_credential(refresh_token, tokens.REFRESH_PREFIX)
    assert parsed is not None
    return parsed.session_id


PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class RouteCase:
    method: str
    template: str
    permission: tuple[str, str] | None
    public: bool

    @property
    def api(self) -> bool:
        return self.template.startswith("/api/")

    def path(self, world: World) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in SAMPLE_PATH_VALUES:
                raise LookupError(f"no sample value for path parameter {name!r} of {self.method} {self.template}")
            return SAMPLE_PATH_VALUES[name](world)

        return PARAM.sub(fill, self.template)

    @property
    def has_params(self) -> bool:
        """Whether a path parameter names a tenant's record (what another tenant must not find)."""
        return any(m.group(1) not in PLATFORM_WIDE for m in PARAM.finditer(self.template))

    @property
    def targets_enterprise_record(self) -> bool:
        return any(m.group(1) in ENTERPRISE_OWNED for m in PARAM.finditer(self.template))


def forged_paths(case: RouteCase, world: World) -> list[str]:
    """A public route's addresses with a forged token (none when its parameters are not tokens)."""
    names = [m.group(1) for m in PARAM.finditer(case.template)]
    if not names or any(n not in PUBLIC_FORGERIES for n in names):
        return []
    paths = []
    for name in names:
        for value in PUBLIC_FORGERIES[name](world):
            paths.append(PARAM.sub(lambda m, v=value, n=name: v if m.group(1) == n else m.group(0), case.template))
    return paths


def route_cases(app: Litestar) -> list[RouteCase]:
    cases = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                cases.append(RouteCase(method, route.path, handler.opt.get("permission"), is_public(handler)))
    return sorted(set(cases), key=lambda c: (c.template, c.method))


@dataclass
class Caller:
    """Who sends a request: a bearer for the API, a session cookie (+ CSRF pair) for pages."""

    name: str
    credential: Credential | None
    csrf: tuple[str, str]  # (cookie value, form token)

    def can_send(self, case: RouteCase) -> bool:
        # partner users get a web session only through the partner portal's login page
        return case.api or self.credential is None or bool(self.credential.cookie)

    def send(self, client: TestClient, case: RouteCase, world: World, path: str | None = None) -> Any:
        client.cookies.clear()
        path = path or case.path(world)
        body = SAMPLE_BODIES.get((case.method, case.template), {})
        headers: dict[str, str] = {}
        if case.api:
            if self.credential:
                headers.update(self.credential.bearer)
            kwargs: dict[str, Any] = {"json": body} if case.method in UNSAFE else {}
        else:
            cookies = [f"portal_csrf={self.csrf[0]}"]
            if self.credential:
                cookies.append(f"portal_session={self.credential.cookie}")
            headers["Cookie"] = "; ".join(cookies)
            kwargs = {"data": {**body, "_csrf_token": self.csrf[1]}} if case.method in UNSAFE else {}
        return client.request(case.method, path, headers=headers, follow_redirects=False, **kwargs)


def csrf_pair(client: TestClient) -> tuple[str, str]:
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token and client.cookies.get("portal_csrf")
    return client.cookies["portal_csrf"], token.group(1)


def refused_as_anonymous(case: RouteCase, response: Any) -> bool:
    if case.api:
        return response.status_code == 401
    if response.status_code in (302, 303):
        return response.headers.get("location", "").startswith("/login")
    return response.status_code == 401


def tenant_fingerprint(settings: Settings, tenant_id: str) -> str:
    """Every row of every tenant-owned table of the tenant, column by column."""
    tables = [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c]

    async def work(db: Database) -> str:
        digest = hashlib.sha256()
        async with db.session(SYSTEM) as session:
            for table in tables:
                # a refused request of tenant A's own people still used their session: its last use is no change
                columns = [c for c in table.c if (table.name, c.name) != ("auth_sessions", "last_used_at")]
                rows = await session.execute(
                    select(*columns).where(table.c.tenant_id == uuid.UUID(tenant_id)).order_by(*table.primary_key)
                )
                digest.update(table.name.encode())
                for row in rows:
                    digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()

    return run_with_database(settings, work)


@dataclass
class Report:
    checked: int = 0
    violations: list[str] = field(default_factory=list)

    def fail(self, case: RouteCase, actor: str, response: Any, why: str) -> None:
        self.violations.append(
            f"{case.method} {case.template} as {actor}: {why} (status {response.status_code}: {response.text[:160]!r})"
        )


def sweep(app: Litestar, client: TestClient, world: World, settings: Settings, only: str | None = None) -> Report:
    """Every route of the app (or only those whose template starts with `only`) against the actors who
    must be refused."""
    report = Report()
    csrf = csrf_pair(client)
    anonymous = Caller("anonymous", None, csrf)
    disabled = Caller("a disabled user of tenant A", world.a.others["disabled"], csrf)
    intruder = Caller("tenant B's admin", world.b.admin, csrf)
    # tenant B's integration key: nothing on A's side, and nothing at all outside the integration API
    b_key = Caller("tenant B's integration key", Credential("", "", world.ids["integration_b_secret"], ""), csrf)
    other_enterprise = Caller("the admin of another enterprise of tenant A", world.y.admin, csrf)
    tenant_a = uuid.UUID(world.a.tenant_id)
    # Actors whose role lacks a route's permission must get 403 from it.
    staff, colleague = world.a.others["staff"], world.x.people["colleague"]
    lacking = [
        (
            Caller("tenant A's read-only staff member", staff, csrf),
            Actor(uuid.UUID(staff.user_id), tenant_a, "internal", "api", roles=frozenset({"staff"})),
        ),
        (
            Caller("a partner user without admin rights", colleague, csrf),
            Actor(
                uuid.UUID(colleague.user_id),
                tenant_a,
                "external",
                "api",
                roles=frozenset({"member"}),
                enterprise_id=uuid.UUID(world.x.link_id),
            ),
        ),
    ]
    permissions = app.state.services.permissions
    # `allows` answers from the policy the app compiled on the tenant's latest request: let there be one
    assert client.get("/api/me", headers=staff.bearer).status_code == 200
    a_markers = world.a.markers() | world.x.markers() | world.y.markers()
    x_markers = world.x.markers()
    before = tenant_fingerprint(settings, world.a.tenant_id)

    for case in route_cases(app):
        if only is not None and not case.template.startswith(only):
            continue
        if case.public:
            for path in forged_paths(case, world):
                report.checked += 1
                response = anonymous.send(client, case, world, path)
                leaked = sorted(m for m in a_markers if m in response.text and m not in path)
                if response.status_code != 404 or leaked:
                    report.fail(case, f"{anonymous.name} at {path}", response, f"not 'not found' {leaked}")
            continue
        report.checked += 1
        for caller, actor in lacking:
            if case.permission and not permissions.allows(actor, case.permission) and caller.can_send(case):
                response = caller.send(client, case, world)
                # a partner's session on a console page is sent to the staff sign-in: refused all the same
                to_staff_sign_in = (
                    actor.kind == "external"
                    and case.template.startswith("/console")
                    and response.status_code in (302, 303)
                    and response.headers.get("location", "").startswith("/login?next=")
                )
                if response.status_code != 403 and not to_staff_sign_in:
                    report.fail(case, caller.name, response, f"lacks {case.permission} but was not refused with 403")
        partner_route = case.permission is not None and case.permission[0].startswith("partner.")
        if partner_route and (case.method == "GET" or case.targets_enterprise_record):
            response = other_enterprise.send(client, case, world)
            sent = case.path(world)
            leaked = sorted(m for m in x_markers if m in response.text and m not in sent)
            if leaked:
                report.fail(case, other_enterprise.name, response, f"response contains enterprise X's data {leaked}")
            if case.targets_enterprise_record and response.status_code not in (403, 404):
                report.fail(case, other_enterprise.name, response, "enterprise X's record was not 'not found'")
        for caller in (anonymous, disabled):
            response = caller.send(client, case, world)
            if not refused_as_anonymous(case, response):
                report.fail(case, caller.name, response, "not refused as unauthenticated")
        if case.permission == SIGNED_IN and case.method in UNSAFE:
            continue  # acts on the caller's own session (sign out): nothing of A's to reach
        if b_key.can_send(case):
            response = b_key.send(client, case, world)
            sent = case.path(world)
            leaked = sorted(m for m in a_markers if m in response.text and m not in sent)
            if leaked:
                report.fail(case, b_key.name, response, f"response contains tenant A's data {leaked}")
            if not case.template.startswith("/api/integration/") and response.status_code != 401:
                report.fail(case, b_key.name, response, "a key was let in outside the integration API")
        response = intruder.send(client, case, world)
        sent = case.path(world)  # markers the caller itself sent (echoed in "instance") are no leak
        leaked = sorted(m for m in a_markers if m in response.text and m not in sent)
        if leaked:
            report.fail(case, intruder.name, response, f"response contains tenant A's data {leaked}")
        if case.has_params and response.status_code not in (403, 404):
            report.fail(case, intruder.name, response, "tenant A's record was not 'not found'")

    if tenant_fingerprint(settings, world.a.tenant_id) != before:
        report.violations.append("tenant A's data changed during the sweep by actors that must be refused")
    client.cookies.clear()
    return report
