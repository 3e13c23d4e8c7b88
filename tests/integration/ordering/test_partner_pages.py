"""The partner portal's ordering pages, driven like a browser (session cookie, CSRF token): the catalog
at the dealer's own prices and never the manufacturer's cost, search and filters, the cart and a
checkout that places one order however often its form is sent, refusals shown on the cart with nothing
changed, the order page with its timeline and actions, another enterprise's order as not found, and the
account with its statement, XLSX and reported payments."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import openpyxl
from httpx import Response
from litestar.testing import TestClient

from tests.integration.ordering.support import Shop, act, build_shop, ok, partner_enterprise, place, product, staff
from tests.integration.web.test_pages import act_as
from tests.world import Credential, World, csrf_token, partner_web_login

COST = "37.13"  # a cost price no other number on the pages could be


# --- Helpers --------------------------------------------------------------------------------------


def base(world: World) -> str:
    return f"/p/{world.a.slug}/ordering"


def get(client: TestClient, path: str, status: int = 200) -> Response:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == status, f"{path}: {response.status_code} {response.text[:400]}"
    return response


def text_of(response: Response) -> str:
    return html.unescape(response.text)


def post(client: TestClient, path: str, data: dict[str, str], form_page: str) -> Response:
    return client.post(path, data={**data, "_csrf_token": csrf_token(client, form_page)}, follow_redirects=False)


def key_of(page: Response) -> str:
    found = re.search(r'name="key" value="([^"]+)"', page.text)
    assert found, "no one-time key on the page"
    return found.group(1)


def add(client: TestClient, world: World, product_id: str, quantity: int) -> Response:
    return post(
        client,
        f"{base(world)}/cart/{product_id}/add",
        {"quantity": str(quantity), "back": f"{base(world)}/catalog"},
        f"{base(world)}/catalog",
    )


def preselected_address(cart: Response) -> str:
    found = re.search(r'<select name="address_id">(.*?)</select>', cart.text, re.S)
    assert found, "no address book on the checkout"
    chosen = re.search(r'<option value="([^"]*)" selected>', found.group(1))
    assert chosen, "no address chosen"
    return chosen.group(1)


def checkout(client: TestClient, world: World, cart: Response, **fields: str) -> Response:
    """Send the checkout form as a browser would: with the address it preselects, unless one is typed."""
    token = re.search(r'name="_csrf_token" value="([^"]+)"', cart.text)
    assert token
    if "ship_to" not in fields and "address_id" not in fields:
        fields["address_id"] = preselected_address(cart)
    data = {"key": key_of(cart), "_csrf_token": token.group(1), **fields}
    return client.post(f"{base(world)}/cart/checkout", data=data, follow_redirects=False)


def orders_of(client: TestClient, who: Credential, world: World) -> list[dict[str, str]]:
    """The enterprise's orders, leaving out the one the world placed for it."""
    items = ok(client.get("/api/partner/ordering/orders", headers=who.bearer))["items"]
    return [o for o in items if o["id"] != world.ids["ordering_order"]]


def workbook(response: Response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    return [[cell if cell is not None else "" for cell in row] for row in sheet.iter_rows(values_only=True)]


def shop_with_cost(client: TestClient, world: World) -> tuple[Shop, str]:
    shop = build_shop(client, world)
    gauge = product(client, world.a.admin, "gauge", name="Pressure gauge", cost_price=COST, description="Brass, 63 mm")
    ok(staff(client, world.a.admin, "PUT", f"/price-lists/{shop.base_list}/items", json=[
        {"product_id": shop.pump, "unit_price": "100.00"},
        {"product_id": shop.pump, "unit_price": "90.00", "min_quantity": 10},
        {"product_id": shop.valve, "unit_price": "25.50"},
        {"product_id": shop.hidden, "unit_price": "1.00"},
        {"product_id": gauge, "unit_price": "48.00"},
        {"product_id": gauge, "unit_price": "44.50", "min_quantity": 20},
    ]))  # fmt: skip
    return shop, gauge


# --- Catalog --------------------------------------------------------------------------------------


def test_the_catalog_shows_the_dealers_own_price_and_never_the_cost(client: TestClient, world: World) -> None:
    shop, gauge = shop_with_cost(client, world)
    act_as(client, world.x.admin.cookie)
    for view in ("", "?view=list"):
        page = text_of(get(client, f"{base(world)}/catalog{view}"))
        assert "Centrifugal pump" in page and "Ball valve" in page and "Pressure gauge" in page
        assert "80.00" in page and "100.00" not in page  # X's own price, not the base list's
        assert "48.00" in page and "from 20: 44.50" in page  # quantity breaks of the list that wins
        assert "Packs of 5, at least 10" in page
        assert "Retired pump" not in page
        for cost in (COST, "60.00", "10.00"):
            assert cost not in page, cost
        assert "Cost price" not in page and "Margin" not in page and "margin" not in page
    detail = text_of(get(client, f"{base(world)}/catalog/{gauge}"))
    assert "Brass, 63 mm" in detail and "44.50" in detail and COST not in detail
    assert 'action="' + f"{base(world)}/cart/{gauge}/add" in detail
    get(client, f"{base(world)}/catalog/{shop.hidden}", 404)

    # dealer Y pays the base list's price
    act_as(client, world.y.admin.cookie)
    assert "100.00" in text_of(get(client, f"{base(world)}/catalog"))


def test_search_category_and_pages(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    act_as(client, world.x.admin.cookie)
    found = text_of(get(client, f"{base(world)}/catalog?q=VALVE"))
    assert "Ball valve" in found and "Centrifugal pump" not in found
    by_sku = text_of(get(client, f"{base(world)}/catalog?q=pump-"))
    assert "Centrifugal pump" in by_sku and "Ball valve" not in by_sku
    pumps = text_of(get(client, f"{base(world)}/catalog?category={shop.ids['category']}&view=list"))
    assert "Centrifugal pump" in pumps and "Ball valve" not in pumps
    assert f'value="{shop.ids["category"]}" selected' in pumps
    nothing = text_of(get(client, f"{base(world)}/catalog?q=no-such-thing"))
    assert "No product matches your search." in nothing
    # junk in the query is ignored, not an error
    assert get(client, f"{base(world)}/catalog?category=junk&page=junk&view=junk").status_code == 200
    for n in range(25):
        product(client, world.a.admin, f"bolt{n:02d}", name=f"Bolt {n:02d}")
    first = text_of(get(client, f"{base(world)}/catalog?q=bolt"))
    assert "Bolt 00" in first and "Bolt 24" not in first and 'rel="next"' in first
    second = text_of(get(client, f"{base(world)}/catalog?q=bolt&page=2"))
    assert "Bolt 24" in second and "Bolt 00" not in second


# --- Cart and checkout ----------------------------------------------------------------------------


def test_add_to_cart_and_a_checkout_sent_twice_places_one_order(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    act_as(client, world.x.admin.cookie)
    added = add(client, world, shop.pump, 1)
    assert added.status_code in (302, 303)
    assert added.headers["location"] == f"{base(world)}/catalog?added={shop.pump}"
    assert "Added to your cart." in get(client, added.headers["location"]).text
    add(client, world, shop.pump, 1)  # adds to what the cart holds
    add(client, world, shop.valve, 10)
    cart = get(client, f"{base(world)}/cart")
    page = text_of(cart)
    assert 'value="2"' in page and "160.00" in page and "255.00" in page and "415.00" in page

    # quantity changes and removal
    line = f"{base(world)}/cart/{shop.valve}"
    assert post(client, line, {"quantity": "15"}, f"{base(world)}/cart").status_code in (302, 303)
    assert "542.50" in text_of(get(client, f"{base(world)}/cart"))  # 160 + 15 x 25.50
    refused = post(client, line, {"quantity": "many"}, f"{base(world)}/cart")
    assert refused.status_code == 422 and "Quantity: must be a whole number" in text_of(refused)

    cart = get(client, f"{base(world)}/cart")
    first = checkout(client, world, cart, ship_to="Dock 4, Harbour Road", note="Morning please")
    again = checkout(client, world, cart, ship_to="Dock 4, Harbour Road", note="Morning please")
    assert first.status_code in (302, 303) and again.status_code in (302, 303)
    assert first.headers["location"] == again.headers["location"]
    [order] = orders_of(client, world.x.admin, world)
    assert first.headers["location"] == f"{base(world)}/orders/{order['id']}?placed=1"
    assert order["total"] == "542.5000" and order["ship_to"] == "Dock 4, Harbour Road"
    shown = text_of(get(client, first.headers["location"]))
    assert "Your order is placed." in shown and order["number"] in shown and "542.50" in shown
    assert "Your cart is empty." in text_of(get(client, f"{base(world)}/cart"))

    # a new page has a new key: a second order is a deliberate one
    add(client, world, shop.pump, 1)
    assert checkout(client, world, get(client, f"{base(world)}/cart")).status_code in (302, 303)
    assert len(orders_of(client, world.x.admin, world)) == 2


def test_refusals_are_shown_on_the_cart_and_change_nothing(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    act_as(client, world.x.admin.cookie)
    # a quantity that breaks the pack size or the minimum does not go in, and the rule is named
    for path in (f"{base(world)}/catalog/{shop.valve}", f"{base(world)}/cart"):
        if path.endswith("/cart"):
            assert add(client, world, shop.valve, 10).status_code in (302, 303)
            refused = post(client, f"{path}/{shop.valve}", {"quantity": "3"}, path)
        else:
            refused = post(client, f"{base(world)}/cart/{shop.valve}/add", {"quantity": "3"}, path)
        page = text_of(refused)
        assert refused.status_code == 422, page[:400]
        assert "comes in packs of 5" in page and "is ordered in at least 10" in page
    assert 'value="10"' in page  # the cart kept its line as it was

    # a line the manufacturer's change made wrong is marked on the cart, and checkout names it
    ok(staff(client, world.a.admin, "PATCH", f"/products/{shop.valve}", json={"min_order_quantity": 15}))
    cart = text_of(get(client, f"{base(world)}/cart"))
    assert "One quantity in your cart no longer fits" in cart
    marked = re.search(rf'<tr id="line-{shop.valve}" class="o-unavailable">.*?</tr>', cart, re.S)
    assert marked and "is ordered in at least 15" in marked.group(0)
    refused = checkout(client, world, get(client, f"{base(world)}/cart"), ship_to="Dock 4")
    page = text_of(refused)
    assert refused.status_code == 422, page[:400]
    assert "The order was not placed" in page and "is ordered in at least 15" in page
    assert re.search(rf'<tr id="line-{shop.valve}" class="o-unavailable">', page)
    assert orders_of(client, world.x.admin, world) == []
    assert 'value="10"' in page  # the cart is as it was

    # over the credit limit: a conflict, with the amounts in two decimals
    ok(staff(client, world.a.admin, "PUT", f"/accounts/{world.x.link_id}/credit-limit", json={"amount": "200"}))
    standing = ok(staff(client, world.a.admin, "GET", f"/accounts/{world.x.link_id}"))
    post(client, f"{base(world)}/cart/{shop.valve}", {"remove": "1", "quantity": "10"}, f"{base(world)}/cart")
    add(client, world, shop.pump, 2)
    cart = get(client, f"{base(world)}/cart")
    over = checkout(client, world, cart)
    assert over.status_code == 409
    left = f"{Decimal(standing['credit_left']):.2f}"  # what the world's own order leaves of 200
    assert f"This order of 160.00 would go over the credit limit of 200.00 ({left} left)" in text_of(over)
    assert orders_of(client, world.x.admin, world) == []
    # the refused key was taken back: the same form goes through once the limit allows it
    ok(staff(client, world.a.admin, "PUT", f"/accounts/{world.x.link_id}/credit-limit", json={"amount": None}))
    assert checkout(client, world, cart).status_code in (302, 303)
    assert len(orders_of(client, world.x.admin, world)) == 1

    # out of stock where stock is reserved when the order is placed
    ok(staff(client, world.a.admin, "PATCH", "/settings", json={"reserve_on": "submit"}))
    add(client, world, shop.pump, 200)
    short = checkout(client, world, get(client, f"{base(world)}/cart"))
    assert short.status_code == 409 and "are available (200 wanted)" in text_of(short)
    assert len(orders_of(client, world.x.admin, world)) == 1


def test_a_product_out_of_the_catalog_is_flagged_in_the_cart(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    act_as(client, world.x.admin.cookie)
    add(client, world, shop.valve, 10)
    ok(staff(client, world.a.admin, "PATCH", f"/products/{shop.valve}", json={"listed": False}))
    page = text_of(get(client, f"{base(world)}/cart"))
    assert "Not available to order" in page and "One product in your cart cannot be ordered now." in page
    changed = post(client, f"{base(world)}/cart/{shop.valve}", {"quantity": "20"}, f"{base(world)}/cart")
    assert changed.status_code == 404 and "No such product" in text_of(changed) and 'value="10"' in changed.text
    refused = checkout(client, world, get(client, f"{base(world)}/cart"))
    assert refused.status_code == 422 and "This product is not available to order" in text_of(refused)


def test_the_address_book_and_a_checkout_that_ships_to_a_copy_of_its_default(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    dock = partner_enterprise(client, world, "Dock")
    act_as(client, partner_web_login(client, world.a.slug, dock.admin.email))
    book = f"{base(world)}/addresses"

    # with no address yet, the checkout asks for one typed, and refuses to place without it
    add(client, world, shop.pump, 1)
    cart = get(client, f"{base(world)}/cart")
    assert 'name="address_id"' not in cart.text and re.search(r'<textarea name="ship_to"[^>]*required', cart.text)
    nowhere = checkout(client, world, cart, ship_to=" ")
    assert nowhere.status_code == 422 and "Say where the order ships to" in text_of(nowhere)

    # the book: a refused form keeps what was typed, the first address is the default
    empty = get(client, book).text
    assert "No addresses yet" in empty and re.search(r'<label class="field required">\s*<span>Recipient</span>', empty)
    refused = post(client, book, {"label": "Warehouse", "recipient": "", "phone": "555", "address": "1 Road"}, book)
    assert refused.status_code == 422 and re.search(r'id="recipient-error">is required<', refused.text)
    assert 'value="Warehouse"' in refused.text
    fields = {"label": "Warehouse", "recipient": "Ann Dock", "phone": "555-0101", "address": "18 Harbour Road"}
    assert post(client, book, fields, book).headers["location"] == f"{book}?done=added"
    second = {"label": "Showroom", "recipient": "Bo Front", "phone": "555-0102", "address": "5 Market Street"}
    post(client, book, second, book)
    [warehouse, showroom] = ok(client.get("/api/partner/ordering/addresses", headers=dock.admin.bearer))
    assert warehouse["label"] == "Warehouse" and warehouse["is_default"] is True

    # checkout preselects the default; the order keeps a copy with the PO number and the date asked for
    cart = get(client, f"{base(world)}/cart")
    assert preselected_address(cart) == warehouse["id"]
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    placed = checkout(client, world, cart, po_number="PO-42", requested_delivery_date=tomorrow)
    assert placed.status_code in (302, 303), text_of(placed)[:400]
    [order] = ok(client.get("/api/partner/ordering/orders", headers=dock.admin.bearer))["items"]
    assert order["ship_to"] == "Ann Dock, 555-0101\n18 Harbour Road" and order["po_number"] == "PO-42"
    shown = text_of(get(client, placed.headers["location"]))
    assert "18 Harbour Road" in shown and "PO-42" in shown and tomorrow in shown

    # changing, making default and deleting addresses leaves the order as placed
    edit = f"{book}/{warehouse['id']}"
    assert 'value="Ann Dock"' in get(client, edit).text
    post(client, edit, {**fields, "address": "1 New Road"}, edit)
    post(client, f"{book}/{showroom['id']}/default", {}, book)
    add(client, world, shop.pump, 1)
    assert preselected_address(get(client, f"{base(world)}/cart")) == showroom["id"]
    post(client, f"{book}/{warehouse['id']}/delete", {}, book)
    listing = text_of(get(client, book))
    assert "Showroom" in listing and "Warehouse" not in listing
    kept = ok(client.get(f"/api/partner/ordering/orders/{order['id']}", headers=dock.admin.bearer))
    assert kept["ship_to"].endswith("18 Harbour Road")

    # another enterprise's address is not found, on its page and by its forms
    act_as(client, world.x.admin.cookie)
    get(client, f"{book}/{showroom['id']}", 404)
    assert post(client, f"{book}/{showroom['id']}/delete", {}, book).status_code == 404
    assert "Showroom" not in text_of(get(client, book))


# --- Orders ---------------------------------------------------------------------------------------


def test_the_order_page_shows_the_timeline_and_takes_the_partners_actions(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    dealer = world.x.admin
    shipped = ok(place(client, dealer, [(shop.pump, 2)]), 201)
    ok(act(client, world.a.admin, shipped["id"], "approve", comment="fine"))
    ok(act(client, world.a.admin, shipped["id"], "shipments", carrier="SF Express", tracking_number="SF123"), 201)
    waiting = ok(place(client, dealer, [(shop.valve, 10)]), 201)

    act_as(client, dealer.cookie)
    listed = text_of(get(client, f"{base(world)}/orders"))
    assert shipped["number"] in listed and waiting["number"] in listed
    only = text_of(get(client, f"{base(world)}/orders?status=submitted"))
    assert waiting["number"] in only and shipped["number"] not in only
    searched = text_of(get(client, f"{base(world)}/orders?q={shipped['number'].lower()}"))
    assert shipped["number"] in searched and waiting["number"] not in searched
    assert "No order matches these filters." in text_of(get(client, f"{base(world)}/orders?status=cancelled"))

    path = f"{base(world)}/orders/{shipped['id']}"
    page = text_of(get(client, path))
    for text in ("Timeline", "Placed", "Approved", "Shipped", "SF Express", "SF123", "fine", "160.00"):
        assert text in page, text
    assert "Confirm receipt" in page and "Cancel this order" not in page and COST not in page
    done = post(client, f"{path}/receive", {}, path)
    assert done.status_code in (302, 303) and done.headers["location"] == f"{path}?done=received"
    assert "Received" in text_of(get(client, done.headers["location"]))
    assert (
        ok(client.get(f"/api/partner/ordering/orders/{shipped['id']}", headers=dealer.bearer))["status"] == "received"
    )

    other = f"{base(world)}/orders/{waiting['id']}"
    assert "Cancel this order" in text_of(get(client, other))
    no_reason = post(client, f"{other}/cancel", {"comment": " "}, other)
    assert no_reason.status_code == 422 and "Say why" in text_of(no_reason)
    assert post(client, f"{other}/cancel", {"comment": "Ordered twice"}, other).status_code in (302, 303)
    cancelled = text_of(get(client, f"{other}?done=cancelled"))
    assert "The order is cancelled." in cancelled and "Ordered twice" in cancelled
    # a second cancel of the now cancelled order is a readable conflict
    late = post(client, f"{other}/cancel", {"comment": "again"}, other)
    assert late.status_code == 409 and "cannot be cancelled" in text_of(late)


def test_another_enterprises_order_is_not_found(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    order = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
    path = f"{base(world)}/orders/{order['id']}"
    act_as(client, world.y.admin.cookie)
    missing = get(client, path, 404)
    assert missing.headers["content-type"].startswith("text/html") and order["number"] not in missing.text
    assert order["number"] not in get(client, f"{base(world)}/orders").text
    assert post(client, f"{path}/cancel", {"comment": "not mine"}, f"{base(world)}/orders").status_code == 404
    assert ok(client.get(f"/api/partner/ordering/orders/{order['id']}", headers=world.x.admin.bearer))["status"] == (
        "submitted"
    )
    # another tenant's session is not signed in to this portal
    act_as(client, world.b.admin.cookie)
    assert client.get(path, follow_redirects=False).status_code in (302, 303, 401, 403)


def test_the_orders_export(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    order = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
    of_y = ok(place(client, world.y.admin, [(shop.pump, 1)]), 201)
    act_as(client, world.x.admin.cookie)
    assert f'href="{base(world)}/orders/export.xlsx"' in get(client, f"{base(world)}/orders").text
    rows = workbook(client.get(f"{base(world)}/orders/export.xlsx"))
    assert "cost_price" not in rows[0] and "margin" not in rows[0]
    assert {row[0] for row in rows[1:]} == {order["number"], world.ids["ordering_order_number"]}
    assert of_y["number"] not in {row[0] for row in rows[1:]}


# --- Account --------------------------------------------------------------------------------------


def test_the_statement_its_xlsx_and_reported_payments(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    order = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)
    ok(act(client, world.a.admin, order["id"], "approve"))
    paid = {"enterprise_id": world.x.link_id, "amount": "60.00", "received_on": "2026-01-05", "reference": "BANK-77"}
    ok(staff(client, world.a.admin, "POST", "/payments", json=paid), 201)

    act_as(client, world.x.admin.cookie)
    path = f"{base(world)}/account"
    page = text_of(get(client, f"{path}?start=2020-01-01"))
    for text in ("Opening balance", "Closing balance", order["number"], "BANK-77", "160.00", "100.00", "Orders to pay"):
        assert text in page, text
    assert "Confirmed" in page and "No limit" in page
    default = text_of(get(client, path))  # this month so far
    assert 'name="start"' in default and "Statement" in default
    assert get(client, f"{path}?start=2026-02-30", 422).status_code == 422
    assert "must not be before the start" in text_of(get(client, f"{path}?start=2026-02-01&end=2026-01-01", 422))

    rows = workbook(client.get(f"{path}/statement.xlsx?start=2020-01-01"))
    api = ok(client.get("/api/partner/ordering/account/statement?start=2020-01-01", headers=world.x.admin.bearer))
    assert rows[0] == ["date", "kind", "description", "debit", "credit", "balance"]
    assert rows[1][1] == "opening" and rows[-1][1] == "closing" and rows[-1][5] == api["closing_balance"]
    assert [row[1] for row in rows[2:-1]] == [line["kind"] for line in api["lines"]]
    assert order["number"] in [row[2] for row in rows] and "BANK-77" in [row[2] for row in rows]
    assert f"{Decimal(api['closing_balance']):,.2f}" in page

    # reporting a payment: the same form sent twice reports it once
    form_page = get(client, path)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form_page.text)
    assert token
    data = {"key": key_of(form_page), "_csrf_token": token.group(1), "amount": "1,250.5", "received_on": "2026-01-06"}
    data |= {"method": "transfer", "reference": "TT-9"}
    for _ in range(2):
        sent = client.post(f"{path}/payments", data=data, follow_redirects=False)
        assert sent.status_code in (302, 303) and sent.headers["location"].startswith(f"{path}?reported=1")
    payments = ok(client.get("/api/partner/ordering/account/payments", headers=world.x.admin.bearer))["items"]
    assert [(p["amount"], p["status"], p["reference"]) for p in payments if p["reference"] == "TT-9"] == [
        ("1250.5000", "reported", "TT-9")
    ]
    shown = text_of(get(client, f"{path}?reported=1"))
    assert "the payment is reported" in shown and "1,250.50" in shown and "Reported" in shown

    invalid = post(client, f"{path}/payments", {"amount": "lots", "received_on": "soon"}, path)
    assert invalid.status_code == 422
    assert "is not an amount" in text_of(invalid) and "is not a date" in text_of(invalid)
    future = post(client, f"{path}/payments", {"amount": "5", "received_on": "2099-01-01", "method": "cash"}, path)
    assert future.status_code == 422 and "must not be in the future" in text_of(future)
    after = ok(client.get("/api/partner/ordering/account/payments", headers=world.x.admin.bearer))["items"]
    assert len(after) == len(payments)
