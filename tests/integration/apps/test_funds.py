"""Market development funds through HTTP: a partner asks, the upstream approves against a budget, the
partner claims with proof (checked by content), the upstream pays; the budget is never overspent, also
(PostgreSQL) under concurrent approvals; what another enterprise or tenant must not see; bad amounts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.files import HTML, pdf, png
from tests.integration.apps.test_commissions import agent, call, ok, tier
from tests.world import Credential, Enterprise, World, unique

STAFF = "/api/agent"
PARTNER = "/api/partner/agent/fund-requests"


def current_period() -> dict[str, str]:
    """A budget period around today, wherever the tenant is."""
    today = datetime.now(UTC).date()
    return {"starts_on": (today - timedelta(days=30)).isoformat(), "ends_on": (today + timedelta(days=60)).isoformat()}


def budget(client: TestClient, world: World, amount: str, **values: Any) -> dict:
    body = {"name": unique("MDF"), **current_period(), "amount": amount, **values}
    return ok(call(client, world.a.admin, "POST", f"{STAFF}/fund-budgets", json=body), 201)


def ask(client: TestClient, partner: Enterprise, amount: str, purpose: str = "Trade show booth") -> dict:
    return ok(call(client, partner.admin, "POST", PARTNER, json={"amount": amount, "purpose": purpose}), 201)


def approve(client: TestClient, who: Credential, request_id: str, budget_id: str, **values: Any) -> Any:
    body = {"budget_id": budget_id, **values}
    return call(client, who, "POST", f"{STAFF}/fund-requests/{request_id}/approve", json=body)


def claim(client: TestClient, partner: Enterprise, request_id: str, amount: str, content: bytes, name: str) -> Any:
    return call(
        client,
        partner.admin,
        "POST",
        f"{PARTNER}/{request_id}/claim",
        data={"amount": amount, "note": "Booth invoice"},
        files={"file": (name, content)},
    )


def budget_now(client: TestClient, world: World, budget_id: str) -> dict:
    return next(b for b in ok(call(client, world.a.admin, "GET", f"{STAFF}/fund-budgets")) if b["id"] == budget_id)


def fund_entries(client: TestClient, world: World, partner: Enterprise) -> list[dict]:
    path = f"/api/ordering/accounts/{partner.link_id}/statement"
    return [e for e in ok(call(client, world.a.admin, "GET", path))["lines"] if e["kind"] == "fund"]


def claimed_request(client: TestClient, world: World, partner: Enterprise, amount: str) -> dict:
    """A request of `partner` approved for `amount` on a budget of its own, and claimed in full."""
    pot = budget(client, world, amount)
    made = ask(client, partner, amount)
    ok(approve(client, world.a.admin, made["id"], pot["id"]))
    return ok(claim(client, partner, made["id"], amount, pdf(), "invoice.pdf"))


def test_a_request_is_approved_claimed_with_proof_and_paid_within_its_budget(client: TestClient, world: World) -> None:
    one, other = agent(client, world.a), agent(client, world.a, "Other agent")
    pot = budget(client, world, "10000")
    made = ask(client, one, "6000")
    assert made["status"] == "requested" and made["approved_amount"] is None
    mine = ok(call(client, one.admin, "GET", PARTNER))
    assert [i["id"] for i in mine["items"]] == [made["id"]]
    assert made["id"] not in str(ok(call(client, other.admin, "GET", PARTNER)))
    assert call(client, other.admin, "GET", f"{PARTNER}/{made['id']}").status_code == 404
    assert call(client, world.b.admin, "GET", f"{STAFF}/fund-requests/{made['id']}").status_code == 404
    assert made["id"] not in str(ok(call(client, world.b.admin, "GET", f"{STAFF}/fund-requests")))
    # partners never approve (nor set what they are paid)
    assert approve(client, one.admin, made["id"], pot["id"]).status_code == 403

    too_much = approve(client, world.a.admin, made["id"], pot["id"], amount="7000")
    assert too_much.status_code == 422
    approved = ok(approve(client, world.a.admin, made["id"], pot["id"], amount="5000"))
    assert approved["status"] == "approved" and float(approved["approved_amount"]) == 5000
    assert float(budget_now(client, world, pot["id"])["reserved"]) == 5000
    second = ask(client, one, "6000")
    refused = approve(client, world.a.admin, second["id"], pot["id"])
    assert refused.status_code == 409 and refused.json()["code"] == "fund_budget_exhausted"
    assert ok(call(client, world.a.admin, "GET", f"{STAFF}/fund-requests/{second['id']}"))["status"] == "requested"

    # the proof is checked by content: a page named .png is refused, nothing kept
    fake = claim(client, one, made["id"], "4000", HTML, "receipt.png")
    assert fake.status_code == 422 and fake.json()["errors"][0]["field"] == "file"
    over = claim(client, one, made["id"], "5000.01", png(), "receipt.png")
    assert over.status_code == 422
    assert ok(call(client, one.admin, "GET", f"{PARTNER}/{made['id']}"))["status"] == "approved"
    assert (
        call(
            client,
            other.admin,
            "POST",
            f"{PARTNER}/{made['id']}/claim",
            files={"file": ("a.pdf", pdf())},
            data={"amount": "1"},
        ).status_code
        == 404
    )
    claimed = ok(claim(client, one, made["id"], "4000", pdf(), "invoice.pdf"))
    assert claimed["status"] == "claimed" and float(claimed["claimed_amount"]) == 4000
    (proof,) = claimed["proofs"]
    assert client.get(f"/api/partner/attachments/{proof['id']}", headers=one.admin.bearer).status_code == 200
    assert client.get(f"/api/partner/attachments/{proof['id']}", headers=other.admin.bearer).status_code == 404
    assert client.get(f"/api/attachments/{proof['id']}", headers=world.a.admin.bearer).status_code == 200
    assert client.get(f"/api/attachments/{proof['id']}", headers=world.b.admin.bearer).status_code == 404

    paid = ok(call(client, world.a.admin, "POST", f"{STAFF}/fund-requests/{made['id']}/pay", json={}))
    assert paid["status"] == "paid" and float(paid["paid_amount"]) == 4000
    after = budget_now(client, world, pot["id"])
    assert (float(after["reserved"]), float(after["paid"])) == (4000, 4000)  # the 1,000 not claimed came back
    assert call(client, world.a.admin, "POST", f"{STAFF}/fund-requests/{made['id']}/pay", json={}).status_code == 409
    # the payment is on the partner's account, once, and on no one else's
    assert paid["posted"] is True
    (entry,) = fund_entries(client, world, one)
    assert float(entry["credit"]) == 4000 and "Trade show booth" in entry["description"]
    assert fund_entries(client, world, other) == []
    # the budget cannot shrink below what it holds
    shrink = call(client, world.a.admin, "PATCH", f"{STAFF}/fund-budgets/{pot['id']}", json={"amount": "3999"})
    assert shrink.status_code == 422


def test_a_tiers_budget_serves_only_that_tier_and_bad_amounts_are_refused(client: TestClient, world: World) -> None:
    gold = tier(client, world.a)
    plain = agent(client, world.a)
    golden = budget(client, world, "1000", tier_id=gold)
    made = ask(client, plain, "10")
    wrong = approve(client, world.a.admin, made["id"], golden["id"])
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["code"] == "wrong_tier"
    for amount in ("-5", "0", "100000000000000", "1e30", "NaN", "1.001", "10^20"):
        response = call(client, plain.admin, "POST", PARTNER, json={"amount": amount, "purpose": "x"})
        assert response.status_code == 422, amount

    control = call(client, plain.admin, "POST", PARTNER, json={"amount": "5", "purpose": "bad\x00purpose"})
    assert control.status_code in (400, 422)
    for amount in ("-1", "100000000000000"):
        assert (
            call(
                client,
                world.a.admin,
                "POST",
                f"{STAFF}/fund-budgets",
                json={"name": "x", "starts_on": "2026-01-01", "ends_on": "2026-03-31", "amount": amount},
            ).status_code
            == 422
        )
    rejected = ok(
        call(client, world.a.admin, "POST", f"{STAFF}/fund-requests/{made['id']}/reject", json={"note": "No"})
    )
    assert rejected["status"] == "rejected"
    assert ok(call(client, plain.admin, "GET", PARTNER))["total"] == 1
    # a budget whose period has ended (or not begun) is not drawn on
    ended = budget(client, world, "1000", starts_on="2020-01-01", ends_on="2020-12-31")
    late = ask(client, plain, "10")
    refused = approve(client, world.a.admin, late["id"], ended["id"])
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "out_of_period"
    assert float(budget_now(client, world, ended["id"])["reserved"]) == 0


def test_a_paid_claim_shows_on_the_partners_account_page(client: TestClient, world: World) -> None:
    """Dealer X (whose admin also asks for funds) sees the payment among its account's entries; dealer Y
    does not, nor does tenant B."""
    from tests.integration.web.test_pages import act_as, submit

    made = claimed_request(client, world, world.x, "1200")
    act_as(client, world.a.admin.cookie)
    paid = submit(client, f"/console/agent/funds/{made['id']}/pay", {}, form_page="/console/agent/funds")
    assert paid.status_code in (302, 303), paid.text
    console = client.get(f"/console/ordering/accounts/{world.x.link_id}")
    assert console.status_code == 200 and "Market development funds" in console.text
    act_as(client, world.x.admin.cookie)
    page = client.get(f"/p/{world.a.slug}/ordering/account")
    assert page.status_code == 200, page.text
    assert "Market development funds" in page.text and made["id"][:8] in page.text
    act_as(client, world.y.admin.cookie)
    assert made["id"][:8] not in client.get(f"/p/{world.a.slug}/ordering/account").text
    client.cookies.clear()
    assert fund_entries(client, world, world.x)[-1]["credit"] in ("1200.00", "1200", 1200, "1200.0000")
    other = ok(call(client, world.b.admin, "GET", f"{STAFF}/fund-requests"))
    assert made["id"] not in str(other)


@pytest.mark.postgres_only
def test_a_claim_paid_by_several_at_once_is_paid_and_posted_exactly_once(client: TestClient, world: World) -> None:
    partner = agent(client, world.a)
    made = claimed_request(client, world, partner, "2500")

    def send(_: int) -> Any:
        return call(client, world.a.admin, "POST", f"{STAFF}/fund-requests/{made['id']}/pay", json={})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(send, range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 7, [r.text for r in responses if r.status_code not in (200, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"fund_request_status"}
    (entry,) = fund_entries(client, world, partner)
    assert float(entry["credit"]) == 2500
    assert float(budget_now(client, world, made["budget_id"])["paid"]) == 2500


@pytest.mark.postgres_only
def test_concurrent_approvals_beyond_the_budget_pass_exactly_as_many_as_it_affords(
    client: TestClient, world: World
) -> None:
    partner = agent(client, world.a)
    pot = budget(client, world, "5000")
    requests = [ask(client, partner, "1000")["id"] for _ in range(12)]

    def send(request_id: str) -> Any:
        return approve(client, world.a.admin, request_id, pot["id"])

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(send, requests))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [409] * 7, [r.text for r in responses if r.status_code not in (200, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"fund_budget_exhausted"}
    assert float(budget_now(client, world, pot["id"])["reserved"]) == 5000
    approved = ok(call(client, world.a.admin, "GET", f"{STAFF}/fund-requests", params={"status": "approved"}))
    assert len([i for i in approved["items"] if i["id"] in requests]) == 5


def test_the_pages_let_a_partner_ask_and_claim_and_the_upstream_approve_and_pay(
    client: TestClient, world: World
) -> None:
    from tests.integration.web.test_pages import act_as, submit
    from tests.world import csrf_token

    one, other = agent(client, world.a), agent(client, world.a, "Other agent")
    pot = budget(client, world, "800")
    portal = f"/p/{world.a.slug}/agent/funds"
    act_as(client, one.admin.cookie)
    asked = submit(client, portal, {"amount": "500", "purpose": "Roadshow in Ningbo"})
    assert asked.status_code in (302, 303), asked.text
    refused = submit(client, portal, {"amount": "-1", "purpose": "Negative"})
    assert refused.status_code == 422
    # a huge amount is told the allowed range, not that it is not a number
    for typed in ("100000000000000000000", "10^20"):
        huge = submit(client, portal, {"amount": typed, "purpose": "Huge"})
        assert huge.status_code == 422 and "must be a number" not in huge.text
        assert "must be between 0.01 and 99999999999999.99" in huge.text, typed
    exponent = submit(client, portal, {"amount": "1e20", "purpose": "Huge"})  # money has no exponent
    assert exponent.status_code == 422 and "without an exponent" in exponent.text
    words = submit(client, portal, {"amount": "lots", "purpose": "Words"})
    assert words.status_code == 422 and "between 0.01 and 99999999999999.99" in words.text
    (made,) = ok(call(client, one.admin, "GET", PARTNER))["items"]
    act_as(client, other.admin.cookie)
    assert "Roadshow in Ningbo" not in client.get(portal).text
    act_as(client, world.a.admin.cookie)
    console = "/console/agent/funds"
    assert "Roadshow in Ningbo" in client.get(console).text
    approved = submit(
        client, f"{console}/{made['id']}/approve", {"budget_id": pot["id"], "amount": "400"}, form_page=console
    )
    assert approved.status_code in (302, 303), approved.text
    act_as(client, one.admin.cookie)
    token = csrf_token(client, portal)
    claimed = client.post(
        f"{portal}/{made['id']}/claim",
        data={"amount": "350", "note": "Hall rent", "_csrf_token": token},
        files={"file": ("rent.pdf", pdf())},
        follow_redirects=False,
    )
    assert claimed.status_code in (302, 303), claimed.text
    assert "rent.pdf" in client.get(portal).text
    act_as(client, world.a.admin.cookie)
    paid = submit(client, f"{console}/{made['id']}/pay", {}, form_page=console)
    assert paid.status_code in (302, 303)
    assert ok(call(client, one.admin, "GET", f"{PARTNER}/{made['id']}"))["status"] == "paid"
    client.cookies.clear()


def test_money_as_a_bare_json_number_is_read_as_written(client: TestClient, world: World) -> None:
    """A plain JSON number is taken for money, digit for digit (never through a float, which would make
    99999999999999.99 into …98); one with an exponent is refused naming the field, as "1e3" is."""
    plain = agent(client, world.a)
    for amount in ("1e3", "1E+2", "2.5e1"):  # bare numbers, as written in the body
        body = b'{"amount": ' + amount.encode() + b', "purpose": "Exponent"}'
        response = client.post(
            PARTNER, headers={**plain.admin.bearer, "Content-Type": "application/json"}, content=body
        )
        assert response.status_code == 422, (amount, response.text)
        [error] = response.json()["errors"]
        assert (error["field"], error["code"]) == ("amount", "invalid"), error
        assert error["message"] == "must be a plain number, without an exponent"
    for written, kept in (("12.50", "12.5"), ("99999999999999.99", "99999999999999.99"), ("40", "40")):
        body = b'{"amount": ' + written.encode() + b', "purpose": "Plain number"}'
        response = client.post(
            PARTNER, headers={**plain.admin.bearer, "Content-Type": "application/json"}, content=body
        )
        made = ok(response, 201)
        assert Decimal(made["amount"]) == Decimal(kept), (written, made)
    assert ok(call(client, plain.admin, "GET", PARTNER))["total"] == 3
