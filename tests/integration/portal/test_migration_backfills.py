"""Migrations that derive values from existing rows derive them right, on a database of their own."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.ext.asyncio import create_async_engine

from portal.db import migrate
from portal.db.server import autocommit, on_same_server
from portal.http.app import create_app
from tests.conftest import BASE_URL, make_settings
from tests.world import api_login, sign_up


async def _execute(url: str, statements: list[tuple[str, dict[str, object]]]) -> list[tuple[object, ...]]:
    """The statements in one transaction; the last one's rows."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = None
            for statement, params in statements:
                typed = [bindparam(k, v, type_=Uuid()) for k, v in params.items() if isinstance(v, uuid.UUID)]
                result = await conn.execute(text(statement).bindparams(*typed), params)
            return [tuple(row) for row in result] if result is not None and result.returns_rows else []
    finally:
        await engine.dispose()


@pytest.fixture
def empty_url(lane: str, database_url: str, tmp_path: Path) -> Iterator[str]:
    if lane == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'backfill.db'}"
        return
    name = f"portal_backfill_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(autocommit(database_url, f'CREATE DATABASE "{name}"'))
    except Exception as error:  # a role that may not create databases
        pytest.skip(f"cannot create a scratch database: {error}")
    yield on_same_server(database_url, name)
    asyncio.run(autocommit(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_links_learn_whether_anything_hangs_under_them(empty_url: str) -> None:
    settings = make_settings(empty_url)
    migrate.upgrade(settings, "0006_ordering")
    tenant, kind, account = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    top, middle, leaf = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = {"now": datetime(2026, 1, 1, tzinfo=UTC)}
    rows = [
        (
            "INSERT INTO tenants (id, slug, name, status, default_locale, created_at, updated_at)"
            " VALUES (:t, 'backfill', 'Backfill', 'active', 'en', :now, :now)",
            now,
        ),
        (
            "INSERT INTO partner_types (tenant_id, id, code, name, preset, active, sort_order, created_at,"
            " updated_at) VALUES (:t, :k, 'dealer', 'Dealer', false, true, 0, :now, :now)",
            {"k": kind, **now},
        ),
        (
            "INSERT INTO crm_accounts (tenant_id, id, name, kind, created_at, updated_at)"
            " VALUES (:t, :a, 'Partners', 'partner', :now, :now)",
            {"a": account, **now},
        ),
    ]
    link = (
        "INSERT INTO enterprise_links (tenant_id, id, name, partner_type_id, account_id, parent_id, status,"
        " created_at, updated_at) VALUES (:t, :id, :name, :k, :a, :parent, 'active', :now, :now)"
    )
    for name, this, parent in (("Top", top, None), ("Middle", middle, top), ("Leaf", leaf, middle)):
        rows.append((link, {"id": this, "name": name, "parent": parent, "k": kind, "a": account, **now}))

    asyncio.run(_execute(empty_url, [(statement, {"t": tenant, **params}) for statement, params in rows]))
    migrate.upgrade(settings)
    found = asyncio.run(
        _execute(empty_url, [("SELECT name, has_sub_enterprises FROM enterprise_links ORDER BY name", {})])
    )
    assert [(name, bool(flag)) for name, flag in found] == [("Leaf", False), ("Middle", True), ("Top", True)]


# What the presets were before 0010, for tenants made with them (the rows 0010 adds, taken away again).
OLD_PRESETS = [
    "DELETE FROM policy_rules WHERE v0 = 'r:deal_registrar' OR v1 = 'r:deal_registrar'",
    "DELETE FROM field_rules WHERE role_id IN (SELECT id FROM roles WHERE key = 'deal_registrar')",
    "DELETE FROM role_templates WHERE role_id IN (SELECT id FROM roles WHERE key = 'deal_registrar')",
    "DELETE FROM roles WHERE key = 'deal_registrar'",
    "DELETE FROM data_rules WHERE object = 'partner.agent.deal'",
    "UPDATE role_templates SET member_default = true"
    " WHERE role_id IN (SELECT id FROM roles WHERE key = 'service_engineer')",
]


def _template(url: str, tenant_id: str, code: str) -> dict[str, tuple[bool, bool, bool]]:
    rows = asyncio.run(
        _execute(
            url,
            [
                (
                    "SELECT r.key, t.assignable, t.member_default, t.admin_default FROM role_templates t"
                    " JOIN roles r ON r.id = t.role_id JOIN partner_types p ON p.id = t.partner_type_id"
                    " WHERE t.tenant_id = :t AND p.code = :code",
                    {"t": uuid.UUID(tenant_id), "code": code},
                )
            ],
        )
    )
    return {str(key): (bool(a), bool(m), bool(d)) for key, a, m, d in rows}


def test_existing_tenants_get_the_deal_registrar_and_the_corrected_templates_unless_customised(
    empty_url: str,
) -> None:
    settings = make_settings(empty_url)
    migrate.upgrade(settings)
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        made: dict[str, tuple[str, dict[str, str], str]] = {}
        for label in ("kept", "custom"):
            tenant_id, slug, _name, _admin = sign_up(client, label)
            token, _refresh = api_login(client, slug, f"admin@{slug}.example")
            admin = {"Authorization": f"Bearer {token}"}
            types = {t["code"]: t["id"] for t in client.get("/api/interconnect/partner-types", headers=admin).json()}
            agent = client.post(
                "/api/interconnect/enterprises",
                headers=admin,
                json={
                    "name": f"{label} agent",
                    "partner_type_id": types["agent"],
                    "admin": {"display_name": "Agent admin", "email": f"agent@{slug}.example"},
                },
            )
            assert agent.status_code == 201, agent.text
            made[label] = (tenant_id, admin, agent.json()["admin_id"])
        asyncio.run(_execute(empty_url, [(statement, {}) for statement in OLD_PRESETS]))
        # a manufacturer that made the agent template its own before the upgrade
        custom_tenant, custom_admin, _ = made["custom"]
        customised = [
            {"role_key": "enterprise_admin", "assignable": True, "admin_default": True},
            {"role_key": "member", "assignable": True, "member_default": True},
            {"role_key": "dealer_buyer", "assignable": True, "admin_default": True},
        ]
        types = {t["code"]: t["id"] for t in client.get("/api/interconnect/partner-types", headers=custom_admin).json()}
        saved = client.put(f"/api/access/templates/{types['agent']}", headers=custom_admin, json=customised)
        assert saved.status_code == 200, saved.text
    custom_before = _template(empty_url, custom_tenant, "agent")
    assert "deal_registrar" not in _template(empty_url, made["kept"][0], "agent")

    migrate.downgrade(settings, "0009_tenant_time_zone")
    migrate.upgrade(settings, "0010_partner_type_presets")  # what 0010 did (0016 changes the service template)

    kept_tenant, _, kept_agent_admin = made["kept"]
    assert _template(empty_url, kept_tenant, "agent") == {
        "enterprise_admin": (True, False, True),
        "member": (True, True, True),
        "deal_registrar": (True, True, True),
    }
    assert _template(empty_url, kept_tenant, "service_provider")["service_engineer"] == (True, False, False)
    assert _template(empty_url, custom_tenant, "agent") == custom_before  # left as the manufacturer made it
    for tenant_id, holders in ((kept_tenant, {f"u:{kept_agent_admin}"}), (custom_tenant, set())):
        t = {"t": uuid.UUID(tenant_id)}
        role = asyncio.run(
            _execute(
                empty_url, [("SELECT name, kind, preset FROM roles WHERE tenant_id = :t AND key = 'deal_registrar'", t)]
            )
        )
        assert [(name, kind, bool(preset)) for name, kind, preset in role] == [("Deal registrar", "external", True)]
        grants = asyncio.run(
            _execute(
                empty_url,
                [("SELECT v1, v2 FROM policy_rules WHERE tenant_id = :t AND v0 = 'r:deal_registrar'", t)],
            )
        )
        assert sorted(grants) == sorted(
            [("partner.profile", "read")]
            + [("partner.agent.deal", action) for action in ("create", "export", "read", "update")]
        )
        fields = asyncio.run(
            _execute(
                empty_url,
                [
                    (
                        "SELECT f.object, f.field, f.access FROM field_rules f JOIN roles r ON r.id = f.role_id"
                        " WHERE f.tenant_id = :t AND r.key = 'deal_registrar' ORDER BY f.field",
                        t,
                    )
                ],
            )
        )
        assert fields == [
            ("partner.agent.deal", "commission_rate", "read_only"),
            ("partner.agent.deal", "stage", "read_only"),
        ]
        levels = asyncio.run(
            _execute(
                empty_url,
                [
                    (
                        "SELECT d.level, d.include_sub_enterprises FROM data_rules d"
                        " JOIN partner_types p ON p.id = d.partner_type_id"
                        " WHERE d.tenant_id = :t AND d.object = 'partner.agent.deal' AND p.code = 'agent'",
                        t,
                    )
                ],
            )
        )
        assert [(level, bool(subs)) for level, subs in levels] == [("enterprise_write", False)]
        held = asyncio.run(
            _execute(
                empty_url,
                [("SELECT v0 FROM policy_rules WHERE tenant_id = :t AND ptype = 'g' AND v1 = 'r:deal_registrar'", t)],
            )
        )
        assert {subject for (subject,) in held} == holders


def test_tenants_that_exist_get_the_default_business_calendar(empty_url: str) -> None:
    settings = make_settings(empty_url)
    migrate.upgrade(settings, "0017_storage")
    tenant = uuid.uuid4()
    asyncio.run(
        _execute(
            empty_url,
            [
                (
                    "INSERT INTO tenants (id, slug, name, status, default_locale, created_at, updated_at)"
                    " VALUES (:t, 'calendar', 'Calendar', 'active', 'en', :now, :now)",
                    {"t": tenant, "now": datetime(2026, 1, 1, tzinfo=UTC)},
                )
            ],
        )
    )
    migrate.upgrade(settings)
    found = asyncio.run(_execute(empty_url, [("SELECT tenant_id, week, days FROM business_calendars", {})]))
    assert len(found) == 1
    tenant_id, week, days = found[0]
    assert str(tenant_id).replace("-", "") == tenant.hex
    assert (json.loads(week) if isinstance(week, str) else week) == [[[540, 1080]]] * 5 + [[], []]
    assert (json.loads(days) if isinstance(days, str) else days) == []


def test_stored_answers_lose_the_secrets_shown_once(empty_url: str) -> None:
    """Answers kept for Idempotency-Key replays before 0020 that hold a webhook secret or a one-time link
    keep their status without their body; the others stay as they were."""
    settings = make_settings(empty_url)
    migrate.upgrade(settings, "0019_delivery_replay_count")
    tenant, user = uuid.uuid4(), uuid.uuid4()
    now = {"now": datetime(2026, 1, 1, tzinfo=UTC)}
    answers = {
        "webhook": b'{"endpoint":{"id":"x"},"secret":"whsec_abc"}',
        "enterprise": b'{"enterprise":{"id":"x"},"admin_id":"y","setup_url":"https://p.example/setup/abc"}',
        "sent": b'{"enterprise":{"id":"x"},"admin_id":"y","setup_url":null,"setup_link_sent_to":"a***@b"}',
        "user": b'{"id":"x","email":"a@b.example"}',
    }
    rows: list[tuple[str, dict[str, object]]] = [
        (
            "INSERT INTO tenants (id, slug, name, status, default_locale, created_at, updated_at)"
            " VALUES (:t, 'withheld', 'Withheld', 'active', 'en', :now, :now)",
            {"t": tenant, **now},
        )
    ]
    for key, body in answers.items():
        rows.append(
            (
                "INSERT INTO idempotency_keys (tenant_id, id, user_id, key, fingerprint, status_code, response_body,"
                " created_at) VALUES (:t, :id, :u, :key, 'f', 201, :body, :now)",
                {"t": tenant, "id": uuid.uuid4(), "u": user, "key": key, "body": body, **now},
            )
        )
    asyncio.run(_execute(empty_url, rows))
    migrate.upgrade(settings)
    found = dict(asyncio.run(_execute(empty_url, [("SELECT key, response_body FROM idempotency_keys", {})])))
    assert found == {"webhook": None, "enterprise": None, "sent": answers["sent"], "user": answers["user"]}


def _plain(value: object) -> str:
    """A value as text, a JSON list the same on both databases (SQLite hands back its text)."""
    if isinstance(value, str) and value.startswith("["):
        value = json.loads(value)
    return ",".join(value) if isinstance(value, list) else str(value)


def _service_presets(url: str, tenant_id: str) -> dict[str, object]:
    """What the service app's presets are made of in one tenant, as comparable values."""
    t = {"t": uuid.UUID(tenant_id)}
    queries = {
        "roles": "SELECT key, kind, apps FROM roles WHERE tenant_id = :t AND key LIKE '%service%' ORDER BY key",
        "grants": "SELECT v0, v1, v2 FROM policy_rules WHERE tenant_id = :t AND ptype = 'p'"
        " AND (v1 LIKE '%service.%' OR v0 IN ('r:service_manager', 'r:service_dispatcher')) ORDER BY v0, v1, v2",
        "holders": "SELECT v1, count(*) FROM policy_rules WHERE tenant_id = :t AND ptype = 'g'"
        " AND v1 LIKE 'r:service%' GROUP BY v1 ORDER BY v1",
        "fields": "SELECT r.key, f.object, f.field, f.access FROM field_rules f JOIN roles r ON r.id = f.role_id"
        " WHERE f.tenant_id = :t AND f.object LIKE '%service.%' ORDER BY r.key, f.field",
        "levels": "SELECT d.object, d.level, p.code FROM data_rules d JOIN partner_types p ON p.id = d.partner_type_id"
        " WHERE d.tenant_id = :t AND d.object LIKE '%service.%' ORDER BY d.object",
        "scopes": "SELECT r.key, s.object, s.scope FROM internal_scopes s JOIN roles r ON r.id = s.role_id"
        " WHERE s.tenant_id = :t AND (s.object LIKE 'service.%' OR r.key LIKE 'service%') ORDER BY r.key, s.object",
    }
    found: dict[str, object] = {
        name: [tuple(_plain(v) for v in row) for row in asyncio.run(_execute(url, [(query, t)]))]
        for name, query in queries.items()
    }
    found["template"] = _template(url, tenant_id, "service_provider")
    return found


def test_existing_tenants_get_the_service_presets_and_a_downgrade_takes_them_away(empty_url: str) -> None:
    settings = make_settings(empty_url)
    migrate.upgrade(settings)
    tenants: dict[str, str] = {}
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        for label in ("kept", "custom"):
            tenant_id, slug, _name, _admin = sign_up(client, label)
            token, _refresh = api_login(client, slug, f"admin@{slug}.example")
            admin = {"Authorization": f"Bearer {token}"}
            types = {t["code"]: t["id"] for t in client.get("/api/interconnect/partner-types", headers=admin).json()}
            provider = client.post(
                "/api/interconnect/enterprises",
                headers=admin,
                json={
                    "name": f"{label} service",
                    "partner_type_id": types["service_provider"],
                    "admin": {"display_name": "Service admin", "email": f"service@{slug}.example"},
                },
            )
            assert provider.status_code == 201, provider.text
            tenants[label] = tenant_id
            if label == "custom":  # a manufacturer that made the service provider template its own
                rows = [
                    {"role_key": "enterprise_admin", "assignable": True, "admin_default": True},
                    {"role_key": "service_engineer", "assignable": True, "member_default": True, "admin_default": True},
                ]
                saved = client.put(f"/api/access/templates/{types['service_provider']}", headers=admin, json=rows)
                assert saved.status_code == 200, saved.text
    before = {label: _service_presets(empty_url, tenant_id) for label, tenant_id in tenants.items()}
    kept = before["kept"]
    assert ("service_dispatcher", "external", "service") in kept["roles"]  # type: ignore[operator]
    assert ("r:service_dispatcher", "1") in kept["holders"]  # type: ignore[operator]
    assert kept["template"]["service_dispatcher"] == (True, False, True)  # type: ignore[index]
    assert ("dispatcher", "service.ticket", "region") in kept["scopes"]  # type: ignore[operator]

    migrate.downgrade(settings, "0020_withhold_stored_secrets")
    gone = _service_presets(empty_url, tenants["kept"])
    assert gone["roles"] == [("service_engineer", "external", "")]
    assert (gone["grants"], gone["fields"], gone["levels"], gone["holders"]) == ([], [], [], [])
    assert gone["scopes"] == []
    assert gone["template"] == {
        "enterprise_admin": (True, False, True),
        "member": (True, True, True),
        "service_engineer": (True, False, False),
    }

    migrate.upgrade(settings)
    after = {label: _service_presets(empty_url, tenant_id) for label, tenant_id in tenants.items()}
    assert after["kept"] == before["kept"]  # as a tenant signed up today starts
    assert after["custom"]["template"] == before["custom"]["template"]  # left as the manufacturer made it
    # the dispatcher role its admin got on joining went with the downgrade; its own template gives none back
    assert before["custom"]["holders"] == [("r:service_dispatcher", "1")] and after["custom"]["holders"] == []


def test_ordering_approvals_and_waiting_registrations_move_onto_the_approvals_engine(empty_url: str) -> None:
    """0045 turns ordering's approval rules into the steps of a flow and each order's steps into a
    request (their ids kept), and opens a request for each registration in conflict; its downgrade puts
    ordering's rows back. Both ways keep what staff see of an order's approval."""
    settings = make_settings(empty_url)
    migrate.upgrade(settings)
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        tenant_id, slug, _name, admin_id = sign_up(client, "engine")
        token, _refresh = api_login(client, slug, f"admin@{slug}.example")
        admin = {"Authorization": f"Bearer {token}"}

        def made(response: Any, status: int = 201) -> Any:
            assert response.status_code == status, response.text
            return response.json()

        rule = {"name": "Second look", "step": 2, "role_key": "admin", "min_amount": "0"}
        made(client.post("/api/ordering/settings/approval-rules", headers=admin, json=rule))
        product = made(client.post("/api/ordering/products", headers=admin, json={"sku": "MIG-1", "name": "Pump"}))
        prices = made(client.post("/api/ordering/price-lists", headers=admin, json={"name": "Base", "kind": "base"}))
        items = [{"product_id": product["id"], "unit_price": "120.00"}]
        made(client.put(f"/api/ordering/price-lists/{prices['id']}/items", headers=admin, json=items), 200)
        warehouse = made(client.get("/api/ordering/warehouses", headers=admin), 200)[0]["id"]
        stocked = {"on_hand": 10}
        made(
            client.put(f"/api/ordering/warehouses/{warehouse}/stock/{product['id']}", headers=admin, json=stocked), 200
        )
        body = {"lines": [{"product_id": product["id"], "quantity": 1}], "ship_to": "Pier 4"}
        waiting, done, cancelled = (
            made(client.post("/api/ordering/orders", headers=admin, json=body)) for _ in range(3)
        )
        made(client.post(f"/api/ordering/orders/{waiting['id']}/approve", headers=admin, json={"comment": "one"}), 200)
        for _ in range(2):
            made(client.post(f"/api/ordering/orders/{done['id']}/approve", headers=admin, json={}), 200)
        made(client.post(f"/api/ordering/orders/{cancelled['id']}/cancel", headers=admin, json={"comment": "no"}), 200)
        rules = made(client.get("/api/ordering/settings/approval-rules", headers=admin), 200)
        before = {
            o["id"]: made(client.get(f"/api/ordering/orders/{o['id']}", headers=admin), 200)["approvals"]
            for o in (waiting, done, cancelled)
        }

    migrate.downgrade(settings, "0043_deal_registration")
    t = {"t": uuid.UUID(tenant_id)}
    old = asyncio.run(_execute(empty_url, [("SELECT count(*) FROM ordering_order_approvals WHERE tenant_id = :t", t)]))
    assert old == [(6,)]
    deal, now = uuid.uuid4(), datetime(2026, 1, 1, tzinfo=UTC)
    asyncio.run(
        _execute(
            empty_url,
            [
                (
                    "INSERT INTO agent_deals (tenant_id, id, owner_id, customer_name, amount, currency, stage,"
                    " created_by, registration, extension, created_at, updated_at) VALUES (:t, :d, :u, 'Harbour',"
                    " :amount, 'CNY', 'registered', :u, 'conflict', NULL, :now, :now)",
                    {**t, "d": deal, "u": uuid.UUID(admin_id), "amount": 10000000, "now": now}
                    if "sqlite" in empty_url
                    else {**t, "d": deal, "u": uuid.UUID(admin_id), "amount": 1000, "now": now},
                )
            ],
        )
    )
    migrate.upgrade(settings)
    with TestClient(create_app(settings), base_url=BASE_URL) as client:
        token, _refresh = api_login(client, slug, f"admin@{slug}.example")
        admin = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/ordering/settings/approval-rules", headers=admin).json() == rules
        for order_id, approvals in before.items():
            assert client.get(f"/api/ordering/orders/{order_id}", headers=admin).json()["approvals"] == approvals
        pending = client.get("/api/approvals", headers=admin).json()["items"]
        assert {(i["subject_id"], i["step"]) for i in pending} == {(waiting["id"], 2), (str(deal), 1)}
        item = next(i for i in pending if i["subject_id"] == waiting["id"])
        assert client.post(f"/api/approvals/{item['id']}/approve", headers=admin).status_code == 200
        assert client.get(f"/api/ordering/orders/{waiting['id']}", headers=admin).json()["status"] == "approved"
