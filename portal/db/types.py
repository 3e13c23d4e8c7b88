"""Column types that behave the same on SQLite and PostgreSQL: aware UTC timestamps and exact money."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes in UTC and always returns them aware; naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # asyncpg reads every TIMESTAMP WITH TIME ZONE as an aware datetime in UTC already: nothing to do
        # for each value of each row
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)


class Money(TypeDecorator[Decimal]):
    """Exact decimal amounts with four places: NUMERIC(18, 4) on PostgreSQL; on SQLite, which has no
    decimal type, an integer count of ten-thousandths, so comparisons and SUM stay exact in SQL."""

    impl = Numeric(18, 4)
    cache_ok = True
    QUANTUM = Decimal("0.0001")
    SCALE = 10_000

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 4, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("float refused for money: use Decimal")
        amount = Decimal(value).quantize(self.QUANTUM)
        return int(amount * self.SCALE) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / self.SCALE).quantize(self.QUANTUM)
        return Decimal(value).quantize(self.QUANTUM)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.driver != "asyncpg":
            return super().result_processor(dialect, coltype)
        quantum = self.QUANTUM

        # asyncpg reads NUMERIC as a Decimal already: only its places to fix, for each value of each row
        def to_places(value: Decimal | None) -> Decimal | None:
            return None if value is None else value.quantize(quantum)

        return to_places
