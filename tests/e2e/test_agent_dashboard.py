"""The agent dashboard in a browser: the manufacturer's admin opens it from the console's menu and follows
a figure to the list behind it; a partner's admin opens its own figures, on a phone as on a desktop."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ACME,
    ACME_ADMIN,
    EAST_DEALER_ADMIN,
    horizontal_overflow,
    nav,
    path_of,
    sign_in_as_partner,
    sign_in_as_staff,
)


def test_the_manufacturer_follows_a_figure_of_the_funnel_to_its_list(open_page: Callable[..., Page]) -> None:
    staff = open_page()
    sign_in_as_staff(staff, ACME_ADMIN)
    nav(staff, "Agent dashboard")
    expect(staff.locator("h1")).to_have_text("Agent dashboard")
    expect(staff.locator("figure.chart svg").first).to_be_visible()
    # the first row's lead figure (the first tier's) leads to the leads it counts
    figure = staff.locator("table.list tbody tr").first.locator("td.num a").first
    count = figure.inner_text()
    with staff.expect_navigation():
        figure.click()
    assert path_of(staff) == "/console/agent/leads"
    expect(staff.locator("h1")).to_contain_text(f"({count})")


def test_a_partner_sees_its_own_figures_on_a_phone(open_page: Callable[..., Page]) -> None:
    phone = open_page(phone=True)
    sign_in_as_partner(phone, EAST_DEALER_ADMIN)
    nav(phone, "My figures")
    expect(phone.locator("h1")).to_have_text("My figures")
    assert horizontal_overflow(phone) <= 0, "the partner's figures are wider than the phone"
    registrations = phone.locator("table.list tbody tr").first.locator("td.num a").nth(1)
    count = registrations.inner_text()
    with phone.expect_navigation():
        registrations.click()
    assert path_of(phone) == f"/p/{ACME}/deals"
    expect(phone.locator("h1")).to_contain_text(re.compile(rf"\({count}\)"))
