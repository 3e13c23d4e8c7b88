"""A dispatched ticket reaches the partner's dispatchers' inboxes, an assigned one its engineer's, once
each however often the event is delivered, and nobody else's."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.integration.service.support import dispatched, fixit, ok, partner_act
from tests.notifications import Workers
from tests.world import Credential, World


def kinds(client: TestClient, person: Credential) -> list[str]:
    items = ok(client.get("/api/partner/notifications", headers=person.bearer))["items"]
    return sorted(i["kind"] for i in items if i["kind"].startswith("service."))


def test_dispatching_and_assigning_notify_the_dispatcher_and_the_engineer(
    client: TestClient, app: Litestar, world: World
) -> None:
    dispatcher, engineer = fixit(world)
    other = world.service["other"].admin
    ticket = dispatched(client, world, engineer=False)
    workers = Workers(app)
    assert workers.run(only="service.ticket_notices") == []
    assert kinds(client, dispatcher) == ["service.ticket_dispatched"]
    assert kinds(client, engineer) == []  # an engineer does not accept for the enterprise
    ok(partner_act(client, dispatcher, ticket["id"], "assign", engineer_id=engineer.user_id))
    assert workers.run(only="service.ticket_notices") == []
    assert Workers(app).run(only="service.ticket_notices") == []  # every event delivered again
    assert kinds(client, engineer) == ["service.ticket_assigned"]
    assert kinds(client, dispatcher) == ["service.ticket_dispatched"]
    assert kinds(client, other) == []
    inbox = ok(client.get("/api/partner/notifications", headers=engineer.bearer))["items"]
    assert any(ticket["number"] in i["title"] for i in inbox)
