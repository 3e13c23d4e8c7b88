"""Migrations that derive values from existing rows derive them right, on a database of their own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.ext.asyncio import create_async_engine

from portal.db import migrate
from portal.db.server import autocommit, on_same_server
from tests.conftest import make_settings


async def _execute(url: str, statements: list[tuple[str, dict[str, object]]]) -> list[tuple[object, ...]]:
    """The statements in one transaction; the last one's rows."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = None
            for statement, params in statements:
                typed = [bindparam(k, v, type_=Uuid()) for k, v in params.items() if isinstance(v, uuid.UUID)]
                result = await conn.execute(text(statement).bindparams(*typed), params)
            return [tuple(row) for row in result] if result is not None and result.returns_rows else []
    finally:
        await engine.dispose()


@pytest.fixture
def empty_url(lane: str, database_url: str, tmp_path: Path) -> Iterator[str]:
    if lane == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'backfill.db'}"
        return
    name = f"portal_backfill_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(autocommit(database_url, f'CREATE DATABASE "{name}"'))
    except Exception as error:  # a role that may not create databases
        pytest.skip(f"cannot create a scratch database: {error}")
    yield on_same_server(database_url, name)
    asyncio.run(autocommit(database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_links_learn_whether_anything_hangs_under_them(empty_url: str) -> None:
    settings = make_settings(empty_url)
    migrate.upgrade(settings, "0006_ordering")
    tenant, kind, account = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    top, middle, leaf = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = {"now": datetime(2026, 1, 1, tzinfo=UTC)}
    rows = [
        (
            "INSERT INTO tenants (id, slug, name, status, default_locale, created_at, updated_at)"
            " VALUES (:t, 'backfill', 'Backfill', 'active', 'en', :now, :now)",
            now,
        ),
        (
            "INSERT INTO partner_types (tenant_id, id, code, name, preset, active, sort_order, created_at,"
            " updated_at) VALUES (:t, :k, 'dealer', 'Dealer', false, true, 0, :now, :now)",
            {"k": kind, **now},
        ),
        (
            "INSERT INTO crm_accounts (tenant_id, id, name, kind, created_at, updated_at)"
            " VALUES (:t, :a, 'Partners', 'partner', :now, :now)",
            {"a": account, **now},
        ),
    ]
    link = (
        "INSERT INTO enterprise_links (tenant_id, id, name, partner_type_id, account_id, parent_id, status,"
        " created_at, updated_at) VALUES (:t, :id, :name, :k, :a, :parent, 'active', :now, :now)"
    )
    for name, this, parent in (("Top", top, None), ("Middle", middle, top), ("Leaf", leaf, middle)):
        rows.append((link, {"id": this, "name": name, "parent": parent, "k": kind, "a": account, **now}))

    asyncio.run(_execute(empty_url, [(statement, {"t": tenant, **params}) for statement, params in rows]))
    migrate.upgrade(settings)
    found = asyncio.run(
        _execute(empty_url, [("SELECT name, has_sub_enterprises FROM enterprise_links ORDER BY name", {})])
    )
    assert [(name, bool(flag)) for name, flag in found] == [("Leaf", False), ("Middle", True), ("Top", True)]
