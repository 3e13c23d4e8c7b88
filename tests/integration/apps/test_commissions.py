"""Commissions through HTTP: rules by tier, product line and deal type make a line when a deal is won and
a reversal when it leaves "won"; lines gather into one statement per partner and period, which the partner
reviews and the upstream approves, posting it to the partner's account; the XLSX export; what must not be
seen (another enterprise's statement, another tenant's deal) and what is refused (huge and negative rates,
control characters)."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

import openpyxl
from litestar.testing import TestClient

from tests.world import (
    Credential,
    Enterprise,
    TenantWorld,
    World,
    complete_setup,
    date_commissions,
    ended_month,
    partner_login,
    partner_type_id,
    partner_web_login,
)

STAFF = "/api/agent"
PARTNER = "/api/partner/agent"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def call(client: TestClient, who: Credential, method: str, path: str, **kwargs: Any) -> Any:
    return client.request(method, path, headers=who.bearer, **kwargs)


def tier(client: TestClient, tenant: TenantWorld) -> str:
    name = f"Tier {uuid.uuid4().hex[:6]}"
    return ok(
        call(client, tenant.admin, "POST", "/api/interconnect/tiers", json={"name": name, "code": name[-6:]}), 201
    )["id"]


def agent(client: TestClient, tenant: TenantWorld, label: str = "Agent", tier_id: str | None = None) -> Enterprise:
    """An agent enterprise (its first admin the deal registrar), in `tier_id` when given."""
    name = f"{label} {uuid.uuid4().hex[:6]}"
    email = f"agent-{uuid.uuid4().hex[:8]}@partner.example"
    body = {
        "name": name,
        "partner_type_id": partner_type_id(client, tenant.admin, "agent"),
        "tier_id": tier_id,
        "admin": {"display_name": f"{label} admin", "email": email},
    }
    made = ok(call(client, tenant.admin, "POST", "/api/interconnect/enterprises", json=body), 201)
    complete_setup(client, made["setup_url"])
    token, refresh = partner_login(client, tenant.slug, email)
    cookie = partner_web_login(client, tenant.slug, email)
    return Enterprise(made["enterprise"]["id"], name, Credential(made["admin_id"], email, token, refresh, cookie))


def deal(client: TestClient, tenant: TenantWorld, partner: Enterprise, amount: str = "100000", **values: Any) -> dict:
    body = {"customer_name": f"Harbour {uuid.uuid4().hex[:6]}", "amount": amount, "enterprise_id": partner.link_id}
    return ok(call(client, tenant.admin, "POST", f"{STAFF}/deals", json={**body, **values}), 201)


def stage(client: TestClient, tenant: TenantWorld, deal_id: str, to: str) -> None:
    ok(call(client, tenant.admin, "PATCH", f"{STAFF}/deals/{deal_id}", json={"stage": to}))


def rule(client: TestClient, tenant: TenantWorld, rate: str, **conditions: Any) -> dict:
    # before the world's own rule (every partner, 5%, position 0) among rules as specific
    body = {"name": f"Rule {uuid.uuid4().hex[:6]}", "rate": rate, "position": -1, **conditions}
    return ok(call(client, tenant.admin, "POST", f"{STAFF}/commission-rules", json=body), 201)


def lines_of(client: TestClient, partner: Enterprise) -> list[dict]:
    return ok(call(client, partner.admin, "GET", f"{PARTNER}/commissions"))


def close(client: TestClient, tenant: TenantWorld, period: str, partner: Enterprise) -> list[dict]:
    body = {"period": period, "enterprise_id": partner.link_id}
    return ok(call(client, tenant.admin, "POST", f"{STAFF}/commission-statements", json=body), 201)["items"]


# Statements are made for months that have ended: lines earned in a test are dated into one of them.
PERIOD, PERIOD_DAY = ended_month(2)
LATER, LATER_DAY = ended_month(1)


def close_month(client: TestClient, tenant: TenantWorld, partner: Enterprise, months_ago: int = 1) -> list[dict]:
    """The partner's waiting lines dated into an ended month, and that month's statement made."""
    period, day = ended_month(months_ago)
    date_commissions(client, partner.link_id, day)
    return close(client, tenant, period, partner)


def test_the_most_specific_rule_pays_a_won_deal_and_leaving_won_reverses_it(client: TestClient, world: World) -> None:
    gold = tier(client, world.a)
    one, other = agent(client, world.a, "Gold agent", gold), agent(client, world.a, "Plain agent")
    rule(client, world.a, "0.02")
    rule(client, world.a, "0.05", tier_id=gold)
    rule(client, world.a, "0.08", tier_id=gold, product_line="PUMPS", deal_type="renewal")

    plain = deal(client, world.a, one)
    stage(client, world.a, plain["id"], "won")
    (line,) = lines_of(client, one)
    assert (line["kind"], line["rate"], line["amount"]) == ("earned", 0.05, 5000) or (
        line["kind"] == "earned" and float(line["rate"]) == 0.05 and float(line["amount"]) == 5000
    )

    special = deal(client, world.a, one, amount="200000")
    body = {"product_line": "pumps", "deal_type": "renewal"}
    ok(call(client, world.a.admin, "PUT", f"{STAFF}/deals/{special['id']}/commission-terms", json=body))
    stage(client, world.a, special["id"], "won")
    stage(client, world.a, special["id"], "won")  # still won: nothing more
    amounts = sorted(float(x["amount"]) for x in lines_of(client, one))
    assert amounts == [5000.0, 16000.0]

    elsewhere = deal(client, world.a, other)
    stage(client, world.a, elsewhere["id"], "won")
    assert [float(x["amount"]) for x in lines_of(client, other)] == [2000.0]
    assert elsewhere["customer_name"] not in str(lines_of(client, one))
    assert plain["customer_name"] not in str(lines_of(client, other))

    stage(client, world.a, plain["id"], "qualified")
    kinds = sorted((x["kind"], float(x["amount"])) for x in lines_of(client, one) if x["deal_id"] == plain["id"])
    assert kinds == [("earned", 5000.0), ("reversal", -5000.0)]
    stage(client, world.a, plain["id"], "won")  # won again: earns again
    assert len([x for x in lines_of(client, one) if x["deal_id"] == plain["id"]]) == 3
    # the upstream's own deal pays nobody
    own = ok(call(client, world.a.admin, "POST", f"{STAFF}/deals", json={"customer_name": "Own", "amount": "5"}), 201)
    stage(client, world.a, own["id"], "won")
    assert own["id"] not in str(ok(call(client, world.a.admin, "GET", f"{STAFF}/commission-statements/lines")))


def test_a_statement_is_reviewed_approved_posted_and_exported_and_each_line_is_on_one(
    client: TestClient, world: World
) -> None:
    one, two = agent(client, world.a), agent(client, world.a, "Second agent")
    rule(client, world.a, "0.1")
    for partner in (one, two):
        stage(client, world.a, deal(client, world.a, partner, amount="12345.67")["id"], "won")
    # a line earned this month waits: this month's statement cannot be made yet
    assert close(client, world.a, PERIOD, one) == []
    date_commissions(client, one.link_id, PERIOD_DAY)
    (statement,) = close(client, world.a, PERIOD, one)
    assert statement["status"] == "open" and float(statement["total"]) == 1234.57 and statement["lines_count"] == 1
    assert close(client, world.a, PERIOD, one) == []  # nothing more waiting
    assert lines_of(client, one) == []  # on the statement now
    path = f"{PARTNER}/commission-statements/{statement['id']}"

    # another enterprise's statement is not found, to read, review, or export; another tenant's staff neither
    assert call(client, two.admin, "GET", path).status_code == 404
    assert call(client, two.admin, "POST", f"{path}/accept", json={}).status_code == 404
    assert call(client, two.admin, "GET", f"{path}/export.xlsx").status_code == 404
    assert statement["id"] not in str(ok(call(client, two.admin, "GET", f"{PARTNER}/commission-statements")))
    assert call(client, world.b.admin, "GET", f"{STAFF}/commission-statements/{statement['id']}").status_code == 404
    assert statement["id"] not in str(ok(call(client, world.b.admin, "GET", f"{STAFF}/commission-statements")))

    staff_path = f"{STAFF}/commission-statements/{statement['id']}"
    early = call(client, world.a.admin, "POST", f"{staff_path}/approve")
    assert early.status_code == 409 and early.json()["code"] == "statement_status"
    refused = call(client, one.admin, "POST", f"{path}/dispute", json={})
    assert refused.status_code == 422
    accepted = ok(call(client, one.admin, "POST", f"{path}/accept", json={"note": "Agreed"}))
    assert accepted["status"] == "accepted"
    assert call(client, one.admin, "POST", f"{path}/dispute", json={"note": "Late"}).status_code == 409
    approved = ok(call(client, world.a.admin, "POST", f"{staff_path}/approve"))
    assert approved["status"] == "approved" and approved["posted"] is True
    again = call(client, world.a.admin, "POST", f"{staff_path}/approve")
    assert again.status_code == 409

    account = ok(call(client, world.a.admin, "GET", f"/api/ordering/accounts/{one.link_id}/statement"))
    (entry,) = [e for e in account["lines"] if e["kind"] == "commission"]
    assert float(entry["credit"]) == 1234.57 and entry["description"] == f"Commission {PERIOD}"
    other_account = ok(call(client, world.a.admin, "GET", f"/api/ordering/accounts/{two.link_id}/statement"))
    assert [e for e in other_account["lines"] if e["kind"] == "commission"] == []

    exported = call(client, one.admin, "GET", f"{path}/export.xlsx")
    assert exported.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0][0] == "earned_on" and any("1234.57" in (r[5] or "") for r in cells[1:])
    # a line earned after approval waits for the next period's statement, never joins this one
    stage(client, world.a, deal(client, world.a, one, amount="1000")["id"], "won")
    date_commissions(client, one.link_id, LATER_DAY)
    assert close(client, world.a, PERIOD, one) == []
    (later,) = close(client, world.a, LATER, one)
    assert later["id"] != statement["id"] and later["lines_count"] == 1
    detail = ok(call(client, world.a.admin, "GET", f"{STAFF}/commission-statements/{statement['id']}"))
    assert len(detail["lines"]) == 1


def test_a_disputed_statement_withdrawn_frees_its_lines_for_the_next(client: TestClient, world: World) -> None:
    one = agent(client, world.a)
    rule(client, world.a, "0.01")
    stage(client, world.a, deal(client, world.a, one)["id"], "won")
    (statement,) = close_month(client, world.a, one)
    path = f"{PARTNER}/commission-statements/{statement['id']}"
    disputed = ok(call(client, one.admin, "POST", f"{path}/dispute", json={"note": "The rate is wrong"}))
    assert disputed["status"] == "disputed" and disputed["review_note"] == "The rate is wrong"
    staff_path = f"{STAFF}/commission-statements/{statement['id']}"
    ok(call(client, world.a.admin, "POST", f"{staff_path}/withdraw", json={"note": "Corrected"}))
    assert len(lines_of(client, one)) == 1
    (next_round,) = close(client, world.a, LATER, one)
    assert next_round["round"] == 2 and next_round["lines_count"] == 1


def test_bad_rules_periods_and_another_tenants_deal_are_refused(client: TestClient, world: World) -> None:
    admin = world.a.admin
    for rate in ("1.5", "-0.1", "NaN", "1e400", "0.123456"):
        body = {"name": "Odd", "rate": rate}
        assert call(client, admin, "POST", f"{STAFF}/commission-rules", json=body).status_code == 422, rate
    bad_name = call(client, admin, "POST", f"{STAFF}/commission-rules", json={"name": "A\x07B", "rate": "0.1"})
    assert bad_name.status_code == 422
    assert (
        call(
            client, admin, "POST", f"{STAFF}/commission-rules", json={"name": "X", "rate": "0.1", "deal_type": "x"}
        ).status_code
        == 422
    )
    for period in ("2026-13", "26-01", "2026-1", "x"):
        body = {"period": period}
        assert call(client, admin, "POST", f"{STAFF}/commission-statements", json=body).status_code == 422
    # a month that has not ended (this one, a later one) has no statement yet: the answer names it
    this_month = f"{datetime.now(UTC):%Y-%m}"
    for period in (this_month, "2098-12"):
        refused = call(client, admin, "POST", f"{STAFF}/commission-statements", json={"period": period})
        assert refused.status_code == 422, refused.text
        (error,) = refused.json()["errors"]
        assert error["field"] == "period" and error["code"] == "period_not_ended" and period in error["message"]
    # tenant B's deal: not found for tenant A's staff
    other = ok(call(client, world.b.admin, "POST", f"{STAFF}/deals", json={"customer_name": "B", "amount": "9"}), 201)
    terms = call(client, admin, "PUT", f"{STAFF}/deals/{other['id']}/commission-terms", json={"deal_type": "renewal"})
    assert terms.status_code == 404
    # a partner never sets a rule or closes a period
    x = world.x.admin
    assert call(client, x, "POST", f"{STAFF}/commission-rules", json={"name": "Mine", "rate": "1"}).status_code == 403
    huge = deal(client, world.a, agent(client, world.a), amount="99999999999999")
    rule(client, world.a, "1")
    stage(client, world.a, huge["id"], "won")
    waiting = ok(call(client, admin, "GET", f"{STAFF}/commission-statements/lines"))
    assert any(float(x["amount"]) >= 99999999999999 for x in waiting if x["deal_id"] == huge["id"])


def test_the_pages_show_statements_and_let_the_partner_review_and_the_upstream_approve(
    client: TestClient, world: World
) -> None:
    from tests.integration.web.test_pages import act_as, submit

    one, two = agent(client, world.a), agent(client, world.a, "Second agent")
    rule(client, world.a, "0.1")
    won = deal(client, world.a, one, amount="5000")
    stage(client, world.a, won["id"], "won")
    act_as(client, world.a.admin.cookie)
    console_page = client.get("/console/agent/commissions")
    assert f'value="{LATER}"' in console_page.text  # the form offers the last month that has ended
    early = submit(
        client, "/console/agent/commissions/close", {"period": "2098-10"}, form_page="/console/agent/commissions"
    )
    assert early.status_code == 422 and "2098-10" in early.text and "2098-11-01" in early.text
    date_commissions(client, one.link_id, PERIOD_DAY)
    made = submit(
        client, "/console/agent/commissions/close", {"period": PERIOD}, form_page="/console/agent/commissions"
    )
    assert made.status_code in (302, 303), made.text
    bad = submit(client, "/console/agent/commissions/close", {"period": "soon"}, form_page="/console/agent/commissions")
    assert bad.status_code == 422 and "YYYY-MM" in bad.text
    page = client.get("/console/agent/commissions")
    assert page.status_code == 200 and one.name in page.text and PERIOD in page.text
    (statement,) = [
        s
        for s in ok(
            call(client, world.a.admin, "GET", f"{STAFF}/commission-statements", params={"enterprise_id": one.link_id})
        )["items"]
        if s["period"] == PERIOD
    ]
    portal = f"/p/{world.a.slug}/agent/commissions"
    act_as(client, one.admin.cookie)
    mine = client.get(portal)
    assert mine.status_code == 200 and PERIOD in mine.text and "500.00" in mine.text
    detail = client.get(f"{portal}/{statement['id']}")
    assert detail.status_code == 200 and won["customer_name"] in detail.text
    # the review: accepting and disputing, each its own form with its own button naming the statement
    assert "Review this statement" in detail.text and detail.text.count('<textarea name="note" rows="3"') == 1
    assert ">Accept the statement</button>" in detail.text and ">Dispute the statement</button>" in detail.text
    accepted = submit(client, f"{portal}/{statement['id']}/accept", {}, form_page=f"{portal}/{statement['id']}")
    assert accepted.status_code in (302, 303)
    act_as(client, two.admin.cookie)
    assert client.get(f"{portal}/{statement['id']}").status_code == 404
    assert statement["id"] not in client.get(portal).text
    act_as(client, world.a.admin.cookie)
    console = f"/console/agent/commissions/{statement['id']}"
    approved = submit(client, f"{console}/approve", {}, form_page=console)
    assert approved.status_code in (302, 303)
    again = submit(client, f"{console}/withdraw", {}, form_page=console)
    assert again.status_code == 409 and "cannot be changed" in again.text
    client.cookies.clear()


def test_a_commission_amount_hidden_by_a_field_rule_is_absent_for_the_partner(client: TestClient, world: World) -> None:
    one = agent(client, world.a)
    rule(client, world.a, "0.1")
    stage(client, world.a, deal(client, world.a, one, amount="7000")["id"], "won")
    (statement,) = close_month(client, world.a, one)
    role = ok(call(client, world.a.admin, "GET", "/api/roles/deal_registrar"))
    fields = {**role["fields"], "partner.agent.commission": {"amount": "hidden", "rate": "hidden"}}
    ok(call(client, world.a.admin, "PATCH", "/api/roles/deal_registrar", json={"fields": fields}))
    shown = ok(call(client, one.admin, "GET", f"{PARTNER}/commission-statements/{statement['id']}"))
    assert "total" not in shown and shown["lines"] and not {"amount", "rate"} & set(shown["lines"][0])
    assert "700.0000" not in str(shown)  # the deal amount (7000) is not a commission field
    listed = ok(call(client, one.admin, "GET", f"{PARTNER}/commission-statements"))
    assert all("total" not in s for s in listed["items"])
    page = client.get(
        f"/p/{world.a.slug}/agent/commissions/{statement['id']}",
        headers={"Cookie": f"portal_session={one.admin.cookie}"},
    )
    assert page.status_code == 200 and "700.00" not in page.text
    # the upstream still sees it
    staff = ok(call(client, world.a.admin, "GET", f"{STAFF}/commission-statements/{statement['id']}"))
    assert float(staff["total"]) == 700
