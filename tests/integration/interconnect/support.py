"""Helpers shared by the interconnect API tests: calls that several files make, and the few direct
database reads and writes a test needs (quota limits, an expired invitation, the outbox)."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import select, update

from interconnect.models import ExternalIdentity, InterconnectQuota, Invitation
from portal.config import Settings
from portal.db.context import SYSTEM, tenant_context
from portal.db.engine import Database
from portal.db.types import utcnow
from portal.outbox import OutboxEvent
from tests.db import run_with_database
from tests.world import PASSWORD, Credential, TenantWorld, partner_type_id, unique


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_email(label: str = "person") -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@partner.example"


def new_mobile() -> str:
    return "+86138" + "".join(random.choice("0123456789") for _ in range(8))


# --- upstream admin calls --------------------------------------------------------------------------


def quota(client: TestClient, tenant: TenantWorld) -> dict[str, int]:
    response = client.get("/api/interconnect/quota", headers=tenant.admin.bearer)
    assert response.status_code == 200, response.text
    return response.json()


def enterprise(client: TestClient, tenant: TenantWorld, link_id: str) -> dict[str, Any]:
    response = client.get(f"/api/interconnect/enterprises/{link_id}", headers=tenant.admin.bearer)
    assert response.status_code == 200, response.text
    return response.json()


def search(client: TestClient, tenant: TenantWorld, **params: Any) -> dict[str, Any]:
    response = client.get("/api/interconnect/enterprises", headers=tenant.admin.bearer, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def enterprise_total(client: TestClient, tenant: TenantWorld) -> int:
    return search(client, tenant, limit=1)["total"]


def create_enterprise(
    client: TestClient, tenant: TenantWorld, label: str = "Partner", type_code: str = "dealer", **fields: Any
) -> dict[str, Any]:
    """Create an enterprise directly (no first admin unless `admin` is given); returns the response body."""
    body = {"name": unique(label), "partner_type_id": partner_type_id(client, tenant.admin, type_code), **fields}
    response = client.post("/api/interconnect/enterprises", headers=tenant.admin.bearer, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def change_status(
    client: TestClient, tenant: TenantWorld, link_id: str, status: str, reason: str | None = None
) -> dict[str, Any]:
    response = client.post(
        f"/api/interconnect/enterprises/{link_id}/status",
        headers=tenant.admin.bearer,
        json={"status": status, "reason": reason},
    )
    assert response.status_code == 200, response.text
    return response.json()


def create_invitation(
    client: TestClient, tenant: TenantWorld, kind: str = "link", type_code: str = "dealer", **fields: Any
) -> dict[str, Any]:
    body = {"kind": kind, "partner_type_id": partner_type_id(client, tenant.admin, type_code), **fields}
    response = client.post("/api/interconnect/invitations", headers=tenant.admin.bearer, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def invitation(client: TestClient, tenant: TenantWorld, invitation_id: str) -> dict[str, Any]:
    response = client.get(
        "/api/interconnect/invitations", headers=tenant.admin.bearer, params={"include_inactive": True}
    )
    assert response.status_code == 200, response.text
    return next(i for i in response.json() if i["id"] == invitation_id)


def token_of(invitation_body: dict[str, Any]) -> str:
    url = invitation_body["url"]
    assert url and "/join/" in url, invitation_body
    return url.rsplit("/", 1)[1]


# --- partner calls --------------------------------------------------------------------------------


def accept_body(**fields: Any) -> dict[str, Any]:
    """A valid acceptance for a new person; `fields` add the token or workspace + code, or override."""
    return {
        "enterprise_name": unique("Joined"),
        "display_name": "First Admin",
        "email": new_email("first-admin"),
        "password": PASSWORD,
        **fields,
    }


def accept(client: TestClient, **fields: Any) -> Any:
    return client.post("/api/partner/invitations/accept", json=accept_body(**fields))


def partner_me(client: TestClient, token: str) -> Any:
    return client.get("/api/partner/me", headers=bearer(token))


def refresh(client: TestClient, refresh_token: str) -> Any:
    return client.post("/api/auth/refresh", json={"refresh_token": refresh_token})


def sign_in(client: TestClient, slug: str, login: str, password: str = PASSWORD) -> Any:
    return client.post("/api/partner/auth/token", json={"workspace": slug, "login": login, "password": password})


def setup_token(setup_url: str) -> str:
    return setup_url.rsplit("/", 1)[1]


def add_colleague(client: TestClient, by: Credential, **fields: Any) -> dict[str, Any]:
    """`by` (an enterprise admin) adds a colleague; returns the response body with its setup_url."""
    body = {"display_name": "New Colleague", "email": new_email("colleague"), **fields}
    response = client.post("/api/partner/colleagues", headers=by.bearer, json=body)
    assert response.status_code == 201, response.text
    return response.json()


# --- "nothing was half-created" -------------------------------------------------------------------


def programme_state(client: TestClient, tenant: TenantWorld, invitation_id: str | None = None) -> dict[str, Any]:
    """What a refused acceptance must leave untouched: enterprises, quota usage, the invitation's uses."""
    state: dict[str, Any] = {"enterprises": enterprise_total(client, tenant), "quota": quota(client, tenant)}
    if invitation_id is not None:
        state["uses"] = invitation(client, tenant, invitation_id)["uses"]
    return state


# --- direct database access (system context, where a test must set up what the API cannot) -------


def identity_exists(settings: Settings, email: str) -> bool:
    async def work(db: Database) -> bool:
        async with db.session(SYSTEM) as session:
            return await session.scalar(select(ExternalIdentity.id).where(ExternalIdentity.email == email)) is not None

    return run_with_database(settings, work)


def quota_row(settings: Settings, tenant_id: str) -> dict[str, int]:
    async def work(db: Database) -> dict[str, int]:
        async with db.session(SYSTEM) as session:
            q = (
                await session.scalars(
                    select(InterconnectQuota).where(InterconnectQuota.tenant_id == uuid.UUID(tenant_id))
                )
            ).one()
            return {
                "max_enterprises": q.max_enterprises,
                "enterprises_used": q.enterprises_used,
                "max_external_users": q.max_external_users,
                "external_users_used": q.external_users_used,
            }

    return run_with_database(settings, work)


def leave_slots(
    settings: Settings, tenant_id: str, *, enterprises: int | None = None, users: int | None = None
) -> None:
    """Set the tenant's limits to what it uses now plus the slots given (the platform's job, not the API's)."""

    async def work(db: Database) -> None:
        q = InterconnectQuota
        values: dict[str, Any] = {}
        if enterprises is not None:
            values["max_enterprises"] = q.enterprises_used + enterprises
        if users is not None:
            values["max_external_users"] = q.external_users_used + users
        async with db.session(SYSTEM) as session:
            done = await session.execute(update(q).where(q.tenant_id == uuid.UUID(tenant_id)).values(**values))
            assert done.rowcount == 1

    run_with_database(settings, work)


def expire_invitation(settings: Settings, invitation_id: str) -> None:
    """Move an invitation's expiry into the past, as if its days had gone by."""

    async def work(db: Database) -> None:
        async with db.session(SYSTEM) as session:
            done = await session.execute(
                update(Invitation)
                .where(Invitation.id == uuid.UUID(invitation_id))
                .values(expires_at=utcnow() - timedelta(minutes=1))
            )
            assert done.rowcount == 1

    run_with_database(settings, work)


def outbox_events(settings: Settings, tenant_id: str, *aggregate_ids: str) -> list[dict[str, Any]]:
    """The outbox events of these aggregates as the tenant itself sees them, oldest first."""

    async def work(db: Database) -> list[dict[str, Any]]:
        async with db.session(tenant_context(uuid.UUID(tenant_id))) as session:
            rows = await session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.aggregate_id.in_([uuid.UUID(a) for a in aggregate_ids]))
                .order_by(OutboxEvent.occurred_at, OutboxEvent.id)
            )
            return [
                {
                    "event_type": r.event_type,
                    "aggregate_type": r.aggregate_type,
                    "aggregate_id": str(r.aggregate_id),
                    "payload": r.payload,
                }
                for r in rows
            ]

    return run_with_database(settings, work)
