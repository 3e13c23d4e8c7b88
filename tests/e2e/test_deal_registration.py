"""Deal registration end to end: a dealer's admin registers a deal in the partner portal, and the
manufacturer's admin, signed in to the console, finds it in the console's list of deals across partners."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ACME,
    ACME_ADMIN,
    EAST_DEALER,
    EAST_DEALER_ADMIN,
    fill_form,
    follow,
    go,
    horizontal_overflow,
    nav,
    path_of,
    sign_in_as_partner,
    sign_in_as_staff,
    staff_api,
    submit,
    table_rows,
)

DEALS_FORM = f'form[method="post"][action="/p/{ACME}/deals"]'


def register_deal(dealer: Page, customer: str) -> None:
    """From the portal home, through the header's Deals link, register a deal with the page's form."""
    nav(dealer, "Deals")
    assert path_of(dealer) == f"/p/{ACME}/deals"
    expect(dealer.locator("h1")).to_contain_text("Deals")
    expect(table_rows(dealer, customer)).to_have_count(0)
    form = dealer.locator(DEALS_FORM)
    # the stage is the manufacturer's to set: the registrar's form has no input for it
    expect(form.locator('[name="stage"]')).to_have_count(0)
    fill_form(form, {"customer_name": customer, "amount": "184500", "currency": "EUR"})
    submit(form, "Register")
    assert path_of(dealer) == f"/p/{ACME}/deals"
    expect(dealer.get_by_role("status")).to_have_text("The deal is registered.")


def test_dealer_registers_a_deal_and_the_manufacturer_sees_it(open_page: Callable[..., Page]) -> None:
    customer = f"Riverside Pumping Station {uuid.uuid4().hex[:6]}"

    dealer = open_page()
    sign_in_as_partner(dealer, EAST_DEALER_ADMIN)
    expect(dealer.locator("h1")).to_have_text(EAST_DEALER)
    expect(dealer.locator(".link-list").get_by_role("link", name="Deal registration")).to_be_visible()
    register_deal(dealer, customer)
    row = table_rows(dealer, customer)
    expect(row).to_have_count(1)
    expect(row.locator('td[data-label="Amount"]')).to_have_text("184500 EUR")
    expect(row.locator('td[data-label="Stage"]')).to_have_text("Registered")

    staff = open_page()
    sign_in_as_staff(staff, ACME_ADMIN)
    expect(staff.locator("header nav .who")).to_have_text(ACME_ADMIN.name)
    # the console's deal list across partners finds it by its customer
    nav(staff, "Deals")
    search = staff.get_by_role("search")
    fill_form(search, {"q": customer})
    submit(search, "Filter")
    expect(table_rows(staff, customer)).to_have_count(1)
    # and the staff API's list says the same
    deals = staff_api(staff, ACME_ADMIN, "/api/agent/deals?limit=200")
    found = [deal for deal in deals["items"] if deal["customer_name"] == customer]
    assert len(found) == 1, f"{customer} not among the staff's {deals['total']} deals"
    assert found[0]["stage"] == "registered"
    assert found[0]["enterprise_id"] is not None


def test_manufacturer_previews_the_dealers_deals_from_the_console(open_page: Callable[..., Page]) -> None:
    customer = f"Hillside Irrigation {uuid.uuid4().hex[:6]}"
    dealer = open_page()
    sign_in_as_partner(dealer, EAST_DEALER_ADMIN)
    register_deal(dealer, customer)

    staff = open_page()
    sign_in_as_staff(staff, ACME_ADMIN)
    nav(staff, "Partners")
    search = staff.get_by_role("search")
    fill_form(search, {"q": EAST_DEALER})
    submit(search, "Filter")
    follow(staff, EAST_DEALER, within="table.list")
    expect(staff.locator("h1")).to_contain_text(EAST_DEALER)
    preview = staff.locator('form[action="/console/roles/preview"]')
    expect(preview).to_have_count(1, timeout=2_000)
    fill_form(preview, {"membership_id": EAST_DEALER_ADMIN.name})
    submit(preview)
    assert path_of(staff) == f"/p/{ACME}/"
    expect(staff.locator(".preview-banner")).to_contain_text(f"Preview as {EAST_DEALER_ADMIN.name}")
    nav(staff, "Deals")
    expect(table_rows(staff, customer)).to_have_count(1)


def test_portal_home_fits_a_phone(open_page: Callable[..., Page]) -> None:
    phone = open_page(phone=True)
    go(phone, f"/p/{ACME}/login")
    assert horizontal_overflow(phone) <= 0, "the sign-in page is wider than the phone"
    sign_in_as_partner(phone, EAST_DEALER_ADMIN)
    expect(phone.locator("h1")).to_have_text(EAST_DEALER)
    assert phone.evaluate("innerWidth") == 390
    assert horizontal_overflow(phone) <= 0, "the portal home is wider than the phone"
    nav(phone, "Deals")
    assert horizontal_overflow(phone) <= 0, "the deals page is wider than the phone"
