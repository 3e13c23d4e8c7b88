"""Field work and spare parts on pages: FixIt's engineer works a ticket on the phone page (check-in with
a location, a note, a part, a camera photo, the signature), a photo that is not an image is refused with
a readable page, and the console shows the record with the photo. FixIt's dispatcher asks for parts,
staff approve and ship them on the console. Another enterprise finds none of it."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.files import SVG, jpeg_with_gps
from tests.integration.service.support import fixit
from tests.integration.service.test_field import on_the_way, signature_png, stocked
from tests.integration.service.test_pages import in_chinese, page
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.world import World, csrf_token


def upload(client: TestClient, path: str, form_page: str, name: str, content: bytes, kind: str, **data: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, form_page)
    return client.post(
        path, data={**data, "_csrf_token": token}, files={"file": (name, content, kind)}, follow_redirects=False
    )


def test_the_engineer_works_on_site_from_the_phone_page(client: TestClient, world: World) -> None:
    _dispatcher, engineer = fixit(world)
    product = stocked(client, world, 2)
    ticket = on_the_way(client, world)
    slug = world.a.slug
    path = f"/p/{slug}/service/jobs/{ticket['id']}"
    act_as(client, engineer.cookie)
    html = page(client, path)
    assert "Check in on site" in html and "service-field.js" in html
    checked = submit(
        client,
        f"{path}/field/check-in",
        {"latitude": "31.2304", "longitude": "121.4737", "accuracy_m": "9"},
        form_page=path,
    )
    assert checked.status_code in REDIRECTS, checked.text
    html = page(client, checked.headers["location"])
    assert "You are checked in on site." in html and "31.23040, 121.47370" in html
    assert 'capture="environment"' in html and 'accept="image/*"' in html and "<canvas" in html

    assert submit(client, f"{path}/field/note", {"text": "Seal replaced"}, form_page=path).status_code in REDIRECTS
    assert (
        submit(client, f"{path}/field/part", {"product_id": product, "quantity": "1"}, form_page=path).status_code
        in REDIRECTS
    )
    too_many = submit(client, f"{path}/field/part", {"product_id": product, "quantity": "5"}, form_page=path)
    assert_readable_page(too_many, 409, "in your stock")
    refused = upload(client, f"{path}/field/photo", path, "pump.jpg", SVG, "image/jpeg")
    assert_readable_page(refused, 422, "SVG")
    sent = upload(client, f"{path}/field/photo", path, "pump.jpg", jpeg_with_gps(), "image/jpeg")
    assert sent.status_code in REDIRECTS, sent.text
    signed = upload(
        client, f"{path}/field/signature", path, "signature.png", signature_png(), "image/png", signer="Mr Lake"
    )
    assert signed.status_code in REDIRECTS, signed.text
    html = page(client, path)
    assert "Seal replaced" in html and "Mr Lake" in html and 'class="field-photo"' in html
    photo_url = html.split('class="field-photo" src="', 1)[1].split('"', 1)[0]
    assert client.get(photo_url).status_code == 200

    # another enterprise: the ticket, its steps and its photo are not found
    act_as(client, world.service["other"].admin.cookie)
    assert client.get(f"/p/{slug}/service/tickets/{ticket['id']}", follow_redirects=False).status_code == 404
    intruded = client.post(
        f"/p/{slug}/service/tickets/{ticket['id']}/field/note",
        data={"text": "x", "_csrf_token": csrf_token(client, f"/p/{slug}/service/tickets")},
        follow_redirects=False,
    )
    assert intruded.status_code == 404
    assert client.get(photo_url).status_code == 404

    # the console shows the record with the photo; in Chinese too
    act_as(client, world.a.admin.cookie)
    console = page(client, f"/console/service/tickets/{ticket['id']}")
    assert "Work on site" in console and photo_url in console and "Seal replaced" in console
    # the tenant's rule on signatures, beside the other service settings
    saved = submit(
        client, "/console/service/field/settings", {"signature_required": "on"}, form_page="/console/service/dispatch"
    )
    assert saved.status_code in REDIRECTS
    settings = page(client, saved.headers["location"])
    assert (
        "The setting for work on site is saved." in settings
        and 'name="signature_required" value="on" checked' in settings
    )
    assert (
        submit(client, "/console/service/field/settings", {}, form_page="/console/service/dispatch").status_code
        in REDIRECTS
    )
    in_chinese(client, f"/console/service/tickets/{ticket['id']}")
    assert "现场工作" in page(client, f"/console/service/tickets/{ticket['id']}")


def test_parts_are_requested_approved_and_shipped_on_pages(client: TestClient, world: World) -> None:
    dispatcher, _engineer = fixit(world)
    slug = world.a.slug
    parts = f"/p/{slug}/service/parts"
    act_as(client, dispatcher.cookie)
    html = page(client, parts)
    assert "Ask for parts" in html
    refused = submit(
        client, f"{parts}/requests", {"product_id": world.ids["ordering_product"], "quantity": "0"}, form_page=parts
    )
    assert_readable_page(refused, 422, "whole number")
    made = submit(
        client,
        f"{parts}/requests",
        {"product_id": world.ids["ordering_product"], "quantity": "3", "note": "Spring service"},
        form_page=parts,
    )
    assert made.status_code in REDIRECTS, made.text
    assert "Spring service" in page(client, made.headers["location"])

    act_as(client, world.a.admin.cookie)
    console = page(client, "/console/service/parts?status=requested")
    assert "Spring service" in console and "Approve" in console
    request_id = console.split("/console/service/parts/requests/", 1)[1].split("/", 1)[0]
    no_reason = submit(
        client, f"/console/service/parts/requests/{request_id}/reject", {"note": ""}, form_page="/console/service/parts"
    )
    assert_readable_page(no_reason, 422, "required")
    for action in ("approve", "ship"):
        done = submit(
            client, f"/console/service/parts/requests/{request_id}/{action}", {}, form_page="/console/service/parts"
        )
        assert done.status_code in REDIRECTS, done.text
    again = submit(client, f"/console/service/parts/requests/{request_id}/ship", {}, form_page="/console/service/parts")
    assert_readable_page(again, 409, "Shipped")
    assert world.service["fixit"].name in page(client, "/console/service/parts")

    # the other partner sees neither FixIt's stock nor its requests; tenant B's console none
    act_as(client, world.service["other"].admin.cookie)
    other = page(client, parts)
    assert "Spring service" not in other and "You hold no spare parts yet." in other
    act_as(client, world.b.admin.cookie)
    assert "Spring service" not in page(client, "/console/service/parts?status=shipped")
