"""Outbox events and audit entries of the partner programme: each change leaves its event and its audit
entry, for the right aggregate and actor, visible to its own tenant only."""

from __future__ import annotations

from litestar.testing import TestClient

from portal.config import Settings
from tests.integration.interconnect.support import (
    accept,
    change_status,
    create_invitation,
    outbox_events,
)
from tests.world import World


def audit(client: TestClient, headers: dict[str, str], object_id: str) -> list[dict[str, object]]:
    response = client.get("/api/audit", headers=headers, params={"object_id": object_id})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_links_life_is_in_the_outbox(client: TestClient, world: World, settings: Settings) -> None:
    change_status(client, world.a, world.x.link_id, "suspended", "audit pending")
    change_status(client, world.a, world.x.link_id, "active")
    change_status(client, world.a, world.x.link_id, "terminated", "contract ended")

    events = outbox_events(settings, world.a.tenant_id, world.x.link_id)
    assert {(e["aggregate_type"], e["aggregate_id"]) for e in events} == {("enterprise_link", world.x.link_id)}
    lifecycle = [(e["event_type"], e["payload"]["from"], e["payload"]["to"]) for e in events]
    assert lifecycle == [
        ("link.invited", None, "invited"),  # created with a first admin...
        ("link.established", "invited", "active"),  # ...who then set a password
        ("link.suspended", "active", "suspended"),
        ("link.established", "suspended", "active"),
        ("link.terminated", "active", "terminated"),
    ]
    assert events[2]["payload"]["reason"] == "audit pending"
    assert events[-1]["payload"]["reason"] == "contract ended"
    assert all(e["payload"]["name"] == world.x.name for e in events)
    # B's context sees none of A's events
    assert outbox_events(settings, world.b.tenant_id, world.x.link_id) == []


def test_people_joining_and_being_disabled_are_in_the_outbox(
    client: TestClient, world: World, settings: Settings
) -> None:
    colleague = world.x.people["colleague"]
    off = client.patch(
        f"/api/interconnect/users/{colleague.user_id}", headers=world.a.admin.bearer, json={"status": "disabled"}
    )
    assert off.status_code == 200

    admin_events = outbox_events(settings, world.a.tenant_id, world.x.admin.user_id)
    assert [(e["event_type"], e["aggregate_type"]) for e in admin_events] == [("user.joined", "membership")]
    assert admin_events[0]["payload"]["link_id"] == world.x.link_id

    colleague_events = outbox_events(settings, world.a.tenant_id, colleague.user_id)
    assert [e["event_type"] for e in colleague_events] == ["user.joined", "user.disabled"]
    assert {e["aggregate_id"] for e in colleague_events} == {colleague.user_id}
    assert {e["payload"]["link_id"] for e in colleague_events} == {world.x.link_id}
    assert outbox_events(settings, world.b.tenant_id, world.x.admin.user_id, colleague.user_id) == []


def test_a_partner_admin_disabling_a_colleague_is_an_event_too(
    client: TestClient, world: World, settings: Settings
) -> None:
    colleague = world.x.people["colleague"]
    response = client.patch(
        f"/api/partner/colleagues/{colleague.user_id}", headers=world.x.admin.bearer, json={"status": "disabled"}
    )
    assert response.status_code == 200
    assert [e["event_type"] for e in outbox_events(settings, world.a.tenant_id, colleague.user_id)][-1] == (
        "user.disabled"
    )


def test_accepting_an_invitation_publishes_the_link_and_the_new_user(
    client: TestClient, world: World, settings: Settings
) -> None:
    code = create_invitation(client, world.a, "code")
    accepted = accept(client, workspace=world.a.slug, code=code["code"]).json()
    link_events = outbox_events(settings, world.a.tenant_id, accepted["enterprise_id"])
    assert [(e["event_type"], e["aggregate_type"], e["payload"]["to"]) for e in link_events] == [
        ("link.established", "enterprise_link", "active")
    ]
    user_events = outbox_events(settings, world.a.tenant_id, accepted["membership_id"])
    assert [(e["event_type"], e["aggregate_type"]) for e in user_events] == [("user.joined", "membership")]
    assert user_events[0]["payload"]["link_id"] == accepted["enterprise_id"]


def test_a_refused_change_publishes_nothing(client: TestClient, world: World, settings: Settings) -> None:
    change_status(client, world.a, world.y.link_id, "terminated")
    before = outbox_events(settings, world.a.tenant_id, world.y.link_id)
    refused = client.post(
        f"/api/interconnect/enterprises/{world.y.link_id}/status",
        headers=world.a.admin.bearer,
        json={"status": "active"},
    )
    assert refused.status_code == 409
    assert outbox_events(settings, world.a.tenant_id, world.y.link_id) == before


def test_the_audit_log_shows_who_created_and_changed_a_link(client: TestClient, world: World) -> None:
    change_status(client, world.a, world.x.link_id, "suspended", "audit pending")
    entries = audit(client, world.a.admin.bearer, world.x.link_id)
    assert {e["object_type"] for e in entries} == {"enterprise_links"}
    created = [e for e in entries if e["action"] == "create"]
    assert len(created) == 1
    assert created[0]["actor_kind"] == "internal" and created[0]["actor_id"] == world.a.admin.user_id
    assert created[0]["after"]["name"] == world.x.name and created[0]["after"]["status"] == "invited"

    updates = [e for e in entries if e["action"] == "update"]
    suspended = next(e for e in updates if e["after"].get("status") == "suspended")
    assert suspended["before"]["status"] == "active"
    assert suspended["actor_kind"] == "internal" and suspended["actor_id"] == world.a.admin.user_id
    assert suspended["channel"] == "api"
    # the first admin setting a password activated it: a change with no signed-in actor
    activated = next(e for e in updates if e["after"].get("status") == "active")
    assert activated["actor_kind"] == "system" and activated["actor_id"] is None
    # another tenant sees none of it
    assert audit(client, world.b.admin.bearer, world.x.link_id) == []


def test_partner_self_administration_is_audited_with_the_partner_as_actor(client: TestClient, world: World) -> None:
    colleague = world.x.people["colleague"]
    client.patch(
        f"/api/partner/colleagues/{colleague.user_id}", headers=world.x.admin.bearer, json={"status": "disabled"}
    )
    entries = audit(client, world.a.admin.bearer, colleague.user_id)
    disabled = next(e for e in entries if e["action"] == "update" and e["after"].get("status") == "disabled")
    assert disabled["object_type"] == "memberships"
    assert disabled["actor_kind"] == "external"
    assert disabled["actor_id"] == world.x.admin.user_id
    assert disabled["enterprise_id"] == world.x.link_id
    created = next(e for e in entries if e["action"] == "create")
    assert created["actor_id"] == world.x.admin.user_id


def test_termination_is_audited_for_the_link_and_each_disabled_membership(client: TestClient, world: World) -> None:
    change_status(client, world.a, world.x.link_id, "terminated", "contract ended")
    link_update = next(
        e
        for e in audit(client, world.a.admin.bearer, world.x.link_id)
        if e["action"] == "update" and e["after"].get("status") == "terminated"
    )
    assert link_update["actor_id"] == world.a.admin.user_id
    for person in (world.x.admin, world.x.people["colleague"]):
        entries = audit(client, world.a.admin.bearer, person.user_id)
        disabled = [e for e in entries if e["action"] == "update" and (e["after"] or {}).get("status") == "disabled"]
        assert len(disabled) == 1, entries
        assert disabled[0]["actor_id"] == world.a.admin.user_id
