"""The customer's pages, without an account: a device's public page (its QR label) where a repair ticket
is opened, and the ticket's progress link, through which the customer follows it and confirms and rates
it. And what keeps them from abuse: throttling, the form's signed time and honeypot, one open ticket per
device, revocable addresses, and hostile input refused with a readable error."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from httpx import Response
from litestar.testing import TestClient
from sqlalchemy import select

from apps.service import public
from apps.service.models import Ticket
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.notifications.models import Notification
from tests.db import run_with_database
from tests.integration.service.support import STAFF, call, device, fixit, ok, partner_act, staff_act
from tests.integration.web.test_pages import REDIRECTS, act_as, submit
from tests.world import World


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A form may come back at once: the minimum fill time is tested on its own."""
    monkeypatch.setattr(public, "MIN_FILL", timedelta(0))
    yield


def page_address(client: TestClient, world: World, device_id: str | None = None) -> str:
    device_id = device_id or device(client, world)["id"]
    made = ok(call(client, world.a.admin, "POST", f"{STAFF}/devices/{device_id}/public-page"))
    return str(made["url"]).split("/service/d/", 1)[1]


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def send(client: TestClient, address: str, **values: str) -> Response:
    """Fill in the device page's form the way a person does."""
    client.cookies.clear()
    shown = client.get(f"/service/d/{address}")
    assert shown.status_code == 200, shown.text
    form = {
        "_csrf_token": _field(shown.text, "_csrf_token"),
        "form_token": _field(shown.text, "form_token"),
        "website": "",
        "symptoms": "The pump hums but does not start",
        "contact_name": "Ms Wang",
        "contact_phone": "+86 138 0000 2222",
        **values,
    }
    return client.post(f"/service/d/{address}", data=form)


def progress_link(response: Response) -> str:
    match = re.search(r'href="/service/t/([^"]+)"', response.text)
    assert match, response.text[:500]
    return match.group(1)


def rate(client: TestClient, link: str, rating: str, comment: str = "") -> Response:
    shown = client.get(f"/service/t/{link}")
    form = {"_csrf_token": _field(shown.text, "_csrf_token"), "rating": rating, "comment": comment}
    return client.post(f"/service/t/{link}", data=form)


def ticket_row(client: TestClient, number: str) -> Ticket:
    async def read(db: Database) -> Ticket:
        async with db.session(SYSTEM) as session:
            row = await session.scalar(select(Ticket).where(Ticket.number == number))
            assert row is not None
            return row

    return run_with_database(client.app.state.services.settings, read)


def number_of(response: Response) -> str:
    match = re.search(r"T\d{6}", response.text)
    assert match
    return match.group(0)


def test_a_customer_scans_opens_follows_confirms_and_rates(client: TestClient, world: World, quick: None) -> None:
    address = page_address(client, world)
    client.cookies.clear()
    shown = client.get(f"/service/d/{address}")
    assert shown.status_code == 200 and "Centrifugal pump" in shown.text and "Lakeside School" not in shown.text
    # the manufacturer's brand heads it, with no menu: nothing to sign in to, even for staff signed in
    header = shown.text.split("</header>", 1)[0]
    assert f'src="/p/{world.a.slug}/logo"' in header and world.a.name in header and f"{world.a.name}</title>" in header
    assert "Sign in" not in header and "Start a programme" not in header and "Partner Portal" not in header
    act_as(client, world.a.admin.cookie)
    header = client.get(f"/service/d/{address}").text.split("</header>", 1)[0]
    assert world.a.name in header and "/console/partners" not in header and "Sign out" not in header
    client.cookies.clear()
    opened = send(client, address)
    assert opened.status_code == 201, opened.text
    number, link = number_of(opened), progress_link(opened)
    row = ticket_row(client, number)
    assert (row.status, row.channel, row.type, row.opened_by_kind) == ("new", "device_page", "repair", "customer")
    progress = client.get(f"/service/t/{link}")
    assert progress.status_code == 200 and "We have received your request" in progress.text
    header = progress.text.split("</header>", 1)[0]
    assert f'src="/p/{world.a.slug}/logo"' in header and "Sign in" not in header

    dispatcher, _engineer = fixit(world)
    ticket_id = str(row.id)
    ok(staff_act(client, world, ticket_id, "dispatch", enterprise_id=world.service["fixit"].link_id))
    for action in ("accept", "start", "arrive"):
        ok(partner_act(client, dispatcher, ticket_id, action))
    ok(partner_act(client, dispatcher, ticket_id, "resolve", note="Internal: capacitor 4uF swapped"))
    client.cookies.clear()
    resolved = client.get(f"/service/t/{link}")
    assert "The work is done: please confirm" in resolved.text
    assert world.service["fixit"].name in resolved.text  # the partner's name, and nothing else of it
    assert "capacitor" not in resolved.text and dispatcher.email not in resolved.text
    assert "+86 138" not in resolved.text
    # at phone width: one column, no fixed widths
    assert 'name="viewport"' in resolved.text and "public-service" in resolved.text

    bad = rate(client, link, "9")
    assert bad.status_code == 422 and "from 1 to 5" in bad.text
    done = rate(client, link, "4", "Quick and tidy")
    assert done.status_code == 200 and "Thank you" in done.text and "★★★★☆" in done.text
    again = rate(client, link, "1")
    assert again.status_code == 409
    row = ticket_row(client, number)
    assert (row.status, row.rating, row.rating_comment) == ("confirmed", 4, "Quick and tidy")
    entries = ok(client.get(f"/api/audit?object_id={ticket_id}", headers=world.a.admin.bearer))
    confirming = next(e for e in entries if e["action"] == "update" and e["after"].get("status") == "confirmed")
    assert confirming["actor_kind"] == "customer"
    detail = ok(client.get(f"{STAFF}/tickets/{ticket_id}", headers=world.a.admin.bearer))
    assert [e["action"] for e in detail["timeline"]][-1] == "confirm"
    # the console's ticket page: the customer's own confirmation, and each target met
    act_as(client, world.a.admin.cookie)
    page = client.get(f"/console/service/tickets/{ticket_id}").text
    assert "The customer confirmed the work" in page and "The customer, through the progress link" in page
    assert "Confirm for the customer" not in page and page.count("Target met") == 2
    client.cookies.clear()


def test_chinese_progress(client: TestClient, world: World, quick: None) -> None:
    link = progress_link(send(client, page_address(client, world)))
    client.cookies.clear()
    chinese = client.get(f"/service/t/{link}", headers={"accept-language": "zh-CN"})
    assert chinese.status_code == 200 and "我们已收到您的报修" in chinese.text


def test_a_second_request_for_the_device_shows_the_open_one(client: TestClient, world: World, quick: None) -> None:
    address = page_address(client, world)
    first = send(client, address)
    again = send(client, address, symptoms="Still broken")
    assert again.status_code == 200 and "already open" in again.text
    assert progress_link(again) == progress_link(first) and number_of(again) == number_of(first)


def test_the_form_refuses_robots_and_haste(client: TestClient, world: World) -> None:
    address = page_address(client, world)
    hasty = send(client, address)  # sent the moment it was shown
    assert hasty.status_code == 422 and "quicker than a person" in hasty.text
    public.MIN_FILL, saved = timedelta(0), public.MIN_FILL
    try:
        trapped = send(client, address, website="http://spam.example")
        assert trapped.status_code == 422 and "expired" in trapped.text
        forged = send(client, address, form_token="1.deadbeef")
        assert forged.status_code == 422
    finally:
        public.MIN_FILL = saved


def test_opening_is_throttled_per_device(client: TestClient, world: World, quick: None) -> None:
    device_id = device(client, world)["id"]
    address = page_address(client, world, device_id)
    statuses = [send(client, address, contact_phone="12").status_code for _ in range(public.PER_DEVICE + 1)]
    assert statuses[: public.PER_DEVICE] == [422] * public.PER_DEVICE  # each counted though refused
    assert statuses[-1] == 429


def test_hostile_input_is_refused_clearly(client: TestClient, world: World, quick: None) -> None:
    address = page_address(client, world)
    letters = send(client, address, contact_phone="call me maybe")
    assert letters.status_code == 422 and "may contain only digits" in letters.text
    huge = send(client, address, symptoms="x" * 5000)
    assert huge.status_code == 422 and "at most 2000 characters" in huge.text
    control = send(client, address, contact_name="Ms\x07Wang")
    assert control.status_code == 422 and "control characters" in control.text
    empty = send(client, address, symptoms="   ")
    assert empty.status_code == 422 and "is required" in empty.text


def test_revoked_wrong_and_expired_addresses_are_not_found(client: TestClient, world: World, quick: None) -> None:
    device_id = device(client, world)["id"]
    old = page_address(client, world, device_id)
    new = page_address(client, world, device_id)
    client.cookies.clear()
    assert client.get(f"/service/d/{old}").status_code == 404
    assert client.get(f"/service/d/{new}").status_code == 200
    ok(call(client, world.a.admin, "DELETE", f"{STAFF}/devices/{device_id}/public-page"))
    client.cookies.clear()
    assert client.get(f"/service/d/{new}").status_code == 404
    # tenant B's id with tenant A's token finds nothing
    tenant_a, token = page_address(client, world, device_id).split(".", 1)
    assert client.get(f"/service/d/{uuid.UUID(world.b.tenant_id).hex}.{token}").status_code == 404
    assert client.get(f"/service/d/{tenant_a}.not-a-token").status_code == 404

    link = progress_link(send(client, f"{tenant_a}.{token}"))
    other = progress_link(send(client, page_address(client, world)))
    t, ticket, mac = link.split(".")
    _t, other_ticket, _mac = other.split(".")
    client.cookies.clear()
    assert client.get(f"/service/t/{t}.{other_ticket}.{mac}").status_code == 404  # one link, one ticket
    assert client.get(f"/service/t/{uuid.UUID(world.b.tenant_id).hex}.{ticket}.{mac}").status_code == 404

    async def expire(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            row = await session.scalar(select(Ticket).where(Ticket.id == uuid.UUID(hex=ticket)))
            assert row is not None and row.progress_expires_at is not None
            row.progress_expires_at -= public.PROGRESS_LIFETIME + timedelta(days=1)

    run_with_database(client.app.state.services.settings, expire)
    expired = client.get(f"/service/t/{link}")
    assert expired.status_code == 404 and "not valid" in expired.text
    assert "Sign in" not in expired.text.split("</header>", 1)[0]  # a customer's page: no menu


def test_staff_print_labels_and_make_or_revoke_their_address(client: TestClient, world: World) -> None:
    made = device(client, world, serial_number="SN-LABEL-1")
    label_page = f"/console/service/devices/{made['id']}/label"
    act_as(client, world.a.admin.cookie)
    before = client.get(label_page)
    assert before.status_code == 200 and "Make the label" in before.text and 'class="device-label"' not in before.text
    assert call(client, world.a.admin, "GET", f"{STAFF}/devices/{made['id']}/label.png").status_code == 404
    sent = submit(client, f"{label_page}/new", {}, form_page=label_page)
    assert sent.status_code in REDIRECTS, sent.text
    shown = client.get(label_page)
    assert "<svg" in shown.text and "SN-LABEL-1" in shown.text and "Revoke the label" in shown.text
    png = call(client, world.a.admin, "GET", f"{STAFF}/devices/{made['id']}/label.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    svg = call(client, world.a.admin, "GET", f"{STAFF}/devices/{made['id']}/label.svg")
    assert svg.status_code == 200 and b"<svg" in svg.content
    sheet = client.get("/console/service/devices/labels?q=SN-LABEL")
    assert sheet.status_code == 200 and sheet.text.count('class="device-label"') == 1
    revoked = submit(client, f"{label_page}/revoke", {}, form_page=label_page)
    assert revoked.status_code in REDIRECTS
    assert call(client, world.a.admin, "GET", f"{STAFF}/devices/{made['id']}/label.svg").status_code == 404
    # the sheet makes labels for the devices found without one
    made_all = submit(client, "/console/service/devices/labels?q=SN-LABEL", {}, form_page=label_page)
    assert made_all.status_code in REDIRECTS
    assert client.get("/console/service/devices/labels?q=SN-LABEL").text.count('class="device-label"') == 1


def test_the_progress_link_is_sent_to_the_contact(client: TestClient, world: World, quick: None) -> None:
    address = page_address(client, world)
    bad = send(client, address, contact_email="not an address")
    assert bad.status_code == 422 and "is not an email address" in bad.text
    opened = send(client, address, contact_email="wang@customer.example")
    assert opened.status_code == 201
    number = number_of(opened)

    async def notices(db: Database) -> list[Notification]:
        async with db.session(SYSTEM) as session:
            rows = await session.scalars(select(Notification).where(Notification.kind == "service.customer_request"))
            return list(rows)

    sent = [n for n in run_with_database(client.app.state.services.settings, notices) if n.params["number"] == number]
    assert len(sent) == 1
    notice = sent[0]
    assert (notice.recipient_kind, notice.recipient_name) == ("customer", "Ms Wang")
    settings = client.app.state.services.settings
    if settings.email_configured:
        assert notice.email == "wang@customer.example" and progress_link(opened) in (notice.secret_link or "")
    assert ticket_row(client, number).contact_email == "wang@customer.example"
