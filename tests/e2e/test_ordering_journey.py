"""Journey 4 in the browser: a dealer orders from the catalog at its own price, the manufacturer's order
desk approves and ships it from the console, the dealer confirms receipt and finds the order on its
statement; the pages the dealer uses fit a phone's width."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ACME,
    ACME_ORDER_DESK,
    EAST_DEALER_ADMIN,
    fill_form,
    follow,
    go,
    horizontal_overflow,
    nav,
    path_of,
    sign_in_as_partner,
    sign_in_as_staff,
    submit,
    table_rows,
)

PORTAL = f"/p/{ACME}/ordering"
SKU = "BV-15-CI"  # a demo ball valve, in packs of 5


def place_an_order(dealer: Page) -> str:
    """Search the catalog, put ten of the valve in the cart and place the order; returns its number."""
    nav(dealer, "Catalog")
    assert path_of(dealer) == f"{PORTAL}/catalog"
    search = dealer.locator('form[role="search"]')
    fill_form(search, {"q": SKU})
    submit(search, "Search")
    card = dealer.locator('form[action$="/add"]').first
    fill_form(card, {"quantity": "10"})
    submit(card, "Add to cart")
    nav(dealer, "Cart")
    assert path_of(dealer) == f"{PORTAL}/cart"
    expect(dealer.locator("main")).to_contain_text(SKU)
    checkout = dealer.locator(f'form[action="{PORTAL}/cart/checkout"]')
    # the enterprise's default address is preselected; a typed one is refused beside it
    expect(checkout.locator('select[name="address_id"] option:checked')).to_contain_text("Warehouse")
    fill_form(checkout, {"ship_to": "East Dealer yard, gate 2"})
    submit(checkout, "Place the order", expect_status=422)
    expect(dealer.locator("main")).to_contain_text("not both")
    checkout = dealer.locator(f'form[action="{PORTAL}/cart/checkout"]')
    fill_form(checkout, {"address_id": "Another address: type it below", "po_number": "PO-E2E-1"})
    submit(checkout, "Place the order")
    assert re.fullmatch(rf"{PORTAL}/orders/[0-9a-f-]+", path_of(dealer)), path_of(dealer)
    heading = dealer.locator("h1")
    expect(heading).to_contain_text("Submitted")
    number = re.search(r"SO\d+", heading.inner_text())
    assert number, heading.inner_text()
    expect(dealer.locator("main")).to_contain_text("East Dealer yard, gate 2")  # the order's own copy
    expect(dealer.locator("main")).to_contain_text("PO-E2E-1")
    return number.group(0)


def approve_and_ship(desk: Page, number: str) -> None:
    nav(desk, "Orders")
    assert path_of(desk) == "/console/ordering/orders"
    row = table_rows(desk, number)
    expect(row).to_have_count(1)
    follow(desk, number, within="table.list")
    expect(desk.locator("h1")).to_contain_text(number)
    submit(desk.locator("form#approve"), "Approve")
    expect(desk.locator("h1")).to_contain_text("Approved")
    shipping = desk.locator("form#ship")
    submit(shipping, "Record the shipment", expect_status=422)  # a carrier and tracking number are needed
    shipping = desk.locator("form#ship")
    fill_form(shipping, {"carrier": "SF Express", "tracking_number": "SF7781203"})
    submit(shipping, "Record the shipment")
    expect(desk.locator("h1")).to_contain_text("Shipped")
    expect(desk.locator("main")).not_to_contain_text("Next steps")


def test_dealer_orders_the_order_desk_ships_and_the_dealer_receives(open_page: Callable[..., Page]) -> None:
    dealer = open_page()
    sign_in_as_partner(dealer, EAST_DEALER_ADMIN)
    number = place_an_order(dealer)
    order_path = path_of(dealer)
    main = dealer.locator("main")
    expect(main).not_to_contain_text("Cost")  # the dealer's role hides cost and margin
    expect(main).not_to_contain_text("Margin")

    desk = open_page()
    sign_in_as_staff(desk, ACME_ORDER_DESK)
    approve_and_ship(desk, number)

    go(dealer, order_path)
    expect(dealer.locator("main")).to_contain_text("SF7781203")
    submit(dealer.locator(f'form[action="{order_path}/receive"]'), "Confirm receipt")
    expect(dealer.locator("h1")).to_contain_text("Received")

    nav(dealer, "Account")
    assert path_of(dealer) == f"{PORTAL}/account"
    expect(dealer.locator("main")).to_contain_text(number)  # the approved order is on the statement


def test_the_ordering_pages_fit_a_phone(open_page: Callable[..., Page]) -> None:
    phone = open_page(phone=True)
    sign_in_as_partner(phone, EAST_DEALER_ADMIN)
    for path in ("/catalog", "/catalog?view=list", "/cart", "/orders", "/account", "/addresses"):
        go(phone, f"{PORTAL}{path}")
        assert horizontal_overflow(phone) == 0, f"{path} is wider than the phone"


def test_the_order_desks_status_filter_is_not_cut_off_on_a_laptop(open_page: Callable[..., Page]) -> None:
    desk = open_page(viewport={"width": 1366, "height": 768})
    sign_in_as_staff(desk, ACME_ORDER_DESK)
    go(desk, "/console/ordering/orders")
    status = desk.locator('form[role="search"] select[name="status"]')
    status.select_option(value="submitted")
    # the chosen text's width in the select's own font, plus its padding and arrow, must fit the box
    room, needed = status.evaluate(
        """select => {
            const style = getComputedStyle(select);
            const context = document.createElement("canvas").getContext("2d");
            context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const text = select.options[select.selectedIndex].text.trim();
            const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
            return [select.clientWidth, context.measureText(text).width + padding + 16];
        }"""
    )
    assert needed <= room, f"'Waiting for approval' needs {needed:.0f}px, the select has {room}px"
