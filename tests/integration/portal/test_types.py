"""Money stays exact and timestamps stay aware UTC on both databases, in Python and in SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, MetaData, Table, func, insert, select
from sqlalchemy.exc import StatementError

from portal.config import Settings
from portal.db.context import SYSTEM
from portal.db.engine import Database
from portal.db.types import Money, UTCDateTime
from tests.db import run_with_database

scratch = MetaData()
ledger = Table("scratch_ledger", scratch, Column("amount", Money()), Column("at", UTCDateTime()))


def test_money_is_exact_and_sums_in_sql(settings: Settings) -> None:
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("1234567.8901"), Decimal("-0.3")]

    async def work(db: Database) -> tuple[list[Decimal], Decimal, list[Decimal]]:
        async with db.engine.begin() as conn:
            await conn.run_sync(scratch.create_all)
        try:
            async with db.session(SYSTEM) as session:
                conn = await session.connection()
                now = datetime.now(UTC)
                await conn.execute(insert(ledger), [{"amount": a, "at": now} for a in amounts])
                stored = list(await conn.scalars(select(ledger.c.amount)))
                total = await conn.scalar(select(func.sum(ledger.c.amount)))
                above = list(await conn.scalars(select(ledger.c.amount).where(ledger.c.amount > Decimal("0.15"))))
                return stored, total, above
        finally:
            async with db.engine.begin() as conn:
                await conn.run_sync(scratch.drop_all)

    stored, total, above = run_with_database(settings, work)
    assert sorted(stored) == sorted(amounts)
    assert total == sum(amounts)  # 1234567.9001 exactly: no binary floating point anywhere
    assert sorted(above) == [Decimal("0.2000"), Decimal("1234567.8901")]


def test_timestamps_come_back_aware_utc_and_naive_ones_are_refused(settings: Settings) -> None:
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2026, 11, 23, 20, 30, tzinfo=shanghai)

    async def work(db: Database) -> datetime:
        async with db.engine.begin() as conn:
            await conn.run_sync(scratch.create_all)
        try:
            async with db.session(SYSTEM) as session:
                conn = await session.connection()
                await conn.execute(insert(ledger), {"amount": Decimal(1), "at": moment})
                with pytest.raises(StatementError):
                    await conn.execute(insert(ledger), {"amount": Decimal(1), "at": datetime(2026, 1, 1)})
            async with db.session(SYSTEM) as session:
                conn = await session.connection()
                return (await conn.scalars(select(ledger.c.at))).one()
        finally:
            async with db.engine.begin() as conn:
                await conn.run_sync(scratch.drop_all)

    stored = run_with_database(settings, work)
    assert stored == moment
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_money_refuses_float(settings: Settings) -> None:
    with pytest.raises(TypeError):
        Money().process_bind_param(0.1, Database(settings).engine.dialect)  # type: ignore[arg-type]
