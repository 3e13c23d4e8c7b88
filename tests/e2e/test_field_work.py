"""The engineer's phone at the customer's site: FixIt's engineer checks in (the browser gives the
position the phone is allowed to share), has the customer sign with a finger on the screen and sees both
on the ticket's page, which fits a 390 px phone. No script error, nothing the content security policy
refuses (the page's script is served by the app)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.e2e.support import ACME, Person, go, horizontal_overflow, loaded_width, sign_in_as_partner, submit

# the demo's second FixIt engineer, who has the ticket on site ("Pressure drops every afternoon")
FIXIT_ENGINEER = Person("Ivy Installer", "staff2@fx.acme-pumps.example", ACME)
JOBS = f"/p/{ACME}/service/jobs"


def test_the_engineer_checks_in_and_takes_the_signature_on_a_phone(open_page: Callable[..., Page]) -> None:
    phone = open_page(
        phone=True, geolocation={"latitude": 45.75, "longitude": 126.64, "accuracy": 20}, permissions=["geolocation"]
    )
    sign_in_as_partner(phone, FIXIT_ENGINEER)
    go(phone, JOBS)
    with phone.expect_navigation():
        phone.locator("main").get_by_text("Pressure drops every afternoon").first.click()
    expect(phone.locator("#field")).to_contain_text("Work on site")
    assert horizontal_overflow(phone) == 0, "the ticket's page is wider than the phone"
    expect(phone.locator('input[type="file"][capture="environment"]')).to_have_attribute("accept", "image/*")

    submit(phone.locator("form[data-check-in]"))
    expect(phone.locator('[role="status"]')).to_contain_text("You are checked in on site.")
    expect(phone.locator("#field")).to_contain_text("45.75000, 126.64000")

    pad = phone.locator("form[data-signature] canvas")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    phone.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    phone.mouse.down()
    for step in range(1, 12):
        phone.mouse.move(box["x"] + 20 + step * 25, box["y"] + box["height"] / 2 + (-1) ** step * 20)
    phone.mouse.up()
    form = phone.locator("form[data-signature]")
    form.locator('[name="signer"]').fill("Ms Zhou")
    submit(form, "Save the signature")
    expect(phone.locator('[role="status"]')).to_contain_text("The customer's signature is saved.")
    expect(phone.locator("#field")).to_contain_text("Customer signed: Ms Zhou")
    signature = phone.locator("#field img.field-signature").last
    expect(signature).to_be_visible()
    assert loaded_width(signature) > 0  # the PNG is served back to the engineer
    assert horizontal_overflow(phone) == 0
