"""The console's ordering pages, driven through HTTP like a browser (session cookie, CSRF-protected
forms): the order desk from queue to shipments, refusals shown on the page with nothing changed, the
catalog, price list spreadsheets, stock counts, payments, and a role without ordering rights."""

from __future__ import annotations

import html
import io
import re
import uuid

import openpyxl
from httpx import Response
from litestar.testing import TestClient

from tests.integration.ordering.support import Shop, act, build_shop, ok, place, staff
from tests.integration.web.test_pages import REDIRECTS, act_as, submit
from tests.world import World

CONSOLE_PAGES = (
    "/console/ordering",
    "/console/ordering/orders",
    "/console/ordering/orders?status=all",
    "/console/ordering/products",
    "/console/ordering/products/new",
    "/console/ordering/price-lists",
    "/console/ordering/stock",
    "/console/ordering/credit",
    "/console/ordering/payments",
    "/console/ordering/settings",
)


def page(client: TestClient, path: str) -> Response:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:400]}"
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    return response


def text_of(response: Response) -> str:
    return html.unescape(response.text)


def redirected(response: Response, to: str) -> str:
    assert response.status_code in REDIRECTS, f"{response.status_code}: {response.text[:600]}"
    location = response.headers["location"]
    assert location.startswith(to), location
    return location


def order_of(client: TestClient, world: World, order_id: str) -> dict:
    return ok(staff(client, world.a.admin, "GET", f"/orders/{order_id}"))


def dealer_order(client: TestClient, world: World, shop: Shop, lines: list[tuple[str, int]]) -> dict:
    return ok(place(client, world.x.admin, lines), 201)


# --- Every page opens ------------------------------------------------------------------------------


def test_admin_opens_every_ordering_page(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    act_as(client, world.a.admin.cookie)
    for path in CONSOLE_PAGES:
        body = page(client, path).text
        assert 'href="/static/css/ordering-console.css"' in body
        assert 'href="/console/ordering/price-lists"' in body  # the sub-navigation
    page(client, f"/console/ordering/products/{shop.pump}")
    page(client, f"/console/ordering/price-lists/{shop.base_list}")
    page(client, f"/console/ordering/stock?warehouse={shop.warehouse_id}")
    page(client, f"/console/ordering/accounts/{world.x.link_id}")
    overview = page(client, "/console/ordering").text
    assert "<svg" in overview and "<script" not in overview.split("</header>", 1)[1]
    css = client.get("/static/css/ordering-console.css")
    assert css.status_code == 200 and "@media" in css.text


# --- The order desk --------------------------------------------------------------------------------


def test_queue_lists_a_submitted_dealer_order_and_the_desk_approves_and_ships_in_two_parts(
    client: TestClient, world: World
) -> None:
    shop = build_shop(client, world)
    order = dealer_order(client, world, shop, [(shop.pump, 3), (shop.valve, 10)])
    act_as(client, world.a.admin.cookie)

    queue = text_of(page(client, "/console/ordering/orders"))
    assert order["number"] in queue and world.x.name in queue
    assert order["number"] not in text_of(page(client, "/console/ordering/orders?status=shipped"))
    assert order["number"] in text_of(page(client, f"/console/ordering/orders?q={order['number']}&status=all"))
    assert order["number"].startswith("SO") and 'placeholder="e.g. SO000123"' in queue  # numbers as they are

    path = f"/console/ordering/orders/{order['id']}"
    detail = text_of(page(client, path))
    assert 'action="' + path + '/approve"' in detail and 'action="' + path + '/reject"' in detail
    assert "Unit cost" in detail  # the administrator sees costs and margins

    redirected(submit(client, f"{path}/approve", {"comment": "fine"}, form_page=path), f"{path}?done=approved")
    assert order_of(client, world, order["id"])["status"] == "approved"

    pump_line, valve_line = order_of(client, world, order["id"])["lines"]
    shipped = submit(
        client,
        f"{path}/ship",
        {f"lines.{pump_line['id']}": "1", f"lines.{valve_line['id']}": "0", "carrier": "SF", "tracking_number": "T1"},
        form_page=path,
    )
    redirected(shipped, f"{path}?done=shipped")
    partly = order_of(client, world, order["id"])
    assert partly["status"] == "partially_shipped"
    assert [line["shipped_quantity"] for line in partly["lines"]] == [1, 0]

    # the form now starts at what is left: submitting it unchanged ships the rest
    detail = page(client, path).text
    left = dict(re.findall(r'name="(lines\.[0-9a-f-]+)"[^>]*?value="(\d+)"', detail, re.S))
    assert left == {f"lines.{pump_line['id']}": "2", f"lines.{valve_line['id']}": "10"}
    redirected(submit(client, f"{path}/ship", {**left, "carrier": "SF", "tracking_number": "T2"}, form_page=path), path)
    done = order_of(client, world, order["id"])
    assert done["status"] == "shipped" and len(done["shipments"]) == 2
    assert [s["tracking_number"] for s in done["shipments"]] == ["T1", "T2"]
    assert "T2" in text_of(page(client, path))


def test_reject_without_a_reason_shows_the_error_and_changes_nothing(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    order = dealer_order(client, world, shop, [(shop.pump, 1)])
    act_as(client, world.a.admin.cookie)
    path = f"/console/ordering/orders/{order['id']}"

    refused = submit(client, f"{path}/reject", {"comment": "  "}, form_page=path)
    assert refused.status_code == 422
    assert "Say why" in text_of(refused) and 'id="reject-error"' in refused.text
    again = order_of(client, world, order["id"])
    assert again["status"] == "submitted" and len(again["timeline"]) == len(order["timeline"])

    # a transition the status does not allow: refused on the page with 409
    redirected(submit(client, f"{path}/reject", {"comment": "no stock"}, form_page=path), f"{path}?done=rejected")
    late = submit(client, f"{path}/approve", {}, form_page=path)
    assert late.status_code == 409 and "cannot be approved" in text_of(late)
    assert order_of(client, world, order["id"])["status"] == "rejected"


def test_a_shipment_needs_carrier_and_tracking_unless_own_delivery_and_a_shipped_order_has_no_next_steps(
    client: TestClient, world: World
) -> None:
    shop = build_shop(client, world)
    order = dealer_order(client, world, shop, [(shop.pump, 2)])
    ok(act(client, world.a.admin, order["id"], "approve"))
    act_as(client, world.a.admin.cookie)
    path = f"/console/ordering/orders/{order['id']}"
    [line] = order_of(client, world, order["id"])["lines"]
    detail = text_of(page(client, path))
    assert 'name="own_delivery"' in detail and "Ship to" in detail and "Dock 4, Harbour Road" in detail

    refused = submit(client, f"{path}/ship", {f"lines.{line['id']}": "1"}, form_page=path)
    assert refused.status_code == 422
    assert re.search(r'id="ship-carrier-error">is required unless you deliver it yourself<', refused.text)
    assert re.search(r'id="ship-tracking_number-error">is required unless you deliver it yourself<', refused.text)
    assert order_of(client, world, order["id"])["shipments"] == []

    sent = {f"lines.{line['id']}": "1", "carrier": "SF", "tracking_number": "SF77"}
    redirected(submit(client, f"{path}/ship", sent, form_page=path), path)
    own = {f"lines.{line['id']}": "1", "own_delivery": "1"}
    redirected(submit(client, f"{path}/ship", own, form_page=path), path)
    shipped = order_of(client, world, order["id"])
    assert shipped["status"] == "shipped"
    assert [(s["carrier"], s["own_delivery"]) for s in shipped["shipments"]] == [("SF", False), (None, True)]
    assert shipped["actions"] == ["receive"]  # the dealer's step, which has no form on the desk's page
    done = text_of(page(client, path))
    assert "Delivered by the manufacturer" in done
    assert "Next steps" not in done and 'id="actions"' not in done  # nothing left for the desk to do here

    act_as(client, world.x.admin.cookie)
    seen = text_of(page(client, f"/p/{world.a.slug}/ordering/orders/{order['id']}"))
    assert "Delivered by the manufacturer" in seen and "SF77" in seen and "—" not in seen.split("Shipments", 1)[1]


def test_a_staff_role_without_ordering_rights_is_refused(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    order = dealer_order(client, world, shop, [(shop.pump, 1)])
    act_as(client, world.a.others["staff"].cookie)
    path = f"/console/ordering/orders/{order['id']}"
    page(client, path)  # the staff role reads everything
    assert 'action="' + path + '/approve"' not in page(client, path).text  # and is offered no form
    refused = submit(client, f"{path}/approve", {"comment": "sneaky"}, form_page=path)
    assert refused.status_code == 403
    assert order_of(client, world, order["id"])["status"] == "submitted"
    assert act(client, world.a.admin, order["id"], "approve").status_code == 200


def unique_sku(prefix: str = "SKU") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def workbook(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- Catalog and price lists -----------------------------------------------------------------------


def test_product_create_and_a_duplicate_sku_shows_the_error(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    sku = unique_sku("PUMP")
    form = {"sku": sku, "name": "Page pump", "unit": "pcs", "pack_size": "1", "min_order_quantity": "1"}
    created = submit(
        client,
        "/console/ordering/products",
        {**form, "cost_price": "12.50", "listed": "on"},
        form_page="/console/ordering/products/new",
    )
    location = redirected(created, "/console/ordering/products/")
    product_id = location.split("/")[-1].split("?")[0]
    product = ok(staff(client, world.a.admin, "GET", f"/products/{product_id}"))
    assert product["sku"] == sku and product["cost_price"] == "12.5000" and product["listed"] is True

    again = submit(
        client, "/console/ordering/products", {**form, "name": "Twin"}, form_page="/console/ordering/products/new"
    )
    assert again.status_code == 422
    assert "is already used" in text_of(again) and 'value="Twin"' in again.text
    found = ok(staff(client, world.a.admin, "GET", f"/products?search={sku}"))
    assert found["total"] == 1

    # visibility: only Gold-tier partners
    path = f"/console/ordering/products/{product_id}"
    saved = submit(client, f"{path}/visibility", {"visible": "some", "tier:0": world.ids["tier"]}, form_page=path)
    redirected(saved, path)
    product = ok(staff(client, world.a.admin, "GET", f"/products/{product_id}"))
    assert product["visible_to_all"] is False and product["audiences"] == [
        {"partner_type_id": None, "tier_id": world.ids["tier"]}
    ]
    refused = submit(client, f"{path}/visibility", {"visible": "some"}, form_page=path)
    assert refused.status_code == 422 and "needs an audience" in text_of(refused)


def test_price_list_xlsx_export_imports_back_and_a_bad_row_is_refused_with_its_number(
    client: TestClient, world: World
) -> None:
    shop = build_shop(client, world)
    act_as(client, world.a.admin.cookie)
    path = f"/console/ordering/price-lists/{shop.base_list}"
    before = ok(staff(client, world.a.admin, "GET", f"/price-lists/{shop.base_list}"))["items"]

    download = client.get(f"{path}/items.xlsx")
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/vnd.openxml")
    sheet = openpyxl.load_workbook(io.BytesIO(download.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["sku", "name", "min_quantity", "unit_price"]
    assert all(isinstance(v, str) for row in rows[1:] for v in row)  # every cell is text
    assert len(rows) == 1 + len(before)

    token_page = path

    def upload(content: bytes, name: str = "prices.xlsx") -> Response:
        from tests.world import csrf_token

        token = csrf_token(client, token_page)
        return client.post(
            f"{path}/import", data={"_csrf_token": token}, files={"file": (name, content)}, follow_redirects=False
        )

    redirected(upload(download.content), f"{path}?done=imported")
    after = ok(staff(client, world.a.admin, "GET", f"/price-lists/{shop.base_list}"))["items"]
    assert after == before  # the round trip changes nothing

    edited = [r[:] for r in rows]
    edited[1][3] = "77.00"
    edited.append(["NO-SUCH-SKU", "", "1", "5"])
    edited.append([rows[1][0], "", "lots", "5"])
    refused = upload(workbook(edited))
    assert refused.status_code == 422
    body = text_of(refused)
    assert f"Row {len(rows) + 1}: no product has the SKU NO-SUCH-SKU" in body
    assert f"Row {len(rows) + 2}: the quantity must be a whole number" in body
    assert ok(staff(client, world.a.admin, "GET", f"/price-lists/{shop.base_list}"))["items"] == before

    csv = "sku,min_quantity,unit_price\n" + f"{rows[1][0]},1,55.5\n"
    redirected(upload(csv.encode(), "prices.csv"), path)
    items = ok(staff(client, world.a.admin, "GET", f"/price-lists/{shop.base_list}"))["items"]
    assert [(i["sku"], i["min_quantity"], i["unit_price"]) for i in items] == [(rows[1][0], 1, "55.5000")]


def test_price_sheet_api_exports_and_imports(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    exported = client.get(f"/api/ordering/price-lists/{shop.x_list}/items.xlsx", headers=admin.bearer)
    assert exported.status_code == 200
    imported = client.post(
        f"/api/ordering/price-lists/{shop.base_list}/items/import",
        headers=admin.bearer,
        files={"file": ("x.xlsx", exported.content)},
    )
    assert ok(imported)["imported"] == 1
    bad = client.post(
        f"/api/ordering/price-lists/{shop.base_list}/items/import",
        headers=admin.bearer,
        files={"file": ("x.csv", b"sku,unit_price\nNOPE,1\n")},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rows[2].sku"
    missing = client.post(f"/api/ordering/price-lists/{shop.base_list}/items/import", headers=admin.bearer, files={})
    assert missing.status_code == 422


# --- Stock, credit, payments, settings --------------------------------------------------------------


def test_a_stock_count_below_what_is_reserved_is_refused(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    ok(staff(client, admin, "PATCH", "/settings/", json={"reserve_on": "submit"}))
    dealer_order(client, world, shop, [(shop.pump, 4)])  # reserves 4 of the 100 on hand
    act_as(client, admin.cookie)
    stock_page = f"/console/ordering/stock?warehouse={shop.warehouse_id}"
    path = f"/console/ordering/warehouses/{shop.warehouse_id}/stock/{shop.pump}"

    refused = submit(client, path, {"on_hand": "3"}, form_page=stock_page)
    assert refused.status_code == 422
    assert "must be at least the 4 reserved by orders" in text_of(refused)
    levels = ok(staff(client, admin, "GET", f"/warehouses/{shop.warehouse_id}/stock?search=pump&limit=200"))["items"]
    assert next(i for i in levels if i["product_id"] == shop.pump)["on_hand"] == 100

    redirected(submit(client, path, {"on_hand": "40"}, form_page=stock_page), "/console/ordering/stock?")
    levels = ok(staff(client, admin, "GET", f"/warehouses/{shop.warehouse_id}/stock?search=pump&limit=200"))["items"]
    counted = next(i for i in levels if i["product_id"] == shop.pump)
    assert (counted["on_hand"], counted["reserved"], counted["available"]) == (40, 4, 36)
    ok(staff(client, admin, "PATCH", "/settings/", json={"reserve_on": "approval"}))


def test_a_payment_recorded_from_the_page_is_matched_to_the_order_chosen(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    order = dealer_order(client, world, shop, [(shop.pump, 2)])  # X's own price: 160.00
    ok(act(client, admin, order["id"], "approve"))
    act_as(client, admin.cookie)
    form_page = f"/console/ordering/payments?enterprise={world.x.link_id}"
    offered = page(client, form_page).text
    assert f'name="alloc:{order["id"]}"' in offered

    too_much = submit(
        client,
        "/console/ordering/payments",
        {
            "enterprise_id": world.x.link_id,
            "amount": "50",
            "received_on": "2026-01-10",
            "method": "transfer",
            f"alloc:{order['id']}": "60",
        },
        form_page=form_page,
    )
    assert too_much.status_code == 422 and "add up to more than the payment" in text_of(too_much)
    assert order_of(client, world, order["id"])["paid_amount"] == "0.0000"

    recorded = submit(
        client,
        "/console/ordering/payments",
        {
            "enterprise_id": world.x.link_id,
            "amount": "100",
            "received_on": "2026-01-10",
            "method": "transfer",
            "reference": "BANK-77",
            f"alloc:{order['id']}": "100",
        },
        form_page=form_page,
    )
    redirected(recorded, "/console/ordering/payments?")
    assert order_of(client, world, order["id"])["paid_amount"] == "100.0000"
    listed = text_of(page(client, f"/console/ordering/payments?status=confirmed&enterprise={world.x.link_id}"))
    assert "BANK-77" in listed and order["number"] in listed

    # the enterprise's statement shows the order and the payment
    statement = text_of(page(client, f"/console/ordering/accounts/{world.x.link_id}?start=2020-01-01"))
    assert order["number"] in statement and "BANK-77" in statement
    download = client.get(f"/console/ordering/accounts/{world.x.link_id}/statement.xlsx?start=2020-01-01")
    assert download.status_code == 200 and download.content.startswith(b"PK")


def test_credit_limit_and_settings_forms(client: TestClient, world: World) -> None:
    admin = world.a.admin
    act_as(client, admin.cookie)
    path = f"/console/ordering/credit/{world.x.link_id}"
    redirected(
        submit(client, path, {"amount": "5000"}, form_page="/console/ordering/credit"), "/console/ordering/credit"
    )
    assert ok(staff(client, admin, "GET", f"/accounts/{world.x.link_id}"))["credit_limit"] == "5000.0000"
    bad = submit(client, path, {"amount": "-1"}, form_page="/console/ordering/credit")
    assert bad.status_code == 422 and "must be 0 or more" in text_of(bad)
    redirected(
        submit(client, path, {"amount": "5000", "remove": "1"}, form_page="/console/ordering/credit"), "/console"
    )
    assert ok(staff(client, admin, "GET", f"/accounts/{world.x.link_id}"))["credit_limit"] is None

    settings = "/console/ordering/settings"
    current = ok(staff(client, admin, "GET", "/settings/"))
    form = {
        "reserve_on": "submit",
        "over_credit": "approval",
        "credit_approver_role": "admin",
        "auto_receive_days": "7",
        "default_warehouse_id": str(current["default_warehouse_id"]),
    }
    redirected(submit(client, settings, form), f"{settings}?done=saved")
    assert ok(staff(client, admin, "GET", "/settings/"))["auto_receive_days"] == 7
    refused = submit(client, settings, {**form, "auto_receive_days": "0"})
    assert refused.status_code == 422
    submit(client, settings, {**form, "reserve_on": "approval", "over_credit": "refuse", "auto_receive_days": "14"})

    rule = {"name": "Big orders", "step": "2", "role_key": "admin", "min_amount": "100000"}
    redirected(submit(client, f"{settings}/approval-rules", rule, form_page=settings), settings)
    rules = ok(staff(client, admin, "GET", "/settings/approval-rules"))
    big = next(r for r in rules if r["name"] == "Big orders")
    assert (
        submit(client, f"{settings}/approval-rules", {**rule, "role_key": "nobody"}, form_page=settings).status_code
        == 422
    )
    redirected(submit(client, f"{settings}/approval-rules/{big['id']}/delete", {}, form_page=settings), settings)
    assert all(r["id"] != big["id"] for r in ok(staff(client, admin, "GET", "/settings/approval-rules")))


def test_reported_payments_are_confirmed_or_rejected_from_the_page(client: TestClient, world: World) -> None:
    def report(reference: str) -> str:
        body = {"amount": "12.00", "received_on": "2026-01-11", "reference": reference}
        return ok(client.post("/api/partner/ordering/account/payments", headers=world.x.admin.bearer, json=body), 201)[
            "id"
        ]

    kept, refused = report("DEALER-1"), report("DEALER-2")
    act_as(client, world.a.admin.cookie)
    listing = "/console/ordering/payments?status=reported"
    assert "DEALER-1" in text_of(page(client, listing)) and "DEALER-2" in text_of(page(client, listing))

    redirected(submit(client, f"/console/ordering/payments/{kept}/confirm", {}, form_page=listing), "/console")
    no_reason = submit(client, f"/console/ordering/payments/{refused}/reject", {"note": ""}, form_page=listing)
    assert no_reason.status_code == 422 and "Say why" in text_of(no_reason)
    redirected(
        submit(
            client,
            f"/console/ordering/payments/{refused}/reject",
            {"note": "not on the bank statement"},
            form_page=listing,
        ),
        "/console",
    )
    twice = submit(client, f"/console/ordering/payments/{kept}/confirm", {}, form_page=listing)
    assert twice.status_code == 409 and "already confirmed" in text_of(twice)
    statuses = {p["id"]: p["status"] for p in ok(staff(client, world.a.admin, "GET", "/payments?limit=200"))["items"]}
    assert statuses[kept] == "confirmed" and statuses[refused] == "rejected"
