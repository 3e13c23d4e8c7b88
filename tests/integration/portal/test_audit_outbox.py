"""Audit entries and outbox events live and die with the change they describe."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.audit import AuditEntry, record_action
from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from portal.db.tenancy import within
from portal.errors import TenantViolation
from portal.outbox import OutboxEvent, publish
from tests.db import run_with_database
from tests.world import PASSWORD, World


def test_a_change_is_audited_with_who_channel_and_before_after(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"].user_id
    client.patch(f"/api/users/{staff}", headers=world.a.admin.bearer, json={"display_name": "Renamed"})
    entries = client.get(f"/api/audit?object_id={staff}", headers=world.a.admin.bearer).json()
    update = next(e for e in entries if e["action"] == "update" and "display_name" in e["after"])
    assert update["after"]["display_name"] == "Renamed"
    assert update["before"]["display_name"] != "Renamed"
    assert update["actor_id"] == world.a.admin.user_id
    assert update["actor_kind"] == "internal"
    assert update["channel"] == "api"
    assert update["object_type"] == "internal_users"
    create = next(e for e in entries if e["action"] == "create")
    assert create["after"]["password_hash"] == "***"  # secrets never reach the audit log
    # another tenant sees none of it
    assert client.get(f"/api/audit?object_id={staff}", headers=world.b.admin.bearer).json() == []


def test_a_refused_change_leaves_no_audit_entry(client: TestClient, world: World) -> None:
    staff = world.a.others["staff"].user_id
    before = client.get(f"/api/audit?object_id={staff}", headers=world.a.admin.bearer).json()
    response = client.patch(
        f"/api/users/{staff}", headers=world.a.admin.bearer, json={"display_name": "Half", "status": "bogus"}
    )
    assert response.status_code == 422
    assert client.get(f"/api/audit?object_id={staff}", headers=world.a.admin.bearer).json() == before


class Boom(Exception):
    pass


def test_outbox_events_commit_and_roll_back_with_the_transaction(settings: Settings, world: World) -> None:
    tenant = uuid.UUID(world.a.tenant_id)
    aggregate = uuid.uuid4()

    async def work(db: Database) -> int:
        async with db.session(tenant_context(tenant)) as session:
            publish(session, "demo.committed", "demo", aggregate, {"amount": "1.50", "at": uuid.uuid4()})
        with pytest.raises(Boom):
            async with db.session(tenant_context(tenant)) as session:
                publish(session, "demo.rolled_back", "demo", aggregate, {})
                await session.flush()
                raise Boom
        async with db.session(tenant_context(tenant)) as session:
            rows = list(await session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate)))
            assert [r.event_type for r in rows] == ["demo.committed"]
            assert not rows[0].fanned_out and rows[0].sequence and rows[0].payload["amount"] == "1.50"
        async with db.session(tenant_context(uuid.UUID(world.b.tenant_id))) as session:
            return (
                await session.scalar(
                    select(func.count()).select_from(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate)
                )
                or 0
            )

    assert run_with_database(settings, work) == 0  # and the other tenant cannot see it


def test_events_are_written_with_the_unit_of_work_and_forgotten_with_a_savepoint(
    settings: Settings, world: World
) -> None:
    """Events wait for the next flush or commit (one INSERT for the lot): a query in the same transaction
    sees them, a rolled-back savepoint forgets those published inside it, and another tenant's context
    may not publish for this one."""
    tenant = uuid.UUID(world.a.tenant_id)
    aggregate = uuid.uuid4()

    async def kinds(db: Database) -> list[str]:
        async with db.session(tenant_context(tenant)) as session:
            rows = await session.scalars(
                select(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate).order_by(OutboxEvent.sequence)
            )
            return [r.event_type for r in rows]

    async def work(db: Database) -> list[str]:
        async with db.session(tenant_context(tenant)) as session:
            first = publish(session, "demo.first", "demo", aggregate, {})
            # an ORM query flushes first, so it finds the event published before it
            found = await session.scalar(select(OutboxEvent.event_type).where(OutboxEvent.id == first.id))
            assert found == "demo.first"
            publish(session, "demo.kept", "demo", aggregate, {})
            with pytest.raises(Boom):
                async with session.begin_nested():
                    publish(session, "demo.in_savepoint", "demo", aggregate, {})
                    raise Boom
            publish(session, "demo.last", "demo", aggregate, {})
        with pytest.raises(TenantViolation):
            async with db.session(tenant_context(uuid.UUID(world.b.tenant_id))) as session:
                event = publish(session, "demo.elsewhere", "demo", aggregate, {})
                event.tenant_id = tenant
        return await kinds(db)

    assert run_with_database(settings, work) == ["demo.first", "demo.kept", "demo.last"]


def test_an_event_refused_as_it_commits_takes_its_transaction_with_it(settings: Settings, world: World) -> None:
    """The events a unit of work publishes last are written as it commits (on PostgreSQL in the COMMIT's
    own message): one the database refuses fails the commit, nothing of the transaction stays, and the
    connections go on serving."""
    tenant = uuid.UUID(world.a.tenant_id)
    aggregate = uuid.uuid4()

    async def work(db: Database) -> tuple[list[str], list[str]]:
        with pytest.raises(IntegrityError):
            async with db.session(tenant_context(tenant)) as session:
                publish(session, "demo.fine", "demo", aggregate, {"quote": "it's $portal$ \\ 'x'"})
                refused = publish(session, "demo.refused", "demo", aggregate, {})
                refused.aggregate_type = None  # type: ignore[assignment]  # NOT NULL
        for _ in range(3):  # the pool's connections are all usable, none left inside the failed transaction
            async with db.session(tenant_context(tenant)) as session:
                publish(session, "demo.after", "demo", aggregate, {"quote": "it's $portal_rows \\ 'x'"})
        async with db.session(tenant_context(tenant)) as session:
            rows = list(await session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate)))
        async with db.session(tenant_context(uuid.UUID(world.b.tenant_id))) as session:
            elsewhere = await session.scalars(
                select(OutboxEvent.event_type).where(OutboxEvent.aggregate_id == aggregate)
            )
            return [r.event_type for r in rows if r.payload["quote"] == "it's $portal_rows \\ 'x'"], list(elsewhere)

    assert run_with_database(settings, work) == (["demo.after"] * 3, [])


def test_a_user_created_through_the_api_is_audited_in_the_same_transaction(client: TestClient, world: World) -> None:
    email = f"{uuid.uuid4().hex[:8]}@a.example"
    created = client.post(
        "/api/users", headers=world.a.admin.bearer, json={"email": email, "display_name": "New", "password": PASSWORD}
    ).json()
    entries = client.get(f"/api/audit?object_id={created['id']}", headers=world.a.admin.bearer).json()
    assert [e["action"] for e in entries] == ["create"]
    assert entries[0]["after"]["email"] == email


def test_signing_in_is_not_recorded_as_a_change_of_the_account(client: TestClient, world: World) -> None:
    from tests.world import api_login

    api_login(client, world.a.slug, world.a.others["staff"].email)
    entries = client.get(f"/api/audit?object_id={world.a.others['staff'].user_id}", headers=world.a.admin.bearer)
    assert all("last_login_at" not in (e["after"] or {}) or e["action"] == "create" for e in entries.json())


def test_an_entry_made_in_a_savepoint_within_another_context_is_written_in_that_context(
    settings: Settings, world: World
) -> None:
    """Audit entries wait for the next flush or the COMMIT; one made inside a savepoint, in a block of another
    tenant's context, is written as the savepoint is released, there, and not at the commit in the first."""
    a, b = uuid.UUID(world.a.tenant_id), uuid.UUID(world.b.tenant_id)
    subject = SimpleNamespace(tenant_id=b, __tablename__="demo_subjects", id=uuid.uuid4())

    async def work(db: Database) -> list[str]:
        async with db.session(tenant_context(a)) as session, within(session, tenant_context(b)):
            async with session.begin_nested():
                record_action(session, subject, "demo.noted", {"n": 1})
            record_action(session, subject, "demo.after", {"n": 2})
        async with db.session(tenant_context(b)) as session:
            rows = await session.scalars(
                select(AuditEntry.action).where(AuditEntry.object_id == subject.id).order_by(AuditEntry.action)
            )
            return list(rows)

    assert run_with_database(settings, work) == ["demo.after", "demo.noted"]
