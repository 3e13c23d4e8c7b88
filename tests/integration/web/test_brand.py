"""A tenant's brand: colour, logo, partner sign-in text, shown on its partner portal (sign-in pages too)
and its console; set through the API and the settings page; another tenant's pages keep their own, and
hostile input is refused or shown as text."""

from __future__ import annotations

from litestar.testing import TestClient

from tests.files import png
from tests.integration.web.test_pages import act_as
from tests.world import World, csrf_token


def patch(client: TestClient, world: World, **body: object) -> object:
    return client.patch("/api/workspace", headers=world.a.admin.bearer, json=body)


def test_the_colour_and_the_sign_in_text_reach_the_partner_portal(client: TestClient, world: World) -> None:
    saved = patch(client, world, brand_colour="#C0392B", sign_in_text="Dealers only.\n<script>x</script>")
    assert saved.status_code == 200, saved.text
    assert saved.json()["brand_colour"] == "#c0392b"
    client.cookies.clear()
    css = client.get(f"/p/{world.a.slug}/brand.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "--blue: #c0392b" in css.text
    assert client.get(f"/p/{world.b.slug}/brand.css").text == ""  # another tenant keeps the generic blue
    login = client.get(f"/p/{world.a.slug}/login")
    assert f'href="/p/{world.a.slug}/brand.css"' in login.text
    assert "Dealers only." in login.text and "&lt;script&gt;x&lt;/script&gt;" in login.text
    assert "Dealers only." not in client.get(f"/p/{world.b.slug}/login").text

    # the console shows the tenant's name and brand to its staff
    act_as(client, world.a.admin.cookie)
    console = client.get("/console")
    assert f'href="/p/{world.a.slug}/brand.css"' in console.text and world.a.name in console.text


def test_bad_brand_values_are_refused_and_nothing_changes(client: TestClient, world: World) -> None:
    before = patch(client, world, brand_colour="#112233").json()
    for body, field in (
        ({"brand_colour": "red"}, "colour"),
        ({"brand_colour": "#12345g"}, "colour"),
        ({"brand_colour": "#123456;}body{display:none"}, "colour"),
        ({"email_header": "x" * 201}, "email_header"),
        ({"sign_in_text": "y" * 501}, "sign_in_text"),
        ({"email_header": "bell\x07"}, "email_header"),
        ({"brand_colour": "#abcdef", "time_zone": "Asia/Atlantis"}, "time_zone"),
    ):
        refused = patch(client, world, **body)
        assert refused.status_code == 422, (body, refused.text)
        assert any(e["field"] == field for e in refused.json()["errors"]), refused.json()
    after = client.get("/api/me", headers=world.a.admin.bearer).json()["tenant"]
    assert after["brand_colour"] == before["brand_colour"] == "#112233" and after["time_zone"] == before["time_zone"]
    # clearing is allowed: the generic colour again
    assert patch(client, world, brand_colour="").json()["brand_colour"] is None


def test_a_logo_is_checked_replaced_and_served_to_anyone(client: TestClient, world: World) -> None:
    headers = world.a.admin.bearer
    default = client.get(f"/p/{world.a.slug}/logo", follow_redirects=False)
    assert default.status_code in (302, 303) and default.headers["location"] == "/static/img/logo.svg"

    refused = client.put("/api/workspace/logo", headers=headers, files={"file": ("logo.png", b"<html>hi</html>")})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "file"
    first = client.put("/api/workspace/logo", headers=headers, files={"file": ("logo.png", png(size=(32, 32)))})
    assert first.status_code == 200, first.text
    first_id = first.json()["brand_logo_id"]
    client.cookies.clear()
    served = client.get(f"/p/{world.a.slug}/logo")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"] == 'inline; filename="logo.png"'  # not the uploader's name
    assert served.headers["cache-control"].startswith("private")  # never kept by a shared cache
    assert b"secret note" not in served.content  # re-encoded: the PNG's text chunk is gone
    # another tenant's portal shows its own (the generic) logo; its staff cannot read A's file by id either
    assert client.get(f"/p/{world.b.slug}/logo", follow_redirects=False).status_code in (302, 303)
    assert client.get(f"/api/attachments/{first_id}", headers=world.b.admin.bearer).status_code == 404

    second = client.put("/api/workspace/logo", headers=headers, files={"file": ("new.png", png(size=(40, 40)))})
    assert second.json()["brand_logo_id"] != first_id
    assert client.get(f"/api/attachments/{first_id}", headers=headers).status_code == 404  # the old one is gone
    removed = client.delete("/api/workspace/logo", headers=headers)
    assert removed.status_code == 200 and removed.json()["brand_logo_id"] is None
    assert client.get(f"/p/{world.a.slug}/logo", follow_redirects=False).status_code in (302, 303)

    # partners and staff without the workspace permission cannot change it
    assert client.delete("/api/workspace/logo", headers=world.x.admin.bearer).status_code == 403


def test_the_settings_page_edits_the_brand(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    token = csrf_token(client, "/console/settings")
    form = {"colour": "#224466", "sign_in_text": "Welcome,\npartners", "email_header": "Acme", "_csrf_token": token}
    saved = client.post("/console/settings/brand", data=form, follow_redirects=False)
    assert saved.status_code in (302, 303), saved.text
    page = client.get("/console/settings")
    assert 'value="#224466"' in page.text and "Welcome,\npartners" in page.text
    bad = {**form, "colour": "blue"}
    refused = client.post("/console/settings/brand", data=bad, follow_redirects=False)
    assert refused.status_code == 422 and 'value="blue"' in refused.text
    upload = client.post(
        "/console/settings/logo",
        data={"_csrf_token": token},
        files={"file": ("logo.txt", b"just text")},
        follow_redirects=False,
    )
    assert upload.status_code == 422 and 'id="file-error"' in upload.text
