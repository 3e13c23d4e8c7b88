"""Staff see, filter and replay their own tenant's deliveries through the API and the console; another
tenant's do not exist for them; the console home names failing subscribers to those who may act."""

from __future__ import annotations

import html
import uuid

from litestar import Litestar
from litestar.testing import TestClient

from portal.config import Settings
from portal.db.engine import Database
from portal.outbox import PermanentFailure
from portal.services import Services
from sync.delivery.engine import DeliveryEngine
from tests.integration.sync.support import FAST, Recorder, drain, publish_events, run_engine
from tests.integration.web.test_pages import act_as, submit
from tests.world import World, add_user, credential

HOOK = "hook"


def deliver_some(app: Litestar, settings: Settings, world: World, *, refuse: str | None = "bad") -> Recorder:
    """Tenant A: two events of one aggregate delivered, one refused for good; tenant B: one delivered."""
    recorder = Recorder(HOOK)
    recorder.fail = lambda e, _n: (
        PermanentFailure("HTTP 404 from the endpoint") if e.payload.get("k") == refuse else None
    )

    async def work(services: Services, db: Database) -> None:
        order = uuid.uuid4()
        await publish_events(
            db, world.a.tenant_id, [("test.order", order, {"k": "one"}), ("test.order", order, {"k": "two"})]
        )
        await publish_events(db, world.a.tenant_id, [("test.refund", uuid.uuid4(), {"k": "bad"})])
        await publish_events(db, world.b.tenant_id, [("test.order", uuid.uuid4(), {"k": "b-only"})])
        await drain(DeliveryEngine(services, [recorder.subscriber()], FAST))

    run_engine(app, settings, work)
    return recorder


def listed(client: TestClient, headers: dict[str, str], **params: str) -> dict:
    response = client.get("/api/deliveries", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_staff_list_filter_inspect_and_replay_their_own_deliveries(
    client: TestClient, app: Litestar, settings: Settings, world: World
) -> None:
    deliver_some(app, settings, world)
    a, b = world.a.admin.bearer, world.b.admin.bearer
    everything = listed(client, a, subscriber=HOOK)
    assert everything["total"] == 3
    [dead] = listed(client, a, status="dead")["items"]
    assert (dead["subscriber"], dead["event_type"], dead["attempts"]) == (HOOK, "test.refund", 1)
    assert dead["last_error"] == "HTTP 404 from the endpoint"
    assert listed(client, a, event_type="test.order", status="delivered")["total"] == 2
    order_id = listed(client, a, event_type="test.order")["items"][0]["aggregate_id"]
    assert listed(client, a, aggregate_id=order_id)["total"] == 2
    assert listed(client, a, since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00Z")["total"] == 0
    assert client.get("/api/deliveries", headers=a, params={"status": "bogus"}).status_code == 422

    detail = client.get(f"/api/deliveries/{dead['id']}", headers=a).json()
    assert detail["event"]["payload"] == {"k": "bad"}
    assert [(x["number"], x["outcome"]) for x in detail["attempts"]] == [(1, "dead")]

    # tenant B sees none of it and cannot replay it
    assert {i["event_type"] for i in listed(client, b)["items"]} <= {"test.order"}
    assert listed(client, b)["total"] == 1
    assert client.get(f"/api/deliveries/{dead['id']}", headers=b).status_code == 404
    refused = client.post(f"/api/deliveries/{dead['id']}/replay", headers=b)
    assert refused.status_code == 404 and refused.headers["content-type"].startswith("application/problem+json")
    # reading is not replaying: the read-only staff role may look, not replay
    assert client.get(f"/api/deliveries/{dead['id']}", headers=world.a.others["staff"].bearer).status_code == 200
    assert (
        client.post(f"/api/deliveries/{dead['id']}/replay", headers=world.a.others["staff"].bearer).status_code == 403
    )

    replayed = client.post(f"/api/deliveries/{dead['id']}/replay", headers=a)
    assert replayed.status_code == 200, replayed.text
    # back to pending; the attempts go on counting
    assert (replayed.json()["status"], replayed.json()["state"], replayed.json()["attempts"]) == (
        "pending",
        "pending",
        1,
    )
    again = client.post(f"/api/deliveries/{dead['id']}/replay", headers=a)
    assert (again.status_code, again.json()["code"]) == (409, "delivery_pending")
    # who replayed which delivery, and when, is in the audit log
    [audited] = client.get("/api/audit", headers=a, params={"object_id": dead["id"]}).json()
    assert (audited["action"], audited["object_type"], audited["actor_id"]) == (
        "replay",
        "outbox_deliveries",
        world.a.admin.user_id,
    )
    assert audited["after"]["replayed"] == {"status": "dead", "attempts": 1, "last_error": "HTTP 404 from the endpoint"}
    assert client.get("/api/audit", headers=b, params={"object_id": dead["id"]}).json() == []

    # the receiver is fixed: the next worker pass delivers the replayed one, as its second attempt
    deliver_some(app, settings, world, refuse=None)
    detail = client.get(f"/api/deliveries/{dead['id']}", headers=a).json()
    assert detail["delivery"]["status"] == "delivered"
    assert [(x["number"], x["outcome"]) for x in detail["attempts"]] == [(2, "delivered"), (1, "dead")]

    # a delivered one can be sent again
    sent = listed(client, a, status="delivered")["items"][0]
    assert client.post(f"/api/deliveries/{sent['id']}/replay", headers=a).json()["status"] == "pending"

    overview = client.get("/api/deliveries/overview", headers=a).json()
    [figures] = [s for s in overview["subscribers"] if s["subscriber"] == HOOK]
    assert figures["dead"] == 0 and figures["pending"] == 1
    assert len(overview["hours"]) == 24
    assert sum(h["delivered"] for h in overview["hours"]) >= 4
    assert sum(h["failed"] for h in overview["hours"]) == 1


def test_the_console_shows_failing_deliveries_to_whoever_may_act(
    client: TestClient, app: Litestar, settings: Settings, world: World
) -> None:
    deliver_some(app, settings, world)
    act_as(client, world.a.admin.cookie)
    home = html.unescape(client.get("/console").text)
    assert "<code>hook</code>: 1 delivery failed for good" in home
    assert "/console/deliveries/list?subscriber=hook&amp;status=dead" in client.get("/console").text

    overview = client.get("/console/deliveries")
    assert overview.status_code == 200 and "<svg" in overview.text and "hook" in overview.text
    listing = client.get("/console/deliveries/list", params={"subscriber": HOOK, "status": "dead"})
    assert (
        listing.status_code == 200
        and "<code>test.refund</code>" in listing.text
        and "<code>test.order</code>" not in listing.text
    )
    dead_id = listed(client, world.a.admin.bearer, status="dead")["items"][0]["id"]
    page = client.get(f"/console/deliveries/{dead_id}")
    assert page.status_code == 200 and "HTTP 404 from the endpoint" in html.unescape(page.text)
    replay = submit(client, f"/console/deliveries/{dead_id}/replay", {}, form_page=f"/console/deliveries/{dead_id}")
    assert replay.status_code in (302, 303) and replay.headers["location"].endswith("?replayed=1")
    refused = submit(client, f"/console/deliveries/{dead_id}/replay", {}, form_page=f"/console/deliveries/{dead_id}")
    assert refused.status_code == 409 and "still waiting" in refused.text
    home = html.unescape(client.get("/console").text)
    assert "failed for good" not in home

    # tenant B's admin: none of A's deliveries, not even by address
    act_as(client, world.b.admin.cookie)
    assert client.get(f"/console/deliveries/{dead_id}").status_code == 404
    assert "test.refund" not in client.get("/console/deliveries/list").text

    # someone without the permission gets no line on the home page and no page
    email = f"{uuid.uuid4().hex[:8]}@a.example"
    manager = credential(client, world.a.slug, add_user(client, world.a.admin, email, "channel_manager"), email)
    deliver_some(app, settings, world)
    act_as(client, manager.cookie)
    home = client.get("/console")
    assert home.status_code == 200 and "/console/deliveries" not in home.text
    assert client.get("/console/deliveries").status_code == 403
