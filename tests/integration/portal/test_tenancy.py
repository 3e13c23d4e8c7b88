"""Tenancy holds three times: ORM criteria, flush stamping, and PostgreSQL row-level security."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from portal.config import Settings
from portal.db.context import PUBLIC, SYSTEM, tenant_context
from portal.db.engine import Database
from portal.errors import TenantViolation
from portal.identity.models import InternalUser
from tests.db import run_with_database
from tests.world import World


def ids(world: World) -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.UUID(world.a.tenant_id), uuid.UUID(world.b.tenant_id)


def test_queries_see_only_the_context_tenant(settings: Settings, world: World) -> None:
    a, b = ids(world)

    async def work(db: Database) -> tuple[set[str], set[str], int]:
        async with db.session(tenant_context(b)) as session:
            b_emails = set(await session.scalars(select(InternalUser.email)))
            # even asking for A's rows by id finds nothing
            leaked = await session.scalar(
                select(func.count()).select_from(InternalUser).where(InternalUser.tenant_id == a)
            )
        async with db.session(SYSTEM) as session:
            all_emails = set(
                await session.scalars(select(InternalUser.email).where(InternalUser.tenant_id.in_([a, b])))
            )
        return b_emails, all_emails, leaked or 0

    b_emails, all_emails, leaked = run_with_database(settings, work)
    assert b_emails == {world.b.admin.email}
    assert leaked == 0
    assert world.a.admin.email in all_emails  # the system context, and only it, sees across tenants


def test_bulk_update_and_delete_cannot_reach_another_tenant(settings: Settings, world: World) -> None:
    a, b = ids(world)

    async def work(db: Database) -> tuple[int, int, str]:
        async with db.session(tenant_context(b)) as session:
            updated = await session.execute(update(InternalUser).values(display_name="overwritten"))
            deleted = await session.execute(
                delete(InternalUser).where(InternalUser.email == world.a.others["staff"].email)
            )
        async with db.session(tenant_context(a)) as session:
            name = await session.scalar(
                select(InternalUser.display_name).where(InternalUser.email == world.a.admin.email)
            )
        return updated.rowcount, deleted.rowcount, name or ""

    updated, deleted, a_admin_name = run_with_database(settings, work)
    assert updated == 1  # B's own admin only
    assert deleted == 0
    assert a_admin_name != "overwritten"


def test_flush_stamps_tenant_and_refuses_a_foreign_row(settings: Settings, world: World) -> None:
    a, b = ids(world)

    async def stamped(db: Database) -> uuid.UUID:
        async with db.session(tenant_context(b)) as session:
            user = InternalUser(email=f"{uuid.uuid4().hex[:8]}@b.example", display_name="x", password_hash="x")
            session.add(user)
            await session.flush()
            return user.tenant_id

    assert run_with_database(settings, stamped) == b

    async def foreign(db: Database) -> None:
        async with db.session(tenant_context(b)) as session:
            session.add(InternalUser(tenant_id=a, email="intruder@a.example", display_name="x", password_hash="x"))

    with pytest.raises(TenantViolation):
        run_with_database(settings, foreign)

    async def moved(db: Database) -> None:
        async with db.session(tenant_context(b)) as session:
            user = (await session.scalars(select(InternalUser))).first()
            assert user is not None
            user.tenant_id = a

    with pytest.raises(TenantViolation):
        run_with_database(settings, moved)


def test_public_context_refuses_tenant_owned_rows(settings: Settings, world: World) -> None:
    async def query(db: Database) -> None:
        async with db.session(PUBLIC) as session:
            await session.execute(select(InternalUser))

    with pytest.raises(TenantViolation):
        run_with_database(settings, query)


@pytest.mark.postgres_only
def test_raw_sql_under_the_app_role_without_a_tenant_sees_no_rows(settings: Settings, world: World) -> None:
    a, _b = ids(world)

    async def work() -> tuple[int, int, int, set[str]]:
        engine = create_async_engine(settings.database_url)
        try:
            async with engine.begin() as conn:
                everything = await conn.scalar(text("SELECT count(*) FROM internal_users"))
            async with engine.begin() as conn:
                await conn.execute(text(f"SET LOCAL ROLE {settings.db_app_role}"))
                without_tenant = await conn.scalar(text("SELECT count(*) FROM internal_users"))
                audit_without_tenant = await conn.scalar(text("SELECT count(*) FROM audit_log"))
            async with engine.begin() as conn:
                await conn.execute(text(f"SET LOCAL ROLE {settings.db_app_role}"))
                await conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a)})
                tenants = set(await conn.scalars(text("SELECT DISTINCT tenant_id::text FROM internal_users")))
            return everything or 0, without_tenant or 0, audit_without_tenant or 0, tenants
        finally:
            await engine.dispose()

    everything, without_tenant, audit_without_tenant, tenants = asyncio.run(work())
    assert everything >= 4  # the rows exist...
    assert without_tenant == 0  # ...but the application role sees none without app.tenant_id
    assert audit_without_tenant == 0
    assert tenants == {str(a)}


@pytest.mark.postgres_only
def test_row_level_security_refuses_a_write_into_another_tenant(settings: Settings, world: World) -> None:
    a, b = ids(world)

    async def work() -> str:
        engine = create_async_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                tx = await conn.begin()
                await conn.execute(text(f"SET LOCAL ROLE {settings.db_app_role}"))
                await conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(b)})
                try:
                    await conn.execute(
                        text(
                            "INSERT INTO internal_users (tenant_id, id, email, display_name, password_hash, "
                            "status, created_at, updated_at) VALUES (:t, :i, 'x@x.example', 'x', 'x', "
                            "'active', now(), now())"
                        ),
                        {"t": a, "i": uuid.uuid4()},
                    )
                except Exception as exc:
                    await tx.rollback()
                    return str(exc)
                await tx.rollback()
                return "inserted"
        finally:
            await engine.dispose()

    assert "row-level security" in asyncio.run(work())


@pytest.mark.postgres_only
def test_every_tenant_owned_table_forces_row_level_security(settings: Settings, world: World) -> None:
    async def work() -> list[tuple[str, bool, bool, int]]:
        engine = create_async_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text(
                        """
                        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                               (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)
                        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
                        WHERE c.relkind = 'r' AND a.attname = 'tenant_id' AND NOT a.attisdropped
                          AND c.relnamespace = 'public'::regnamespace
                        """
                    )
                )
                return [tuple(r) for r in rows]
        finally:
            await engine.dispose()

    tables = asyncio.run(work())
    assert len(tables) >= 5
    unprotected = [name for name, enabled, forced, policies in tables if not (enabled and forced and policies >= 2)]
    assert unprotected == []


@pytest.mark.postgres_only
def test_application_role_cannot_bypass_row_level_security(settings: Settings) -> None:
    async def work() -> tuple[bool, bool, bool]:
        engine = create_async_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                row = (
                    await conn.execute(
                        text(
                            "SELECT rolbypassrls, rolsuper, "
                            "(SELECT rolbypassrls FROM pg_roles WHERE rolname = :s) "
                            "FROM pg_roles WHERE rolname = :a"
                        ),
                        {"a": settings.db_app_role, "s": settings.db_system_role},
                    )
                ).one()
                return bool(row[0]), bool(row[1]), bool(row[2])
        finally:
            await engine.dispose()

    assert asyncio.run(work()) == (False, False, False)
