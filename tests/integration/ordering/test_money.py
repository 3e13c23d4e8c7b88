"""Payments and the account: a dealer reports, the manufacturer confirms (matched to the orders asked
for, or the oldest first) or rejects; the statement's opening and closing balances follow the ledger."""

from __future__ import annotations

import io
from datetime import date, timedelta

from litestar.testing import TestClient
from openpyxl import load_workbook

from tests.integration.ordering.support import act, build_shop, ok, place, staff
from tests.world import World

TODAY = date.today().isoformat()


def test_reported_payments_count_once_confirmed_and_match_orders(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin, dealer = world.a.admin, world.x.admin
    first = ok(place(client, dealer, [(shop.pump, 2)]), 201)  # 160
    second = ok(place(client, dealer, [(shop.pump, 1)]), 201)  # 80
    for order in (first, second):
        ok(act(client, admin, order["id"], "approve"))
    before = ok(client.get("/api/partner/ordering/account", headers=dealer.bearer))["balance"]

    reported = client.post(
        "/api/partner/ordering/account/payments",
        headers=dealer.bearer,
        json={"amount": "100.00", "received_on": TODAY, "reference": "TT-77"},
    )
    payment = ok(reported, 201)
    assert payment["status"] == "reported" and payment["allocations"] == []
    assert ok(client.get("/api/partner/ordering/account", headers=dealer.bearer))["balance"] == before

    too_much = staff(
        client, admin, "POST", f"/payments/{payment['id']}/confirm", json={"allocations": {second["id"]: "90.00"}}
    )
    assert too_much.status_code == 422  # the second order has only 80 left to pay
    confirmed = ok(
        staff(
            client, admin, "POST", f"/payments/{payment['id']}/confirm", json={"allocations": {second["id"]: "80.00"}}
        )
    )
    assert confirmed["status"] == "confirmed" and [a["order_id"] for a in confirmed["allocations"]] == [second["id"]]
    again = staff(client, admin, "POST", f"/payments/{payment['id']}/confirm", json={})
    assert again.status_code == 409 and again.json()["code"] == "payment_decided"
    account = ok(client.get("/api/partner/ordering/account", headers=dealer.bearer))
    assert account["balance"] != before
    open_orders = {o["id"]: o for o in account["open_orders"]}
    assert second["id"] not in open_orders and open_orders[first["id"]]["paid_amount"] == "0.0000"

    # a payment without allocations pays the oldest open order first; an order with payments cannot be cancelled
    ok(
        staff(
            client,
            admin,
            "POST",
            "/payments",
            json={"enterprise_id": world.x.link_id, "amount": "50.00", "received_on": TODAY},
        ),
        201,
    )
    paid = ok(staff(client, admin, "GET", f"/orders/{first['id']}"))
    assert paid["paid_amount"] == "50.0000" and paid["balance_due"] == "110.0000"
    refused = act(client, admin, first["id"], "cancel", comment="no")
    assert refused.status_code == 409 and refused.json()["code"] == "order_paid"

    bogus = client.post(
        "/api/partner/ordering/account/payments",
        headers=dealer.bearer,
        json={"amount": "12.345", "received_on": "2099-01-01", "method": "gold bars"},
    )
    assert bogus.status_code == 422
    rejected_one = ok(
        client.post(
            "/api/partner/ordering/account/payments",
            headers=dealer.bearer,
            json={"amount": "5.00", "received_on": TODAY},
        ),
        201,
    )
    assert staff(client, admin, "POST", f"/payments/{rejected_one['id']}/reject", json={"note": " "}).status_code == 422
    assert (
        ok(staff(client, admin, "POST", f"/payments/{rejected_one['id']}/reject", json={"note": "not received"}))[
            "status"
        ]
        == "rejected"
    )
    # Y never sees X's payments
    assert ok(client.get("/api/partner/ordering/account/payments", headers=world.y.admin.bearer))["total"] == 0


def test_statement_periods(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin, dealer = world.a.admin, world.x.admin
    order = ok(place(client, dealer, [(shop.pump, 1)]), 201)
    ok(act(client, admin, order["id"], "approve"))
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    later = ok(
        client.get(
            "/api/partner/ordering/account/statement",
            headers=dealer.bearer,
            params={"start": tomorrow, "end": tomorrow},
        )
    )
    # everything so far is before tomorrow: the opening balance carries it, and nothing happened since
    assert later["lines"] == [] and later["opening_balance"] == later["closing_balance"] == "70.0000"
    today = ok(client.get("/api/partner/ordering/account/statement", headers=dealer.bearer, params={"start": TODAY}))
    assert today["closing_balance"] == "70.0000" and today["debits"] == "80.0000"
    backwards = client.get(
        "/api/partner/ordering/account/statement", headers=dealer.bearer, params={"start": TODAY, "end": "2020-01-01"}
    )
    assert backwards.status_code == 422
    sheet = client.get("/api/partner/ordering/account/statement.xlsx", headers=dealer.bearer, params={"start": TODAY})
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(sheet.content)).active.iter_rows()]
    assert rows[0] == ["date", "kind", "description", "debit", "credit", "balance"]
    assert rows[-1][1] == "closing" and rows[-1][-1] == "70.0000"
    assert (
        client.get(
            "/api/partner/ordering/account/statement.xlsx", headers=world.x.people["colleague"].bearer
        ).status_code
        == 403
    )


def test_an_amount_too_large_is_called_too_large(client: TestClient, world: World) -> None:
    huge = "1" + "0" * 40
    payment = client.post(
        "/api/partner/ordering/account/payments",
        headers=world.x.admin.bearer,
        json={"amount": huge, "received_on": "2026-01-05"},
    )
    assert payment.status_code == 422, payment.text
    assert payment.json()["errors"][0]["message"].startswith("must be less than")
    limit = client.put(
        f"/api/ordering/accounts/{world.x.link_id}/credit-limit", headers=world.a.admin.bearer, json={"amount": huge}
    )
    assert limit.status_code == 422, limit.text
    assert limit.json()["errors"][0]["message"].startswith("must be less than")
