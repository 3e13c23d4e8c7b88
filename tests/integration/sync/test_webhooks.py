"""Outbound webhooks through the API and the "webhooks" subscriber, against a receiver on a loopback
port: signatures, rotation, address checks, redirects, bounded answers, timeouts, reasons, replay, and
that another tenant sees none of it. Events are written to the outbox and delivered by the workers' own
engine: the subscriber opens one line per endpoint, each retried and dead on its own."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select, update

from portal.config import Settings
from portal.db.context import SYSTEM, tenant_context
from portal.db.engine import Database
from portal.outbox import Event, OutboxEvent, publish
from sync.delivery.engine import DeliveryConfig, DeliveryEngine
from sync.delivery.models import Delivery
from sync.delivery.worker import subscribers_of
from sync.webhooks.service import Webhooks
from sync.webhooks.signing import verify
from tests.db import run_with_database
from tests.integration.sync.receiver import Receiver, start
from tests.integration.web.test_pages import act_as, submit
from tests.world import World, background_jobs_ended

EVENT = "ordering.order.approved"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def tls_receiver() -> Iterator[Receiver]:
    server = start(tls=True)
    yield server
    server.close()


@pytest.fixture
def hooks(app: Litestar, receiver: Receiver, tls_receiver: Receiver) -> Iterator[Webhooks]:
    """The app's webhook sender with the receivers' exact host:port allowlisted (and nothing else on
    the loopback interface), and short timeouts; put back afterwards."""
    webhooks: Webhooks = app.state.services.extensions["webhooks"]
    saved = webhooks.config
    webhooks.config = dataclasses.replace(
        saved,
        allow_hosts=frozenset({receiver.host, tls_receiver.host}),
        read_timeout=1.0,
        total_timeout=2.0,
    )
    receiver.routes.clear()
    receiver.received.clear()
    yield webhooks
    webhooks.config = saved


def create(client: TestClient, headers: dict[str, str], url: str, types: list[str] | None = None) -> dict[str, Any]:
    response = client.post(
        "/api/webhooks/endpoints", headers=headers, json={"url": url, "event_types": types or [EVENT]}
    )
    assert response.status_code == 201, response.text
    return response.json()


def deliver(client: TestClient, settings: Settings, event: Event) -> None:
    """The event written to its tenant's outbox (once) and the workers' engine run until nothing is due:
    the "webhooks" subscriber opens a line per endpoint, and each line's attempt sends one request. A line
    that failed waits for its retry (`retry_now` makes it due)."""

    async def work(db: Database) -> None:
        async with db.session(tenant_context(event.tenant_id)) as session:
            if await session.get(OutboxEvent, (event.tenant_id, event.id)) is None:
                row = publish(session, event.event_type, event.aggregate_type, event.aggregate_id, event.payload)
                row.id, row.occurred_at = event.id, event.occurred_at

    run_with_database(settings, work)
    assert background_jobs_ended(client)


def retry_now(settings: Settings) -> None:
    """Every webhook line waiting for its retry becomes due, as its pause had passed."""

    async def work(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.subscriber.startswith("webhooks:"), Delivery.status == "pending")
                .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
            )

    run_with_database(settings, work)


def line(client: TestClient, headers: dict[str, str], endpoint_id: str, event: Event) -> dict[str, Any]:
    """The endpoint's outbox delivery of the event, as staff see it in /api/deliveries."""
    found = client.get("/api/deliveries", headers=headers, params={"subscriber": f"webhooks:{endpoint_id}"})
    assert found.status_code == 200, found.text
    [mine] = [d for d in found.json()["items"] if d["event_id"] == str(event.id)]
    return mine


def event_of(world: World, event_type: str = EVENT, tenant: str | None = None) -> Event:
    return Event(
        id=uuid.uuid4(),
        tenant_id=uuid.UUID(tenant or world.a.tenant_id),
        event_type=event_type,
        aggregate_type="ordering.order",
        aggregate_id=uuid.uuid4(),
        payload={"number": "SO-1", "total": "120.00"},
        occurred_at=datetime.now(UTC),
    )


def log(client: TestClient, headers: dict[str, str], **filters: str) -> list[dict[str, Any]]:
    response = client.get("/api/webhooks/deliveries", headers=headers, params=filters)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_secret_shown_once_and_every_delivery_signed(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver
) -> None:
    admin = world.a.admin.bearer
    created = create(client, admin, receiver.url("/hook"))
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    shown = client.get(f"/api/webhooks/endpoints/{created['endpoint']['id']}", headers=admin)
    assert shown.status_code == 200 and secret not in shown.text
    assert secret not in client.get("/api/webhooks/endpoints", headers=admin).text

    ping = client.post(f"/api/webhooks/endpoints/{created['endpoint']['id']}/ping", headers=admin)
    assert ping.status_code == 200, ping.text
    assert ping.json()["outcome"] == "succeeded" and ping.json()["response_status"] == 200
    [request] = receiver.at("/hook")
    header = request.headers["Portal-Signature"]
    assert request.headers["Portal-Event-Type"] == "webhook.ping"
    assert request.headers["Portal-Event-Id"] == ping.json()["event_id"]
    assert json.loads(request.body)["id"] == ping.json()["event_id"]
    assert verify(secret, header, request.body)
    assert not verify(secret.replace("whsec_", "whsec_x"), header, request.body)
    assert not verify(secret, header, request.body + b" ")
    stamp = int(header.split(",")[0].removeprefix("t="))
    assert not verify(secret, header, request.body, now=stamp + 301)
    assert verify(secret, header, request.body, now=stamp + 299)
    # the log shows that it was signed, not the signature
    detail = client.get(f"/api/webhooks/deliveries/{ping.json()['id']}", headers=admin).json()
    assert detail["request_headers"]["Portal-Signature"].startswith(f"t={stamp},v1=")
    assert header.split("v1=")[1] not in json.dumps(detail)


def test_event_body_and_retries_do_not_resend_to_endpoints_that_took_it(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver, settings: Settings
) -> None:
    admin = world.a.admin.bearer
    ok = create(client, admin, receiver.url("/ok"))["endpoint"]
    flaky = create(client, admin, receiver.url("/flaky"))["endpoint"]
    create(client, admin, receiver.url("/other-type"), ["ordering.payment.confirmed"])
    create(client, world.b.admin.bearer, receiver.url("/tenant-b"))
    receiver.answer("/flaky", 503, b"busy")
    event = event_of(world)

    deliver(client, settings, event)
    assert len(receiver.at("/ok")) == 1 and len(receiver.at("/flaky")) == 1
    assert not receiver.at("/other-type") and not receiver.at("/tenant-b")
    assert line(client, admin, ok["id"], event)["state"] == "delivered"
    waiting = line(client, admin, flaky["id"], event)
    assert waiting["state"] == "retrying" and waiting["last_error"].endswith("/flaky: answered 503"), waiting
    body = json.loads(receiver.at("/ok")[0].body)
    assert body == {
        "id": str(event.id),
        "type": EVENT,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "tenant": world.a.tenant_id,
        "aggregate": {"type": "ordering.order", "id": str(event.aggregate_id)},
        "data": {"number": "SO-1", "total": "120.00"},
    }

    create(client, admin, receiver.url("/late"))  # added after the event: never receives it
    receiver.answer("/flaky", 200)
    retry_now(settings)
    deliver(client, settings, event)  # the worker's retry of the failing endpoint's line
    assert len(receiver.at("/ok")) == 1, "a retry must not send again to an endpoint that took the event"
    assert len(receiver.at("/flaky")) == 2
    assert receiver.at("/flaky")[1].headers["Portal-Event-Id"] == str(event.id)
    assert line(client, admin, flaky["id"], event)["state"] == "delivered"
    retry_now(settings)
    deliver(client, settings, event)  # nothing is due any more: nothing more is sent
    assert len(receiver.received) == 3 and not receiver.at("/late")

    logged = log(client, admin, event_id=str(event.id))
    assert sorted((d["url"].rsplit("/", 1)[1], d["attempt"], d["outcome"]) for d in logged) == [
        ("flaky", 1, "failed"),
        ("flaky", 2, "succeeded"),
        ("ok", 1, "succeeded"),
    ]
    assert log(client, admin, event_id=str(event.id), outcome="failed")[0]["error"] == "answered 503"
    # an outcome that does not exist is refused like any bad filter, not ignored
    bogus = client.get("/api/webhooks/deliveries", headers=admin, params={"outcome": "bogus"})
    assert bogus.status_code == 422 and bogus.headers["content-type"].startswith("application/problem+json")
    assert bogus.json()["code"] == "validation_failed" and "outcome" in bogus.text
    assert log(client, world.b.admin.bearer, event_id=str(event.id)) == []


def test_a_failing_endpoint_holds_back_no_other_and_each_keeps_its_order(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver, settings: Settings
) -> None:
    """Each endpoint is a line of its own: one that fails (or refuses) keeps the aggregate's later events
    waiting for itself only; the others get them at once, and every endpoint gets them in order."""
    admin = world.a.admin.bearer
    good = create(client, admin, receiver.url("/good"))["endpoint"]
    down = create(client, admin, receiver.url("/down"))["endpoint"]
    refusing = create(client, admin, receiver.url("/refusing"))["endpoint"]
    receiver.answer("/down", 503)
    receiver.answer("/refusing", 400)
    first = event_of(world)
    second = dataclasses.replace(first, id=uuid.uuid4(), payload={"number": "SO-1", "total": "99.00"})
    other = event_of(world)  # another order

    def numbers(path: str) -> list[str]:
        return [json.loads(r.body)["data"]["total"] for r in receiver.at(path)]

    deliver(client, settings, first)
    deliver(client, settings, second)
    deliver(client, settings, other)
    assert numbers("/good") == ["120.00", "99.00", "120.00"]
    assert line(client, admin, good["id"], second)["state"] == "delivered"
    # the endpoint that is down got the order's first event only: the second waits behind it, in its line
    assert [json.loads(r.body)["id"] for r in receiver.at("/down")] == [str(first.id), str(other.id)]
    assert line(client, admin, down["id"], first)["state"] == "retrying"
    assert line(client, admin, down["id"], second)["state"] == "pending"
    # the refusing one is dead for each event, on its own
    assert [line(client, admin, refusing["id"], e)["state"] for e in (first, second, other)] == ["dead"] * 3
    assert line(client, admin, refusing["id"], first)["last_error"].endswith("the receiver refused the request")
    # the console names the endpoint whose line is dead
    act_as(client, world.a.admin.cookie)
    home = html.unescape(client.get("/console").text)
    assert f'Webhooks <code class="muted">{refusing["id"]}</code>: 3 deliveries failed for good' in home, home
    # the subscriber's own deliveries (opening the lines) are done
    parents = client.get("/api/deliveries", headers=admin, params={"subscriber": "webhooks"}).json()["items"]
    assert {d["status"] for d in parents if d["event_id"] in (str(first.id), str(second.id))} == {"delivered"}

    receiver.answer("/down", 200)
    retry_now(settings)
    deliver(client, settings, second)
    sent = [json.loads(r.body)["id"] for r in receiver.at("/down")]
    assert sent[:2] == [str(first.id), str(other.id)]
    again = sent[2:]  # the retries, then the second event once the first is through: never before it
    assert sorted(again) == sorted([str(first.id), str(second.id), str(other.id)])
    assert again.index(str(first.id)) < again.index(str(second.id))
    assert numbers("/good") == ["120.00", "99.00", "120.00"]
    assert [line(client, admin, down["id"], e)["state"] for e in (first, second, other)] == ["delivered"] * 3


def test_a_slow_endpoint_holds_back_only_its_own_line(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver, settings: Settings
) -> None:
    """Deliveries of one batch run side by side, and the batch is recorded without waiting for a receiver
    that stalls: the quick endpoint gets an order's two events and another order's event, in order, while
    the stalling endpoint's first requests are still unanswered; those end by timing out, and only that
    endpoint's line waits for its retry."""
    admin = world.a.admin.bearer
    assert background_jobs_ended(client)  # nothing left over from the world
    hooks.config = dataclasses.replace(hooks.config, read_timeout=2.5, total_timeout=3.0)
    quick = create(client, admin, receiver.url("/quick"))["endpoint"]
    stalling = create(client, admin, receiver.url("/stalling"))["endpoint"]
    receiver.answer("/stalling", 200, delay=3.0)
    first = event_of(world)
    second = dataclasses.replace(first, id=uuid.uuid4(), payload={"number": "SO-1", "total": "99.00"})
    other = event_of(world)
    events = (first, second, other)

    async def written(db: Database) -> None:
        async with db.session(tenant_context(first.tenant_id)) as session:
            for event in events:
                row = publish(session, event.event_type, event.aggregate_type, event.aggregate_id, event.payload)
                row.id, row.occurred_at = event.id, event.occurred_at

    run_with_database(settings, written)
    services = client.app.state.services
    engine = DeliveryEngine(services, subscribers_of(services), DeliveryConfig(timeout_seconds=10.0), "tests")

    async def until_quick_has_all() -> list[Delivery]:
        """Run the engine until the quick endpoint has every event; the stalling line's deliveries then."""
        async with asyncio.timeout(30):
            while len(receiver.at("/quick")) < len(events):
                if not await engine.fan_out() + await engine.deliver_batch():
                    await asyncio.sleep(0.01)
        async with services.db.session(SYSTEM, write=False) as session:
            return list(
                await session.scalars(select(Delivery).where(Delivery.subscriber == f"webhooks:{stalling['id']}"))
            )

    stalled = client.blocking_portal.call(until_quick_has_all)
    quick_totals = [json.loads(r.body)["data"]["total"] for r in receiver.at("/quick")]
    assert sorted(quick_totals) == ["120.00", "120.00", "99.00"]
    order_ids = [json.loads(r.body)["id"] for r in receiver.at("/quick")]
    assert order_ids.index(str(first.id)) < order_ids.index(str(second.id))
    # the stalling endpoint's first requests are still waiting for their answer, under their lease
    in_flight = {d.event_id for d in stalled if d.lease_owner is not None and d.last_error is None}
    assert in_flight == {first.id, other.id}, [(d.event_id, d.lease_owner, d.last_error) for d in stalled]
    client.blocking_portal.call(engine.settle)
    assert [line(client, admin, quick["id"], e)["state"] for e in events] == ["delivered"] * 3
    # they timed out: that line retries, and the order's second event waits behind the first in it only
    states = [line(client, admin, stalling["id"], e) for e in events]
    assert [s["state"] for s in states] == ["retrying", "pending", "retrying"]
    assert "timed out waiting for the answer" in states[0]["last_error"]


def test_refusals_are_permanent_with_a_clear_reason(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver, settings: Settings
) -> None:
    admin = world.a.admin.bearer
    bad = create(client, admin, receiver.url("/bad"))["endpoint"]
    receiver.answer("/bad", 401, b"who are you")
    event = event_of(world)
    deliver(client, settings, event)
    dead = line(client, admin, bad["id"], event)
    assert dead["state"] == "dead" and "answered 401" in dead["last_error"], dead
    [row] = log(client, admin, endpoint_id=bad["id"])
    assert row["outcome"] == "refused" and row["response_status"] == 401
    assert row["error"] == "answered 401: the receiver refused the request"
    detail = client.get(f"/api/webhooks/deliveries/{row['id']}", headers=admin).json()
    assert detail["response_excerpt"] == "who are you"

    # 410 Gone: the endpoint is disabled and nothing more is sent to it
    client.delete(f"/api/webhooks/endpoints/{bad['id']}", headers=admin)
    gone = create(client, admin, receiver.url("/gone"))["endpoint"]
    receiver.answer("/gone", 410)
    event = event_of(world)
    deliver(client, settings, event)
    assert "410" in line(client, admin, gone["id"], event)["last_error"]
    shown = client.get(f"/api/webhooks/endpoints/{gone['id']}", headers=admin).json()
    assert shown["active"] is False and shown["disabled_reason"] == "410 Gone"
    deliver(client, settings, event_of(world))
    assert len(receiver.at("/gone")) == 1


def test_redirects_are_not_followed(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver, settings: Settings
) -> None:
    moved = create(client, world.a.admin.bearer, receiver.url("/moved"))["endpoint"]
    receiver.answer("/moved", 302, b"", Location="http://169.254.169.254/latest/meta-data/")
    receiver.answer("/target", 200)
    event = event_of(world)
    deliver(client, settings, event)
    assert "redirect" in line(client, world.a.admin.bearer, moved["id"], event)["last_error"]
    [row] = log(client, world.a.admin.bearer, endpoint_id=moved["id"])
    assert row["outcome"] == "refused" and "do not follow redirects" in row["error"]
    assert [r.path for r in receiver.received] == ["/moved"]


def test_timeouts_and_unreachable_hosts_are_retried(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver, settings: Settings
) -> None:
    admin = world.a.admin.bearer
    endpoint = create(client, admin, receiver.url("/slow"))["endpoint"]
    receiver.answer("/slow", 200, b"late", delay=3.0)
    event = event_of(world)
    deliver(client, settings, event)
    waiting = line(client, admin, endpoint["id"], event)
    assert waiting["state"] == "retrying" and "timed out" in waiting["last_error"], waiting
    [row] = log(client, admin, endpoint_id=endpoint["id"])
    assert row["error"] == "timed out waiting for the answer" and row["outcome"] == "failed"
    assert row["latency_ms"] < 2900

    # a port nobody listens on (allowlisted like the receiver's host): could not connect, retried
    closed = start()
    closed_url, closed_host = closed.url("/nobody"), closed.host
    closed.close()
    hooks.config = dataclasses.replace(hooks.config, allow_hosts=hooks.config.allow_hosts | {closed_host})
    client.patch(f"/api/webhooks/endpoints/{endpoint['id']}", headers=admin, json={"url": closed_url})
    retry_now(settings)
    deliver(client, settings, event)
    waiting = line(client, admin, endpoint["id"], event)
    assert waiting["state"] == "retrying" and "could not connect" in waiting["last_error"], waiting


def test_a_tls_error_is_retried_with_its_reason(
    client: TestClient, world: World, hooks: Webhooks, tls_receiver: Receiver
) -> None:
    admin = world.a.admin.bearer
    endpoint = create(client, admin, tls_receiver.url("/hook"))["endpoint"]
    ping = client.post(f"/api/webhooks/endpoints/{endpoint['id']}/ping", headers=admin).json()
    assert ping["outcome"] == "failed"
    assert ping["error"].startswith("TLS certificate not accepted: self-signed certificate"), ping["error"]
    assert not tls_receiver.received


def test_a_huge_answer_is_read_only_up_to_the_bound(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver
) -> None:
    admin = world.a.admin.bearer
    endpoint = create(client, admin, receiver.url("/huge"))["endpoint"]
    receiver.answer("/huge", 200, b"x" * (50 * 1024 * 1024))
    ping = client.post(f"/api/webhooks/endpoints/{endpoint['id']}/ping", headers=admin).json()
    assert ping["outcome"] == "succeeded", ping
    assert ping["latency_ms"] < 1500
    detail = client.get(f"/api/webhooks/deliveries/{ping['id']}", headers=admin).json()
    assert detail["response_excerpt"] == "x" * 2000


def test_rotation_signs_with_both_secrets_during_the_overlap(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver
) -> None:
    admin = world.a.admin.bearer
    created = create(client, admin, receiver.url("/rotating"))
    endpoint_id, first = created["endpoint"]["id"], created["secret"]
    rotated = client.post(f"/api/webhooks/endpoints/{endpoint_id}/rotate-secret", headers=admin)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["secret"]
    until = datetime.fromisoformat(rotated.json()["endpoint"]["previous_secret_valid_until"])
    assert timedelta(hours=23) < until - datetime.now(UTC) <= timedelta(hours=24)
    client.post(f"/api/webhooks/endpoints/{endpoint_id}/ping", headers=admin)
    request = receiver.at("/rotating")[-1]
    assert request.headers["Portal-Signature"].count("v1=") == 2
    assert verify(first, request.headers["Portal-Signature"], request.body)
    assert verify(second, request.headers["Portal-Signature"], request.body)

    # once the overlap is over (here: an overlap of nothing), only the newest secret signs
    hooks.config = dataclasses.replace(hooks.config, rotation_overlap=timedelta(0))
    third = client.post(f"/api/webhooks/endpoints/{endpoint_id}/rotate-secret", headers=admin).json()["secret"]
    client.post(f"/api/webhooks/endpoints/{endpoint_id}/ping", headers=admin)
    request = receiver.at("/rotating")[-1]
    assert request.headers["Portal-Signature"].count("v1=") == 1
    assert verify(third, request.headers["Portal-Signature"], request.body)
    assert not verify(second, request.headers["Portal-Signature"], request.body)
    assert not verify(first, request.headers["Portal-Signature"], request.body)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://127.0.0.1:8443/hook",
        "https://10.1.2.3/hook",
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "https://2130706433/hook",
        "https://0x7f.1/hook",
        "https://0.0.0.0/hook",
        "https://100.100.100.200/latest",
        "https://224.0.0.1/hook",
        "http://example.com/hook",
        "https://user:pw@example.com/hook",
        "ftp://example.com/hook",
        "https:///hook",
        "https://no-such-host.invalid/hook",
    ],
)
def test_addresses_webhooks_may_not_reach_are_refused_when_saved(
    client: TestClient, world: World, hooks: Webhooks, url: str
) -> None:
    response = client.post(
        "/api/webhooks/endpoints", headers=world.a.admin.bearer, json={"url": url, "event_types": [EVENT]}
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "url" and error["code"] == "refused", error


def test_addresses_are_checked_again_when_sending(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver
) -> None:
    """An endpoint saved while its host passed (allowlisted here; in life: DNS answering a public
    address) is refused at send time once it resolves to loopback."""
    admin = world.a.admin.bearer
    local = f"localhost:{receiver.port}"
    hooks.config = dataclasses.replace(hooks.config, allow_hosts=hooks.config.allow_hosts | {local})
    endpoint = create(client, admin, f"http://{local}/hook")["endpoint"]
    hooks.config = dataclasses.replace(hooks.config, allow_hosts=hooks.config.allow_hosts - {local})
    ping = client.post(f"/api/webhooks/endpoints/{endpoint['id']}/ping", headers=admin).json()
    assert ping["outcome"] == "refused"
    assert ping["error"] == "the URL must use https"
    client.patch(f"/api/webhooks/endpoints/{endpoint['id']}", headers=admin, json={"active": False})
    with_https = client.patch(
        f"/api/webhooks/endpoints/{endpoint['id']}", headers=admin, json={"url": f"https://{local}/hook"}
    )
    assert with_https.status_code == 422 and "loopback" in with_https.text
    assert not receiver.received


def test_replay_sends_the_same_event_again(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver, settings: Settings
) -> None:
    admin = world.a.admin.bearer
    created = create(client, admin, receiver.url("/replayed"))
    endpoint_id = created["endpoint"]["id"]
    receiver.answer("/replayed", 500)
    event = event_of(world)
    deliver(client, settings, event)
    [failed] = log(client, admin, outcome="failed", endpoint_id=endpoint_id)
    receiver.answer("/replayed", 200)
    # while the endpoint's line waits for its retry, sending the event by hand as well would deliver it twice
    refused = client.post(f"/api/webhooks/deliveries/{failed['id']}/replay", headers=admin)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "delivery_pending"
    assert "still on its way to this endpoint" in refused.json()["detail"]
    assert len(receiver.at("/replayed")) == 1
    # the page says so too, on the delivery's page
    act_as(client, world.a.admin.cookie)
    shown = f"/console/webhooks/deliveries/{failed['id']}"
    page = submit(client, f"{shown}/replay", {}, form_page=shown)
    assert page.status_code == 409 and "still on its way to this endpoint" in html.unescape(page.text)
    client.cookies.clear()
    # the scheduled retry sends it, once
    retry_now(settings)
    deliver(client, settings, event)
    assert len(receiver.at("/replayed")) == 2
    assert line(client, admin, endpoint_id, event)["state"] == "delivered"
    # once the line is through, staff may send it again: the same event, newly signed, numbered on
    replay = client.post(f"/api/webhooks/deliveries/{failed['id']}/replay", headers=admin)
    assert replay.status_code == 200, replay.text
    assert replay.json()["trigger"] == "replay" and replay.json()["attempt"] == 3
    assert replay.json()["outcome"] == "succeeded" and replay.json()["event_id"] == str(event.id)
    first, retried, again = receiver.at("/replayed")
    assert first.body == retried.body == again.body and again.headers["Portal-Event-Id"] == str(event.id)
    assert verify(created["secret"], again.headers["Portal-Signature"], again.body)
    # the audit log says who sent which delivery again, and as which attempt
    [audited] = client.get("/api/audit", headers=admin, params={"object_id": failed["id"]}).json()
    assert (audited["action"], audited["object_type"], audited["actor_id"]) == (
        "replay",
        "webhook_deliveries",
        world.a.admin.user_id,
    )
    assert audited["after"] == {
        "replay_id": replay.json()["id"],
        "event_id": str(event.id),
        "endpoint_id": endpoint_id,
        "attempt": 3,
    }
    # nothing else goes out for it: the line is delivered, the replay was the one extra request asked for
    deliver(client, settings, event)
    assert [r.headers["Portal-Event-Id"] for r in receiver.at("/replayed")] == [str(event.id)] * 3
    assert sorted(d["attempt"] for d in log(client, admin, endpoint_id=endpoint_id)) == [1, 2, 3]
    # another tenant cannot replay it, nor read it
    other = world.b.admin.bearer
    assert client.post(f"/api/webhooks/deliveries/{failed['id']}/replay", headers=other).status_code == 404
    assert client.get(f"/api/webhooks/deliveries/{failed['id']}", headers=other).status_code == 404
    assert len(receiver.at("/replayed")) == 3


def test_endpoints_belong_to_their_tenant_and_need_the_permission(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver
) -> None:
    created = create(client, world.a.admin.bearer, receiver.url("/mine"))["endpoint"]
    other, staff = world.b.admin.bearer, world.a.others["staff"].bearer
    path = f"/api/webhooks/endpoints/{created['id']}"
    assert client.get("/api/webhooks/endpoints", headers=other).json() == []
    for method, url in (
        ("GET", path),
        ("PATCH", path),
        ("DELETE", path),
        ("POST", f"{path}/ping"),
        ("POST", f"{path}/rotate-secret"),
    ):
        answer = client.request(method, url, headers=other, json={"active": False} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, url, answer.text)
        # the staff preset reads everything and changes nothing
        expected = 200 if method == "GET" else 403
        assert client.request(method, url, headers=staff).status_code == expected, (method, url)
    assert not receiver.received
    assert client.get(path, headers=world.a.admin.bearer).json()["active"] is True


def test_event_types_are_the_public_ones(client: TestClient, world: World, hooks: Webhooks, receiver: Receiver) -> None:
    admin = world.a.admin.bearer
    types = {t["type"]: t["description"] for t in client.get("/api/webhooks/event-types", headers=admin).json()}
    assert EVENT in types and "user.joined" in types and "webhook.ping" not in types
    assert not any(t.startswith(("notification.", "import.")) for t in types)
    for chosen in (["notification.sent"], [], ["webhook.ping"]):
        response = client.post(
            "/api/webhooks/endpoints", headers=admin, json={"url": receiver.url("/x"), "event_types": chosen}
        )
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == "event_types"


def test_a_host_that_stops_resolving_is_retried(client: TestClient, world: World, hooks: Webhooks) -> None:
    """A DNS failure at send time passes: the delivery fails and is retried, it is not refused for good."""
    admin = world.a.admin.bearer
    gone = "no-such-host.invalid"
    hooks.config = dataclasses.replace(hooks.config, allow_hosts=hooks.config.allow_hosts | {gone})
    endpoint = create(client, admin, f"https://{gone}/hook")["endpoint"]
    hooks.config = dataclasses.replace(hooks.config, allow_hosts=hooks.config.allow_hosts - {gone})
    ping = client.post(f"/api/webhooks/endpoints/{endpoint['id']}/ping", headers=admin).json()
    assert ping["outcome"] == "failed" and ping["error"] == f"the host {gone} could not be resolved"


def test_a_change_reaches_the_endpoint_through_the_workers_signed_once(
    client: TestClient, world: World, hooks: Webhooks, receiver: Receiver
) -> None:
    """End to end: the API change writes its event, the worker's own engine fans it out and delivers it
    to the "webhooks" subscriber, which signs and sends it; a second pass sends nothing more."""
    admin = world.a.admin.bearer
    assert background_jobs_ended(client)  # whatever the world left pending is delivered first
    created = create(client, admin, receiver.url("/e2e"), ["link.suspended"])
    changed = client.post(
        f"/api/interconnect/enterprises/{world.y.link_id}/status", headers=admin, json={"status": "suspended"}
    )
    assert changed.status_code == 200, changed.text
    try:
        assert background_jobs_ended(client)
        assert background_jobs_ended(client)
        [request] = receiver.at("/e2e")
        body = json.loads(request.body)
        assert body["type"] == "link.suspended" and request.headers["Portal-Event-Type"] == "link.suspended"
        assert request.headers["Portal-Event-Id"] == body["id"]
        assert verify(created["secret"], request.headers["Portal-Signature"], request.body)
        deliveries = client.get("/api/deliveries", headers=admin, params={"subscriber": "webhooks"}).json()
        mine = [d for d in deliveries["items"] if d["event_id"] == body["id"]]
        assert [d["status"] for d in mine] == ["delivered"], deliveries
    finally:
        restored = client.post(
            f"/api/interconnect/enterprises/{world.y.link_id}/status", headers=admin, json={"status": "active"}
        )
        assert restored.status_code == 200, restored.text
