"""Reconciliation and the partner's pause, through the API and the workers' own engine: a run compares
every record a rule maps on both sides and reports what is missing, extra or different; repair sends
ordinary sync events and a second run finds no drift; two runs of one rule at once are refused; the
partner pauses a rule for its workspace and it catches up on resume; nobody else sees any of it."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import openpyxl
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.errors import Conflict
from portal.services import Services
from sync.crosstenant.models import SyncRule
from tests.integration.sync.support import run_engine
from tests.integration.sync.test_crosstenant import active_rule, new_product, product
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import TenantWorld, World, background_jobs_ended, connect_workspace


def reconcile(client: TestClient, tenant: TenantWorld, rule_id: str) -> dict[str, Any]:
    started = client.post(f"/api/sync/rules/{rule_id}/reconcile", headers=tenant.admin.bearer)
    assert started.status_code == 202, started.text
    assert background_jobs_ended(client)
    report = client.get(f"/api/sync/reconciliations/{started.json()['id']}", headers=tenant.admin.bearer)
    assert report.status_code == 200, report.text
    assert report.json()["reconciliation"]["status"] == "done", report.json()
    return report.json()


def found(report: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"missing": set(), "extra": set(), "different": set()}
    for item in report["items"]:
        out[item["kind"]].add(item["label"])
    return out


def test_drift_is_found_repaired_by_sync_events_and_gone_on_the_next_run(client: TestClient, world: World) -> None:
    a = world.a
    renamed, edited, unlisted = (new_product(client, a) for _ in range(3))
    north, link_id = connect_workspace(client, a, "north")
    rule = active_rule(client, world, link_id)
    assert product(client, north, edited["sku"]) is not None
    clean = reconcile(client, a, rule["id"])
    assert clean["reconciliation"]["drift"] == 0 and clean["reconciliation"]["compared"] >= 3

    # the partner pauses the rule for its workspace: nothing flows meanwhile, and neither a run nor a
    # repair is taken (the partner's side stands still)
    paused = client.post(f"/api/sync/incoming/{rule['id']}/pause", headers=north.admin.bearer)
    assert paused.status_code == 200, paused.text
    assert [r["paused_by_you"] for r in paused.json() if r["id"] == rule["id"]] == [True]
    assert client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()["rule"]["paused_by_partner"]
    held = new_product(client, a)
    assert background_jobs_ended(client)
    assert product(client, north, held["sku"]) is None
    refused = client.post(f"/api/sync/rules/{rule['id']}/reconcile", headers=a.admin.bearer)
    assert refused.status_code == 409 and refused.json()["code"] == "rule_paused", refused.text
    refused = client.post(f"/api/sync/reconciliations/{clean['reconciliation']['id']}/repair", headers=a.admin.bearer)
    assert refused.status_code == 409 and refused.json()["code"] == "rule_paused", refused.text
    runs = client.get(f"/api/sync/rules/{rule['id']}/reconciliations", headers=a.admin.bearer).json()
    assert len(runs) == 1
    resumed = client.post(f"/api/sync/incoming/{rule['id']}/resume", headers=north.admin.bearer)
    assert resumed.status_code == 200, resumed.text
    assert background_jobs_ended(client)
    assert product(client, north, held["sku"]) is not None

    # the upstream pauses the rule itself: a run still compares both sides
    paused = client.post(f"/api/sync/rules/{rule['id']}/pause", headers=a.admin.bearer)
    assert paused.status_code == 200 and paused.json()["status"] == "paused", paused.text
    made = new_product(client, a)
    patch = client.patch(f"/api/ordering/products/{renamed['id']}", headers=a.admin.bearer, json={"name": "Renamed"})
    assert patch.status_code == 200, patch.text
    patch = client.patch(f"/api/ordering/products/{unlisted['id']}", headers=a.admin.bearer, json={"listed": False})
    assert patch.status_code == 200, patch.text
    theirs = product(client, north, edited["sku"])
    patch = client.patch(f"/api/ordering/products/{theirs['id']}", headers=north.admin.bearer, json={"name": "North's"})
    assert patch.status_code == 200, patch.text
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"]) is None
    assert product(client, north, renamed["sku"])["name"] == renamed["name"]

    # one run at a time per rule; a retry with its key is the same run
    key = {**a.admin.bearer, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post(f"/api/sync/rules/{rule['id']}/reconcile", headers=key)
    again = client.post(f"/api/sync/rules/{rule['id']}/reconcile", headers=key)
    assert first.status_code == again.status_code == 202, (first.text, again.text)
    assert first.json()["id"] == again.json()["id"]
    second = client.post(f"/api/sync/rules/{rule['id']}/reconcile", headers=a.admin.bearer)
    assert second.status_code == 409 and second.json()["code"] == "reconciliation_running"
    assert background_jobs_ended(client)
    run_id = first.json()["id"]
    report = client.get(f"/api/sync/reconciliations/{run_id}", headers=a.admin.bearer).json()
    assert report["reconciliation"]["percent"] == 100
    assert found(report) == {
        "missing": {made["sku"]},
        "extra": {unlisted["sku"]},
        "different": {renamed["sku"], edited["sku"]},
    }
    differing = {i["label"]: i["fields"] for i in report["items"] if i["kind"] == "different"}
    assert differing[edited["sku"]] == [{"field": "name", "expected": edited["name"], "actual": "North's"}]
    only = client.get(f"/api/sync/reconciliations/{run_id}", headers=a.admin.bearer, params={"kind": "missing"}).json()
    assert only["total"] == 1 and only["items"][0]["label"] == made["sku"]
    sheet = client.get(f"/api/sync/reconciliations/{run_id}/export.xlsx", headers=a.admin.bearer)
    assert sheet.status_code == 200, sheet.text
    cells = {
        c for row in openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True) for c in row
    }
    assert {made["sku"], unlisted["sku"], "North's", "Name"} <= cells

    # repair waits for the rule to flow; activating it again catches up on what changed upstream
    refused = client.post(f"/api/sync/reconciliations/{run_id}/repair", headers=a.admin.bearer, json={})
    assert refused.status_code == 409 and refused.json()["code"] == "rule_paused"
    activated = client.post(f"/api/sync/rules/{rule['id']}/activate", headers=a.admin.bearer)
    assert activated.status_code == 202, activated.text
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"]) is not None
    assert product(client, north, renamed["sku"])["name"] == "Renamed"
    assert product(client, north, unlisted["sku"])["listed"] is False
    after = reconcile(client, a, rule["id"])
    assert found(after) == {"missing": set(), "extra": set(), "different": {edited["sku"]}}

    # repair: ordinary sync events, under the rule's policy (upstream wins), then no drift
    repaired = client.post(f"/api/sync/reconciliations/{after['reconciliation']['id']}/repair", headers=a.admin.bearer)
    assert repaired.status_code == 202, repaired.text
    assert repaired.json()["repaired"] == 1
    assert background_jobs_ended(client)
    assert product(client, north, edited["sku"])["name"] == edited["name"]
    assert reconcile(client, a, rule["id"])["reconciliation"]["drift"] == 0
    entries = client.get("/api/audit", headers=north.admin.bearer, params={"object_id": theirs["id"]}).json()
    assert any(e["action"] == "sync.applied" for e in entries)

    # nobody else sees the runs or can pause the rule: another tenant, the partner, the upstream itself
    for other in (world.b, north):
        assert client.get(f"/api/sync/reconciliations/{run_id}", headers=other.admin.bearer).status_code == 404
        assert (
            client.get(f"/api/sync/rules/{rule['id']}/reconciliations", headers=other.admin.bearer).status_code == 404
        )
        export = client.get(f"/api/sync/reconciliations/{run_id}/export.xlsx", headers=other.admin.bearer)
        assert export.status_code == 404
        assert client.post(f"/api/sync/rules/{rule['id']}/reconcile", headers=other.admin.bearer).status_code == 404
    for other in (world.b, a):
        assert client.post(f"/api/sync/incoming/{rule['id']}/pause", headers=other.admin.bearer).status_code == 404


def test_a_field_the_partner_may_keep_is_not_drift(client: TestClient, world: World) -> None:
    a = world.a
    made = new_product(client, a, description="Alpha's text")
    north, link_id = connect_workspace(client, a, "north")
    rule = active_rule(client, world, link_id, policies={"description": "downstream", "name": "hold"})
    theirs = product(client, north, made["sku"])
    edited = client.patch(
        f"/api/ordering/products/{theirs['id']}",
        headers=north.admin.bearer,
        json={"description": "North's text", "pack_size": 9},
    )
    assert edited.status_code == 200, edited.text
    report = reconcile(client, a, rule["id"])
    assert [(i["label"], [f["field"] for f in i["fields"]]) for i in report["items"]] == [(made["sku"], ["pack_size"])]


def test_reconciliation_pages(client: TestClient, world: World) -> None:
    a = world.a
    made = new_product(client, a)
    north, link_id = connect_workspace(client, a, "north")
    rule = active_rule(client, world, link_id)
    theirs = product(client, north, made["sku"])
    client.patch(f"/api/ordering/products/{theirs['id']}", headers=north.admin.bearer, json={"name": "Drifted"})
    act_as(client, a.admin.cookie)
    rule_path = f"/console/sync/rules/{rule['id']}"
    assert_readable_page(client.get(rule_path), 200, "Compare both sides now")
    started = submit(client, f"{rule_path}/reconcile", {}, form_page=rule_path)
    assert started.status_code in REDIRECTS, started.text
    report_path = started.headers["location"].split("?")[0]
    assert background_jobs_ended(client)
    page = client.get(report_path)
    assert_readable_page(page, 200, "Drifted")
    assert made["sku"] in page.text and "Export to XLSX" in page.text
    assert "Drifted" not in client.get(report_path, params={"kind": "missing"}).text
    repaired = submit(client, f"{report_path}/repair", {"kind": "different"}, form_page=report_path)
    assert repaired.status_code in REDIRECTS, repaired.text
    assert background_jobs_ended(client)
    assert product(client, north, made["sku"])["name"] == made["name"]
    again = submit(client, f"{rule_path}/reconcile", {}, form_page=rule_path)
    assert again.status_code in REDIRECTS, again.text
    assert background_jobs_ended(client)
    assert_readable_page(client.get(again.headers["location"].split("?")[0]), 200, "No drift: both sides agree.")

    act_as(client, north.admin.cookie)
    incoming = client.get("/console/sync/incoming")
    assert_readable_page(incoming, 200, "Pause for my workspace")
    paused = submit(client, f"/console/sync/incoming/{rule['id']}/pause", {}, form_page="/console/sync/incoming")
    assert paused.status_code in REDIRECTS, paused.text
    assert_readable_page(client.get("/console/sync/incoming"), 200, "Paused by you")
    resumed = submit(client, f"/console/sync/incoming/{rule['id']}/resume", {}, form_page="/console/sync/incoming")
    assert resumed.status_code in REDIRECTS, resumed.text
    assert client.get(report_path).status_code == 404

    act_as(client, world.b.admin.cookie)
    assert client.get(report_path).status_code == 404


def test_the_daily_job_asks_for_a_run_of_every_active_rule(client: TestClient, world: World) -> None:
    from sync.crosstenant.reconcile import RECONCILE_JOB

    a = world.a
    new_product(client, a)
    _north, link_id = connect_workspace(client, a, "north")
    rule = active_rule(client, world, link_id)
    services = client.app.state.services
    asked = client.blocking_portal.call(RECONCILE_JOB.run, services)
    assert asked >= 1
    runs = client.get(f"/api/sync/rules/{rule['id']}/reconciliations", headers=a.admin.bearer).json()
    assert [r["trigger"] for r in runs] == ["scheduled"]
    assert len(client.get(f"/api/sync/rules/{rule['id']}/reconciliations", headers=a.admin.bearer).json()) == 1
    assert background_jobs_ended(client)
    done = client.get(f"/api/sync/rules/{rule['id']}/reconciliations", headers=a.admin.bearer).json()
    assert done[0]["status"] == "done" and done[0]["drift"] == 0


@pytest.mark.postgres_only
def test_two_requests_to_reconcile_one_rule_at_once_start_one_run(
    app: Litestar, settings: Settings, client: TestClient, world: World
) -> None:
    """Four requests at once, each in its own transaction: one run, the others refused."""
    from sync.crosstenant import reconcile as reconciling

    a = world.a
    new_product(client, a)
    _north, link_id = connect_workspace(client, a, "north")
    rule = active_rule(client, world, link_id)
    tenant, rule_id = uuid.UUID(a.tenant_id), uuid.UUID(rule["id"])

    async def race(services: Services, _db: Database) -> list[str]:
        async def one() -> str:
            try:
                async with services.db.session(tenant_context(tenant, channel="system")) as session:
                    locked = await session.scalar(select(SyncRule).where(SyncRule.id == rule_id).with_for_update())
                    await asyncio.sleep(0.05)
                    await reconciling.start(session, locked)
            except Conflict:
                return "refused"
            return "started"

        return list(await asyncio.gather(*(one() for _ in range(4))))

    assert sorted(run_engine(app, settings, race)) == ["refused", "refused", "refused", "started"]
    runs = client.get(f"/api/sync/rules/{rule['id']}/reconciliations", headers=a.admin.bearer).json()
    assert len(runs) == 1
    assert background_jobs_ended(client)
