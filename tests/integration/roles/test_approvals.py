"""The approvals engine through HTTP: one queue across apps (orders, registrations in conflict,
extensions) for the approver, taking steps with comments, flows chosen by conditions with steps by a
role or a named person, a delegate taking steps on someone's behalf, the timeline, notifications, the
console pages, what tenant B, a partner and a staff member without the permission never see, bad input,
and (PostgreSQL) two approvers taking one step at once."""

from __future__ import annotations

import copy
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import select

from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.notifications.models import Notification
from roles.approvals.notices import stranded_steps
from tests.db import run_with_database
from tests.integration.apps.test_leads import agent
from tests.integration.ordering.support import build_shop, place
from tests.integration.web.test_pages import act_as, submit
from tests.world import Credential, World, add_user, background_jobs_ended, credential, unique, web_login

API = "/api/approvals"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def call(client: TestClient, who: Credential, method: str, path: str, **kwargs: Any) -> Any:
    headers = {**who.bearer, **kwargs.pop("headers", {})}
    return client.request(method, path, headers=headers, **kwargs)


def queue(client: TestClient, who: Credential, status: str = "pending") -> list[dict[str, Any]]:
    return ok(call(client, who, "GET", f"{API}?status={status}&limit=200"))["items"]


def person(client: TestClient, world: World, label: str, role: str) -> Credential:
    email = f"{label}-{uuid.uuid4().hex[:6]}@{world.a.slug}.example"
    return credential(client, world.a.slug, add_user(client, world.a.admin, email, role=role), email)


def order_flow(client: TestClient, world: World) -> dict[str, Any]:
    (flow,) = ok(call(client, world.a.admin, "GET", f"{API}/flows?kind=ordering.order"))
    return flow


def conflict(client: TestClient, world: World) -> dict[str, Any]:
    """Two agents of tenant A register one customer by phone: the second waits in the conflict queue."""
    one, other = agent(client, world, "First"), agent(client, world, "Second")
    phone = f"+86 139 {uuid.uuid4().int % 10**8:08d}"
    body = {"amount": "1000", "phone": phone}
    ok(
        call(
            client,
            one.admin,
            "POST",
            "/api/partner/agent/registrations",
            json={**body, "customer_name": unique("Lake")},
        ),
        201,
    )
    flagged = ok(
        call(
            client,
            other.admin,
            "POST",
            "/api/partner/agent/registrations",
            json={**body, "customer_name": unique("Bay")},
        ),
        201,
    )
    assert flagged["registration"] == "conflict"
    return flagged


def test_one_queue_across_apps_decides_orders_and_registrations(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    order = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)
    flagged = conflict(client, world)

    items = {i["subject_id"]: i for i in queue(client, admin)}
    mine = items[order["id"]]
    assert mine["kind"] == "ordering.order" and mine["title"] == order["number"]
    assert mine["link"] == f"/console/ordering/orders/{order['id']}"
    assert mine["enterprise_name"] == world.x.name and mine["amount"] == order["total"]
    assert mine["role_key"] == "order_desk" and mine["for_name"] is None  # the administrator acts for any role
    registration = items[flagged["id"]]
    assert registration["kind"] == "agent.registration" and registration["role_key"] is None

    # tenant B, a partner and a staff member without the permission see nothing of it
    assert queue(client, world.b.admin) == []
    assert call(client, world.b.admin, "GET", f"{API}/{mine['id']}").status_code == 404
    assert call(client, world.b.admin, "POST", f"{API}/{mine['id']}/approve").status_code == 404
    assert call(client, world.x.admin, "GET", API).status_code == 403
    assert call(client, world.x.admin, "POST", f"{API}/{mine['id']}/approve").status_code == 403
    reader = world.a.others["staff"]
    assert queue(client, reader) == []
    assert call(client, reader, "POST", f"{API}/{mine['id']}/approve").status_code == 404

    # a comment, then the decision: the order is approved as if from its own page
    ok(call(client, admin, "POST", f"{API}/{mine['id']}/comments", json={"comment": "Stock is there"}), 201)
    decided = ok(call(client, admin, "POST", f"{API}/{mine['id']}/approve", json={"comment": "fine"}))
    assert decided == {**decided, "status": "approved", "request_status": "approved", "final": True}
    shown = ok(call(client, admin, "GET", f"/api/ordering/orders/{order['id']}"))
    assert shown["status"] == "approved" and shown["approvals"][0]["comment"] == "fine"
    assert shown["timeline"][-1]["to_status"] == "approved"
    again = call(client, admin, "POST", f"{API}/{mine['id']}/approve")
    assert again.status_code == 409
    detail = ok(call(client, admin, "GET", f"{API}/{mine['id']}"))
    assert [e["action"] for e in detail["timeline"]] == ["requested", "commented", "approved"]
    assert detail["may_take"] is False
    assert order["id"] in {i["subject_id"] for i in queue(client, admin, "approved")}

    # a rejection of the registration ends its request and rejects it
    rejected = ok(call(client, admin, "POST", f"{API}/{registration['id']}/reject", json={"comment": "theirs"}))
    assert rejected["request_status"] == "rejected"
    deals = ok(call(client, admin, "GET", "/api/agent/registrations?limit=200"))["items"]
    assert next(d for d in deals if d["id"] == flagged["id"])["registration"] == "rejected"
    assert flagged["id"] not in {i["subject_id"] for i in queue(client, admin)}


def test_an_order_rejected_from_the_queue_must_say_why_and_a_cancelled_one_leaves_it(
    client: TestClient, world: World
) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    order = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
    item = next(i for i in queue(client, admin) if i["subject_id"] == order["id"])
    refused = call(client, admin, "POST", f"{API}/{item['id']}/reject")
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "comment"
    long = call(client, admin, "POST", f"{API}/{item['id']}/approve", json={"comment": "x" * 1001})
    assert long.status_code == 422
    assert ok(call(client, admin, "GET", f"/api/ordering/orders/{order['id']}"))["status"] == "submitted"
    ok(
        call(
            client, world.x.admin, "POST", f"/api/partner/ordering/orders/{order['id']}/cancel", json={"comment": "no"}
        )
    )
    assert order["id"] not in {i["subject_id"] for i in queue(client, admin)}
    assert call(client, admin, "POST", f"{API}/{item['id']}/approve").status_code == 409


def test_flows_by_amount_with_a_named_person_and_a_delegate_on_their_behalf(
    client: TestClient, app: Litestar, world: World
) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    desk = person(client, world, "desk", "order_desk")
    helper = person(client, world, "helper", "order_desk")
    first = order_flow(client, world)
    ok(call(client, admin, "PATCH", f"{API}/flows/{first['id']}", json={"name": first["name"], "position": 5}))
    big = ok(
        call(
            client, admin, "POST", f"{API}/flows", json={"kind": "ordering.order", "name": "Big", "min_amount": "1000"}
        ),
        201,
    )
    ok(
        call(
            client,
            admin,
            "POST",
            f"{API}/flows/{big['id']}/steps",
            json={"name": "Desk", "step": 1, "user_id": desk.user_id},
        ),
        201,
    )
    flow = ok(
        call(
            client,
            admin,
            "POST",
            f"{API}/flows/{big['id']}/steps",
            json={"name": "Boss", "step": 2, "role_key": "admin"},
        ),
        201,
    )
    assert [(s["step"], s["user_id"], s["role_key"]) for s in flow["steps"]] == [
        (1, desk.user_id, None),
        (2, None, "admin"),
    ]

    small = ok(place(client, world.x.admin, [(shop.pump, 2)]), 201)  # 160.00: the first flow
    assert [a["role"] for a in small["approvals"]] == ["order_desk"]
    large = ok(place(client, world.x.admin, [(shop.pump, 20)]), 201)  # 1,600.00: the big one
    assert [a["role"] for a in large["approvals"]] == ["person", "admin"]
    assert large["id"] not in {i["subject_id"] for i in queue(client, helper)}
    assert large["id"] in {i["subject_id"] for i in queue(client, desk)}
    assert background_jobs_ended(client)  # the desk is told step 1 is theirs

    # the desk is away: the helper is their delegate for today and tomorrow
    today = date.today()
    span = {"starts_on": str(today - timedelta(days=1)), "ends_on": str(today + timedelta(days=1))}
    made = ok(call(client, desk, "POST", f"{API}/delegations", json={"delegate_id": helper.user_id, **span}), 201)
    assert made["mine"] and made["delegate_name"] == helper.email.split("@")[0]
    item = next(i for i in queue(client, helper) if i["subject_id"] == large["id"])
    assert item["for_name"] == desk.email.split("@")[0]
    taken = ok(call(client, helper, "POST", f"{API}/{item['id']}/approve", json={"comment": "for the desk"}))
    assert taken["request_status"] == "pending" and taken["final"] is False
    detail = ok(call(client, admin, "GET", f"{API}/{item['id']}"))
    assert detail["all_steps"][0]["on_behalf_of"] == desk.email.split("@")[0]
    assert detail["timeline"][-1]["on_behalf_of"] == desk.email.split("@")[0]
    shown = ok(call(client, admin, "GET", f"/api/ordering/orders/{large['id']}"))
    assert shown["status"] == "submitted" and shown["timeline"][-1]["action"] == "approve_step"
    # step 2 is the administrator's: the helper may not take it, the administrator may
    assert background_jobs_ended(client)  # the notices of the step that became the administrator's
    second = next(i for i in queue(client, admin) if i["subject_id"] == large["id"])
    assert second["step"] == 2 and second["steps"] == 2
    assert call(client, helper, "POST", f"{API}/{second['id']}/approve").status_code == 403
    assert ok(call(client, admin, "POST", f"{API}/{second['id']}/approve"))["final"] is True
    assert ok(call(client, admin, "GET", f"/api/ordering/orders/{large['id']}"))["status"] == "approved"

    # the desk was told when step 1 became theirs, the administrator when step 2 did
    async def notices(db: Database) -> list[tuple[str, str]]:
        async with db.session(tenant_context(uuid.UUID(world.a.tenant_id), channel="cli")) as session:
            rows = await session.execute(
                select(Notification.recipient_id, Notification.kind).where(
                    Notification.kind == "approvals.step_waiting"
                )
            )
            return [(str(r), k) for r, k in rows]

    sent = {r for r, _k in run_with_database(app.state.services.settings, notices)}
    assert {desk.user_id, admin.user_id} <= sent

    # delegations: only one's own are ended; B's admin names no one of A
    assert call(client, helper, "DELETE", f"{API}/delegations/{made['id']}").status_code == 404
    ok(call(client, desk, "DELETE", f"{API}/delegations/{made['id']}"), 204)
    foreign = call(client, world.b.admin, "POST", f"{API}/delegations", json={"delegate_id": desk.user_id, **span})
    assert foreign.status_code == 422 and foreign.json()["errors"][0]["field"] == "delegate_id"
    backwards = call(
        client,
        desk,
        "POST",
        f"{API}/delegations",
        json={"delegate_id": helper.user_id, "starts_on": str(today), "ends_on": "2000-01-01"},
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "ends_on"


def test_flows_refuse_bad_input_and_stay_in_their_tenant(client: TestClient, world: World) -> None:
    admin = world.a.admin
    base = {"kind": "ordering.order", "name": "Flow"}
    for body, field in (
        ({**base, "kind": "nothing.here"}, "kind"),
        ({**base, "name": ""}, "name"),
        ({**base, "name": "x" * 101}, "name"),
        ({**base, "min_amount": "-1"}, "min_amount"),
        ({**base, "min_amount": "1e30"}, "min_amount"),
        ({**base, "position": 0}, "position"),
        ({**base, "partner_type_id": str(uuid.uuid4())}, "partner_type_id"),
    ):
        refused = call(client, admin, "POST", f"{API}/flows", json=body)
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field, (body, refused.text)
    assert call(client, admin, "POST", f"{API}/flows", json={**base, "name": "a\x00b"}).status_code == 422
    flow = ok(call(client, admin, "POST", f"{API}/flows", json=base, headers={"Idempotency-Key": "f1"}), 201)
    retried = call(client, admin, "POST", f"{API}/flows", json=base, headers={"Idempotency-Key": "f1"})
    assert retried.status_code == 201 and retried.json()["id"] == flow["id"]
    step = f"{API}/flows/{flow['id']}/steps"
    both = call(client, admin, "POST", step, json={"name": "S", "role_key": "admin", "user_id": admin.user_id})
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "user_id"
    assert (
        call(client, admin, "POST", step, json={"name": "S", "role_key": "nobody"}).json()["errors"][0]["field"]
        == "role_key"
    )
    other = call(client, admin, "POST", step, json={"name": "S", "user_id": world.b.admin.user_id})
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "user_id"
    assert call(client, admin, "POST", step, json={"name": "S", "step": 21}).status_code == 422
    # tenant B sees none of it; the read-only staff member changes nothing, a partner reads nothing
    assert flow["id"] not in {f["id"] for f in ok(call(client, world.b.admin, "GET", f"{API}/flows"))}
    assert call(client, world.b.admin, "GET", f"{API}/flows/{flow['id']}").status_code == 404
    assert call(client, world.b.admin, "DELETE", f"{API}/flows/{flow['id']}").status_code == 404
    assert call(client, world.a.others["staff"], "POST", f"{API}/flows", json=base).status_code == 403
    assert call(client, world.x.admin, "GET", f"{API}/flows").status_code == 403
    ok(call(client, admin, "DELETE", f"{API}/flows/{flow['id']}"), 204)
    assert call(client, admin, "GET", f"{API}/flows/{flow['id']}").status_code == 404
    kinds = {k["key"] for k in ok(call(client, admin, "GET", f"{API}/kinds"))}
    assert {"ordering.order", "agent.registration", "agent.extension"} <= kinds


def test_extensions_and_conflicts_keep_their_pages_and_go_through_the_engine(client: TestClient, world: World) -> None:
    admin = world.a.admin
    one = agent(client, world, "Ext")
    made = ok(
        call(
            client,
            one.admin,
            "POST",
            "/api/partner/agent/registrations",
            json={"amount": "500", "customer_name": unique("Farm")},
        ),
        201,
    )
    ok(call(client, one.admin, "POST", f"/api/partner/agent/registrations/{made['id']}/extension"))
    item = next(i for i in queue(client, admin) if i["subject_id"] == made["id"])
    assert item["kind"] == "agent.extension"
    ok(call(client, admin, "POST", f"/api/agent/registrations/{made['id']}/extension/approve"))
    assert made["id"] not in {i["subject_id"] for i in queue(client, admin)}
    assert ok(call(client, admin, "GET", f"{API}/{item['id']}"))["all_steps"][0]["decided_by"]

    flagged = conflict(client, world)
    split = ok(
        call(client, admin, "POST", f"/api/agent/registrations/{flagged['id']}/decision", json={"outcome": "split"})
    )
    assert split["registration"] == "approved" and split["protected_until"]
    assert flagged["id"] not in {i["subject_id"] for i in queue(client, admin)}


def test_the_console_pages_show_the_queue_and_edit_flows(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    order = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
    act_as(client, web_login(client, world.a.slug, world.a.admin.email))
    page = client.get("/console/approvals")
    assert page.status_code == 200 and order["number"] in page.text and 'href="/console/approvals"' in page.text
    item = next(i for i in queue(client, world.a.admin) if i["subject_id"] == order["id"])
    detail = client.get(f"/console/approvals/{item['id']}")
    assert detail.status_code == 200 and "/reject" in detail.text
    refused = submit(
        client, f"/console/approvals/{item['id']}/reject", {"comment": ""}, form_page=f"/console/approvals/{item['id']}"
    )
    assert refused.status_code == 422 and "Say why" in refused.text
    done = submit(
        client,
        f"/console/approvals/{item['id']}/approve",
        {"comment": "ok"},
        form_page=f"/console/approvals/{item['id']}",
    )
    assert done.status_code in (302, 303)
    assert ok(call(client, world.a.admin, "GET", f"/api/ordering/orders/{order['id']}"))["status"] == "approved"

    flows = client.get("/console/approvals/flows")
    assert flows.status_code == 200 and "Order approval" in flows.text
    bad = submit(
        client,
        "/console/approvals/flows",
        {"kind": "ordering.order", "name": "", "position": "1"},
        form_page="/console/approvals/flows",
    )
    assert bad.status_code == 422
    made = submit(
        client,
        "/console/approvals/flows",
        {"kind": "agent.registration", "name": "Two eyes", "position": "1"},
        form_page="/console/approvals/flows",
    )
    assert made.status_code in (302, 303)
    flow_page = made.headers["location"].split("?")[0]
    step = submit(
        client,
        f"{flow_page}/steps",
        {"name": "Channel manager", "step": "1", "role_key": "channel_manager"},
        form_page=flow_page,
    )
    assert step.status_code in (302, 303)
    assert "Channel manager" in client.get(flow_page).text
    away = submit(
        client,
        "/console/approvals/delegations",
        {"delegate_id": "", "starts_on": "", "ends_on": ""},
        form_page="/console/approvals",
    )
    assert away.status_code == 422

    # no menu entry for a staff member who may take no step, and no page for a partner
    act_as(client, web_login(client, world.a.slug, world.a.others["staff"].email))
    assert 'href="/console/approvals"' not in client.get("/console").text
    act_as(client, None)


@pytest.mark.postgres_only
def test_two_approvers_taking_one_step_at_once_one_wins(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    desk = person(client, world, "desk", "order_desk")
    flow = order_flow(client, world)
    ok(
        call(
            client,
            admin,
            "POST",
            f"{API}/flows/{flow['id']}/steps",
            json={"name": "Boss", "step": 2, "role_key": "admin"},
        ),
        201,
    )
    for _ in range(3):
        order = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
        item = next(i for i in queue(client, desk) if i["subject_id"] == order["id"])
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(
                pool.map(lambda who, path=f"{API}/{item['id']}/approve": call(client, who, "POST", path), (admin, desk))
            )
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        assert next(a for a in answers if a.status_code == 409).json()["code"] == "approval_step_taken"
        shown = ok(call(client, admin, "GET", f"/api/ordering/orders/{order['id']}"))
        assert [a["status"] for a in shown["approvals"]] == ["approved", "pending"]


def test_a_flow_and_a_step_are_chosen_by_the_partners_region_and_tier(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    desk = person(client, world, "north", "order_desk")
    region = ok(
        call(client, admin, "POST", "/api/interconnect/regions", json={"code": unique("N"), "name": "North"}), 201
    )
    tier = ok(call(client, admin, "GET", "/api/interconnect/tiers"))[0]
    links = "/api/interconnect/enterprises"
    ok(call(client, admin, "PATCH", f"{links}/{world.x.link_id}", json={"region_id": region["id"]}))
    ok(call(client, admin, "PATCH", f"{links}/{world.y.link_id}", json={"tier_id": tier["id"]}))
    first = order_flow(client, world)
    ok(call(client, admin, "PATCH", f"{API}/flows/{first['id']}", json={"name": first["name"], "position": 2}))
    step = {"name": "Tier check", "step": 2, "role_key": "admin", "tier_id": tier["id"]}
    ok(call(client, admin, "POST", f"{API}/flows/{first['id']}/steps", json=step), 201)
    north = ok(
        call(
            client,
            admin,
            "POST",
            f"{API}/flows",
            json={"kind": "ordering.order", "name": "North", "region_id": region["id"]},
        ),
        201,
    )
    ok(
        call(
            client,
            admin,
            "POST",
            f"{API}/flows/{north['id']}/steps",
            json={"name": "North desk", "user_id": desk.user_id},
        ),
        201,
    )

    from_x = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
    assert [a["role"] for a in from_x["approvals"]] == ["person"]
    from_y = ok(place(client, world.y.admin, [(shop.valve, 10)]), 201)
    assert [a["role"] for a in from_y["approvals"]] == ["order_desk", "admin"]
    assert ok(call(client, admin, "GET", f"{API}/flows/{north['id']}"))["region_id"] == region["id"]


def test_a_step_or_a_delegate_who_cannot_approve_is_refused(client: TestClient, world: World) -> None:
    admin = world.a.admin
    flow = order_flow(client, world)
    steps = f"{API}/flows/{flow['id']}/steps"
    service = person(client, world, "service", "service_manager")  # runs the service desk, approves no order
    refused = call(client, admin, "POST", steps, json={"step": 2, "name": "x", "user_id": service.user_id})
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["errors"]
    assert error["field"] == "user_id" and "ordering.order approve" in error["message"]
    assert ok(call(client, admin, "GET", f"{API}/flows/{flow['id']}"))["steps"] == flow["steps"]  # nothing written
    gone = call(
        client, admin, "POST", steps, json={"step": 2, "name": "x", "user_id": world.a.others["disabled"].user_id}
    )
    assert gone.status_code == 422 and gone.json()["errors"][0]["field"] == "user_id"
    # tenant B neither reaches A's flow nor names A's people
    assert call(client, world.b.admin, "POST", steps, json={"name": "x", "user_id": service.user_id}).status_code == 404

    # a delegate who may approve nothing the person approves is refused, and so are days already past
    desk = person(client, world, "desk", "order_desk")
    helper = person(client, world, "helper", "order_desk")
    today = date.today()
    soon = {"starts_on": str(today), "ends_on": str(today + timedelta(days=2))}
    cannot = call(client, desk, "POST", f"{API}/delegations", json={"delegate_id": service.user_id, **soon})
    assert cannot.status_code == 422, cannot.text
    assert cannot.json()["errors"][0]["field"] == "delegate_id"
    assert "ordering.order approve" in cannot.json()["errors"][0]["message"]
    past = {"starts_on": "2020-01-01", "ends_on": "2020-01-05"}
    old = call(client, desk, "POST", f"{API}/delegations", json={"delegate_id": helper.user_id, **past})
    assert old.status_code == 422 and [e["field"] for e in old.json()["errors"]] == ["ends_on"]
    backwards = {"starts_on": str(today + timedelta(days=3)), "ends_on": str(today + timedelta(days=1))}
    reversed_days = call(client, desk, "POST", f"{API}/delegations", json={"delegate_id": helper.user_id, **backwards})
    assert reversed_days.status_code == 422 and reversed_days.json()["errors"][0]["field"] == "ends_on"
    assert ok(call(client, desk, "GET", f"{API}/delegations")) == []  # nothing written
    # begun yesterday, ending today: still to come, so it stands
    ongoing = {"starts_on": str(today - timedelta(days=1)), "ends_on": str(today + timedelta(days=1))}
    ok(call(client, desk, "POST", f"{API}/delegations", json={"delegate_id": helper.user_id, **ongoing}), 201)


def test_a_step_its_person_can_no_longer_take_is_taken_by_who_edits_flows(client: TestClient, world: World) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    flow = order_flow(client, world)
    desk = person(client, world, "desk", "order_desk")
    helper = person(client, world, "helper", "order_desk")
    ok(
        call(
            client,
            admin,
            "POST",
            f"{API}/flows/{flow['id']}/steps",
            json={"step": 2, "name": "Desk check", "user_id": desk.user_id},
        ),
        201,
    )
    kept, dropped = (ok(place(client, world.x.admin, [(shop.pump, 1)]), 201) for _n in range(2))
    for order in (kept, dropped):  # step 1 (the order desk's role)
        first = next(i for i in queue(client, helper) if i["subject_id"] == order["id"])
        ok(call(client, helper, "POST", f"{API}/{first['id']}/approve"))
    # while the desk may approve, step 2 is theirs alone
    assert {kept["id"], dropped["id"]} <= {i["subject_id"] for i in queue(client, desk)}
    assert not {kept["id"], dropped["id"]} & {i["subject_id"] for i in queue(client, admin)}

    # the desk moves to the service desk: their steps are stranded, the administrator sees and takes them
    ok(call(client, admin, "PATCH", f"/api/users/{desk.user_id}", json={"roles": ["service_manager"]}))
    assert queue(client, desk) == []
    assert not {kept["id"], dropped["id"]} & {i["subject_id"] for i in queue(client, helper)}
    items = {i["subject_id"]: i for i in queue(client, admin)}
    stranded = items[kept["id"]]
    name = desk.email.split("@")[0]
    assert stranded["stranded"] is True and stranded["for_name"] == name and stranded["step"] == 2
    detail = ok(call(client, admin, "GET", f"{API}/{stranded['id']}"))
    assert detail["may_take"] is True and detail["stranded"] is True
    assert call(client, helper, "POST", f"{API}/{stranded['id']}/approve").status_code == 403
    assert call(client, world.b.admin, "POST", f"{API}/{stranded['id']}/approve").status_code == 404
    assert call(client, world.b.admin, "GET", f"{API}/{stranded['id']}").status_code == 404
    assert queue(client, world.b.admin) == []
    taken = ok(call(client, admin, "POST", f"{API}/{stranded['id']}/approve", json={"comment": "desk moved"}))
    assert taken["final"] is True and taken["request_status"] == "approved"
    detail = ok(call(client, admin, "GET", f"{API}/{stranded['id']}"))
    assert detail["all_steps"][1]["on_behalf_of"] == name
    assert detail["all_steps"][1]["decided_by"] == "alpha admin"
    assert detail["timeline"][-1]["on_behalf_of"] == name
    assert ok(call(client, admin, "GET", f"/api/ordering/orders/{kept['id']}"))["status"] == "approved"

    # the person leaves: the other step is the administrator's too, taken from the order's own page
    ok(call(client, admin, "PATCH", f"/api/users/{desk.user_id}", json={"roles": ["order_desk"]}))
    assert dropped["id"] in {i["subject_id"] for i in queue(client, desk)}
    assert dropped["id"] not in {i["subject_id"] for i in queue(client, admin)}
    ok(call(client, admin, "PATCH", f"/api/users/{desk.user_id}", json={"status": "disabled"}))
    assert items[dropped["id"]]["id"] in {i["id"] for i in queue(client, admin) if i["stranded"]}
    act_as(client, admin.cookie)
    page = client.get("/console/approvals")
    assert page.status_code == 200 and "Stranded" in page.text and f"for {name}, who can no longer take it" in page.text
    shown = client.get(f"/console/approvals/{items[dropped['id']]['id']}")
    assert f"{name} can no longer take this step" in shown.text and "/reject" in shown.text
    act_as(client, None)
    rejected = call(client, admin, "POST", f"/api/ordering/orders/{dropped['id']}/reject", json={"comment": "no desk"})
    assert rejected.status_code == 200, rejected.text
    detail = ok(call(client, admin, "GET", f"{API}/{items[dropped['id']]['id']}"))
    assert detail["request_status"] == "rejected" and detail["all_steps"][1]["on_behalf_of"] == name


def stranded_notices(app: Litestar, tenant_id: str) -> list[tuple[str, str]]:
    """(recipient, title) of every notice of a stranded step in the tenant."""

    async def read(db: Database) -> list[tuple[str, str]]:
        async with db.session(tenant_context(uuid.UUID(tenant_id), channel="cli")) as session:
            rows = await session.execute(
                select(Notification.recipient_id, Notification.params).where(
                    Notification.kind == "approvals.step_stranded"
                )
            )
            return [(str(r), str(p["title"])) for r, p in rows]

    return run_with_database(app.state.services.settings, read)


def run_stranded_job(app: Litestar) -> int:
    services = app.state.services

    async def work(db: Database) -> int:
        own = copy.copy(services)
        own.db = db
        return await stranded_steps(own)

    return run_with_database(services.settings, work)


def test_a_stranded_step_is_told_to_who_edits_flows_and_any_waiting_step_can_be_reassigned(
    app: Litestar, client: TestClient, world: World
) -> None:
    shop = build_shop(client, world)
    admin = world.a.admin
    flow = order_flow(client, world)
    desk = person(client, world, "desk", "order_desk")
    helper = person(client, world, "helper", "order_desk")
    step = {"step": 2, "name": "Desk check", "user_id": desk.user_id}
    ok(call(client, admin, "POST", f"{API}/flows/{flow['id']}/steps", json=step), 201)
    first, second = (ok(place(client, world.x.admin, [(shop.pump, 1)]), 201) for _n in range(2))
    for order in (first, second):
        item = next(i for i in queue(client, helper) if i["subject_id"] == order["id"])
        ok(call(client, helper, "POST", f"{API}/{item['id']}/approve"))
    assert background_jobs_ended(client)
    assert stranded_notices(app, world.a.tenant_id) == []  # the desk may still take it: nothing to tell

    # the desk loses the permission: the job tells the administrator (who edits flows) once per step
    ok(call(client, admin, "PATCH", f"/api/users/{desk.user_id}", json={"roles": ["service_manager"]}))
    assert run_stranded_job(app) >= 2
    run_stranded_job(app)
    told = stranded_notices(app, world.a.tenant_id)
    assert sorted(told) == sorted((admin.user_id, o["number"]) for o in (first, second)), told
    assert stranded_notices(app, world.b.tenant_id) == []

    # a step that becomes the waiting one when its person already cannot take it is told at once
    third = ok(place(client, world.x.admin, [(shop.pump, 1)]), 201)
    item = next(i for i in queue(client, helper) if i["subject_id"] == third["id"])
    ok(call(client, helper, "POST", f"{API}/{item['id']}/approve"))
    assert background_jobs_ended(client)
    assert (admin.user_id, third["number"]) in stranded_notices(app, world.a.tenant_id)

    # reassigning: only who edits flows, only to someone who can approve, never across tenants
    items = {i["subject_id"]: i for i in queue(client, admin)}
    stuck = items[first["id"]]
    assert stuck["stranded"] is True
    path = f"{API}/{stuck['id']}/reassign"
    assert call(client, helper, "POST", path, json={"user_id": helper.user_id}).status_code == 403
    assert call(client, world.b.admin, "POST", path, json={"user_id": world.b.admin.user_id}).status_code == 404
    for nobody in (desk.user_id, world.b.admin.user_id, str(uuid.uuid4())):
        refused = call(client, admin, "POST", path, json={"user_id": nobody})
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["field"] == "user_id" and "ordering.order approve" in error["message"], error
    given = ok(call(client, admin, "POST", path, json={"user_id": helper.user_id}))
    assert given["user_id"] == helper.user_id and given["step"] == 2 and given["user_name"]
    assert stuck["id"] not in {i["id"] for i in queue(client, admin) if i["stranded"]}
    mine = {i["id"]: i for i in queue(client, helper)}
    assert stuck["id"] in mine and mine[stuck["id"]]["stranded"] is False
    assert background_jobs_ended(client)

    async def waiting(db: Database) -> set[str]:
        async with db.session(tenant_context(uuid.UUID(world.a.tenant_id), channel="cli")) as session:
            rows = await session.scalars(
                select(Notification.recipient_id).where(
                    Notification.kind == "approvals.step_waiting",
                    Notification.params["title"].as_string() == first["number"],
                )
            )
            return {str(r) for r in rows}

    assert helper.user_id in run_with_database(app.state.services.settings, waiting)
    audit = ok(client.get("/api/audit", headers=admin.bearer, params={"object_id": stuck["request_id"]}))
    reassigned = [a for a in audit if a["action"] == "reassign_step"]
    assert reassigned and reassigned[-1]["after"]["to_user_id"] == helper.user_id, audit
    # giving it to whoever holds it already changes nothing: no second entry, no second notice
    again = ok(call(client, admin, "POST", path, json={"user_id": helper.user_id}))
    assert again["user_id"] == helper.user_id
    assert background_jobs_ended(client)
    audit = ok(client.get("/api/audit", headers=admin.bearer, params={"object_id": stuck["request_id"]}))
    assert [a["action"] for a in audit].count("reassign_step") == len(reassigned), audit
    assert ok(call(client, helper, "POST", f"{API}/{stuck['id']}/approve"))["final"] is True
    assert call(client, admin, "POST", path, json={"user_id": helper.user_id}).status_code == 409

    # the console: the item page offers the people who can approve; a refusal names the field
    other = items[second["id"]]
    act_as(client, admin.cookie)
    page = client.get(f"/console/approvals/{other['id']}")
    assert page.status_code == 200 and "Give this step to someone else" in page.text
    assert helper.user_id in page.text
    form_page = f"/console/approvals/{other['id']}"
    wrong = submit(client, f"{form_page}/reassign", {"user_id": desk.user_id}, form_page=form_page)
    assert wrong.status_code == 422 and "ordering.order approve" in wrong.text
    assert wrong.headers["content-type"].startswith("text/html")
    nobody = submit(client, f"{form_page}/reassign", {"user_id": ""}, form_page=form_page)
    assert nobody.status_code == 422 and nobody.headers["content-type"].startswith("text/html"), nobody.text
    assert "Choose a person" in nobody.text
    done = submit(client, f"{form_page}/reassign", {"user_id": helper.user_id}, form_page=form_page)
    assert done.status_code in (302, 303) and done.headers["location"].endswith("done=reassigned")
    act_as(client, helper.cookie)
    assert "Give this step to someone else" not in client.get(form_page).text
    act_as(client, None)
    assert other["id"] in {i["id"] for i in queue(client, helper)}
