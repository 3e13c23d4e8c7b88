"""Journey 5 in the browser: Acme's service manager records a device and prints its QR label; the
customer, scanning it with a phone, opens a repair ticket without an account; the dispatch rules send it
to FixIt, whose dispatcher names the engineer; the engineer, on a 390 px phone, accepts, sets off, checks
in on site, records a part and a photo, has the customer sign on the screen and resolves; the customer
confirms and rates through the progress link; the service manager finds the targets met, closes the
ticket and runs and approves the period's settlement. No page of the engineer's is wider than the phone.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Callable

import segno
from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.support import (
    ACME,
    Person,
    fill_form,
    follow,
    go,
    horizontal_overflow,
    loaded_width,
    nav,
    path_of,
    screenshot,
    sign_in_as_partner,
    sign_in_as_staff,
    submit,
    table_rows,
)

# From the service demo (apps/service/demo.py, interconnect/demo.py).
SERVICE_MANAGER = Person("Sam Service", "sam@acme-pumps.example", ACME)
FIXIT = "FixIt Services"
FIXIT_DISPATCHER = Person("Fay Fixit", "fay@fx.acme-pumps.example", ACME)
FIXIT_ENGINEER = Person("Ivy Installer", "staff2@fx.acme-pumps.example", ACME)
DEMO_RULE = f"Repairs: {FIXIT}"  # the demo's dispatch rule: repairs go to FixIt
JOBS = f"/p/{ACME}/service/jobs"
TICKETS = f"/p/{ACME}/service/tickets"
# the device page refuses a form sent back sooner than a person fills it in (apps.service.public.MIN_FILL)
MIN_FILL_S = 3.2


def a_jpeg() -> bytes:
    """A small real photo: a JPEG the upload checks by its content."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 90, 40)).save(out, format="JPEG", quality=80)
    return out.getvalue()


def record_device_and_label(manager: Page, serial: str) -> str:
    """The service manager records the installed device and makes its QR label; returns the address the
    label's QR code encodes (checked by encoding it again)."""
    nav(manager, "Service")
    follow(manager, "Devices", within="main")
    assert path_of(manager) == "/console/service/devices"
    form = manager.locator('form[action="/console/service/devices"][method="post"]')
    fill_form(
        form,
        {
            "serial_number": serial,
            "product_name": "Booster pump BP-40",
            "customer_name": "Harbour Hotel",
            "site_address": "18 Harbour Road, Dalian",
            "region_id": "East",
            "warranty_end": "2030-12-31",
            "enterprise_id": FIXIT,
        },
    )
    submit(form, "Record")
    expect(manager.get_by_role("status")).to_be_visible()
    expect(table_rows(manager, serial)).to_have_count(1)  # the list, filtered to the new device
    follow(manager, "QR label", within="table.list")
    submit(manager.locator('form[action$="/label/new"]'), "Make the label")
    label = manager.locator("figure.device-label")
    expect(label).to_have_count(1)
    expect(label).to_contain_text(serial)
    screenshot(manager, "service-1-label")
    url = label.locator("svg title").first.text_content()
    assert url and "/service/d/" in url, url
    drawn = label.locator("svg path").first.get_attribute("d")
    assert drawn == _qr_path(url), "the label's QR code does not encode its own address"
    return url


def _qr_path(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=3)
    found = re.search(r' d="([^"]+)"', svg)
    assert found
    return found.group(1)


def open_ticket_as_customer(customer: Page, url: str, serial: str) -> tuple[str, str]:
    """Scan the label, describe the problem and send it; returns the ticket number and the progress
    link's path."""
    go(customer, url)
    served = time.monotonic()
    main = customer.locator("main")
    expect(customer.locator("h1")).to_have_text("Report a problem with this device")
    expect(main).to_contain_text(serial)
    # the manufacturer's brand heads the page, and no menu: only the language switch
    header = customer.locator("header")
    expect(header.locator(".brand")).to_have_text("Acme Pumps")
    expect(header.locator('img[src="/p/acme-pumps/logo"]')).to_be_visible()
    expect(header.get_by_role("link")).to_have_count(0)
    expect(header.get_by_role("button")).to_have_text(["中文"])
    assert horizontal_overflow(customer) == 0, "the device page is wider than the phone"
    form = main.locator("form")
    trap = form.locator('[name="website"]').bounding_box()  # the honeypot is out of a person's sight
    assert trap is not None and trap["x"] + trap["width"] <= 0, trap
    fill_form(
        form,
        {
            "symptoms": "The booster pump hums but gives no pressure on the top floors",
            "contact_name": "Ms Gao",
            "contact_phone": "+86 411 8888 1234",
        },
    )
    customer.wait_for_timeout(max(0.0, MIN_FILL_S - (time.monotonic() - served)) * 1000)
    submit(form, "Send the repair request", expect_status=201)
    expect(customer.locator("h1")).to_have_text("We have received your request")
    number = re.search(r"Your request number is (\S+)\.", customer.get_by_role("status").inner_text())
    assert number, customer.get_by_role("status").inner_text()
    screenshot(customer, "service-2-customer-opened")
    follow(customer, "Follow my request")
    progress = path_of(customer)
    assert re.fullmatch(r"/service/t/[0-9a-f]+\.[0-9a-f]+\.[0-9a-f]+", progress), progress
    expect(customer.locator("h1")).to_contain_text(number.group(1))
    expect(customer.locator(".status-now")).to_have_text("We have received your request")
    return number.group(1), progress


def open_console_ticket(manager: Page, number: str) -> None:
    go(manager, "/console/service/tickets")
    search = manager.get_by_role("search")
    fill_form(search, {"q": number, "status": "all"})
    submit(search, "Filter")
    follow(manager, number, within="table.list")
    expect(manager.locator("h1")).to_contain_text(number)


def dispatch_by_rules(manager: Page, number: str) -> None:
    open_console_ticket(manager, number)
    facts = manager.locator("dl.facts")
    expect(facts).to_contain_text("Not dispatched yet")
    expect(facts).to_contain_text("Ms Gao")  # staff see how to reach the customer
    submit(manager.locator('form[action$="/dispatch-by-rules"]'), "Dispatch by the rules")
    expect(manager.locator("h1")).to_contain_text("Dispatched")
    expect(facts).to_contain_text(FIXIT)
    expect(manager.locator("ol.timeline")).to_contain_text(f"Dispatch rule: {DEMO_RULE}")


def assign_engineer(dispatcher: Page, number: str) -> None:
    nav(dispatcher, "Service tickets")
    assert path_of(dispatcher) == TICKETS  # the enterprise's tickets, for its dispatcher
    search = dispatcher.get_by_role("search")
    fill_form(search, {"q": number})
    submit(search, "Filter")
    follow(dispatcher, number, within="table.list")
    expect(dispatcher.locator("h1")).to_contain_text("Dispatched")
    facts = dispatcher.locator("dl.facts")
    # until FixIt accepts, the customer's phone and the site stay hidden from it
    expect(facts).not_to_contain_text("+86 411 8888 1234")
    expect(dispatcher.locator("main")).to_contain_text("show once the ticket is accepted")
    form = dispatcher.locator("form.action-assign")
    fill_form(form, {"engineer_id": FIXIT_ENGINEER.name})
    submit(form, "Assign an engineer")
    expect(facts).to_contain_text(FIXIT_ENGINEER.name)


def fits(phone: Page, what: str) -> None:
    assert horizontal_overflow(phone) == 0, f"{what}: the engineer's page is wider than the phone"


def step(phone: Page, button: str, status: str, note: str | None = None) -> None:
    """Take the ticket's next step with its big button and land on the ticket in its new status."""
    form = phone.locator("#actions form").filter(has=phone.get_by_role("button", name=button, exact=True))
    if note is not None:
        form.locator('[name="note"]').fill(note)
    submit(form, button)
    expect(phone.locator("h1 .ticket-status")).to_have_text(status)
    fits(phone, status)


def sign_on_the_screen(phone: Page, signer: str) -> None:
    pad = phone.locator("form[data-signature] canvas")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    phone.mouse.move(box["x"] + 15, box["y"] + box["height"] * 0.6)
    phone.mouse.down()
    for n in range(1, 14):
        phone.mouse.move(box["x"] + 15 + n * 20, box["y"] + box["height"] * (0.6 - 0.25 * (n % 2)))
    phone.mouse.up()
    form = phone.locator("form[data-signature]")
    form.locator('[name="signer"]').fill(signer)
    submit(form, "Save the signature")


def work_on_site(phone: Page, number: str) -> None:
    """The engineer's whole visit, on the phone."""
    nav(phone, "My tickets")  # through the phone's folded menu
    assert path_of(phone) == JOBS
    fits(phone, "my tickets")
    card = phone.locator("ul.jobs a.job").filter(has_text=number)
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Dispatched")
    screenshot(phone, "service-3-engineer-jobs")
    with phone.expect_navigation():
        card.click()
    expect(phone.locator("h1")).to_contain_text(number)
    fits(phone, "the dispatched ticket")

    step(phone, "Accept", "Accepted")
    expect(phone.locator("dl.facts")).to_contain_text("+86 411 8888 1234")  # now FixIt may call the customer
    expect(phone.locator("dl.facts")).to_contain_text("18 Harbour Road, Dalian")
    step(phone, "I am on my way", "On the way")

    submit(phone.locator("form[data-check-in]"), "Check in on site")
    expect(phone.locator('[role="status"]')).to_contain_text("You are checked in on site.")
    expect(phone.locator("h1 .ticket-status")).to_have_text("On site")
    field = phone.locator("#field")
    expect(field).to_contain_text("31.00000, 121.50000")
    fits(phone, "on site")

    parts = phone.locator('form[action$="/field/part"]')
    chosen = parts.locator('select[name="product_id"] option:not([value=""])').first
    part_label = chosen.inner_text().split(" · ")[0]
    fill_form(parts, {"product_id": chosen.get_attribute("value") or "", "quantity": "1"})
    submit(parts, "Record the part")
    expect(field.locator("li.field-part").filter(has_text=part_label)).to_contain_text("\u00d7 1")  # times one
    fits(phone, "a part recorded")

    photo = phone.locator('form[action$="/field/photo"]')
    photo.locator('input[type="file"]').set_input_files(
        files=[{"name": "pump.jpg", "mimeType": "image/jpeg", "buffer": a_jpeg()}]
    )
    submit(photo, "Upload the photo")
    shown = field.locator("img.field-photo").last
    expect(shown).to_be_visible()
    assert loaded_width(shown) == 64  # served back, as uploaded
    fits(phone, "a photo uploaded")

    sign_on_the_screen(phone, "Ms Gao")
    expect(phone.locator('[role="status"]')).to_contain_text("The customer's signature is saved.")
    expect(field).to_contain_text("Customer signed: Ms Gao")
    assert loaded_width(field.locator("img.field-signature").last) > 0
    fits(phone, "signed")
    # only the images are framed: each entry of the record, the photo's and signature's too, is as wide as it
    framed = field.locator("ol.field-record > li").evaluate_all(
        """items => items.filter(li => getComputedStyle(li).borderTopStyle !== "none"
            || li.getBoundingClientRect().width < li.parentElement.getBoundingClientRect().width - 1)
            .map(li => li.className)"""
    )
    assert framed == [], f"record entries laid out as images: {framed}"
    screenshot(phone, "service-4-engineer-on-site")

    step(phone, "Mark as resolved", "Resolved", note="Replaced the pressure switch; tested for 20 minutes.")
    expect(phone.locator("#actions")).to_have_count(0)  # nothing left for the engineer to do
    screenshot(phone, "service-5-engineer-resolved")


def confirm_and_rate(customer: Page, progress: str) -> None:
    go(customer, progress)
    expect(customer.locator(".status-now")).to_have_text("The work is done: please confirm")
    main = customer.locator("main")
    expect(main).to_contain_text(FIXIT)
    timeline = customer.locator("ol.timeline")
    for said in ("A service partner is being arranged", "The engineer is on the way", "The engineer is on site"):
        expect(timeline).to_contain_text(said)
    expect(timeline).not_to_contain_text("Part used")  # the field steps are the engineer's
    form = main.locator("form")
    form.get_by_label("5", exact=True).check()
    fill_form(form, {"comment": "Quick and tidy, thank you"})
    submit(form, "Confirm the work is done")
    expect(customer.get_by_role("status")).to_have_text("Thank you: your confirmation and rating are recorded.")
    expect(customer.locator(".status-now")).to_have_text("You confirmed the work")
    expect(main).to_contain_text("★★★★★")
    expect(main.locator("form")).to_have_count(0)  # rated once
    screenshot(customer, "service-6-customer-rated")


def targets_met_and_closed(manager: Page, number: str) -> None:
    open_console_ticket(manager, number)
    expect(manager.locator("h1 .ticket-status")).to_have_text("Confirmed")
    facts = manager.locator("dl.facts")
    expect(facts).to_contain_text("★★★★★ (5/5)")
    expect(facts).to_contain_text("Response due")
    expect(facts).to_contain_text("Resolution due")
    expect(facts.locator(".sla-breached")).to_have_count(0)  # neither target missed
    expect(facts.locator(".sla-met")).to_have_text(["Target met", "Target met"])  # each says so
    expect(manager.locator("ol.timeline")).to_contain_text("The customer confirmed the work")
    expect(manager.locator("ol.timeline")).not_to_contain_text("Confirm for the customer")
    expect(manager.locator("#field")).to_contain_text("Customer signed: Ms Gao")
    screenshot(manager, "service-7-manager-ticket")
    submit(manager.locator("form.action-close"), "Close")
    expect(manager.locator("h1 .ticket-status")).to_have_text("Closed")

    follow(manager, "Dashboards", within="main")
    compliance = manager.locator("section").filter(has=manager.get_by_role("heading", name="compliance by partner"))
    expect(compliance.get_by_role("heading", name=FIXIT)).to_be_visible()
    screenshot(manager, "service-8-dashboard")
    # this week's bar leads to the tickets it counts, ours among them; those that missed a target are
    # listed without it
    with manager.expect_navigation():
        compliance.locator(f"h3:has-text('{FIXIT}') + figure svg a").last.click()
    expect(table_rows(manager, number)).to_have_count(1)
    follow(manager, "Dashboards", within="main")
    follow(manager, "Tickets that missed a target", within=f"section h3:has-text('{FIXIT}')")
    assert "breached=1" in manager.url, manager.url
    expect(manager.locator("h1")).to_contain_text("Service tickets")
    expect(manager.locator("main")).not_to_contain_text(number)


def settle(manager: Page, number: str) -> None:
    follow(manager, "Settlements", within="main")
    today = manager.evaluate("() => new Date().toISOString().slice(0, 10)")  # Acme's workspace keeps UTC
    form = manager.locator('form[action="/console/service/settlements"][method="post"]')
    fill_form(form, {"enterprise_id": FIXIT, "period_start": today, "period_end": today})
    submit(form, "Run the settlement")
    expect(manager.locator("h1")).to_contain_text("Settlement")
    main = manager.locator("main")
    expect(main).to_contain_text(FIXIT)
    expect(table_rows(manager, number)).to_have_count(1)  # closed today, settled now
    screenshot(manager, "service-9-settlement")
    submit(main.locator('form[action$="/approve"]'), "Approve and credit the partner")
    expect(manager.get_by_role("status")).to_have_text(
        "The settlement is approved and credited to the partner's account."
    )
    expect(main.locator("dl")).to_contain_text("Approved")
    expect(main.locator('form[action$="/approve"]')).to_have_count(0)


def test_a_customer_scans_a_device_and_fixit_repairs_it(open_page: Callable[..., Page]) -> None:
    serial = f"BP-{uuid.uuid4().hex[:8].upper()}"
    manager = open_page()
    sign_in_as_staff(manager, SERVICE_MANAGER)
    url = record_device_and_label(manager, serial)

    customer = open_page(phone=True)
    number, progress = open_ticket_as_customer(customer, url, serial)

    dispatch_by_rules(manager, number)
    go(customer, progress)
    expect(customer.locator(".status-now")).to_have_text("A service partner is being arranged")
    expect(customer.locator("main")).to_contain_text(FIXIT)

    dispatcher = open_page()
    sign_in_as_partner(dispatcher, FIXIT_DISPATCHER)
    assign_engineer(dispatcher, number)

    engineer = open_page(
        phone=True, geolocation={"latitude": 31.0, "longitude": 121.5, "accuracy": 25}, permissions=["geolocation"]
    )
    sign_in_as_partner(engineer, FIXIT_ENGINEER)
    work_on_site(engineer, number)

    confirm_and_rate(customer, progress)
    targets_met_and_closed(manager, number)
    settle(manager, number)
