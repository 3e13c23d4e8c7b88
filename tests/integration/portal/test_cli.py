"""The `portal` command on the embedded default: migrations, tenant creation, idempotent demo data."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli import portal, portal_process


def test_db_upgrade_creates_the_sqlite_file(tmp_path: Path) -> None:
    result = portal_process(tmp_path, "db", "upgrade")  # the command as installed, in a process of its own
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "portal.db").exists()


def test_tenant_create_and_its_errors(tmp_path: Path) -> None:
    ok = portal(
        tmp_path,
        "tenant",
        "create",
        "--name",
        "Acme",
        "--slug",
        "acme-cli",
        "--admin-email",
        "a@acme.example",
        "--admin-name",
        "Ann",
        "--password",
        "long enough password",
    )
    assert ok.returncode == 0, ok.stderr
    assert "created tenant Acme (acme-cli)" in ok.stdout
    again = portal(
        tmp_path,
        "tenant",
        "create",
        "--name",
        "Acme",
        "--slug",
        "acme-cli",
        "--admin-email",
        "a@acme.example",
        "--admin-name",
        "Ann",
        "--password",
        "long enough password",
    )
    assert again.returncode != 0
    assert "slug is already taken" in again.stderr
    generated = portal(
        tmp_path,
        "tenant",
        "create",
        "--name",
        "Beta",
        "--slug",
        "beta-cli",
        "--admin-email",
        "b@beta.example",
        "--admin-name",
        "Bo",
    )
    assert generated.returncode == 0, generated.stderr
    assert "generated password:" in generated.stdout


def test_demo_loads_two_manufacturers_and_can_run_twice(tmp_path: Path) -> None:
    first = portal(tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    assert "ann@acme-pumps.example" in first.stdout
    assert "wang.li@borealis.example" in first.stdout
    assert "nora@ns.acme-pumps.example" in first.stdout  # a partner admin of the demo distributor
    second = portal(tmp_path, "demo")
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    # each manufacturer's business calendar has its demo holidays, once; Borealis also its 调休 Saturdays
    with sqlite3.connect(tmp_path / "portal.db") as db:
        calendars = dict(
            db.execute("SELECT t.slug, c.days FROM business_calendars c JOIN tenants t ON t.id = c.tenant_id")
        )
    borealis, acme = json.loads(calendars["borealis-valves"]), json.loads(calendars["acme-pumps"])
    assert {"day": "2026-10-10", "kind": "workday", "name": "国庆节调休上班", "hours": None} in borealis
    assert len([d for d in borealis if d["day"] == "2026-10-01"]) == 1
    assert any(d["name"] == "Christmas Day" for d in acme)
    # Acme's channel manager holds the preset role (the conflict queue and the approvals are his); Borealis has none
    with sqlite3.connect(tmp_path / "portal.db") as db:
        managers = db.execute(
            "SELECT t.slug, count(*) FROM policy_rules r JOIN tenants t ON t.id = r.tenant_id"
            " WHERE r.ptype = 'g' AND r.v1 = 'r:channel_manager' GROUP BY t.slug"
        ).fetchall()
    assert managers == [("acme-pumps", 1)]
    # each manufacturer's leads: waiting in its pool, held by a partner, and one not placed, once
    with sqlite3.connect(tmp_path / "portal.db") as db:
        leads = db.execute(
            "SELECT t.slug, l.status, count(*) FROM agent_leads l JOIN tenants t ON t.id = l.tenant_id"
            " GROUP BY t.slug, l.status"
        ).fetchall()
    for slug in ("acme-pumps", "borealis-valves"):
        assert {status: n for s, status, n in leads if s == slug} == {"pooled": 6, "assigned": 2, "new": 1}
    # the dashboard's recycling figures (taken back by reason, more time asked and given), last month's
    # commission statements, and a paid fund claim on the partner's account, once each
    with sqlite3.connect(tmp_path / "portal.db") as db:
        recycled = db.execute(
            "SELECT t.slug, e.note, count(*) FROM agent_lead_events e JOIN tenants t ON t.id = e.tenant_id"
            " WHERE e.action = 'recycled' GROUP BY t.slug, e.note"
        ).fetchall()
        extensions = db.execute(
            "SELECT t.slug, x.status, count(*) FROM agent_lead_extensions x JOIN tenants t ON t.id = x.tenant_id"
            " GROUP BY t.slug, x.status"
        ).fetchall()
        periods = db.execute("SELECT DISTINCT period FROM agent_commission_statements").fetchall()
        funds = db.execute(
            "SELECT t.slug, count(*) FROM ordering_account_entries e JOIN tenants t ON t.id = e.tenant_id"
            " WHERE e.kind = 'fund' GROUP BY t.slug"
        ).fetchall()
    for slug in ("acme-pumps", "borealis-valves"):
        assert {note: n for s, note, n in recycled if s == slug} == {"no_follow_up": 2, "no_conversion": 1}
        assert {status: n for s, status, n in extensions if s == slug} == {"approved": 1, "pending": 1}
    last_day = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    assert periods == [(f"{last_day:%Y-%m}",)]
    assert dict(funds) == {"acme-pumps": 1, "borealis-valves": 1}
    # every lead in a region, in a pool named in the manufacturer's language
    with sqlite3.connect(tmp_path / "portal.db") as db:
        assert db.execute("SELECT count(*) FROM agent_leads WHERE region_id IS NULL").fetchone() == (0,)
        pools = db.execute(
            "SELECT t.slug, p.name FROM agent_lead_pools p JOIN tenants t ON t.id = p.tenant_id ORDER BY t.slug"
        ).fetchall()
    assert pools == [("acme-pumps", "Open leads"), ("borealis-valves", "公共线索池")]
    # each service partner's spare parts (a shipped request stocked it, one waits), a part fitted on each
    # finished ticket and field work on the ticket on site (a check-in, a note, a part, a photo), once
    with sqlite3.connect(tmp_path / "portal.db") as db:
        requests = db.execute(
            "SELECT t.slug, r.status, count(*) FROM service_part_requests r JOIN tenants t ON t.id = r.tenant_id"
            " GROUP BY t.slug, r.status"
        ).fetchall()
        entries = db.execute(
            "SELECT t.slug, e.kind FROM service_field_entries e JOIN tenants t ON t.id = e.tenant_id ORDER BY e.at"
        ).fetchall()
        stocked = db.execute("SELECT count(*) FROM service_part_stock WHERE quantity > 0").fetchone()[0]
    for slug in ("acme-pumps", "borealis-valves"):
        assert {status: n for s, status, n in requests if s == slug} == {"shipped": 1, "requested": 1}
        finished = {"acme-pumps": 4, "borealis-valves": 3}[slug]
        assert [kind for s, kind in entries if s == slug] == ["part"] * finished + ["check_in", "note", "part", "photo"]
    assert stocked >= 4
    # the parts are seals and impellers from the catalog's spare parts, not whole pumps or valves
    with sqlite3.connect(tmp_path / "portal.db") as db:
        skus = {
            sku
            for (sku,) in db.execute(
                "SELECT p.sku FROM service_part_stock s JOIN ordering_products p ON p.id = s.product_id"
            )
        }
    assert skus and all(sku.startswith(("SG-", "IM-", "BJ-")) for sku in skus), skus
    # each manufacturer's tickets took their steps over hours and days, their due instants counted from
    # those moments: of the resolved ones some met both targets and some missed one
    with sqlite3.connect(tmp_path / "portal.db") as db:
        done = db.execute(
            "SELECT t.slug, k.response_breached OR k.resolution_breached, k.created_at < k.dispatched_at,"
            " k.dispatched_at < k.accepted_at, k.accepted_at < k.resolved_at, k.created_at < k.resolution_due_at"
            " FROM service_tickets k JOIN tenants t ON t.id = k.tenant_id"
            " WHERE k.status IN ('resolved', 'confirmed', 'closed')"
        ).fetchall()
    for slug in ("acme-pumps", "borealis-valves"):
        mine = [row[1:] for row in done if row[0] == slug]
        assert {missed for missed, *_ in mine} == {0, 1} and all(all(order) for _m, *order in mine), mine
    # each manufacturer's fee schedule and one settlement of its service partner in review, a line disputed
    with sqlite3.connect(tmp_path / "portal.db") as db:
        settled = db.execute(
            "SELECT t.slug, s.status, count(l.id), sum(l.dispute = 'open') FROM service_settlements s"
            " JOIN tenants t ON t.id = s.tenant_id JOIN service_settlement_lines l ON l.settlement_id = s.id"
            " GROUP BY t.slug, s.status"
        ).fetchall()
    assert sorted(settled) == [("acme-pumps", "review", 2, 1), ("borealis-valves", "review", 1, 1)]
    # ... its lines bill the part each ticket used at the catalog's price; a dealer opened a ticket, once
    with sqlite3.connect(tmp_path / "portal.db") as db:
        billed = db.execute(
            "SELECT t.slug, count(*), min(p.unit_price IS NOT NULL) FROM service_settlement_parts p"
            " JOIN tenants t ON t.id = p.tenant_id GROUP BY t.slug"
        ).fetchall()
        opened = db.execute(
            "SELECT t.slug, k.status FROM service_dealer_tickets d JOIN tenants t ON t.id = d.tenant_id"
            " JOIN service_tickets k ON k.id = d.ticket_id"
        ).fetchall()
    assert sorted(billed) == [("acme-pumps", 2, 1), ("borealis-valves", 1, 1)]
    assert sorted(opened) == [("acme-pumps", "accepted"), ("borealis-valves", "accepted")]
    # each manufacturer's registrations in every state, with their matches, once
    with sqlite3.connect(tmp_path / "portal.db") as db:
        registrations = db.execute(
            "SELECT t.slug, d.registration, count(*), count(d.extension) FROM agent_deals d"
            " JOIN tenants t ON t.id = d.tenant_id WHERE d.registration IS NOT NULL GROUP BY t.slug, d.registration"
        ).fetchall()
        matches = dict(
            db.execute(
                "SELECT t.slug, count(*) FROM agent_deal_matches m JOIN tenants t ON t.id = m.tenant_id GROUP BY t.slug"
            ).fetchall()
        )
    for slug in ("acme-pumps", "borealis-valves"):
        states = {state: (n, asked) for s, state, n, asked in registrations if s == slug}
        assert states == {"approved": (3, 1), "conflict": (2, 0), "rejected": (1, 0)}
        assert matches[slug] == 2
    # the demo history has shipped orders (Acme's third is North Supply's shipped purchase order); receiving
    # everything shipped "0 days ago" takes them
    received = portal(tmp_path, "ordering", "auto-receive", "--days", "0")
    assert received.returncode == 0, received.stderr
    assert "acme-pumps: 3 received" in received.stdout and "borealis-valves: 1 received" in received.stdout
    again = portal(tmp_path, "ordering", "auto-receive", "--days", "0")
    assert "acme-pumps: 0 received" in again.stdout


def test_production_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    env = {**os.environ, "PORTAL_ENV": "production", "PORTAL_DATA_DIR": str(tmp_path)}
    env.pop("PORTAL_SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "portal.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "PORTAL_SECRET_KEY" in result.stderr
