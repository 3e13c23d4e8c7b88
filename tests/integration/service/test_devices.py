"""The installed base: recording a device (its product from the catalog by SKU), the warranty a ticket
reads from it, importing many from CSV or XLSX (all or nothing, each bad row named by its number), the
export that imports back, and who sees which devices."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient

from portal.spreadsheets import workbook_bytes
from tests.integration.service.support import PARTNER, STAFF, call, device, ok, open_ticket
from tests.integration.web.test_pages import act_as
from tests.world import World, csrf_token, unique


def upload(client: TestClient, world: World, name: str, content: bytes) -> object:
    return client.post(
        f"{STAFF}/devices/import",
        headers=world.a.admin.bearer,
        files={"file": (name, content, "application/octet-stream")},
    )


def test_a_device_names_its_catalog_product_and_a_ticket_reads_its_warranty(client: TestClient, world: World) -> None:
    admin = world.a.admin
    sku = unique("PUMP")
    ok(call(client, admin, "POST", "/api/ordering/products", json={"sku": sku, "name": "Lake pump"}), 201)
    covered = device(client, world, sku=sku, product_name="")
    assert covered["product_name"] == "Lake pump" and covered["product_id"]
    lapsed = device(client, world, warranty_end="2020-01-31", install_date="2019-02-01")
    ticket = open_ticket(client, world, device_id=covered["id"], address=None)
    assert ticket["under_warranty"] is True
    assert ticket["address"] == covered["site_address"] and ticket["serial_number"] == covered["serial_number"]
    assert open_ticket(client, world, device_id=lapsed["id"])["under_warranty"] is False
    assert open_ticket(client, world)["under_warranty"] is None


def test_bad_device_input_is_refused_naming_the_field(client: TestClient, world: World) -> None:
    admin = world.a.admin
    known = device(client, world)
    refused = call(
        client,
        admin,
        "POST",
        f"{STAFF}/devices",
        json={
            "serial_number": known["serial_number"],
            "customer_name": "",
            "site_address": "Somewhere",
            "sku": "NO-SUCH-SKU",
            "warranty_end": "2020-01-01",
            "install_date": "2021-01-01",
            "region_id": str(uuid.uuid4()),
        },
    )
    assert refused.status_code == 422
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields == {"serial_number", "customer_name", "sku", "warranty_end", "region_id"}
    # a ticket on a device of another tenant: no such device, and nothing opened
    theirs = call(
        client,
        world.b.admin,
        "POST",
        f"{STAFF}/tickets",
        json={"type": "repair", "symptoms": "x", "contact_name": "y", "contact_phone": "1", "device_id": known["id"]},
    )
    assert theirs.status_code == 422 and theirs.json()["errors"][0]["field"] == "device_id"
    assert ok(call(client, world.b.admin, "GET", f"{STAFF}/tickets"))["total"] == 0


def test_an_import_is_all_or_nothing_and_names_each_bad_row(client: TestClient, world: World) -> None:
    admin = world.a.admin
    region = ok(
        call(client, admin, "POST", "/api/interconnect/regions", json={"code": unique("N"), "name": "North"}), 201
    )
    taken = device(client, world)
    serials = [unique("SN") for _ in range(3)]
    csv = (
        "serial_number,product_name,customer_name,site_address,region,warranty_end\n"
        f"{serials[0]},Pump A,Lake School,1 Lake Road,{region['code']},2030-01-01\n"
        "\n"
        f"{serials[1]},,Hill Farm,2 Hill Road,,\n"
        f"{taken['serial_number']},Pump C,Dock,3 Dock Road,no-such-region,soon\n"
        f"{serials[0]},Pump A,Lake School,1 Lake Road,,\n"
    )
    refused = upload(client, world, "devices.csv", csv.encode())
    assert refused.status_code == 422, refused.text
    errors = {(e["field"], e["code"]) for e in refused.json()["errors"]}
    assert errors == {
        ("rows[4].product_name", "required"),
        ("rows[5].serial_number", "taken"),
        ("rows[5].region", "unknown"),
        ("rows[5].warranty_end", "invalid"),
        ("rows[6].serial_number", "duplicate"),
    }
    messages = " ".join(e["message"] for e in refused.json()["errors"])
    assert "Row 5" in messages and "row 2" in messages
    assert ok(call(client, admin, "GET", f"{STAFF}/devices", params={"search": serials[0]}))["total"] == 0

    rows = [
        [serials[0], "Pump A", "Lake School", "1 Lake Road", region["code"], world.service["fixit"].link_id],
        [serials[1], "Pump B", "Hill Farm", "2 Hill Road", "", ""],
    ]
    header = ["序列号", "产品名称", "客户名称", "安装地址", "区域", "ignored"]
    bad_header = upload(client, world, "devices.xlsx", workbook_bytes(header, rows, "Devices"))
    assert bad_header.status_code == 422 and bad_header.json()["errors"][0]["code"] == "unknown_column"
    done = upload(client, world, "devices.xlsx", workbook_bytes(header[:5], [r[:5] for r in rows], "Devices"))
    assert ok(done) == {"imported": 2}
    found = ok(call(client, admin, "GET", f"{STAFF}/devices", params={"search": serials[0]}))["items"]
    assert [(d["customer_name"], d["region"]) for d in found] == [("Lake School", "North")]
    # the export carries the import's columns, so a workbook read back finds every serial recorded
    export = call(client, admin, "GET", f"{STAFF}/devices/export.xlsx")
    assert export.status_code == 200
    again = upload(client, world, "export.xlsx", export.content)
    assert again.status_code == 422
    assert {e["code"] for e in again.json()["errors"]} == {"taken"}


def test_a_service_partner_sees_the_devices_it_looks_after(client: TestClient, world: World) -> None:
    partner = world.service["fixit"]
    mine = device(client, world, enterprise_id=partner.link_id)
    other = device(client, world, enterprise_id=world.service["other"].link_id)
    seen = {d["id"] for d in ok(call(client, partner.admin, "GET", f"{PARTNER}/devices"))["items"]}
    assert mine["id"] in seen and other["id"] not in seen
    assert call(client, partner.admin, "GET", f"{PARTNER}/devices/{other['id']}").status_code == 404
    assert ok(call(client, partner.people["engineer"], "GET", f"{PARTNER}/devices/{mine['id']}"))["enterprise"]


def device_body(recorded: dict[str, object], **changes: object) -> dict[str, object]:
    keys = ("serial_number", "product_name", "customer_name", "site_address", "region_id", "install_date")
    body = {k: recorded.get(k) for k in (*keys, "warranty_end", "dealer_id", "enterprise_id")}
    return {k: v for k, v in {**body, **changes}.items() if v is not None}


def test_staff_correct_a_device_and_the_same_checks_apply(client: TestClient, world: World) -> None:
    admin = world.a.admin
    recorded = device(client, world)
    other = device(client, world)
    partner = world.service["fixit"].link_id
    url = f"{STAFF}/devices/{recorded['id']}"
    changed = ok(
        call(
            client,
            admin,
            "PUT",
            url,
            json=device_body(
                recorded, customer_name="Hillside School", warranty_end="2030-06-30", enterprise_id=partner
            ),
        )
    )
    assert changed["customer_name"] == "Hillside School" and changed["warranty_end"] == "2030-06-30"
    assert changed["enterprise_id"] == partner and changed["serial_number"] == recorded["serial_number"]
    # its own serial number in other letters is still its own; another device's is refused
    same = ok(
        call(client, admin, "PUT", url, json=device_body(changed, serial_number=recorded["serial_number"].lower()))
    )
    assert same["serial_number"] == recorded["serial_number"].lower()
    b_region = ok(
        call(
            client, world.b.admin, "POST", "/api/interconnect/regions", json={"code": unique("b").lower(), "name": "B"}
        ),
        201,
    )["id"]
    for changes, field in (
        ({"serial_number": other["serial_number"]}, "serial_number"),
        ({"region_id": b_region}, "region_id"),
        ({"warranty_end": "2000-01-01", "install_date": "2001-01-01"}, "warranty_end"),
        ({"customer_name": "x" * 201}, "customer_name"),
    ):
        refused = call(client, admin, "PUT", url, json=device_body(same, **changes))
        assert refused.status_code == 422 and field in {e["field"] for e in refused.json()["errors"]}, refused.text
    assert ok(call(client, admin, "GET", url)) == same
    # another tenant's staff cannot find it; a partner's token is not staff
    assert call(client, world.b.admin, "PUT", url, json=device_body(same)).status_code == 404
    assert call(client, world.service["fixit"].admin, "PUT", url, json=device_body(same)).status_code in (401, 403)


def test_the_console_edits_a_device_on_its_own_page(client: TestClient, world: World) -> None:
    recorded = device(client, world)
    page_url = f"/console/service/devices/{recorded['id']}"
    act_as(client, world.a.admin.cookie)
    assert f'href="{page_url}"' in client.get("/console/service/devices", params={"q": recorded["serial_number"]}).text
    page = client.get(page_url)
    assert page.status_code == 200 and f'value="{recorded["customer_name"]}"' in page.text
    token = csrf_token(client, page_url)
    form = {k: str(v) for k, v in device_body(recorded).items() if k not in ("dealer_id",)}
    bad = client.post(page_url, data={**form, "customer_name": "", "_csrf_token": token}, follow_redirects=False)
    assert bad.status_code == 422 and 'id="customer_name-error"' in bad.text
    good = client.post(
        page_url, data={**form, "customer_name": "Renamed", "_csrf_token": token}, follow_redirects=False
    )
    assert good.status_code in (302, 303)
    assert "Renamed" in client.get(good.headers["location"]).text
    act_as(client, world.b.admin.cookie)
    assert client.get(page_url).status_code == 404
