"""A dealer opens service tickets for the devices it sold, through the partner API and the portal, and
follows their progress: the warranty read from the device, a retried request opening one ticket, a device
of another dealer or another tenant refused naming the device, and nothing of the service partner's side
or of the customer beyond what the dealer entered shown back. Dealer Y, tenant B and a colleague without
the role see none of it."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.integration.service.support import PARTNER, STAFF, call, device, fixit, ok, partner_act, staff_act
from tests.integration.service.test_pages import page
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import World, unique

OPENED = f"{PARTNER}/opened-tickets"


def body(**values: Any) -> dict[str, Any]:
    return {
        "type": "repair",
        "symptoms": "Pump hums but does not start",
        "contact_name": "Ms Shore",
        "contact_phone": "555-0142",
        **values,
    }


def sold_by(client: TestClient, world: World, dealer_id: str, **values: Any) -> dict[str, Any]:
    """A device of tenant A, sold by the dealer, at a site the dealer never typed."""
    return device(client, world, dealer_id=dealer_id, site_address="9 Secret Lane", **values)


def test_a_dealer_opens_a_ticket_for_a_device_it_sold_once_per_key(client: TestClient, world: World) -> None:
    dealer = world.x.admin
    mine = sold_by(client, world, world.x.link_id)
    key = {"Idempotency-Key": unique("dealer-ticket")}
    first = client.post(OPENED, headers={**dealer.bearer, **key}, json=body(device_id=mine["id"]))
    opened = ok(first, 201)
    assert opened["under_warranty"] is True and opened["serial_number"] == mine["serial_number"]
    # the device's site is the ticket's, but the dealer did not type it: it is not shown back
    assert opened["address"] is None and opened["contact_name"] == "Ms Shore"
    assert [step["status"] for step in opened["progress"]] == ["new"]
    again = client.post(OPENED, headers={**dealer.bearer, **key}, json=body(device_id=mine["id"]))
    assert ok(again, 201)["id"] == opened["id"] and again.headers.get("Idempotent-Replayed") == "true"
    listed = ok(call(client, dealer, "GET", OPENED, params={"search": mine["serial_number"]}))
    assert [t["id"] for t in listed["items"]] == [opened["id"]]

    # staff see an ordinary ticket, opened by the partner, with the device's site
    staff = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{opened['id']}"))
    assert staff["opened_by_kind"] == "external" and staff["address"] == "9 Secret Lane"

    # an expired warranty is read from the device too
    old = sold_by(client, world, world.x.link_id, warranty_end="2020-01-31")
    same = body(device_id=old["id"], serial_number=f" {old['serial_number']} ")  # both naming one device
    assert ok(call(client, dealer, "POST", OPENED, json=same), 201)["device_id"] == old["id"]
    assert (
        ok(call(client, dealer, "POST", OPENED, json=body(serial_number=old["serial_number"])), 201)["under_warranty"]
        is False
    )


def test_a_device_the_dealer_did_not_sell_is_refused_naming_it(client: TestClient, world: World) -> None:
    dealer = world.x.admin
    theirs = sold_by(client, world, world.y.link_id)
    unsold = device(client, world)
    other_tenant = ok(
        call(
            client,
            world.b.admin,
            "POST",
            f"{STAFF}/devices",
            json={
                "serial_number": unique("SN"),
                "product_name": "B pump",
                "customer_name": "B",
                "site_address": "B street",
            },
        ),
        201,
    )
    before = ok(call(client, dealer, "GET", OPENED, params={"status": "all"}))["total"]
    for field, value in (
        ("device_id", theirs["id"]),
        ("device_id", unsold["id"]),
        ("device_id", other_tenant["id"]),
        ("serial_number", theirs["serial_number"]),
        ("serial_number", other_tenant["serial_number"]),
    ):
        refused = call(client, dealer, "POST", OPENED, json=body(**{field: value}))
        assert refused.status_code == 422, refused.text
        errors = {e["field"]: e for e in refused.json()["errors"]}
        assert errors[field]["code"] == "unknown" and value in errors[field]["message"]
    # an id and a serial number naming two devices: the serial number is not quietly dropped
    mine = sold_by(client, world, world.x.link_id)
    for serial in (theirs["serial_number"], unique("SN")):
        both = call(client, dealer, "POST", OPENED, json=body(device_id=mine["id"], serial_number=serial))
        assert both.status_code == 422, both.text
        assert ("serial_number", "mismatch") in [(e["field"], e["code"]) for e in both.json()["errors"]]
    # without a device the address is needed; bad values are named
    bad = call(client, dealer, "POST", OPENED, json=body(type="teleport", contact_phone="", symptoms="x" * 3000))
    assert {"type", "contact_phone", "symptoms", "address"} <= {e["field"] for e in bad.json()["errors"]}
    # nothing was written
    assert ok(call(client, dealer, "GET", OPENED, params={"status": "all"}))["total"] == before


def test_the_dealer_follows_progress_without_the_partners_side(client: TestClient, world: World) -> None:
    dealer = world.x.admin
    opened = ok(
        call(client, dealer, "POST", OPENED, json=body(address="4 Harbour Street", contact_email="shore@example.com")),
        201,
    )
    assert opened["under_warranty"] is None and opened["address"] == "4 Harbour Street"
    dispatcher, _engineer = fixit(world)
    ok(staff_act(client, world, opened["id"], "dispatch", enterprise_id=world.service["fixit"].link_id))
    ok(partner_act(client, dispatcher, opened["id"], "accept", note="Internal: bring the long ladder"))
    ok(partner_act(client, dispatcher, opened["id"], "hold", note="Waiting on seal kit from the depot"))
    followed = ok(call(client, dealer, "GET", f"{OPENED}/{opened['id']}"))
    assert followed["status"] == "on_hold" and followed["service_partner"] == world.service["fixit"].name
    assert [s["status"] for s in followed["progress"]] == ["new", "dispatched", "accepted", "on_hold"]
    text = str(followed)
    assert "ladder" not in text and "seal kit" not in text and "engineer" not in text
    # the dealer does not reach it as a service partner does
    assert call(client, dealer, "GET", f"{PARTNER}/tickets/{opened['id']}").status_code == 404

    # what must not be seen: dealer Y, tenant B, a colleague without the role, the service partner
    for other in (world.y.admin, world.b.admin):
        assert call(client, other, "GET", f"{OPENED}/{opened['id']}").status_code in (403, 404)
        assert opened["id"] not in {t["id"] for t in call(client, other, "GET", OPENED).json().get("items", [])}
    colleague = world.x.people["colleague"]
    assert call(client, colleague, "GET", OPENED).status_code == 403
    assert call(client, colleague, "POST", OPENED, json=body(address="x")).status_code == 403
    assert call(client, dispatcher, "GET", OPENED).status_code == 403
    assert call(client, world.a.admin, "GET", OPENED).status_code == 403  # staff use their own side


def test_the_dealer_opens_and_follows_tickets_on_its_portal_page(client: TestClient, world: World) -> None:
    slug = world.a.slug
    mine = sold_by(client, world, world.x.link_id)
    theirs = sold_by(client, world, world.y.link_id)
    act_as(client, world.x.admin.cookie)
    base = f"/p/{slug}/service/opened"
    listing = page(client, base)
    assert "Open a service ticket" in listing and mine["serial_number"] in listing  # offered in the form
    assert theirs["serial_number"] not in listing
    form = {
        "type": "maintenance",
        "priority": "high",
        "serial_number": mine["serial_number"],
        "symptoms": "Yearly service",
        "contact_name": "Mr Dune",
        "contact_phone": "555-0177",
    }
    refused = submit(client, base, {**form, "serial_number": theirs["serial_number"]}, form_page=base)
    assert_readable_page(refused, 422, theirs["serial_number"])
    created = submit(client, base, form, form_page=base)
    assert created.status_code in REDIRECTS, created.text
    detail = page(client, created.headers["location"])
    assert "The ticket is opened" in detail and "Mr Dune" in detail and "9 Secret Lane" not in detail
    ticket_path = created.headers["location"].split("?")[0]
    assert ticket_path.rsplit("/", 1)[1] in page(client, f"{base}?status=all")
    # Y's people find it nowhere
    act_as(client, world.y.admin.cookie)
    assert client.get(ticket_path, follow_redirects=False).status_code == 404
    assert ticket_path.rsplit("/", 1)[1] not in page(client, f"{base}?status=all")
