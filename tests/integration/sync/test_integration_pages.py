"""The console's integration key pages: create a key (shown once), its page, rotate, revoke, the latest
requests and refusals, in both languages; a read-only staff member sees no forms, another tenant finds
nothing."""

from __future__ import annotations

import html
import re

from litestar.testing import TestClient

from tests.integration.web.test_pages import REDIRECTS, act_as, submit
from tests.world import World

KEY = re.compile(r"pik_[0-9a-f]{32}\.[0-9a-f]{32}\.[A-Za-z0-9_-]{40,}")
SCOPES = ["integration.products", "integration.changes"]


def add_key(client: TestClient, name: str = "Kingdee ERP") -> tuple[str, str]:
    response = submit(client, "/console/integrations", {"name": name, "scopes": SCOPES, "expires_in_days": "90"})
    assert response.status_code == 201, response.text
    found = KEY.search(response.text)
    key_id = re.search(r'action="/console/integrations/([0-9a-f-]{36})/revoke"', response.text)
    assert found and key_id
    return key_id.group(1), found.group(0)


def test_an_admin_creates_rotates_and_revokes_a_key_and_sees_its_requests(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    assert 'href="/console/integrations"' in client.get("/console").text
    key_id, key = add_key(client)
    page = client.get(f"/console/integrations/{key_id}")
    assert page.status_code == 200 and key not in page.text and "Kingdee ERP" in page.text
    listing = client.get("/console/integrations")
    assert key not in listing.text and "Kingdee ERP" in listing.text and key.split(".")[2][:6] in listing.text

    # the key's requests and refusals show on the list and the key's page
    client.cookies.clear()
    assert client.get("/api/integration/changes", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    refused = client.post("/api/integration/stock", headers={"Authorization": f"Bearer {key}"}, json={"items": []})
    assert refused.status_code == 403
    act_as(client, world.a.admin.cookie)
    listing = client.get("/console/integrations").text
    assert (
        "GET /api/integration/changes" in listing and "insufficient_scope" in listing and "Latest refusals" in listing
    )
    assert "POST /api/integration/stock" in client.get(f"/console/integrations/{key_id}").text

    rotated = submit(
        client,
        f"/console/integrations/{key_id}/rotate",
        {"overlap_hours": "1"},
        form_page=f"/console/integrations/{key_id}",
    )
    assert rotated.status_code == 200, rotated.text
    new_key = KEY.search(rotated.text)
    assert new_key and new_key.group(0) != key
    old_page = client.get(f"/console/integrations/{key_id}").text
    assert "Rotated, works until the overlap ends" in old_page and "/rotate" not in old_page
    client.cookies.clear()
    for shown in (key, new_key.group(0)):  # both work during the overlap
        assert client.get("/api/integration/changes", headers={"Authorization": f"Bearer {shown}"}).status_code == 200
    act_as(client, world.a.admin.cookie)

    revoked = submit(client, f"/console/integrations/{key_id}/revoke", {}, form_page=f"/console/integrations/{key_id}")
    assert revoked.status_code in REDIRECTS
    shown = client.get(revoked.headers["location"]).text
    assert "The key was revoked: it no longer works." in shown
    client.cookies.clear()
    assert client.get("/api/integration/changes", headers={"Authorization": f"Bearer {key}"}).status_code == 401

    # a bad rotation is refused with the reason, and changes nothing
    act_as(client, world.a.admin.cookie)
    again = submit(
        client,
        f"/console/integrations/{key_id}/rotate",
        {"overlap_hours": "1"},
        form_page=f"/console/integrations/{key_id}",
    )
    assert again.status_code == 422 and "Only an active key" in html.unescape(again.text)


def test_refused_forms_name_the_field_in_both_languages(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    response = submit(client, "/console/integrations", {"name": "", "expires_in_days": "9999"})
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "choose at least one" in text and "must be between 1 and 730" in text and "is required" in text
    assert not KEY.search(response.text)
    submit(client, "/lang", {"language": "zh_CN", "next": "/console/integrations"}, form_page="/console")
    zh = client.get("/console/integrations")
    assert zh.status_code == 200 and "集成密钥" in zh.text and "创建密钥" in zh.text and "读取变更流" in zh.text
    refused = submit(client, "/console/integrations", {"name": "ERP", "scopes": ["integration.orders"]})
    assert refused.status_code == 422 and "必须是" in html.unescape(refused.text)
    made = submit(client, "/console/integrations", {"name": "金蝶 ERP", "scopes": SCOPES})
    assert made.status_code == 201 and "请立即复制" in made.text and KEY.search(made.text)


def test_read_only_staff_see_no_forms_and_another_tenant_finds_nothing(client: TestClient, world: World) -> None:
    act_as(client, world.a.admin.cookie)
    key_id, key = add_key(client, "Harbour ERP")
    act_as(client, world.a.others["staff"].cookie)
    listing = client.get("/console/integrations")
    if listing.status_code == 200:
        assert 'action="/console/integrations#new"' not in listing.text
        page = client.get(f"/console/integrations/{key_id}")
        assert "/rotate" not in page.text and "/revoke" not in page.text
    else:
        assert listing.status_code == 403
    act_as(client, world.b.admin.cookie)
    assert client.get(f"/console/integrations/{key_id}").status_code == 404
    assert "Harbour ERP" not in client.get("/console/integrations").text
    revoke = submit(client, f"/console/integrations/{key_id}/revoke", {}, form_page="/console/integrations")
    assert revoke.status_code == 404
    client.cookies.clear()
    assert client.get("/api/integration/changes", headers={"Authorization": f"Bearer {key}"}).status_code == 200
