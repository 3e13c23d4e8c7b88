"""Journey 6 in the browser: Acme's channel manager puts a new lead in the pool; East Dealer claims it,
sees who it is only then, and converts it into an account, a contact and a protected registered deal;
West Dealer, registering the same customer, is refused by its name and, by its phone under another name,
lands in the conflict queue; the channel manager looks at the two side by side and keeps East Dealer's
(rejecting West Dealer's) and moves it to won on the same page; its commission line shows on East
Dealer's commissions page and, once the month's statements are made, on its statement page."""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ACME,
    ACME_CHANNEL_MANAGER,
    EAST_DEALER,
    EAST_DEALER_ADMIN,
    Person,
    Server,
    fill_form,
    go,
    horizontal_overflow,
    nav,
    path_of,
    screenshot,
    sign_in_as_partner,
    sign_in_as_staff,
    staff_api,
    submit,
    table_rows,
)

CHANNEL_MANAGER = ACME_CHANNEL_MANAGER
WEST_DEALER = "West Dealer"
WEST_DEALER_ADMIN = Person("Will West", "will@wd.acme-pumps.example", ACME)
PORTAL = f"/p/{ACME}/agent"


def put_a_lead_in_the_pool(manager: Page, company: str, phone: str, line: str) -> None:
    nav(manager, "Leads")
    assert path_of(manager) == "/console/agent/leads"
    form = manager.locator('form[method="post"][action="/console/agent/leads"]')
    fill_form(
        form,
        {"company_name": company, "contact_name": "Mr Lund", "phone": phone, "region_id": "East", "product_line": line},
    )
    expect(form.locator('[name="distribute"]')).to_be_checked()  # placed by the assignment rules
    submit(form, "Save")
    expect(manager.get_by_role("status")).to_have_text("The lead is saved.")
    search = manager.get_by_role("search")
    fill_form(search, {"q": company})
    submit(search, "Filter")
    expect(table_rows(manager, company)).to_contain_text("In a pool")


def claim_and_convert(dealer: Page, company: str, line: str) -> None:
    nav(dealer, "Lead pool")
    assert path_of(dealer) == f"{PORTAL}/pool"
    row = table_rows(dealer, line)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("East")
    # while it waits in the pool, a lead shows only what the pool's rule opens: not who the customer is
    expect(row).not_to_contain_text(company)
    screenshot(dealer, "agent-1-pool")
    submit(row.locator("form"), "Claim")
    expect(dealer.get_by_role("status")).to_have_text("The lead is yours.")
    expect(dealer.locator("h1")).to_contain_text(company)
    expect(dealer.locator("dl.facts")).to_contain_text("Mr Lund")

    convert = dealer.locator('form[action$="/convert"]')
    fill_form(convert, {"amount": "120000"})
    submit(convert, "Convert")
    expect(dealer.get_by_role("status")).to_have_text(
        "The lead is converted into a customer account, its contact and a registered deal."
    )
    nav(dealer, "Deal registrations")
    row = table_rows(dealer, company)
    expect(row).to_have_count(1)
    expect(row.locator('td[data-label="Registration"]')).to_have_text("Protected")
    expect(row.locator('td[data-label="Time left"]')).not_to_have_text("—")
    screenshot(dealer, "agent-2-registered")


def register_the_same_customer(rival: Page, company: str, phone: str) -> str:
    """West Dealer tries the company by its name (refused: East Dealer protects it), then registers it
    under its trading name with the same phone: a conflict for the manufacturer. Returns the name used."""
    nav(rival, "Deal registrations")
    form = rival.locator(f'form[action="{PORTAL}/registrations"]')
    hints = form.locator(".hints")
    form.locator('[name="customer_name"]').press_sequentially(company, delay=5)
    expect(hints).to_contain_text("Another partner protects this customer until")  # live, while typing
    fill_form(form, {"amount": "95000"})
    submit(form, "Register", expect_status=409)
    expect(rival.get_by_role("alert")).to_contain_text("Another partner registered this customer")
    expect(table_rows(rival, company)).to_have_count(0)

    trading_name = f"{company.split()[0]} Brewing Works"
    form = rival.locator(f'form[action="{PORTAL}/registrations"]')
    fill_form(form, {"customer_name": trading_name, "amount": "95000"})
    form.locator('[name="phone"]').press_sequentially(phone, delay=5)
    expect(form.locator(".hints")).to_contain_text("matches on Phone")
    submit(form, "Register")
    expect(rival.get_by_role("status")).to_have_text("The deal is registered.")
    row = table_rows(rival, trading_name)
    expect(row.locator('td[data-label="Registration"]')).to_have_text("Waiting for the manufacturer (conflict)")
    screenshot(rival, "agent-3-conflict-for-the-rival")
    return trading_name


def keep_the_first(manager: Page, company: str, trading_name: str) -> None:
    nav(manager, "Deal registrations")
    assert path_of(manager) == "/console/agent/registrations"
    conflict = manager.locator("div.conflict").filter(has_text=trading_name)
    expect(conflict).to_have_count(1)
    rows = conflict.locator("tbody tr")
    # side by side: the registration waiting for a decision, and the protected one it met, by phone
    expect(rows.nth(0)).to_contain_text(WEST_DEALER)
    expect(rows.nth(0)).to_contain_text(trading_name)
    met = rows.filter(has_text=EAST_DEALER)
    expect(met).to_have_count(1)
    expect(met).to_contain_text(company)
    expect(met.locator('td[data-label="Registration"]')).to_contain_text("Protected")
    expect(met.locator('td[data-label="Matches on"]')).to_have_text("Phone")
    screenshot(manager, "agent-4-conflict-queue")
    submit(conflict.locator("form").filter(has=manager.locator('input[value="reject"]')), "Reject")
    expect(manager.get_by_role("status")).to_have_text("The decision is saved.")
    expect(manager.locator("div.conflict").filter(has_text=trading_name)).to_have_count(0)
    deals = manager.locator("section").filter(has=manager.get_by_role("heading", name="Deals across partners"))
    expect(deals.locator("tr").filter(has_text=trading_name)).to_contain_text("Rejected")
    expect(deals.locator("tr").filter(has_text=company)).to_contain_text("Protected")


def win_the_deal(manager: Page, company: str) -> None:
    """On the deal registrations page, the deal's own stage form (the deal list is the newest first)."""
    deals = manager.locator("section").filter(has=manager.get_by_role("heading", name="Deals across partners"))
    row = deals.locator("tr").filter(has_text=company)
    form = row.locator("form")
    expect(form.locator("option")).to_have_text(["Registered", "Qualified", "Won", "Lost"])
    fill_form(form, {"stage": "won"})
    submit(form, "Move")
    expect(manager.get_by_role("status")).to_have_text("The deal's stage is changed.")
    expect(row.locator('select[name="stage"]')).to_have_value("won")
    screenshot(manager, "agent-4b-deal-won")
    deals_found = staff_api(manager, CHANNEL_MANAGER, f"/api/agent/deals?limit=200&q={company}")
    assert [d["stage"] for d in deals_found["items"] if d["customer_name"] == company] == ["won"]


def date_back_to_last_month(server: Server) -> str:
    """The lines not on a statement yet dated the last day of last month, as if the deal had been won then:
    only an ended month's statements are made, and the clock is the test's to move. The month, YYYY-MM."""
    last_day = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    with sqlite3.connect(server.data_dir / "portal.db") as db:
        db.execute(
            "UPDATE agent_commission_lines SET earned_on = ? WHERE statement_id IS NULL", (last_day.isoformat(),)
        )
    return f"{last_day:%Y-%m}"


def commission_on_the_statement(dealer: Page, manager: Page, company: str, server: Server) -> None:
    nav(dealer, "My commissions")
    waiting = dealer.locator("section").filter(has=dealer.get_by_role("heading", name="Not on a statement yet"))
    line = waiting.locator("tr").filter(has_text=company)
    expect(line).to_have_count(1)
    expect(line).to_contain_text("6,000.00")  # 5% of 120,000, the demo's rule for every partner

    month = date_back_to_last_month(server)
    nav(manager, "Commissions")
    form = manager.locator('form[action="/console/agent/commissions/close"]')
    fill_form(form, {"period": month})
    submit(form, "Make the month's statements")
    expect(manager.get_by_role("status")).to_have_text("The statements of the period are made.")

    nav(dealer, "My commissions")
    expect(waiting.locator("tr").filter(has_text=company)).to_have_count(0)
    statements = dealer.locator("section").filter(has=dealer.get_by_role("heading", name="Statements"))
    # this month's statements waiting for review (a later round when the month had one already): the
    # newest holds the line
    links = statements.locator("tbody tr").filter(has_text=month).filter(has_text="review").locator("a")
    expect(links.first).to_be_visible()
    for index in reversed(range(links.count())):
        if index < links.count() - 1:
            nav(dealer, "My commissions")
        with dealer.expect_navigation():
            links.nth(index).click()
        assert re.fullmatch(rf"{PORTAL}/commissions/[0-9a-f-]+", path_of(dealer)), path_of(dealer)
        if dealer.locator("tr").filter(has_text=company).count():
            break
    line = dealer.locator("tr").filter(has_text=company)
    expect(line).to_have_count(1)
    expect(line).to_contain_text("Won deal")
    expect(line).to_contain_text("6,000.00")
    expect(dealer.locator("main")).to_contain_text(EAST_DEALER)
    screenshot(dealer, "agent-5-statement")


def test_a_claimed_lead_becomes_a_protected_deal_and_earns_its_commission(
    open_page: Callable[..., Page], live_server: Server
) -> None:
    tag = uuid.uuid4().hex[:6]
    company = f"Fjord{tag} Brewery"
    phone = f"+86 21 5{int(tag, 16) % 10_000_000:07d}"
    line = f"Brewery pumps {tag}"

    manager = open_page()
    sign_in_as_staff(manager, CHANNEL_MANAGER)
    put_a_lead_in_the_pool(manager, company, phone, line)

    dealer = open_page()
    sign_in_as_partner(dealer, EAST_DEALER_ADMIN)
    claim_and_convert(dealer, company, line)

    rival = open_page()
    sign_in_as_partner(rival, WEST_DEALER_ADMIN)
    trading_name = register_the_same_customer(rival, company, phone)

    keep_the_first(manager, company, trading_name)
    go(rival, f"{PORTAL}/registrations")
    expect(table_rows(rival, trading_name).locator('td[data-label="Registration"]')).to_have_text("Rejected")

    win_the_deal(manager, company)
    commission_on_the_statement(dealer, manager, company, live_server)


def test_the_partners_agent_pages_fit_a_phone(open_page: Callable[..., Page]) -> None:
    phone = open_page(phone=True)
    sign_in_as_partner(phone, EAST_DEALER_ADMIN)
    for path in ("/pool", "/leads", "/registrations", "/commissions"):
        go(phone, f"{PORTAL}{path}")
        assert horizontal_overflow(phone) == 0, f"{path} is wider than the phone"
    go(phone, f"{PORTAL}/pool")
    # a pooled lead's card lists what the pool shows of it one under the other, not squeezed side by side
    fields = table_rows(phone, "Product line:").first.locator('td[data-label="Lead"] div:has(> span.muted)')
    expect(fields).to_have_count(2)
    region, line = (fields.nth(n).bounding_box() for n in (0, 1))
    assert region and line and line["y"] >= region["y"] + region["height"] - 1, (region, line)
    assert abs(line["x"] - region["x"]) < 1, (region, line)
