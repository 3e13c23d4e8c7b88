"""Announcements: published by the manufacturer to all partners or to chosen types, read by partners on
their home, through the portal and the API while current; withdrawn or expired ones disappear at once;
another tenant's partners never see them; hostile text comes back out as text."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar.testing import TestClient

from tests.integration.web.test_pages import act_as
from tests.world import Credential, World, csrf_token, partner_type_id


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def publish(client: TestClient, world: World, **body: Any) -> Any:
    body = {"title": "Holiday schedule", "body": "Closed 1-7 October.", **body}
    return client.post("/api/interconnect/announcements", headers=world.a.admin.bearer, json=body)


def titles(client: TestClient, who: Credential) -> list[str]:
    return [a["title"] for a in ok(client.get("/api/partner/announcements", headers=who.bearer))["items"]]


def test_partners_read_what_is_addressed_to_them_while_it_is_current(client: TestClient, world: World) -> None:
    everyone = ok(publish(client, world, title="To everyone"), 201)
    service_type = partner_type_id(client, world.a.admin, "service_provider")
    ok(publish(client, world, title="To service partners", partner_type_ids=[service_type]), 201)
    assert titles(client, world.x.admin)[:2] == ["To everyone", "Spring prices"]
    assert "To service partners" not in titles(client, world.x.admin)
    fixit = world.service["fixit"].admin
    assert titles(client, fixit)[:2] == ["To service partners", "To everyone"]

    # another tenant's partners see none of it, not even by id
    assert client.get("/api/partner/announcements", headers=world.b.admin.bearer).status_code == 403
    assert client.get(f"/api/partner/announcements/{everyone['id']}", headers=world.x.admin.bearer).status_code == 200

    # on the home: the newest first, each linking to its page
    home = ok(client.get("/api/partner/home", headers=world.x.admin.bearer))
    widget = next(w for w in home["widgets"] if w["key"] == "interconnect.announcements")
    assert widget["links"][0] == {"text": "To everyone", "page": f"/p/{world.a.slug}/announcements/{everyone['id']}"}

    withdrawn = ok(
        client.post(f"/api/interconnect/announcements/{everyone['id']}/withdraw", headers=world.a.admin.bearer)
    )
    assert withdrawn["withdrawn_at"] is not None
    assert "To everyone" not in titles(client, world.x.admin)
    gone = client.get(f"/api/partner/announcements/{everyone['id']}", headers=world.x.admin.bearer)
    assert gone.status_code == 404
    again = client.post(f"/api/interconnect/announcements/{everyone['id']}/withdraw", headers=world.a.admin.bearer)
    assert again.status_code == 409
    # the manufacturer's list keeps it, marked withdrawn
    listed = ok(client.get("/api/interconnect/announcements", headers=world.a.admin.bearer))
    assert any(a["id"] == everyone["id"] and a["withdrawn_at"] for a in listed["items"])


def test_bad_announcements_are_refused_whole(client: TestClient, world: World) -> None:
    before = ok(client.get("/api/interconnect/announcements", headers=world.a.admin.bearer))["total"]
    for body, field in (
        ({"title": "  "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"body": ""}, "body"),
        ({"title": "Bell\x07"}, "title"),
        ({"until": (date.today() - timedelta(days=2)).isoformat()}, "until"),
        ({"until": "9999-12-31"}, "until"),
        ({"partner_type_ids": ["01900000-0000-7000-8000-000000000000"]}, "partner_type_ids"),
    ):
        refused = publish(client, world, **body)
        assert refused.status_code == 422, (body, refused.text)
        assert any(e["field"] == field for e in refused.json()["errors"]), refused.json()
    # a partner type of another tenant is as unknown as one that never existed
    b_type = partner_type_id(client, world.b.admin, "dealer")
    assert publish(client, world, partner_type_ids=[b_type]).status_code == 422
    assert ok(client.get("/api/interconnect/announcements", headers=world.a.admin.bearer))["total"] == before
    # partners cannot publish; staff without the programme's update permission cannot either
    partner = client.post(
        "/api/interconnect/announcements", headers=world.x.admin.bearer, json={"title": "t", "body": "b"}
    )
    assert partner.status_code == 403


def test_the_console_publishes_and_the_portal_shows_text_as_text(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    token = csrf_token(client, "/console/partners/announcements")
    hostile = "<script>alert(1)</script>\nLine two"
    sent = {"title": "<b>Prices</b>", "body": hostile, "until": "", "_csrf_token": token}
    published = client.post("/console/partners/announcements", data=sent, follow_redirects=False)
    assert published.status_code in (302, 303), published.text
    listing = client.get("/console/partners/announcements")
    assert "&lt;b&gt;Prices&lt;/b&gt;" in listing.text and "<b>Prices</b>" not in listing.text
    refused = client.post(
        "/console/partners/announcements",
        data={"title": "", "body": "kept", "until": "someday", "_csrf_token": token},
        follow_redirects=False,
    )
    assert refused.status_code == 422 and "kept" in refused.text

    act_as(client, world.x.admin.cookie)
    home = client.get(f"/p/{world.a.slug}/")
    assert "&lt;b&gt;Prices&lt;/b&gt;" in home.text and "<script>alert" not in home.text
    page = client.get(f"/p/{world.a.slug}/announcements")
    assert page.status_code == 200 and "&lt;script&gt;" in page.text and "<script>alert" not in page.text
