"""The isolation harness: every registered route, against every actor that must be refused.

Routes are read from the application itself, so a route added by any later change is swept without
anyone adding a case. A route with a path parameter the harness has no sample for fails loudly
(add the sample to SAMPLE_PATH_VALUES); it is never silently skipped.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select

from portal.actor import Actor
from portal.config import Settings
from portal.db.base import Base
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.http.guard import is_public
from portal.permissions import SIGNED_IN
from tests.db import run_with_database
from tests.world import Credential, World

# A value of tenant A's for every path parameter a route may have.
SAMPLE_PATH_VALUES: dict[str, Callable[[World], str]] = {
    "user_id": lambda w: w.a.others["staff"].user_id,
}

# A body that would succeed if the actor were allowed; defaults to an empty object / form.
SAMPLE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/users/{user_id:uuid}"): {"display_name": "Intruder", "status": "disabled"},
    ("POST", "/api/users"): {"email": "intruder@x.example", "display_name": "I", "password": "intruder password"},
    ("POST", "/console/users/{user_id:uuid}/status"): {"status": "disabled"},
    ("POST", "/console/users"): {"email": "intruder@x.example", "display_name": "I", "password": "intruder password"},
}

PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class RouteCase:
    method: str
    template: str
    permission: tuple[str, str] | None
    public: bool

    @property
    def api(self) -> bool:
        return self.template.startswith("/api/")

    def path(self, world: World) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in SAMPLE_PATH_VALUES:
                raise LookupError(f"no sample value for path parameter {name!r} of {self.method} {self.template}")
            return SAMPLE_PATH_VALUES[name](world)

        return PARAM.sub(fill, self.template)

    @property
    def has_params(self) -> bool:
        return bool(PARAM.search(self.template))


def route_cases(app: Litestar) -> list[RouteCase]:
    cases = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                cases.append(RouteCase(method, route.path, handler.opt.get("permission"), is_public(handler)))
    return sorted(set(cases), key=lambda c: (c.template, c.method))


@dataclass
class Caller:
    """Who sends a request: a bearer for the API, a session cookie (+ CSRF pair) for pages."""

    name: str
    credential: Credential | None
    csrf: tuple[str, str]  # (cookie value, form token)

    def send(self, client: TestClient, case: RouteCase, world: World) -> Any:
        client.cookies.clear()
        path = case.path(world)
        body = SAMPLE_BODIES.get((case.method, case.template), {})
        headers: dict[str, str] = {}
        if case.api:
            if self.credential:
                headers.update(self.credential.bearer)
            kwargs: dict[str, Any] = {"json": body} if case.method in UNSAFE else {}
        else:
            cookies = [f"portal_csrf={self.csrf[0]}"]
            if self.credential:
                cookies.append(f"portal_session={self.credential.cookie}")
            headers["Cookie"] = "; ".join(cookies)
            kwargs = {"data": {**body, "_csrf_token": self.csrf[1]}} if case.method in UNSAFE else {}
        return client.request(case.method, path, headers=headers, follow_redirects=False, **kwargs)


def csrf_pair(client: TestClient) -> tuple[str, str]:
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token and client.cookies.get("portal_csrf")
    return client.cookies["portal_csrf"], token.group(1)


def refused_as_anonymous(case: RouteCase, response: Any) -> bool:
    if case.api:
        return response.status_code == 401
    if response.status_code in (302, 303):
        return response.headers.get("location", "").startswith("/login")
    return response.status_code == 401


def tenant_fingerprint(settings: Settings, tenant_id: str) -> str:
    """Row counts of every tenant-owned table for the tenant, and the content of its users."""
    tables = [t for t in Base.metadata.sorted_tables if "tenant_id" in t.c]

    async def work(db: Database) -> str:
        digest = hashlib.sha256()
        async with db.session(SYSTEM) as session:
            for table in tables:
                count = await session.scalar(
                    select(func.count()).select_from(table).where(table.c.tenant_id == uuid.UUID(tenant_id))
                )
                digest.update(f"{table.name}:{count};".encode())
            users = Base.metadata.tables["internal_users"]
            rows = await session.execute(
                select(users.c.id, users.c.email, users.c.display_name, users.c.role, users.c.status, users.c.locale)
                .where(users.c.tenant_id == uuid.UUID(tenant_id))
                .order_by(users.c.id)
            )
            for row in rows:
                digest.update(repr(tuple(row)).encode())
        return digest.hexdigest()

    return run_with_database(settings, work)


@dataclass
class Report:
    checked: int = 0
    violations: list[str] = field(default_factory=list)

    def fail(self, case: RouteCase, actor: str, response: Any, why: str) -> None:
        self.violations.append(
            f"{case.method} {case.template} as {actor}: {why} (status {response.status_code}: {response.text[:160]!r})"
        )


def sweep(app: Litestar, client: TestClient, world: World, settings: Settings) -> Report:
    report = Report()
    csrf = csrf_pair(client)
    anonymous = Caller("anonymous", None, csrf)
    disabled = Caller("a disabled user of tenant A", world.a.others["disabled"], csrf)
    intruder = Caller("tenant B's admin", world.b.admin, csrf)
    staff = Caller("tenant A's read-only staff member", world.a.others["staff"], csrf)
    staff_actor = Actor(
        uuid.UUID(staff.credential.user_id), uuid.UUID(world.a.tenant_id), "internal", "api", roles=frozenset({"staff"})
    )
    permissions = app.state.services.permissions
    a_markers = world.a.markers()
    before = tenant_fingerprint(settings, world.a.tenant_id)

    for case in route_cases(app):
        if case.public:
            continue
        report.checked += 1
        if case.permission and not permissions.allows(staff_actor, case.permission):
            response = staff.send(client, case, world)
            if response.status_code != 403:
                report.fail(case, staff.name, response, f"lacks {case.permission} but was not refused with 403")
        for caller in (anonymous, disabled):
            response = caller.send(client, case, world)
            if not refused_as_anonymous(case, response):
                report.fail(case, caller.name, response, "not refused as unauthenticated")
        if case.permission == SIGNED_IN and case.method in UNSAFE:
            continue  # acts on the caller's own session (sign out): nothing of A's to reach
        response = intruder.send(client, case, world)
        sent = case.path(world)  # markers the caller itself sent (echoed in "instance") are no leak
        leaked = sorted(m for m in a_markers if m in response.text and m not in sent)
        if leaked:
            report.fail(case, intruder.name, response, f"response contains tenant A's data {leaked}")
        if case.has_params and response.status_code not in (403, 404):
            report.fail(case, intruder.name, response, "tenant A's record was not 'not found'")

    if tenant_fingerprint(settings, world.a.tenant_id) != before:
        report.violations.append("tenant A's data changed during the sweep by actors that must be refused")
    client.cookies.clear()
    return report
