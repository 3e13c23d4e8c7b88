"""The console's webhook pages: add an endpoint (its secret shown once), its page, ping, rotate, edit,
the delivery log and replay, in both languages; a read-only staff member sees no forms, another tenant
finds nothing."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from sync.webhooks.service import Webhooks
from sync.webhooks.signing import verify
from tests.integration.sync.receiver import Receiver, start
from tests.integration.web.test_pages import REDIRECTS, act_as, submit
from tests.world import World

SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{40,}")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = start()
    yield server
    server.close()


@pytest.fixture
def hooks(app: Litestar, receiver: Receiver) -> Iterator[Webhooks]:
    webhooks: Webhooks = app.state.services.extensions["webhooks"]
    saved = webhooks.config
    webhooks.config = dataclasses.replace(saved, allow_hosts=frozenset({receiver.host}))
    receiver.received.clear()
    receiver.routes.clear()
    yield webhooks
    webhooks.config = saved


def add_endpoint(client: TestClient, url: str) -> tuple[str, str]:
    response = submit(
        client,
        "/console/webhooks",
        {"url": url, "description": "ERP", "event_types": ["ordering.order.approved", "user.joined"], "active": "on"},
    )
    assert response.status_code == 201, response.text
    secret = SECRET.search(response.text)
    endpoint = re.search(r'action="/console/webhooks/([0-9a-f-]{36})/ping"', response.text)
    assert secret and endpoint
    return endpoint.group(1), secret.group(0)


def test_an_admin_adds_pings_rotates_and_replays(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver
) -> None:
    act_as(client, world.a.admin.cookie)
    assert 'href="/console/webhooks"' in client.get("/console").text
    endpoint_id, secret = add_endpoint(client, receiver.url("/page-hook"))
    page = client.get(f"/console/webhooks/{endpoint_id}")
    assert page.status_code == 200 and secret not in page.text and "ERP" in page.text
    assert secret not in client.get("/console/webhooks").text

    ping = submit(client, f"/console/webhooks/{endpoint_id}/ping", {}, form_page=f"/console/webhooks/{endpoint_id}")
    assert ping.status_code in REDIRECTS
    delivery = client.get(ping.headers["location"])
    assert delivery.status_code == 200 and "webhook.ping" in delivery.text and "Succeeded" in delivery.text
    [request] = receiver.received
    assert verify(secret, request.headers["Portal-Signature"], request.body)

    rotated = submit(
        client, f"/console/webhooks/{endpoint_id}/rotate", {}, form_page=f"/console/webhooks/{endpoint_id}"
    )
    assert rotated.status_code == 200
    new_secret = SECRET.search(rotated.text)
    assert new_secret and new_secret.group(0) != secret and "still signs deliveries until" in rotated.text

    receiver.answer("/page-hook", 500)
    replay = submit(client, f"{ping.headers['location']}/replay", {}, form_page=ping.headers["location"])
    assert replay.status_code in REDIRECTS
    replayed = client.get(replay.headers["location"])
    assert "answered 500" in replayed.text and "Failed, retried" in replayed.text

    log = client.get(f"/console/webhooks/deliveries?endpoint={endpoint_id}&outcome=failed")
    assert log.status_code == 200 and "(1)" in log.text
    assert client.get("/console/webhooks/deliveries?outcome=nonsense&event=not-a-uuid").status_code == 200

    edited = submit(
        client,
        f"/console/webhooks/{endpoint_id}",
        {"url": receiver.url("/page-hook"), "description": "ERP 2", "event_types": ["user.joined"]},
    )
    assert edited.status_code in REDIRECTS
    shown = client.get(edited.headers["location"]).text
    assert "ERP 2" in shown and "Disabled" in shown


def test_refused_addresses_and_missing_types_are_shown_on_the_form(
    client: TestClient, world: World, hooks: Webhooks
) -> None:
    act_as(client, world.a.admin.cookie)
    response = submit(client, "/console/webhooks", {"url": "https://169.254.169.254/latest", "active": "on"})
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "a link-local address" in text or "a cloud metadata address" in text
    assert "Choose at least one event type" in text
    submit(client, "/lang", {"language": "zh_CN", "next": "/console/webhooks"}, form_page="/console")
    zh = client.get("/console/webhooks")
    assert zh.status_code == 200 and "添加端点" in zh.text and "合作伙伴下了订单" in zh.text
    refused = submit(client, "/console/webhooks", {"url": "https://127.0.0.1/", "event_types": ["user.joined"]})
    assert "解析到 127.0.0.1" in html.unescape(refused.text) and "回环地址" in html.unescape(refused.text)


def test_read_only_staff_see_no_forms_and_another_tenant_finds_nothing(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver
) -> None:
    act_as(client, world.a.admin.cookie)
    endpoint_id, _secret = add_endpoint(client, receiver.url("/page-hook"))
    act_as(client, world.a.others["staff"].cookie)
    page = client.get(f"/console/webhooks/{endpoint_id}")
    assert page.status_code == 200 and "/ping" not in page.text and "/rotate" not in page.text
    assert 'action="/console/webhooks#new"' not in client.get("/console/webhooks").text
    act_as(client, world.b.admin.cookie)
    assert client.get(f"/console/webhooks/{endpoint_id}").status_code == 404
    assert receiver.url("/page-hook") not in client.get("/console/webhooks").text
