"""Every route of the application refuses the actors that must be refused, and leaks nothing."""

from __future__ import annotations

import uuid

import msgspec
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import TestClient
from sqlalchemy import select

from portal.components import Component
from portal.config import Settings
from portal.db.context import SYSTEM
from portal.http.app import create_app
from portal.http.deps import ServicesDep
from portal.identity.models import InternalUser
from portal.permissions import SIGNED_IN, requires
from tests.conftest import BASE_URL
from tests.isolation.harness import UNSAFE, Caller, forged_paths, route_cases, sweep
from tests.world import World


def test_every_route_declares_a_permission_or_is_public(app: Litestar) -> None:
    cases = route_cases(app)
    assert len(cases) >= 15
    assert all(c.public or c.permission for c in cases)


def test_the_public_routes_reached_by_a_token_are_swept(app: Litestar, world: World) -> None:
    swept = {(c.method, c.template) for c in route_cases(app) if forged_paths(c, world)}
    for method in ("GET", "POST"):
        assert (method, "/service/d/{address:str}") in swept and (method, "/service/t/{link:str}") in swept


def test_every_route_refuses_the_wrong_actors(
    app: Litestar, client: TestClient, world: World, settings: Settings
) -> None:
    report = sweep(app, client, world, settings)
    assert report.checked >= 10
    assert report.violations == [], "\n".join(report.violations)


def test_staff_routes_refuse_partner_tokens_and_partner_routes_staff_tokens(
    app: Litestar, client: TestClient, world: World
) -> None:
    """The path says whose a route is: /api/partner/ is the partners', the rest of the API the staff's.
    The other side's token is refused with 403 by the guard, before the handler looks anything up."""
    partner = Caller("enterprise X's admin", world.x.admin, ("", ""))
    staff = Caller("tenant A's admin", world.a.admin, ("", ""))
    failures, checked = [], 0
    for case in route_cases(app):
        if not case.api or case.public:
            continue
        if case.permission == SIGNED_IN and case.method in UNSAFE:
            continue  # signing out: the caller's own session, whoever it is
        wrong = staff if case.template.startswith("/api/partner/") else partner
        response = wrong.send(client, case, world)
        checked += 1
        if response.status_code != 403 or response.json().get("code") != "permission_denied":
            failures.append(
                f"{case.method} {case.template} as {wrong.name}: {response.status_code} {response.text[:80]}"
            )
    assert checked >= 100
    assert failures == [], "\n".join(failures)


class LeakedUser(msgspec.Struct):
    email: str


@get("/api/leaky/users/{user_id:uuid}", opt=requires("staff.users", "read"))
async def leaky_user(user_id: FromPath[uuid.UUID], services: ServicesDep) -> LeakedUser:
    # the mistake the harness exists to catch: reaching across tenants for a request
    async with services.db.session(SYSTEM) as session:
        user = (await session.scalars(select(InternalUser).where(InternalUser.id == user_id))).one()
    return LeakedUser(user.email)


def test_the_harness_fails_on_a_leaking_route(fresh_world: World, settings: Settings) -> None:
    # the lane's world, put back, served by an app with one more (leaking) route; only that route is swept
    leaky = Component(name="leaky-test-component", route_handlers=[leaky_user])
    app = create_app(settings, extra_components=[leaky])
    with TestClient(app, base_url=BASE_URL) as client:
        report = sweep(app, client, fresh_world, settings, only="/api/leaky/")
    assert report.checked == 1
    assert any("/api/leaky/users" in v and "tenant B's admin" in v for v in report.violations), report.violations
