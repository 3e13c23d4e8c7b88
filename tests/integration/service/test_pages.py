"""The service pages, driven like a browser: the console's tickets (list, filters, export, opening one,
its actions) and devices (recording, importing), and the partner portal's tickets for the dispatcher and
jobs for the engineer, in English and Chinese; every refusal is a readable page."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from tests.integration.service.support import device, dispatched, fixit, ok
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import World, unique


def in_chinese(client: TestClient, start: str) -> None:
    """Switch the signed-in person's language, as the header's switch does (their choice is stored)."""
    switched = submit(client, "/lang", {"language": "zh_CN", "next": start}, form_page=start)
    assert switched.status_code in REDIRECTS, switched.text


def page(client: TestClient, path: str, status: int = 200, **kwargs: object) -> str:
    response = client.get(path, follow_redirects=False, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status, (path, response.status_code, response.text[:300])
    return response.text


def test_the_console_opens_dispatches_and_lists_tickets(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    form = {
        "type": "maintenance",
        "priority": "high",
        "symptoms": "Yearly check",
        "contact_name": "Ms Hill",
        "contact_phone": "555-0199",
        "address": "2 Hill Road",
    }
    created = submit(client, "/console/service/tickets", form, form_page="/console/service/tickets/new")
    assert created.status_code in REDIRECTS, created.text
    detail_path = created.headers["location"].split("?")[0]
    detail = page(client, created.headers["location"])
    assert "The ticket is opened" in detail and "Yearly check" in detail and "Dispatch" in detail
    # a refused form shows why, on the ticket's page, with the status it answers with
    refused = submit(client, f"{detail_path}/cancel", {"note": ""}, form_page=detail_path)
    assert_readable_page(refused, 422, "is required")
    fixit_id = world.service["fixit"].link_id
    sent = submit(client, f"{detail_path}/dispatch", {"enterprise_id": fixit_id}, form_page=detail_path)
    assert sent.status_code in REDIRECTS, sent.text
    detail = page(client, sent.headers["location"])
    assert "The ticket is dispatched." in detail and world.service["fixit"].name in detail
    late = submit(client, f"{detail_path}/dispatch", {"enterprise_id": fixit_id}, form_page=detail_path)
    assert_readable_page(late, 409, "cannot be dispatched")

    listing = page(client, "/console/service/tickets?priority=high&status=all")
    assert detail_path.rsplit("/", 1)[1] in listing
    assert detail_path.rsplit("/", 1)[1] not in page(client, "/console/service/tickets?priority=low")
    in_chinese(client, "/console/service/tickets")
    chinese = page(client, "/console/service/tickets?status=all")
    assert "服务工单" in chinese and "已派单" in chinese
    export = client.get("/console/service/tickets/export.xlsx?status=all")
    assert export.status_code == 200 and export.content.startswith(b"PK")


def test_the_console_records_and_imports_devices(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    serial = unique("SN")
    recorded = submit(
        client,
        "/console/service/devices",
        {"serial_number": serial, "product_name": "Hill pump", "customer_name": "Hill Farm", "site_address": "2 Hill"},
        form_page="/console/service/devices",
    )
    assert recorded.status_code in REDIRECTS, recorded.text
    assert serial in page(client, recorded.headers["location"])
    again = submit(
        client,
        "/console/service/devices",
        {"serial_number": serial, "product_name": "Hill pump", "customer_name": "", "site_address": "2 Hill"},
        form_page="/console/service/devices",
    )
    assert_readable_page(again, 422, "is already recorded")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page(client, "/console/service/devices"))
    assert token
    csv = f"serial_number,product_name,customer_name,site_address\n{unique('SN')},Pump,Lake,1 Lake\n{serial},Pump,,\n"
    refused = client.post(
        "/console/service/devices/import",
        data={"_csrf_token": token.group(1)},
        files={"file": ("devices.csv", csv.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "Row 3" in refused.text and "The file was not imported" in refused.text
    in_chinese(client, "/console/service/devices")
    assert "导入设备" in page(client, "/console/service/devices")


def test_a_partner_dispatcher_takes_a_ticket_on_and_its_engineer_works_it(client: TestClient, world: World) -> None:
    dispatcher, engineer = fixit(world)
    slug = world.a.slug
    ticket = dispatched(client, world, engineer=False)
    act_as(client, dispatcher.cookie)
    home = page(client, f"/p/{slug}/")
    assert f'href="/p/{slug}/service"' in home
    entry = client.get(f"/p/{slug}/service", follow_redirects=False)
    assert entry.headers["location"] == f"/p/{slug}/service/tickets"
    base = f"/p/{slug}/service/tickets"
    assert ticket["number"] in page(client, base)
    offered = page(client, f"{base}/{ticket['id']}")
    assert "+86 138" not in offered and "3 Lake Road" not in offered and "show once the ticket is accepted" in offered
    accepted = submit(client, f"{base}/{ticket['id']}/accept", {}, form_page=f"{base}/{ticket['id']}")
    assert accepted.status_code in REDIRECTS, accepted.text
    shown = page(client, accepted.headers["location"])
    assert "+86 138 0000 1111" in shown and "3 Lake Road" in shown
    assigned = submit(
        client, f"{base}/{ticket['id']}/assign", {"engineer_id": engineer.user_id}, form_page=f"{base}/{ticket['id']}"
    )
    assert assigned.status_code in REDIRECTS, assigned.text
    assert "The engineer is assigned." in page(client, assigned.headers["location"])

    act_as(client, engineer.cookie)
    jobs = f"/p/{slug}/service/jobs"
    assert client.get(f"/p/{slug}/service", follow_redirects=False).headers["location"] == jobs
    assert client.get(base, follow_redirects=False).status_code == 403  # the enterprise's list is not theirs
    in_chinese(client, jobs)
    listing = page(client, jobs)
    assert ticket["number"] in listing and "我的工单" in listing
    for action in ("start", "arrive"):
        moved = submit(client, f"{jobs}/{ticket['id']}/{action}", {}, form_page=f"{jobs}/{ticket['id']}")
        assert moved.status_code in REDIRECTS, moved.text
    unresolved = submit(client, f"{jobs}/{ticket['id']}/resolve", {"note": ""}, form_page=f"{jobs}/{ticket['id']}")
    assert_readable_page(unresolved, 422, "必填")
    resolved = submit(
        client, f"{jobs}/{ticket['id']}/resolve", {"note": "Seal replaced"}, form_page=f"{jobs}/{ticket['id']}"
    )
    assert resolved.status_code in REDIRECTS, resolved.text
    done = page(client, resolved.headers["location"])
    assert "已完工" in done and "Seal replaced" in done
    seen = ok(client.get(f"/api/service/tickets/{ticket['id']}", headers=world.a.admin.bearer))
    assert seen["status"] == "resolved"


def test_another_enterprise_finds_no_ticket_page(client: TestClient, world: World) -> None:
    ticket = dispatched(client, world)
    other = world.service["other"].admin
    act_as(client, other.cookie)
    slug = world.a.slug
    assert client.get(f"/p/{slug}/service/tickets/{ticket['id']}", follow_redirects=False).status_code == 404
    refused = submit(
        client, f"/p/{slug}/service/tickets/{ticket['id']}/accept", {}, form_page=f"/p/{slug}/service/tickets"
    )
    assert refused.status_code == 404
    assert (
        ok(client.get(f"/api/service/tickets/{ticket['id']}", headers=world.a.admin.bearer))["status"] == "dispatched"
    )


def test_the_console_finds_a_device_by_its_whole_serial_number(client: TestClient, world: World) -> None:
    """The device named exactly (in any case), however many newer ones contain its serial number; a part
    of a serial number finds none."""
    prefix = unique("SNX").upper()
    wanted = device(client, world, serial_number=f"{prefix}-1")
    for n in range(10, 22):  # newer, and each contains "<prefix>-1"
        device(client, world, serial_number=f"{prefix}-{n}")
    act_as(client, world.a.admin.cookie)
    form = {"type": "repair", "priority": "normal", "symptoms": "Noisy", "contact_name": "Ms Hill"}
    form["contact_phone"] = "555-0101"
    new = "/console/service/tickets/new"
    exact = {**form, "serial_number": f"{prefix}-1".lower()}
    created = submit(client, "/console/service/tickets", exact, form_page=new)
    assert created.status_code in REDIRECTS, created.text
    assert wanted["serial_number"] in page(client, created.headers["location"])
    partial = submit(client, "/console/service/tickets", {**form, "serial_number": prefix}, form_page=new)
    assert_readable_page(partial, 422, "No such device")
