"""Cross-tenant sync across two deployments: the test's application (the upstream, Acme) and a second
deployment of the app with a database of its own, each served on a loopback port. They pair with a
one-time code; the upstream's products reach the partner's catalog there through the delivery workers
(signed requests, retries, nothing lost or doubled while the partner's deployment is down); the inbound
endpoint refuses a wrong, expired or replayed signature and changes nothing; unpairing stops traffic; the
other tenant of the upstream sees none of it."""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from portal.db import migrate
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.http.app import create_app
from sync.delivery.engine import DeliveryConfig, DeliveryEngine
from sync.delivery.worker import subscribers_of
from sync.peers import wire
from sync.peers.models import SyncPeer, SyncPeerCode
from sync.webhooks import signing
from tests.conftest import make_settings
from tests.db import run_with_database
from tests.integration.ordering.support import price_list, staff, stock
from tests.integration.sync.deployment import Served, free_port
from tests.integration.web.test_pages import REDIRECTS, act_as, assert_readable_page, submit
from tests.lanes import postgres_url, private_database
from tests.world import TenantWorld, World, credential, partner_type_id, sign_up, unique

# retries due at once: a test runs the workers pass after pass as a worker's clock would
RETRY_AT_ONCE = DeliveryConfig(
    batch_size=10, timeout_seconds=20.0, lease_margin_seconds=5.0, retry_base_seconds=0.0, line_batch=100
)


@pytest.fixture(scope="module")
def remote(lane: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The partner's deployment: its own database, migrated, served on a loopback port."""
    drop = None
    if lane == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('peer') / 'peer.db'}"
    else:
        url, _container = postgres_url()
        url, drop = private_database(url)
    migrate.upgrade(make_settings(url))
    port = free_port()
    settings = make_settings(url, base_url=f"http://127.0.0.1:{port}", extra={"WEBHOOK_ALLOW_HOSTS": "127.0.0.1"})
    with TestClient(create_app(settings), base_url=f"http://127.0.0.1:{port}") as client:
        served = Served(client, port)
        served.start()
        try:
            yield served
        finally:
            served.stop()
    if drop is not None:
        drop()


@pytest.fixture
def upstream(client: TestClient) -> Iterator[Served]:
    """The test's application served on a loopback port too, allowed to send to loopback addresses (as
    PORTAL_WEBHOOK_ALLOW_HOSTS allows an on-premises peer)."""
    webhooks = client.app.state.services.extensions["webhooks"]
    config = webhooks.config
    webhooks.config = dataclasses.replace(config, allow_hosts=frozenset({"127.0.0.1"}))
    served = Served(client)
    served.start()
    try:
        yield served
    finally:
        served.stop()
        webhooks.config = config


def work(client: TestClient, passes: int | None = None, config: DeliveryConfig = RETRY_AT_ONCE) -> int:
    """The delivery workers' own engine on the deployment: until nothing is left to do (or `passes`)."""
    services = client.app.state.services

    async def run() -> int:
        engine = DeliveryEngine(services, subscribers_of(services), config, worker_id="tests")
        total = 0
        for n in range(passes or 500):
            did = await engine.fan_out()
            did += await engine.deliver_batch()
            await engine.settle()
            total += did
            if not did and passes is None:
                break
            assert n < 499, "the workers never ran out of work"
        return total

    return client.blocking_portal.call(run)


def partner_workspace(remote: Served, label: str) -> TenantWorld:
    tenant_id, slug, name, admin_id = sign_up(remote.client, label)
    return TenantWorld(tenant_id, slug, name, credential(remote.client, slug, admin_id, f"admin@{slug}.example"))


def remote_link(client: TestClient, upstream: TenantWorld, name: str) -> str:
    """A partner enterprise of the upstream whose workspace is not on this deployment (active)."""
    created = client.post(
        "/api/interconnect/enterprises",
        headers=upstream.admin.bearer,
        json={"name": name, "partner_type_id": partner_type_id(client, upstream.admin, "distributor")},
    )
    assert created.status_code == 201, created.text
    link = created.json()["enterprise"]
    if link["status"] != "active":
        from interconnect.models import EnterpriseLink
        from portal.db.context import tenant_context

        async def activate(db: Database) -> None:
            async with db.session(tenant_context(uuid.UUID(upstream.tenant_id), channel="system")) as session:
                row = (
                    await session.scalars(select(EnterpriseLink).where(EnterpriseLink.id == uuid.UUID(link["id"])))
                ).one()
                row.status = "active"

        run_with_database(client.app.state.services.settings, activate)
    return str(link["id"])


def pair(
    client: TestClient, upstream: Served, remote: Served, a: TenantWorld, north: TenantWorld
) -> tuple[str, dict, dict]:
    link_id = remote_link(client, a, north.name)
    code = client.post("/api/sync/peer-codes", headers=a.admin.bearer, json={"link_id": link_id})
    assert code.status_code == 201, code.text
    paired = remote.client.post(
        "/api/sync/peers", headers=north.admin.bearer, json={"upstream_url": upstream.url, "code": code.json()["code"]}
    )
    assert paired.status_code == 201, paired.text
    mine = client.get("/api/sync/peers", headers=a.admin.bearer).json()
    ours = [p for p in mine if p["link_id"] == link_id]
    assert len(ours) == 1, mine
    return link_id, ours[0], paired.json()


def products(remote: Served, tenant: TenantWorld, sku: str) -> list[dict[str, Any]]:
    found = remote.client.get("/api/ordering/products", headers=tenant.admin.bearer, params={"search": sku}).json()[
        "items"
    ]
    return [p for p in found if p["sku"] == sku]


def new_product(client: TestClient, tenant: TenantWorld, **values: Any) -> dict[str, Any]:
    sku = unique("X")
    made = client.post(
        "/api/ordering/products",
        headers=tenant.admin.bearer,
        json={"sku": sku, "name": f"Pump {sku}", "unit": "pcs", "pack_size": 1, **values},
    )
    assert made.status_code == 201, made.text
    return made.json()


def catalog_rule(client: TestClient, a: TenantWorld, link_id: str) -> dict[str, Any]:
    rule = client.post(
        "/api/sync/rules",
        headers=a.admin.bearer,
        json={"link_id": link_id, "object": "ordering.product", "name": "Catalog over there"},
    )
    assert rule.status_code == 201, rule.text
    activated = client.post(f"/api/sync/rules/{rule.json()['id']}/activate", headers=a.admin.bearer)
    assert activated.status_code == 202, activated.text
    return rule.json()


def test_two_deployments_pair_and_the_catalog_travels_once(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    a, b = world.a, world.b
    north = partner_workspace(remote, "north")
    before = new_product(client, a, description="Made before the pairing")

    # tenant B can neither see nor use tenant A's link
    link_id = remote_link(client, a, north.name)
    refused = client.post("/api/sync/peer-codes", headers=b.admin.bearer, json={"link_id": link_id})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "link_id"
    code = client.post("/api/sync/peer-codes", headers=a.admin.bearer, json={"link_id": link_id})
    assert code.status_code == 201, code.text

    # a wrong code, a URL that is not one, then the right code: paired on both sides
    wrong = remote.client.post(
        "/api/sync/peers", headers=north.admin.bearer, json={"upstream_url": upstream.url, "code": "AAAA-BBBB"}
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "code", wrong.text
    bad_url = remote.client.post(
        "/api/sync/peers", headers=north.admin.bearer, json={"upstream_url": "ftp://x", "code": code.json()["code"]}
    )
    assert bad_url.status_code == 422 and bad_url.json()["errors"][0]["field"] == "upstream_url", bad_url.text
    paired = remote.client.post(
        "/api/sync/peers",
        headers={**north.admin.bearer, "Idempotency-Key": f"pair-{north.slug}"},
        json={"upstream_url": upstream.url, "code": code.json()["code"]},
    )
    assert paired.status_code == 201, paired.text
    there = paired.json()
    assert there["role"] == "downstream" and there["peer_tenant_name"] == a.name and there["status"] == "active"
    # a retry with the same key is the same pairing, not a second use of the code
    retried = remote.client.post(
        "/api/sync/peers",
        headers={**north.admin.bearer, "Idempotency-Key": f"pair-{north.slug}"},
        json={"upstream_url": upstream.url, "code": code.json()["code"]},
    )
    assert retried.status_code == 201 and retried.json()["id"] == there["id"], retried.text
    used = remote.client.post(
        "/api/sync/peers", headers=north.admin.bearer, json={"upstream_url": upstream.url, "code": code.json()["code"]}
    )
    assert used.status_code == 422 and used.json()["errors"][0]["field"] == "code", used.text
    here = [p for p in client.get("/api/sync/peers", headers=a.admin.bearer).json() if p["role"] == "upstream"]
    assert [(p["link_id"], p["peer_tenant_id"], p["status"]) for p in here] == [(link_id, north.tenant_id, "active")]
    assert client.get("/api/sync/peers", headers=b.admin.bearer).json() == []
    assert client.get(f"/api/sync/peers/{here[0]['id']}", headers=b.admin.bearer).status_code == 404
    assert [link["id"] for link in client.get("/api/sync/links", headers=a.admin.bearer).json()].count(link_id) == 1

    # the catalog rule: what exists comes over (backfill), then each change, once
    rule = catalog_rule(client, a, link_id)
    assert rule["pairing_id"] == here[0]["id"] and rule["peer_tenant_id"] is None
    work(client)
    detail = client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()
    assert detail["backfills"][0]["status"] == "done", detail
    copied = products(remote, north, before["sku"])
    assert len(copied) == 1 and copied[0]["name"] == before["name"], copied
    made = new_product(client, a)
    renamed = client.patch(f"/api/ordering/products/{before['id']}", headers=a.admin.bearer, json={"name": "Renamed"})
    assert renamed.status_code == 200, renamed.text
    work(client)
    assert len(products(remote, north, made["sku"])) == 1
    assert products(remote, north, before["sku"])[0]["name"] == "Renamed"
    audit = remote.client.get("/api/audit", headers=north.admin.bearer, params={"object_id": there["id"]}).json()
    inbound = [e for e in audit if e["action"] == "sync.inbound"]
    assert inbound and all(str(e["after"]["rule"]) == rule["id"] for e in inbound), audit
    assert {e["after"]["peer"] for e in inbound} == {a.name}

    # the partner's deployment down: nothing is lost, nothing doubled once it is back
    remote.stop()
    try:
        while_down = new_product(client, a)
        changed = client.patch(f"/api/ordering/products/{made['id']}", headers=a.admin.bearer, json={"name": "Later"})
        assert changed.status_code == 200, changed.text
        work(client, passes=3)
        peer = client.get(f"/api/sync/peers/{here[0]['id']}", headers=a.admin.bearer).json()
        assert peer["failures"] >= 1 and peer["last_error"], peer
        pending = client.get(
            "/api/deliveries",
            headers=a.admin.bearer,
            params={"subscriber": f"peers:{here[0]['id']}", "status": "retrying"},
        ).json()["items"]
        assert pending, "the changes wait for the partner's deployment"
    finally:
        remote.start()
    assert products(remote, north, while_down["sku"]) == []
    work(client)
    assert len(products(remote, north, while_down["sku"])) == 1
    assert products(remote, north, made["sku"])[0]["name"] == "Later"
    assert client.get(f"/api/sync/peers/{here[0]['id']}", headers=a.admin.bearer).json()["failures"] == 0

    # tenant B's catalog and rules hold none of it
    assert client.get("/api/sync/rules", headers=b.admin.bearer).json() == []
    assert all(
        p["sku"] != made["sku"] for p in client.get("/api/ordering/products", headers=b.admin.bearer).json()["items"]
    )

    # unpairing on the partner's side stops traffic both ways
    unpaired = remote.client.post(f"/api/sync/peers/{there['id']}/unpair", headers=north.admin.bearer)
    assert unpaired.status_code == 200 and unpaired.json()["status"] == "unpaired", unpaired.text
    work(remote.client)
    assert client.get(f"/api/sync/peers/{here[0]['id']}", headers=a.admin.bearer).json()["status"] == "unpaired"
    client.patch(f"/api/ordering/products/{made['id']}", headers=a.admin.bearer, json={"name": "After unpairing"})
    work(client)
    assert products(remote, north, made["sku"])[0]["name"] == "Later"
    again = remote.client.post(f"/api/sync/peers/{there['id']}/unpair", headers=north.admin.bearer)
    assert again.status_code == 409


def _upstream_secret(client: TestClient, peer_id: str) -> str:
    services = client.app.state.services

    async def read(db: Database) -> str:
        async with db.session(SYSTEM, write=False) as session:
            peer = (await session.scalars(select(SyncPeer).where(SyncPeer.id == uuid.UUID(peer_id)))).one()
            return services.extensions["webhooks"].box.open(peer.id, peer.own_secret)

    return run_with_database(services.settings, read)


def test_the_inbound_endpoint_refuses_what_a_paired_deployment_did_not_sign(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    a = world.a
    north = partner_workspace(remote, "south")
    _link, here, there = pair(client, upstream, remote, a, north)
    secret = _upstream_secret(client, here["id"])
    sku = unique("S")
    event_id = str(uuid.uuid4())
    product_id = str(uuid.uuid4())

    def request(sign_with: str = secret, at: int | None = None, event: str = event_id) -> tuple[bytes, dict[str, str]]:
        body = wire.encode(
            {
                "kind": "records",
                "event": event,
                "pairing": there["id"],
                "nonce": uuid.uuid4().hex,
                "occurred_at": "2026-12-01T00:00:00+00:00",
                "rule": {
                    "id": str(uuid.uuid4()),
                    "name": "Sent by hand",
                    "object": "ordering.product",
                    "fields": ["sku", "name", "unit"],
                    "policies": {},
                },
                "records": [{"id": product_id, "present": True, "values": {"sku": sku, "name": "Hand", "unit": "ea"}}],
            }
        )
        headers = {
            "Content-Type": "application/json",
            wire.PAIRING_HEADER: there["id"],
            signing.EVENT_ID_HEADER: event,
            signing.SIGNATURE_HEADER: signing.signature_header([sign_with], body, at),
        }
        return body, headers

    def post(body: bytes, headers: dict[str, str]) -> Any:
        return remote.client.post("/api/sync/inbound", content=body, headers=headers)

    wrong = post(*request(sign_with="pssec_not-the-secret"))
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad_signature", wrong.text
    expired = post(*request(at=int(time.time()) - 3600))
    assert expired.status_code == 401 and expired.json()["code"] == "expired_signature", expired.text
    unknown = request()
    unknown[1][wire.PAIRING_HEADER] = str(uuid.uuid4())
    assert post(*unknown).status_code == 401
    tampered_body, tampered_headers = request()
    assert post(tampered_body.replace(b'"Hand"', b'"Evil"'), tampered_headers).status_code == 401
    assert products(remote, north, sku) == []

    body, headers = request()
    taken = post(body, headers)
    assert taken.status_code == 200 and taken.json()["outcomes"] == {product_id: "created"}, taken.text
    replayed = post(body, headers)
    assert replayed.status_code == 409 and replayed.json()["code"] == "replayed", replayed.text
    # the captured request with the header dressed up (another v1, spaces) is the same request
    for dressed in (
        f"{headers[signing.SIGNATURE_HEADER]},v1=x",
        f"v1=x, {headers[signing.SIGNATURE_HEADER].replace(',', ', ')}",
    ):
        again = post(body, {**headers, signing.SIGNATURE_HEADER: dressed})
        assert again.status_code == 409 and again.json()["code"] == "replayed", (dressed, again.text)
    # the sender's retry (signed anew) is answered as the first time, and applies nothing again
    retry = post(*request())
    assert retry.status_code == 200 and retry.json() == {"outcomes": {product_id: "created"}, "duplicate": True}
    assert len(products(remote, north, sku)) == 1
    audit = remote.client.get("/api/audit", headers=north.admin.bearer, params={"object_id": there["id"]}).json()
    assert [e["after"]["event"] for e in audit if e["action"] == "sync.inbound"] == [event_id]
    # hostile input: a number no column holds is refused with the field named, nothing written
    huge_body, huge_headers = request(event=str(uuid.uuid4()))
    document = json.loads(huge_body)
    document["rule"]["fields"] = ["sku", "name", "unit", "pack_size"]
    document["records"] = [
        {
            "id": str(uuid.uuid4()),
            "present": True,
            "values": {"sku": unique("H"), "name": "Huge", "unit": "ea", "pack_size": 10**40},
        }
    ]
    huge_body = wire.encode(document)
    huge_headers[signing.SIGNATURE_HEADER] = signing.signature_header([secret], huge_body)
    huge = post(huge_body, huge_headers)
    assert huge.status_code == 422 and "pack_size" in huge.text, huge.text
    assert products(remote, north, document["records"][0]["values"]["sku"]) == []
    # a control character is refused before anything reads it
    hostile_body, hostile_headers = request(event=str(uuid.uuid4()))
    hostile = post(hostile_body.replace(b'"Hand"', b'"Ha\\u0000nd"'), hostile_headers)
    assert hostile.status_code in (400, 401, 422), hostile.text
    assert json.loads(body)["event"] == event_id

    # once unpaired here, even a well-signed request is refused
    assert remote.client.post(f"/api/sync/peers/{there['id']}/unpair", headers=north.admin.bearer).status_code == 200
    after = post(*request(event=str(uuid.uuid4())))
    assert after.status_code == 401 and after.json()["code"] == "not_paired", after.text


def test_a_pairing_code_pairs_once_and_not_after_it_expired(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    a = world.a
    west, east = partner_workspace(remote, "west"), partner_workspace(remote, "east")
    link_id = remote_link(client, a, west.name)
    code = client.post("/api/sync/peer-codes", headers=a.admin.bearer, json={"link_id": link_id}).json()["code"]

    def redeem(tenant: TenantWorld) -> int:
        body = {"upstream_url": upstream.url, "code": code}
        return remote.client.post("/api/sync/peers", headers=tenant.admin.bearer, json=body).status_code

    # two workspaces enter the same code at once: one pairs, the other is told the code is used
    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(redeem, [west, east]))
    assert statuses == [201, 422], statuses
    assert (
        len([p for p in client.get("/api/sync/peers", headers=a.admin.bearer).json() if p["link_id"] == link_id]) == 1
    )
    again = client.post("/api/sync/peer-codes", headers=a.admin.bearer, json={"link_id": link_id})
    assert again.status_code == 409 and again.json()["code"] == "paired", again.text

    # an expired code pairs nothing
    other = remote_link(client, a, "South Elsewhere")
    expiring = client.post("/api/sync/peer-codes", headers=a.admin.bearer, json={"link_id": other}).json()

    async def expire(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            row = (await session.scalars(select(SyncPeerCode).where(SyncPeerCode.link_id == uuid.UUID(other)))).one()
            row.expires_at = utcnow() - timedelta(seconds=1)

    run_with_database(client.app.state.services.settings, expire)
    south = partner_workspace(remote, "south")
    late = remote.client.post(
        "/api/sync/peers", headers=south.admin.bearer, json={"upstream_url": upstream.url, "code": expiring["code"]}
    )
    assert late.status_code == 422 and late.json()["errors"][0]["field"] == "code", late.text
    assert remote.client.get("/api/sync/peers", headers=south.admin.bearer).json() == []


def test_the_paired_deployments_page(client: TestClient, world: World, upstream: Served, remote: Served) -> None:
    a, b = world.a, world.b
    north = partner_workspace(remote, "north")
    link_id = remote_link(client, a, north.name)
    act_as(client, a.admin.cookie)
    page = client.get("/console/sync/peers")
    assert_readable_page(page, 200, "Make a pairing code")
    assert north.name in page.text
    bad = submit(client, "/console/sync/peers/codes", {"link_id": ""}, form_page="/console/sync/peers")
    assert_readable_page(bad, 422, "No such enterprise")
    made = submit(client, "/console/sync/peers/codes", {"link_id": link_id}, form_page="/console/sync/peers")
    assert_readable_page(made, 200, "It is shown only now")
    found = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', made.text)
    assert found is not None

    # the partner pairs on its own deployment's page
    act_as(remote.client, north.admin.cookie)
    wrong = submit(remote.client, "/console/sync/peers", {"upstream_url": upstream.url, "code": "NOPE-NOPE"})
    assert_readable_page(wrong, 422, "This pairing code is not valid, was used or has expired")
    paired = submit(remote.client, "/console/sync/peers", {"upstream_url": upstream.url, "code": found.group(1)})
    assert paired.status_code in REDIRECTS, paired.text
    shown = remote.client.get(paired.headers["location"])
    assert_readable_page(shown, 200, "This workspace is paired with the manufacturer&#39;s deployment.")
    assert a.name in shown.text
    switched = submit(remote.client, "/lang", {"language": "zh_CN", "next": "/console/sync/peers"}, form_page="/")
    assert switched.status_code in REDIRECTS, switched.text
    assert_readable_page(remote.client.get("/console/sync/peers"), 200, "已配对的部署")
    act_as(remote.client, north.admin.cookie)

    # the manufacturer's page lists it; tenant B's does not
    listed = client.get("/console/sync/peers")
    assert_readable_page(listed, 200, remote.url)
    act_as(client, b.admin.cookie)
    assert remote.url not in client.get("/console/sync/peers").text

    # unpairing from the manufacturer's page tells the partner's deployment
    act_as(client, a.admin.cookie)
    peer = next(p for p in client.get("/api/sync/peers", headers=a.admin.bearer).json() if p["link_id"] == link_id)
    unpaired = submit(client, f"/console/sync/peers/{peer['id']}/unpair", {}, form_page="/console/sync/peers")
    assert unpaired.status_code in REDIRECTS, unpaired.text
    assert_readable_page(client.get(unpaired.headers["location"]), 200, "Unpaired: nothing is sent or taken any more.")
    work(client)
    assert [p["status"] for p in remote.client.get("/api/sync/peers", headers=north.admin.bearer).json()] == [
        "unpaired"
    ]


def test_a_change_on_both_sides_is_held_there_and_a_dead_letter_is_replayed(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    a = world.a
    north = partner_workspace(remote, "north")
    link_id, here, _there = pair(client, upstream, remote, a, north)
    made = new_product(client, a)
    rule = client.post(
        "/api/sync/rules",
        headers=a.admin.bearer,
        json={"link_id": link_id, "object": "ordering.product", "name": "Held names", "policies": {"name": "hold"}},
    )
    assert rule.status_code == 201, rule.text
    assert client.post(f"/api/sync/rules/{rule.json()['id']}/activate", headers=a.admin.bearer).status_code == 202
    work(client)
    copy = products(remote, north, made["sku"])[0]

    # both sides rename: the partner keeps its name, and the conflict waits in the partner's own queue
    mine = remote.client.patch(
        f"/api/ordering/products/{copy['id']}", headers=north.admin.bearer, json={"name": "North's name"}
    )
    assert mine.status_code == 200, mine.text
    theirs = client.patch(f"/api/ordering/products/{made['id']}", headers=a.admin.bearer, json={"name": "Acme's name"})
    assert theirs.status_code == 200, theirs.text
    work(client)
    assert products(remote, north, made["sku"])[0]["name"] == "North's name"
    held = remote.client.get("/api/sync/conflicts", headers=north.admin.bearer, params={"status": "held"}).json()
    assert [(c["field"], c["upstream_value"], c["downstream_value"]) for c in held["items"]] == [
        ("name", "Acme's name", "North's name")
    ], held
    resolved = remote.client.post(
        f"/api/sync/conflicts/{held['items'][0]['id']}/resolve",
        headers=north.admin.bearer,
        json={"resolution": "upstream"},
    )
    assert resolved.status_code == 200, resolved.text
    assert products(remote, north, made["sku"])[0]["name"] == "Acme's name"
    # the partner's own rule standing for the manufacturer's is not among its rules
    assert remote.client.get("/api/sync/rules", headers=north.admin.bearer).json() == []

    # down for longer than the retries: the delivery dies, and staff replay it once the partner is back
    remote.stop()
    try:
        client.patch(f"/api/ordering/products/{made['id']}", headers=a.admin.bearer, json={"description": "Later"})
        work(client, passes=RETRY_AT_ONCE.max_attempts + 2)
    finally:
        remote.start()
    dead = client.get(
        "/api/deliveries", headers=a.admin.bearer, params={"subscriber": f"peers:{here['id']}", "status": "dead"}
    ).json()["items"]
    assert len(dead) == 1, [(d["event_type"], d["last_error"][:200], d["attempts"]) for d in dead]
    assert products(remote, north, made["sku"])[0]["description"] != "Later"
    replayed = client.post(f"/api/deliveries/{dead[0]['id']}/replay", headers=a.admin.bearer)
    assert replayed.status_code == 200, replayed.text
    work(client)
    assert products(remote, north, made["sku"])[0]["description"] == "Later"


PURCHASE_OBJECTS = ("ordering.purchase_order", "ordering.purchase_order_status")


def test_a_purchase_order_placed_on_the_partners_deployment_becomes_a_sales_order_and_its_status_comes_back(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    a, b = world.a, world.b
    north = partner_workspace(remote, "north")
    link_id, _here, _there = pair(client, upstream, remote, a, north)
    made = new_product(client, a)
    price_list(client, a.admin, [{"product_id": made["id"], "unit_price": "50.00"}])
    warehouse = staff(client, a.admin, "GET", "/warehouses").json()[0]["id"]
    stock(client, a.admin, warehouse, made["id"], 100)
    catalog_rule(client, a, link_id)
    for obj in PURCHASE_OBJECTS:
        rule = client.post(
            "/api/sync/rules", headers=a.admin.bearer, json={"link_id": link_id, "object": obj, "name": obj}
        )
        assert rule.status_code == 201, rule.text
        assert client.post(f"/api/sync/rules/{rule.json()['id']}/activate", headers=a.admin.bearer).status_code == 202
    work(client)
    mine = products(remote, north, made["sku"])[0]
    suppliers = remote.client.get("/api/ordering/suppliers", headers=north.admin.bearer).json()
    assert [(s["tenant_id"], s["name"]) for s in suppliers] == [(a.tenant_id, a.name)]

    own = new_product(remote.client, north, name="North's own gasket")
    sent = remote.client.post(
        "/api/ordering/purchase-orders",
        headers=north.admin.bearer,
        json={
            "supplier_id": a.tenant_id,
            "lines": [{"product_id": mine["id"], "quantity": 4}],
            "ship_to": "North Supply, Quay 3",
        },
    )
    assert sent.status_code == 201, sent.text
    po = sent.json()
    unknown = remote.client.post(
        "/api/ordering/purchase-orders",
        headers=north.admin.bearer,
        json={"supplier_id": a.tenant_id, "lines": [{"product_id": own["id"], "quantity": 1}], "ship_to": "Quay 3"},
    )
    assert unknown.status_code == 201, unknown.text
    work(remote.client)
    work(client)

    def purchase(po_id: str) -> dict[str, Any]:
        found = remote.client.get(f"/api/ordering/purchase-orders/{po_id}", headers=north.admin.bearer)
        assert found.status_code == 200, found.text
        return found.json()

    def sales(number: str) -> list[dict[str, Any]]:
        found = client.get("/api/ordering/orders", headers=a.admin.bearer, params={"limit": 200, "status": "all"})
        return [o for o in found.json()["items"] if o.get("po_number") == number]

    placed = sales(po["number"])
    assert len(placed) == 1, placed
    so = placed[0]
    assert so["enterprise_id"] == link_id and so["total"] == "200.0000"
    back = purchase(po["id"])
    assert back["status"] == "submitted" and back["sales_order_number"] == so["number"], back
    refused = purchase(unknown.json()["id"])
    assert refused["status"] == "refused" and own["sku"] in refused["refusal"], refused
    assert sales(unknown.json()["number"]) == []
    # both sides' audit: the sales order applied under the manufacturer's rule, the answer on the purchase order
    upstream_audit = client.get("/api/audit", headers=a.admin.bearer, params={"object_id": so["id"]}).json()
    applied = [e for e in upstream_audit if e["action"] == "sync.applied"]
    assert applied and applied[0]["after"]["peer"] == north.name and applied[0]["after"]["source"] == po["id"]
    partner_audit = remote.client.get("/api/audit", headers=north.admin.bearer, params={"object_id": po["id"]}).json()
    assert "sync.answered" in {e["action"] for e in partner_audit}

    # the purchase order's event delivered again: still one sales order
    deliveries = remote.client.get(
        "/api/deliveries", headers=north.admin.bearer, params={"aggregate_id": po["id"]}
    ).json()["items"]
    peers_lines = [d for d in deliveries if d["subscriber"].startswith("peers:")]
    assert peers_lines and all(d["status"] == "delivered" for d in peers_lines), deliveries
    for delivery in peers_lines:
        assert (
            remote.client.post(f"/api/deliveries/{delivery['id']}/replay", headers=north.admin.bearer).status_code
            == 200
        )
    work(remote.client)
    assert len(sales(po["number"])) == 1

    # approval and shipment come back; the goods arrive at North and the receipt goes up
    assert staff(client, a.admin, "POST", f"/orders/{so['id']}/approve", json={}).status_code == 200
    work(client)
    assert purchase(po["id"])["status"] == "approved"
    shipped = staff(client, a.admin, "POST", f"/orders/{so['id']}/shipments", json={"own_delivery": True})
    assert shipped.status_code == 201, shipped.text
    work(client)
    assert purchase(po["id"])["status"] == "shipped"
    received = remote.client.post(f"/api/ordering/purchase-orders/{po['id']}/receive", headers=north.admin.bearer)
    assert received.status_code == 200, received.text
    work(remote.client)
    work(client)
    assert client.get(f"/api/ordering/orders/{so['id']}", headers=a.admin.bearer).json()["status"] == "received"
    done = purchase(po["id"])
    assert done["status"] == "received" and done["received_at"] is not None

    # the manufacturer's deployment down while the next purchase order is sent: it waits, then arrives once
    upstream.stop()
    try:
        later = remote.client.post(
            "/api/ordering/purchase-orders",
            headers=north.admin.bearer,
            json={
                "supplier_id": a.tenant_id,
                "lines": [{"product_id": mine["id"], "quantity": 2}],
                "ship_to": "Quay 3",
            },
        )
        assert later.status_code == 201, later.text
        work(remote.client, passes=3)
        assert purchase(later.json()["id"])["status"] == "sent"
    finally:
        upstream.start()
    work(remote.client)
    work(client)
    assert len(sales(later.json()["number"])) == 1
    assert purchase(later.json()["id"])["status"] == "submitted"

    # tenant B sees neither order
    assert client.get(f"/api/ordering/orders/{so['id']}", headers=b.admin.bearer).status_code == 404
    assert client.get("/api/sync/peers", headers=b.admin.bearer).json() == []


def reconcile_paired(client: TestClient, a: TenantWorld, rule_id: str) -> dict[str, Any]:
    """A run asked for on demand, carried out by the workers (on the pairing's line): its report."""
    started = client.post(f"/api/sync/rules/{rule_id}/reconcile", headers=a.admin.bearer)
    assert started.status_code == 202, started.text
    work(client)
    report = client.get(f"/api/sync/reconciliations/{started.json()['id']}", headers=a.admin.bearer)
    assert report.status_code == 200, report.text
    return report.json()


def drift_of(report: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"missing": set(), "extra": set(), "different": set()}
    for item in report["items"]:
        out[item["kind"]].add(item["label"])
    return out


def on_partner(remote: Served, tenant: TenantWorld, change: Any) -> Any:
    """Something done to the partner's own database, in its workspace (what no API of it does)."""
    from portal.db.context import tenant_context

    async def run(db: Database) -> Any:
        async with db.session(tenant_context(uuid.UUID(tenant.tenant_id), channel="system")) as session:
            return await change(session)

    return run_with_database(remote.client.app.state.services.settings, run)


def extra_mapping(remote: Served, north: TenantWorld, pairing_id: str, local_id: str, peer_id: str) -> None:
    """A record of the partner's mapped under the rule standing for the manufacturer's, for a record the
    manufacturer does not have: what the partner's side holds and the manufacturer no longer sends."""
    from sync.crosstenant.models import SyncMapping, SyncRule

    async def add(session: Any) -> None:
        standing = (await session.scalars(select(SyncRule).where(SyncRule.pairing_id == uuid.UUID(pairing_id)))).one()
        session.add(
            SyncMapping(
                rule_id=standing.id,
                object="ordering.product",
                local_id=uuid.UUID(local_id),
                peer_tenant_id=uuid.UUID(north.tenant_id),
                peer_id=uuid.UUID(peer_id),
                version=utcnow(),
                sent={},
                written={},
                withdrawn=False,
            )
        )

    on_partner(remote, north, add)


def test_reconciliation_across_deployments_reports_the_partners_drift_and_repairs_it(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    from sqlalchemy import delete

    from apps.ordering.models.catalog import Product

    a, b = world.a, world.b
    north = partner_workspace(remote, "north")
    link_id, _here, there = pair(client, upstream, remote, a, north)
    renamed, kept, deleted = (new_product(client, a, description="Acme's text") for _ in range(3))
    rule = client.post(
        "/api/sync/rules",
        headers=a.admin.bearer,
        json={
            "link_id": link_id,
            "object": "ordering.product",
            "name": "Catalog over there",
            "policies": {"description": "downstream"},
        },
    )
    assert rule.status_code == 201, rule.text
    rule_id = rule.json()["id"]
    assert client.post(f"/api/sync/rules/{rule_id}/activate", headers=a.admin.bearer).status_code == 202
    work(client)
    clean = reconcile_paired(client, a, rule_id)
    first = clean["reconciliation"]
    assert first["status"] == "done", (first["error_code"], first["error"])
    assert first["drift"] == 0 and first["compared"] >= 3, first

    # drift made on the partner's side: a name changed (upstream wins), a description changed (the partner
    # keeps it: not drift), a mapped product deleted, and two of its own products mapped to records the
    # manufacturer does not have (one within the range of its records, one beyond the last)
    mine = products(remote, north, renamed["sku"])[0]
    changed = remote.client.patch(
        f"/api/ordering/products/{mine['id']}", headers=north.admin.bearer, json={"name": "North's name"}
    )
    assert changed.status_code == 200, changed.text
    theirs = products(remote, north, kept["sku"])[0]
    changed = remote.client.patch(
        f"/api/ordering/products/{theirs['id']}", headers=north.admin.bearer, json={"description": "North's text"}
    )
    assert changed.status_code == 200, changed.text
    gone = products(remote, north, deleted["sku"])[0]

    async def delete_copy(session: Any) -> None:
        await session.execute(delete(Product).where(Product.id == uuid.UUID(gone["id"])))

    on_partner(remote, north, delete_copy)
    own_first, own_last = new_product(remote.client, north), new_product(remote.client, north)
    extra_mapping(remote, north, there["id"], "00000000-0000-4000-8000-000000000001", own_first["id"])
    extra_mapping(remote, north, there["id"], "ffffffff-ffff-4fff-bfff-ffffffffffff", own_last["id"])

    report = reconcile_paired(client, a, rule_id)
    run = report["reconciliation"]
    assert run["status"] == "done" and run["percent"] == 100, run
    assert drift_of(report) == {
        "missing": {deleted["sku"]},
        "extra": {own_first["sku"], own_last["sku"]},
        "different": {renamed["sku"]},
    }, report
    differing = [i["fields"] for i in report["items"] if i["kind"] == "different"]
    assert differing == [[{"field": "name", "expected": renamed["name"], "actual": "North's name"}]]
    sheet = client.get(f"/api/sync/reconciliations/{run['id']}/export.xlsx", headers=a.admin.bearer)
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK", sheet.text
    act_as(client, a.admin.cookie)
    page = client.get(f"/console/sync/reconciliations/{run['id']}")
    assert_readable_page(page, 200, "North&#39;s name")
    assert "Compare both sides now" in client.get(f"/console/sync/rules/{rule_id}").text
    # tenant B finds none of it
    assert client.get(f"/api/sync/reconciliations/{run['id']}", headers=b.admin.bearer).status_code == 404

    # repair: the manufacturer's records sent again on the pairing's line, applied there by the policy
    repaired = client.post(f"/api/sync/reconciliations/{run['id']}/repair", headers=a.admin.bearer)
    assert repaired.status_code == 202 and repaired.json()["repaired"] == 4, repaired.text
    work(client)
    assert products(remote, north, renamed["sku"])[0]["name"] == renamed["name"]
    assert products(remote, north, kept["sku"])[0]["description"] == "North's text"
    assert len(products(remote, north, deleted["sku"])) == 1
    assert products(remote, north, own_first["sku"])[0]["listed"] is False
    assert products(remote, north, own_last["sku"])[0]["listed"] is False
    after = reconcile_paired(client, a, rule_id)
    assert after["reconciliation"]["status"] == "done" and after["reconciliation"]["drift"] == 0, after
    assert after["reconciliation"]["compared"] == clean["reconciliation"]["compared"]


def _digest_request(
    secret: str, pairing: str, document: dict[str, Any], at: int | None = None, event: str | None = None
) -> tuple[bytes, dict[str, str]]:
    event = event or str(uuid.uuid4())
    body = wire.encode({"kind": "digests", "event": event, "pairing": pairing, "nonce": uuid.uuid4().hex, **document})
    headers = {
        "Content-Type": "application/json",
        wire.PAIRING_HEADER: pairing,
        signing.EVENT_ID_HEADER: event,
        signing.SIGNATURE_HEADER: signing.signature_header([secret], body, at),
    }
    return body, headers


def test_the_digests_endpoint_refuses_what_a_paired_deployment_did_not_sign_and_tells_nothing_of_others(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    a = world.a
    north, south = partner_workspace(remote, "north"), partner_workspace(remote, "south")
    north_link, north_here, north_there = pair(client, upstream, remote, a, north)
    south_link, _south_here, south_there = pair(client, upstream, remote, a, south)
    made = new_product(client, a)
    north_rule, south_rule = catalog_rule(client, a, north_link), catalog_rule(client, a, south_link)
    work(client)
    secret = _upstream_secret(client, north_here["id"])
    fields = ["sku", "name"]

    def ask(document: dict[str, Any], **kw: Any) -> Any:
        body, headers = _digest_request(secret, north_there["id"], document, **kw)
        return remote.client.post("/api/sync/inbound/digests", content=body, headers=headers)

    mine = {"rule": north_rule["id"], "object": "ordering.product", "fields": fields}
    good = ask(mine)
    assert good.status_code == 200, good.text
    assert made["id"] in [e["id"] for e in good.json()["entries"]] and good.json()["next"] is None

    # signed with another secret, too late, for an unknown pairing, tampered, or replayed: refused
    body, headers = _digest_request("pssec_not-the-secret", north_there["id"], mine)
    wrong = remote.client.post("/api/sync/inbound/digests", content=body, headers=headers)
    assert wrong.status_code == 401 and wrong.json()["code"] == "bad_signature", wrong.text
    expired = ask(mine, at=int(time.time()) - 3600)
    assert expired.status_code == 401 and expired.json()["code"] == "expired_signature", expired.text
    body, headers = _digest_request(secret, str(uuid.uuid4()), mine)
    unknown = remote.client.post("/api/sync/inbound/digests", content=body, headers=headers)
    assert unknown.status_code == 401 and unknown.json()["code"] == "not_paired", unknown.text
    body, headers = _digest_request(secret, north_there["id"], mine)
    tampered = remote.client.post(
        "/api/sync/inbound/digests", content=body.replace(b'"name"', b'"unit"'), headers=headers
    )
    assert tampered.status_code == 401, tampered.text
    first = remote.client.post("/api/sync/inbound/digests", content=body, headers=headers)
    assert first.status_code == 200, first.text
    replayed = remote.client.post("/api/sync/inbound/digests", content=body, headers=headers)
    assert replayed.status_code == 409 and replayed.json()["code"] == "replayed", replayed.text
    # north's pairing, signed with north's secret, naming south's pairing: not north's to speak for
    body, headers = _digest_request(secret, south_there["id"], mine)
    crossed = remote.client.post("/api/sync/inbound/digests", content=body, headers=headers)
    assert crossed.status_code == 401 and crossed.json()["code"] == "bad_signature", crossed.text

    # another pairing's rule answers as an unknown one: nothing of south's records or workspace
    others = ask({**mine, "rule": south_rule["id"]})
    nothing = ask({**mine, "rule": str(uuid.uuid4())})
    assert others.status_code == nothing.status_code == 404, others.text
    assert others.json()["code"] == nothing.json()["code"] == "no_such_rule"
    assert others.json()["detail"] == nothing.json()["detail"]
    for leaked in (made["id"], made["sku"], south.tenant_id, south.name, south_there["id"]):
        assert leaked not in others.text
    # a field the object has not, a page too large, values of too many records: refused with the field
    assert ask({**mine, "fields": ["sku", "secret"]}).status_code == 422
    assert ask({**mine, "limit": 10**6}).json()["errors"][0]["field"] == "limit"
    values_body = wire.encode(
        {
            "kind": "values",
            "event": (event := str(uuid.uuid4())),
            "pairing": north_there["id"],
            "nonce": "n",
            **mine,
            "ids": [str(uuid.uuid4()) for _ in range(201)],
        }
    )
    too_many = remote.client.post(
        "/api/sync/inbound/digests",
        content=values_body,
        headers={
            "Content-Type": "application/json",
            wire.PAIRING_HEADER: north_there["id"],
            signing.EVENT_ID_HEADER: event,
            signing.SIGNATURE_HEADER: signing.signature_header([secret], values_body),
        },
    )
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "ids", too_many.text
    # nothing was changed by any of it
    assert len(products(remote, north, made["sku"])) == 1

    # once unpaired there, even a well-signed question is refused
    assert (
        remote.client.post(f"/api/sync/peers/{north_there['id']}/unpair", headers=north.admin.bearer).status_code == 200
    )
    after = ask(mine)
    assert after.status_code == 401 and after.json()["code"] == "not_paired", after.text


def test_a_run_while_the_partners_deployment_is_down_fails_with_the_reason_and_the_daily_job_goes_on(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    from sync.crosstenant.reconcile import RECONCILE_JOB
    from tests.integration.sync.test_crosstenant import active_rule
    from tests.world import connect_workspace

    a = world.a
    north = partner_workspace(remote, "north")
    link_id, _here, there = pair(client, upstream, remote, a, north)
    new_product(client, a)
    paired = catalog_rule(client, a, link_id)
    work(client)
    _local, local_link = connect_workspace(client, a, "local")
    local = active_rule(client, world, local_link)

    remote.stop()
    try:
        report = reconcile_paired(client, a, paired["id"])
        run = report["reconciliation"]
        assert run["status"] == "failed" and run["error_code"] == "peer_unreachable", run
        assert remote.url in run["error"], run
        act_as(client, a.admin.cookie)
        page = client.get(f"/console/sync/reconciliations/{run['id']}")
        assert_readable_page(page, 200, "deployment did not answer")
        assert "could not connect" in page.text
        # the daily job asks for both rules' runs; the paired one fails, the other is carried out
        assert client.blocking_portal.call(RECONCILE_JOB.run, client.app.state.services) >= 2
        work(client)
    finally:
        remote.start()
    runs = client.get(f"/api/sync/rules/{paired['id']}/reconciliations", headers=a.admin.bearer).json()
    assert [(r["trigger"], r["status"]) for r in runs] == [("scheduled", "failed"), ("manual", "failed")], runs
    local_runs = client.get(f"/api/sync/rules/{local['id']}/reconciliations", headers=a.admin.bearer).json()
    assert [(r["trigger"], r["status"]) for r in local_runs] == [("scheduled", "done")], local_runs
    # with the partner's deployment back, a run agrees
    again = reconcile_paired(client, a, paired["id"])
    assert again["reconciliation"]["status"] == "done" and again["reconciliation"]["drift"] == 0, again

    # unpaired: a run is refused (there is no one to ask), and the daily job leaves the rule out
    unpaired = remote.client.post(f"/api/sync/peers/{there['id']}/unpair", headers=north.admin.bearer)
    assert unpaired.status_code == 200, unpaired.text
    work(remote.client)
    refused = client.post(f"/api/sync/rules/{paired['id']}/reconcile", headers=a.admin.bearer)
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "not_connected", refused.text
    client.blocking_portal.call(RECONCILE_JOB.run, client.app.state.services)
    work(client)
    assert len(client.get(f"/api/sync/rules/{paired['id']}/reconciliations", headers=a.admin.bearer).json()) == 3


def test_pairing_the_same_partner_again_carries_its_rules_over(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    a, b = world.a, world.b
    north = partner_workspace(remote, "north")
    link_id, here, _there = pair(client, upstream, remote, a, north)
    made = new_product(client, a)
    rule = catalog_rule(client, a, link_id)
    work(client)
    assert len(products(remote, north, made["sku"])) == 1

    # unpaired; a change meanwhile is not sent
    unpaired = client.post(f"/api/sync/peers/{here['id']}/unpair", headers=a.admin.bearer)
    assert unpaired.status_code == 200, unpaired.text
    work(client)
    assert [p["status"] for p in remote.client.get("/api/sync/peers", headers=north.admin.bearer).json()] == [
        "unpaired"
    ]
    renamed = client.patch(f"/api/ordering/products/{made['id']}", headers=a.admin.bearer, json={"name": "Meanwhile"})
    assert renamed.status_code == 200, renamed.text
    work(client)
    assert products(remote, north, made["sku"])[0]["name"] == made["name"]

    # the same partner pairs again: the rule travels through the new pairing and catches up, the copy
    # made before is updated (not met as a clash, not made twice)
    code = client.post("/api/sync/peer-codes", headers=a.admin.bearer, json={"link_id": link_id})
    assert code.status_code == 201, code.text
    again = remote.client.post(
        "/api/sync/peers", headers=north.admin.bearer, json={"upstream_url": upstream.url, "code": code.json()["code"]}
    )
    assert again.status_code == 201, again.text
    new_here = next(
        p
        for p in client.get("/api/sync/peers", headers=a.admin.bearer).json()
        if p["link_id"] == link_id and p["status"] == "active"
    )
    detail = client.get(f"/api/sync/rules/{rule['id']}", headers=a.admin.bearer).json()
    assert detail["rule"]["pairing_id"] == new_here["id"] != here["id"], detail
    work(client)
    copies = products(remote, north, made["sku"])
    assert len(copies) == 1 and copies[0]["name"] == "Meanwhile", copies
    later = client.patch(f"/api/ordering/products/{made['id']}", headers=a.admin.bearer, json={"name": "Later"})
    assert later.status_code == 200, later.text
    work(client)
    assert products(remote, north, made["sku"])[0]["name"] == "Later"
    audit = client.get("/api/audit", headers=a.admin.bearer, params={"object_id": rule["id"]}).json()
    carried = [e for e in audit if e["action"] == "sync.carried"]
    assert len(carried) == 1 and carried[0]["after"]["from"] == here["id"], carried
    assert carried[0]["after"]["to"] == new_here["id"]
    theirs = remote.client.get("/api/audit", headers=north.admin.bearer, params={"object_id": again.json()["id"]})
    assert "sync.carried" in {e["action"] for e in theirs.json()}, theirs.text
    # the partner's conflict-free catalog: no clash was recorded on the rule
    assert "sync.key_clash" not in {e["action"] for e in audit}
    # and a reconciliation through the new pairing agrees
    report = reconcile_paired(client, a, rule["id"])
    assert report["reconciliation"]["status"] == "done" and report["reconciliation"]["drift"] == 0, report
    # tenant B sees none of it
    assert client.get(f"/api/sync/rules/{rule['id']}", headers=b.admin.bearer).status_code == 404
    assert client.get("/api/audit", headers=b.admin.bearer, params={"object_id": rule["id"]}).json() == []


def test_changes_travel_in_batches_each_taken_once_and_a_replayed_batch_changes_nothing(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    """Several changes of a pairing go in one signed request, each applied once by its event id with its
    own result; the same request again is refused whole; a retry (signed anew) is answered as the first
    time; one change the partner refuses fails alone."""
    a, b = world.a, world.b
    north = partner_workspace(remote, "batch")
    link_id, here, there = pair(client, upstream, remote, a, north)
    catalog_rule(client, a, link_id)
    work(client)
    made = [new_product(client, a) for _ in range(12)]
    work(client)
    assert all(len(products(remote, north, p["sku"])) == 1 for p in made)
    audit = remote.client.get("/api/audit", headers=north.admin.bearer, params={"object_id": there["id"]}).json()
    events = [e["after"]["event"] for e in audit if e["action"] == "sync.inbound"]
    assert len(events) == len(set(events)), "each event is applied once"
    # the requests carried several changes each: fewer attempts than changes
    delivered = client.get(
        "/api/deliveries",
        headers=a.admin.bearer,
        params={"subscriber": f"peers:{here['id']}", "status": "delivered", "limit": 200},
    ).json()["items"]
    assert len(delivered) >= 12

    # the partner's deployment down: the batch waits, then every change arrives once
    remote.stop()
    try:
        for p in made[:6]:
            renamed = client.patch(f"/api/ordering/products/{p['id']}", headers=a.admin.bearer, json={"name": "Down"})
            assert renamed.status_code == 200, renamed.text
        work(client, passes=3)
    finally:
        remote.start()
    work(client)
    assert [products(remote, north, p["sku"])[0]["name"] for p in made[:6]] == ["Down"] * 6
    assert all(len(products(remote, north, p["sku"])) == 1 for p in made)

    # by hand: a batch of a good change and one the partner refuses (a field no product has)
    secret = _upstream_secret(client, here["id"])
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())
    sku = unique("B")

    def item(event: str, fields: list[str], values: dict[str, Any]) -> dict[str, Any]:
        return {
            "event": event,
            "kind": "records",
            "occurred_at": "2026-12-01T00:00:00+00:00",
            "rule": {"id": str(uuid.uuid4()), "name": "By hand", "object": "ordering.product", "fields": fields},
            "records": [{"id": str(uuid.uuid4()), "present": True, "values": values}],
        }

    items = [
        item(good, ["sku", "name", "unit"], {"sku": sku, "name": "Batched", "unit": "ea"}),
        item(bad, ["sku", "colour"], {"sku": unique("C"), "colour": "red"}),
    ]

    def batch(batch_id: str | None = None) -> tuple[bytes, dict[str, str]]:
        batch_id = batch_id or str(uuid.uuid4())
        body = wire.encode(
            {"kind": "batch", "event": batch_id, "pairing": there["id"], "nonce": uuid.uuid4().hex, "items": items}
        )
        headers = {
            "Content-Type": "application/json",
            wire.PAIRING_HEADER: there["id"],
            signing.EVENT_ID_HEADER: batch_id,
            signing.SIGNATURE_HEADER: signing.signature_header([secret], body),
        }
        return body, headers

    body, headers = batch()
    taken = remote.client.post("/api/sync/inbound", content=body, headers=headers)
    assert taken.status_code == 200, taken.text
    results = taken.json()["results"]
    assert results[good]["status"] == 200 and list(results[good]["answer"]["outcomes"].values()) == ["created"]
    assert results[bad]["status"] == 422, results
    assert len(products(remote, north, sku)) == 1
    replayed = remote.client.post("/api/sync/inbound", content=body, headers=headers)
    assert replayed.status_code == 409 and replayed.json()["code"] == "replayed", replayed.text
    body, headers = batch()
    retried = remote.client.post("/api/sync/inbound", content=body, headers=headers)
    assert retried.status_code == 200, retried.text
    again = retried.json()["results"]
    assert again[good]["answer"]["duplicate"] is True and again[bad]["status"] == 422
    assert len(products(remote, north, sku)) == 1
    # a batch is verified whole: a wrong signature takes none of its items
    body, headers = batch()
    headers[signing.SIGNATURE_HEADER] = signing.signature_header(["pssec_wrong"], body)
    assert remote.client.post("/api/sync/inbound", content=body, headers=headers).status_code == 401

    # tenant B sees none of it
    assert client.get("/api/sync/peers", headers=b.admin.bearer).json() == []


def test_activating_the_purchasing_rules_and_re_establishing_the_link_catch_up_across_deployments(
    client: TestClient, world: World, upstream: Served, remote: Served
) -> None:
    """Purchase orders sent before the manufacturer's rules were active are placed when it activates them
    (asked of the partner's deployment, with progress), their statuses come back when the status rule is
    activated; one sent while the partnership is suspended is placed once it is active again; each once."""
    a = world.a
    north = partner_workspace(remote, "catchup")
    link_id, _here, _there = pair(client, upstream, remote, a, north)
    made = new_product(client, a)
    price_list(client, a.admin, [{"product_id": made["id"], "unit_price": "10.00"}])
    warehouse = staff(client, a.admin, "GET", "/warehouses").json()[0]["id"]
    stock(client, a.admin, warehouse, made["id"], 100)
    catalog_rule(client, a, link_id)
    work(client)
    mine = products(remote, north, made["sku"])[0]
    rules = {}
    for obj in PURCHASE_OBJECTS:
        rule = client.post(
            "/api/sync/rules", headers=a.admin.bearer, json={"link_id": link_id, "object": obj, "name": obj}
        )
        assert rule.status_code == 201, rule.text
        rules[obj] = rule.json()["id"]

    def send(quantity: int) -> dict[str, Any]:
        sent = remote.client.post(
            "/api/ordering/purchase-orders",
            headers=north.admin.bearer,
            json={
                "supplier_id": a.tenant_id,
                "lines": [{"product_id": mine["id"], "quantity": quantity}],
                "ship_to": "Q",
            },
        )
        assert sent.status_code == 201, sent.text
        return sent.json()

    def purchase(po_id: str) -> dict[str, Any]:
        return remote.client.get(f"/api/ordering/purchase-orders/{po_id}", headers=north.admin.bearer).json()

    def sales(number: str) -> list[dict[str, Any]]:
        found = client.get("/api/ordering/orders", headers=a.admin.bearer, params={"limit": 200, "status": "all"})
        return [o for o in found.json()["items"] if o.get("po_number") == number]

    def rule_detail(obj: str) -> dict[str, Any]:
        return client.get(f"/api/sync/rules/{rules[obj]}", headers=a.admin.bearer).json()

    # sent while no rule takes them: they wait at the manufacturer's (no active rule) ...
    waiting = [send(1), send(2)]
    work(remote.client)  # retried until the deliveries die: only a catch-up brings them over now
    work(client)
    assert all(sales(po["number"]) == [] for po in waiting)
    # ... and activating the rule asks the partner's deployment for what waits: each placed once
    assert (
        client.post(f"/api/sync/rules/{rules[PURCHASE_OBJECTS[0]]}/activate", headers=a.admin.bearer).status_code == 202
    )
    for _ in range(3):
        work(client)
        work(remote.client)
    work(client)
    for po in waiting:
        assert len(sales(po["number"])) == 1, po["number"]
        assert purchase(po["id"])["status"] == "submitted"
    backfill = rule_detail(PURCHASE_OBJECTS[0])["backfills"][0]
    assert (backfill["status"], backfill["total"], backfill["done"], backfill["applied"]) == ("done", 2, 2, 2)

    # the sales orders approved before the status rule is active: activating it brings the statuses
    for po in waiting:
        so = sales(po["number"])[0]
        assert staff(client, a.admin, "POST", f"/orders/{so['id']}/approve", json={}).status_code == 200
    work(client)
    assert all(purchase(po["id"])["status"] == "submitted" for po in waiting)
    assert (
        client.post(f"/api/sync/rules/{rules[PURCHASE_OBJECTS[1]]}/activate", headers=a.admin.bearer).status_code == 202
    )
    work(client)
    assert all(purchase(po["id"])["status"] == "approved" for po in waiting)
    status_backfill = rule_detail(PURCHASE_OBJECTS[1])["backfills"][0]
    assert status_backfill["status"] == "done" and status_backfill["done"] == 2, status_backfill

    # suspended: a purchase order sent meanwhile is not placed; active again: placed once
    status = f"/api/interconnect/enterprises/{link_id}/status"
    assert client.post(status, headers=a.admin.bearer, json={"status": "suspended"}).status_code == 200
    later = send(3)
    work(remote.client)
    work(client)
    assert sales(later["number"]) == [] and purchase(later["id"])["status"] == "sent"
    assert client.post(status, headers=a.admin.bearer, json={"status": "active"}).status_code == 200
    for _ in range(3):
        work(client)
        work(remote.client)
    work(client)
    assert len(sales(later["number"])) == 1
    assert purchase(later["id"])["status"] == "submitted"
    assert all(len(sales(po["number"])) == 1 for po in waiting)
