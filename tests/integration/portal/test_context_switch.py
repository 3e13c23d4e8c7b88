"""`within(session, ctx)`: a unit of work moves to another tenancy context and back in one transaction."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text

from portal.config import Settings
from portal.db.context import PUBLIC, tenant_context
from portal.db.engine import Database
from portal.db.tenancy import within
from portal.errors import TenantViolation
from portal.identity.models import InternalUser
from tests.db import run_with_database
from tests.world import World

# What the database itself lets the transaction see: raw SQL, no ORM criteria (PostgreSQL: RLS only).
RAW_EMAILS = text("SELECT email FROM internal_users")
RAW_TENANT = text("SELECT current_setting('app.tenant_id', true)")


def ids(world: World) -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.UUID(world.a.tenant_id), uuid.UUID(world.b.tenant_id)


async def orm_emails(session: object) -> set[str]:
    return set(await session.scalars(select(InternalUser.email)))  # type: ignore[attr-defined]


def test_orm_criteria_follow_the_switch_and_the_way_back(settings: Settings, world: World) -> None:
    a, b = ids(world)

    async def work(db: Database) -> tuple[set[str], set[str], set[str], bool]:
        async with db.session(tenant_context(a)) as session:
            before = await orm_emails(session)
            async with within(session, tenant_context(b)):
                inside = await orm_emails(session)
            after = await orm_emails(session)
            return before, inside, after, session.info["ctx"].tenant_id == a

    before, inside, after, restored = run_with_database(settings, work)
    assert world.a.admin.email in before and world.b.admin.email not in before
    assert world.b.admin.email in inside and world.a.admin.email not in inside
    assert after == before and restored


def test_pending_rows_are_stamped_in_the_context_they_were_made_in(settings: Settings, world: World) -> None:
    a, b = ids(world)

    async def work(db: Database) -> tuple[uuid.UUID, uuid.UUID]:
        async with db.session(tenant_context(a)) as session:
            made_in_a = InternalUser(email=f"{uuid.uuid4().hex[:8]}@a.example", display_name="a", password_hash="x")
            session.add(made_in_a)
            async with within(session, tenant_context(b)):
                made_in_b = InternalUser(email=f"{uuid.uuid4().hex[:8]}@b.example", display_name="b", password_hash="x")
                session.add(made_in_b)
            await session.rollback()
            return made_in_a.tenant_id, made_in_b.tenant_id

    assert run_with_database(settings, work) == (a, b)


def test_the_context_is_restored_after_a_refusal(settings: Settings, world: World) -> None:
    a, b = ids(world)

    async def work(db: Database) -> set[str]:
        async with db.session(tenant_context(a)) as session:
            with pytest.raises(LookupError):
                async with within(session, tenant_context(b)):
                    await orm_emails(session)
                    raise LookupError("refused")
            return await orm_emails(session)

    emails = run_with_database(settings, work)
    assert world.a.admin.email in emails and world.b.admin.email not in emails


def test_a_tenant_owned_write_in_the_public_context_is_still_refused(settings: Settings, world: World) -> None:
    a, _b = ids(world)

    async def work(db: Database) -> None:
        async with db.session(tenant_context(a)) as session, within(session, PUBLIC):
            session.add(InternalUser(tenant_id=a, email="x@a.example", display_name="x", password_hash="x"))

    with pytest.raises(TenantViolation):
        run_with_database(settings, work)

    async def query(db: Database) -> None:
        async with db.session(tenant_context(a)) as session, within(session, PUBLIC):
            await orm_emails(session)

    with pytest.raises(TenantViolation):
        run_with_database(settings, query)


@pytest.mark.postgres_only
def test_row_level_security_follows_the_switch(settings: Settings, world: World) -> None:
    a, b = ids(world)

    async def work(db: Database) -> list[tuple[str | None, set[str]]]:
        seen: list[tuple[str | None, set[str]]] = []

        async def look(session: object) -> None:
            tenant = await session.scalar(RAW_TENANT)  # type: ignore[attr-defined]
            seen.append((tenant, set(await session.scalars(RAW_EMAILS))))  # type: ignore[attr-defined]

        async with db.session(tenant_context(a)) as session:
            await look(session)
            async with within(session, tenant_context(b)):
                await look(session)
                async with within(session, PUBLIC):
                    await look(session)
                await look(session)
            await look(session)
        return seen

    seen = run_with_database(settings, work)
    in_a, in_b, public, back_in_b, back_in_a = seen
    assert in_a[0] == str(a) and world.a.admin.email in in_a[1] and world.b.admin.email not in in_a[1]
    assert in_b[0] == str(b) and world.b.admin.email in in_b[1] and world.a.admin.email not in in_b[1]
    assert public == ("", set())  # the application role without a tenant sees no tenant's rows
    assert back_in_b == in_b and back_in_a == in_a


@pytest.mark.postgres_only
def test_row_level_security_refuses_a_raw_write_in_the_public_context(settings: Settings, world: World) -> None:
    a, _b = ids(world)
    insert = text(
        "INSERT INTO internal_users (tenant_id, id, email, display_name, password_hash, status, created_at, "
        "updated_at) VALUES (:t, :i, 'x@x.example', 'x', 'x', 'active', now(), now())"
    )

    async def work(db: Database) -> None:
        async with db.session(tenant_context(a)) as session, within(session, PUBLIC):
            await session.execute(insert, {"t": a, "i": uuid.uuid4()})

    with pytest.raises(Exception, match="row-level security"):
        run_with_database(settings, work)
