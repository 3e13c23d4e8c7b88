"""Field work on a ticket through the API: FixIt's engineer checks in on site (with or without the
location), writes notes, fits parts from FixIt's stock, uploads photos (checked by content, stored without
EXIF) and the customer's signature, then resolves (a signature first when the tenant requires it). Each
step is on the timeline and in the outbox. The other partner, tenant B and staff without the permission
see none of it, and a photo is served only to those who may read the ticket."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image
from sqlalchemy import select

from apps.service import public
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.outbox import OutboxEvent
from portal.storage.models import Attachment
from tests.db import run_with_database
from tests.files import SVG, jpeg_with_gps
from tests.integration.service.support import (
    PARTNER,
    STAFF,
    call,
    dispatched,
    fixit,
    job_act,
    ok,
    partner_act,
    staff_act,
)
from tests.integration.service.test_public import number_of, page_address, progress_link, send, ticket_row
from tests.integration.service.test_sla import rows
from tests.world import Credential, World

PRODUCT = "ordering_product"


def stocked(client: TestClient, world: World, quantity: int, product_id: str | None = None) -> str:
    """FixIt holds `quantity` more of the product: its dispatcher requests them, staff approve and ship."""
    dispatcher, _engineer = fixit(world)
    product = product_id or world.ids[PRODUCT]
    made = ok(
        call(
            client,
            dispatcher,
            "POST",
            f"{PARTNER}/parts/requests",
            json={"lines": [{"product_id": product, "quantity": quantity}]},
        ),
        201,
    )
    for action in ("approve", "ship"):
        ok(call(client, world.a.admin, "POST", f"{STAFF}/parts/requests/{made['id']}/{action}", json={}))
    return product


def on_the_way(client: TestClient, world: World) -> dict[str, Any]:
    _dispatcher, engineer = fixit(world)
    ticket = dispatched(client, world)
    ok(job_act(client, engineer, ticket["id"], "accept"))
    return ok(job_act(client, engineer, ticket["id"], "start"))


def on_site(client: TestClient, world: World) -> dict[str, Any]:
    _dispatcher, engineer = fixit(world)
    ticket = on_the_way(client, world)
    ok(field(client, engineer, ticket["id"], "check-in", json={}), 201)
    return ticket


def field(client: TestClient, who: Credential, ticket_id: str, step: str, **kwargs: Any) -> Any:
    return call(client, who, "POST", f"{PARTNER}/jobs/{ticket_id}/{step}", **kwargs)


def upload(content: bytes, name: str = "photo.jpg", kind: str = "image/jpeg") -> dict[str, Any]:
    return {"files": {"file": (name, content, kind)}}


def signature_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 120), (255, 255, 255, 0)).save(out, "PNG")
    return out.getvalue()


def events_of(app: Litestar, ticket_id: str) -> list[str]:
    async def work(db: Database) -> list[str]:
        async with db.session(SYSTEM, write=False) as session:
            rows = await session.scalars(
                select(OutboxEvent.event_type)
                .where(OutboxEvent.aggregate_id == uuid.UUID(ticket_id))
                .order_by(OutboxEvent.id)
            )
            return list(rows)

    return run_with_database(app.state.services.settings, work)


def require_signature(client: TestClient, world: World, required: bool) -> None:
    body = {"signature_required": required}
    assert ok(call(client, world.a.admin, "PUT", f"{STAFF}/field/settings", json=body)) == body


def test_the_engineer_works_a_ticket_on_site_step_by_step(client: TestClient, app: Litestar, world: World) -> None:
    dispatcher, engineer = fixit(world)
    product = stocked(client, world, 3)
    ticket = on_the_way(client, world)
    checked = ok(
        field(
            client,
            engineer,
            ticket["id"],
            "check-in",
            json={"latitude": 31.2304, "longitude": 121.4737, "accuracy_m": 12},
        ),
        201,
    )
    assert checked["kind"] == "check_in" and checked["latitude"] == 31.2304 and checked["accuracy_m"] == 12
    assert ok(call(client, engineer, "GET", f"{PARTNER}/jobs/{ticket['id']}"))["status"] == "on_site"
    ok(field(client, engineer, ticket["id"], "notes", json={"text": "Seal worn; replaced.\nTested 10 min."}), 201)
    part = ok(field(client, engineer, ticket["id"], "parts", json={"product_id": product, "quantity": 2}), 201)
    assert part["quantity"] == 2 and part["sku"]
    photo = ok(field(client, engineer, ticket["id"], "photos", **upload(jpeg_with_gps())))
    assert photo["kind"] == "photo" and photo["url"].startswith("/api/partner/attachments/")
    signed = ok(
        field(
            client,
            engineer,
            ticket["id"],
            "signature",
            files={"file": ("sig.png", signature_png(), "image/png")},
            data={"signer": "Mr Lake"},
        )
    )
    assert signed["note"] == "Mr Lake"
    ok(job_act(client, engineer, ticket["id"], "resolve", note="Seal replaced"))

    record = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{ticket['id']}/field"))
    assert [e["kind"] for e in record["entries"]] == ["check_in", "note", "part", "photo", "signature"]
    assert record["entries"][3]["url"].startswith("/api/attachments/")
    timeline = [
        e["action"] for e in ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{ticket['id']}"))["timeline"]
    ]
    assert timeline[-7:] == ["arrive", "check_in", "work_note", "part_used", "photo", "signature", "resolve"]
    published = events_of(app, ticket["id"])
    for action in ("check_in", "work_note", "part_used", "photo", "signature"):
        assert f"service.ticket.{action}" in published
    stock = ok(call(client, dispatcher, "GET", f"{PARTNER}/parts/stock"))
    assert [row["quantity"] for row in stock if row["product_id"] == product] == [1]

    # the photo is served to those who may read the ticket, without its EXIF (and GPS position)
    served = client.get(photo["url"], headers=engineer.bearer)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(served.content)).getexif()
    assert client.get(record["entries"][3]["url"], headers=world.a.admin.bearer).status_code == 200
    # ... and to nobody else: another service partner, another enterprise, another tenant
    file_id = photo["url"].rsplit("/", 1)[1]
    for stranger in (world.service["other"].admin, world.x.admin, world.b.admin):
        for base in ("/api/partner/attachments", "/api/attachments"):
            assert client.get(f"{base}/{file_id}", headers=stranger.bearer).status_code in (403, 404)
    other = world.service["other"].admin
    assert call(client, other, "GET", f"{PARTNER}/tickets/{ticket['id']}/field").status_code == 404
    assert call(client, world.b.admin, "GET", f"{STAFF}/tickets/{ticket['id']}/field").status_code == 404


def test_check_in_without_a_location_records_the_time_only(client: TestClient, world: World) -> None:
    _dispatcher, engineer = fixit(world)
    ticket = on_the_way(client, world)
    entry = ok(field(client, engineer, ticket["id"], "check-in", json={}), 201)
    assert entry["latitude"] is None and entry["longitude"] is None and entry["at"]


def test_bad_input_is_refused_with_nothing_written(client: TestClient, world: World) -> None:
    _dispatcher, engineer = fixit(world)
    ticket = on_the_way(client, world)
    for body, field_name in (
        ({"latitude": 91, "longitude": 10}, "latitude"),
        ({"latitude": 10, "longitude": -181}, "longitude"),
        ({"latitude": 10}, "longitude"),
        ({"latitude": 10, "longitude": 10, "accuracy_m": 2**31}, "accuracy_m"),
    ):
        refused = field(client, engineer, ticket["id"], "check-in", json=body)
        assert refused.status_code in (400, 422), refused.text
        assert field_name in refused.text
    assert ok(call(client, engineer, "GET", f"{PARTNER}/jobs/{ticket['id']}"))["status"] == "on_the_way"
    # a note before checking in is refused: the engineer is not on site
    early = field(client, engineer, ticket["id"], "notes", json={"text": "Early"})
    assert early.status_code == 409 and early.json()["code"] == "not_on_site"
    ok(field(client, engineer, ticket["id"], "check-in", json={}), 201)
    for text in ("", "   ", "a" * 2001, "bell\x07"):
        refused = field(client, engineer, ticket["id"], "notes", json={"text": text})
        assert refused.status_code in (400, 422), (text, refused.text)
    huge = field(client, engineer, ticket["id"], "parts", json={"product_id": str(uuid.uuid4()), "quantity": 10**12})
    assert huge.status_code in (400, 422)
    record = ok(call(client, engineer, "GET", f"{PARTNER}/jobs/{ticket['id']}/field"))
    assert [e["kind"] for e in record["entries"]] == ["check_in"]


def test_a_photo_that_is_not_an_image_is_refused_clearly(client: TestClient, world: World) -> None:
    _dispatcher, engineer = fixit(world)
    ticket = on_site(client, world)
    for content, name, says in (
        (SVG, "photo.jpg", "SVG"),
        (b"%PDF-1.4 not a photo\n%%EOF", "photo.jpg", "PDF"),
        (b"", "photo.jpg", "empty"),
    ):
        refused = field(client, engineer, ticket["id"], "photos", **upload(content, name))
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["errors"][0]["field"] == "file" and says in problem["errors"][0]["message"], problem
    missing = field(
        client, engineer, ticket["id"], "photos", data={"other": "x"}, files={"x": ("a", b"a", "text/plain")}
    )
    assert missing.status_code == 422
    # a signature must be a PNG
    jpeg = field(client, engineer, ticket["id"], "signature", **upload(jpeg_with_gps()))
    assert jpeg.status_code == 422 and "PNG" in jpeg.text
    record = ok(call(client, engineer, "GET", f"{PARTNER}/jobs/{ticket['id']}/field"))
    assert [e["kind"] for e in record["entries"]] == ["check_in"]


def test_a_part_not_in_stock_is_a_conflict_naming_the_part(client: TestClient, world: World) -> None:
    dispatcher, engineer = fixit(world)
    ticket = on_site(client, world)
    product = world.ids[PRODUCT]
    before = [
        r["quantity"]
        for r in ok(call(client, dispatcher, "GET", f"{PARTNER}/parts/stock"))
        if r["product_id"] == product
    ]
    held = before[0] if before else 0
    refused = field(client, engineer, ticket["id"], "parts", json={"product_id": product, "quantity": held + 1})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "part_not_in_stock"
    catalog = ok(call(client, world.a.admin, "GET", f"/api/ordering/products/{product}"))
    assert catalog["name"] in refused.json()["detail"] and catalog["sku"] in refused.json()["detail"]
    # another tenant's product is not in this catalog at all
    b_product = ok(
        call(
            client,
            world.b.admin,
            "POST",
            "/api/ordering/products",
            json={"sku": f"B-{uuid.uuid4().hex[:6]}", "name": "B part"},
        ),
        201,
    )
    foreign = field(client, engineer, ticket["id"], "parts", json={"product_id": b_product["id"], "quantity": 1})
    assert foreign.status_code == 422 and "product_id" in foreign.text
    record = ok(call(client, engineer, "GET", f"{PARTNER}/jobs/{ticket['id']}/field"))
    assert [e["kind"] for e in record["entries"]] == ["check_in"]


def test_another_enterprise_cannot_work_the_ticket(client: TestClient, world: World) -> None:
    ticket = on_site(client, world)
    other = world.service["other"].admin
    for step, kwargs in (
        ("check-in", {"json": {}}),
        ("notes", {"json": {"text": "Intruder"}}),
        ("photos", upload(jpeg_with_gps())),
    ):
        refused = call(client, other, "POST", f"{PARTNER}/tickets/{ticket['id']}/{step}", **kwargs)
        assert refused.status_code == 404, (step, refused.text)
    # staff read the record but do no field work
    assert call(
        client, world.a.admin, "POST", f"{PARTNER}/tickets/{ticket['id']}/notes", json={"text": "x"}
    ).status_code in (401, 403)
    record = ok(call(client, world.a.admin, "GET", f"{STAFF}/tickets/{ticket['id']}/field"))
    assert [e["kind"] for e in record["entries"]] == ["check_in"]


def test_resolving_needs_a_signature_when_the_tenant_says_so(client: TestClient, world: World) -> None:
    _dispatcher, engineer = fixit(world)
    require_signature(client, world, True)
    # tenant B's rule is its own; a partner may not change it
    assert ok(call(client, world.b.admin, "GET", f"{STAFF}/field/settings")) == {"signature_required": False}
    assert call(client, engineer, "PUT", f"{STAFF}/field/settings", json={"signature_required": False}).status_code in (
        401,
        403,
    )
    try:
        ticket = on_site(client, world)
        assert ok(call(client, engineer, "GET", f"{PARTNER}/jobs/{ticket['id']}/field"))["signature_required"] is True
        refused = job_act(client, engineer, ticket["id"], "resolve", note="Done")
        assert refused.status_code == 409 and refused.json()["code"] == "signature_required"
        assert ok(call(client, engineer, "GET", f"{PARTNER}/jobs/{ticket['id']}"))["status"] == "on_site"
        ok(field(client, engineer, ticket["id"], "signature", files={"file": ("s.png", signature_png(), "image/png")}))
        assert ok(job_act(client, engineer, ticket["id"], "resolve", note="Done"))["status"] == "resolved"
    finally:
        require_signature(client, world, False)


@pytest.fixture
def instant_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """The device page's form may come back at once (its minimum fill time is tested on its own)."""
    monkeypatch.setattr(public, "MIN_FILL", timedelta(0))


def test_the_customers_progress_page_shows_none_of_the_field_work(
    client: TestClient, world: World, instant_form: None
) -> None:
    address = page_address(client, world)
    opened = send(client, address)
    assert opened.status_code == 201, opened.text
    link = progress_link(opened)
    ticket_id = str(ticket_row(client, number_of(opened)).id)
    dispatcher, _engineer = fixit(world)
    ok(staff_act(client, world, ticket_id, "dispatch", enterprise_id=world.service["fixit"].link_id))
    for action in ("accept", "start"):
        ok(partner_act(client, dispatcher, ticket_id, action))
    tickets = f"{PARTNER}/tickets/{ticket_id}"
    ok(call(client, dispatcher, "POST", f"{tickets}/check-in", json={"latitude": 31.2, "longitude": 121.5}), 201)
    ok(call(client, dispatcher, "POST", f"{tickets}/notes", json={"text": "Capacitor swapped"}), 201)
    ok(call(client, dispatcher, "POST", f"{tickets}/photos", **upload(jpeg_with_gps())))
    client.cookies.clear()
    progress = client.get(f"/service/t/{link}")
    assert progress.status_code == 200
    assert progress.text.count("The engineer is on site") <= 2  # the status, and the one step that says so
    assert "Capacitor" not in progress.text and "31.2" not in progress.text and "/attachments/" not in progress.text


def test_a_retried_photo_or_signature_with_its_key_answers_the_first_and_stores_one_file(
    client: TestClient, app: Litestar, world: World
) -> None:
    _dispatcher, engineer = fixit(world)
    ticket = on_site(client, world)
    photos = f"{PARTNER}/jobs/{ticket['id']}/photos"
    key = {**engineer.bearer, "Idempotency-Key": f"photo-{uuid.uuid4().hex}"}
    first = client.post(photos, headers=key, **upload(jpeg_with_gps()))
    again = client.post(photos, headers=key, **upload(jpeg_with_gps()))  # a new multipart boundary each time
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    other = client.post(photos, headers=key, **upload(jpeg_with_gps(), name="other.jpg"))
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"

    signature = f"{PARTNER}/jobs/{ticket['id']}/signature"
    signed = {**engineer.bearer, "Idempotency-Key": f"signature-{uuid.uuid4().hex}"}
    form = {"files": {"file": ("sig.png", signature_png(), "image/png")}, "data": {"signer": "Mr Lake"}}
    once = client.post(signature, headers=signed, **form)
    twice = client.post(signature, headers=signed, **form)
    assert once.status_code == twice.status_code == 200 and twice.json()["id"] == once.json()["id"]

    record = ok(call(client, engineer, "GET", f"{PARTNER}/jobs/{ticket['id']}/field"))
    assert [e["kind"] for e in record["entries"]].count("photo") == 1
    assert [e["kind"] for e in record["entries"]].count("signature") == 1
    stored = rows(app, select(Attachment).where(Attachment.owner_id == uuid.UUID(ticket["id"])))
    assert len(stored) == 2
    # another enterprise's people cannot replay it: the key is the person's own
    other_key = {**world.service["other"].admin.bearer, "Idempotency-Key": key["Idempotency-Key"]}
    assert client.post(photos, headers=other_key, **upload(jpeg_with_gps())).status_code in (403, 404)
