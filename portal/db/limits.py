"""What a column can hold, checked before any row is written, the same way on both databases.

PostgreSQL refuses a text longer than its VARCHAR, or a number its NUMERIC or INTEGER cannot hold, with an
error the request would answer as a 500; SQLite stores either silently, and the value then cannot move to
PostgreSQL, into an export's column, or back through the API. Services check the fields they know; this is
the one backstop under all of them: every ORM flush checks its new rows and the changed values of the
others against their columns, and refuses the first excess as a field error named after the attribute,
with nothing written.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, Numeric, SmallInteger, String, event, inspect
from sqlalchemy.orm import Mapper, Session, UOWTransaction
from sqlalchemy.types import TypeDecorator, TypeEngine

from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_

# (attribute, longest text) and (attribute, smallest, largest) per mapped class, worked out once.
_Limits = tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int | Decimal, int | Decimal], ...]]
_BY_MAPPER: dict[Mapper[Any], _Limits] = {}


def _number_range(column_type: TypeEngine[Any]) -> tuple[int | Decimal, int | Decimal] | None:
    if isinstance(column_type, Boolean):
        return None
    if isinstance(column_type, SmallInteger):
        return -(2**15), 2**15 - 1
    if isinstance(column_type, BigInteger):
        return -(2**63), 2**63 - 1
    if isinstance(column_type, Integer):
        return -(2**31), 2**31 - 1
    if isinstance(column_type, Numeric) and column_type.precision is not None:
        places = column_type.scale or 0
        largest = Decimal(10) ** (column_type.precision - places) - Decimal(1).scaleb(-places)
        return -largest, largest
    return None


def limits_of(mapper: Mapper[Any]) -> _Limits:
    found = _BY_MAPPER.get(mapper)
    if found is None:
        texts: list[tuple[str, int]] = []
        numbers: list[tuple[str, int | Decimal, int | Decimal]] = []
        for prop in mapper.column_attrs:
            column_type = prop.columns[0].type
            # a decorated type (Money, UTCDateTime, …) is limited by what it stores on PostgreSQL
            stored = column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type
            if isinstance(stored, String) and stored.length:
                texts.append((prop.key, stored.length))
            elif (bounds := _number_range(stored)) is not None:
                numbers.append((prop.key, *bounds))
        found = _BY_MAPPER[mapper] = (tuple(texts), tuple(numbers))
    return found


def _excess(obj: object, changed: Iterable[str] | None) -> FieldError | None:
    state = inspect(obj)
    texts, numbers = limits_of(state.mapper)
    wanted = None if changed is None else set(changed)
    values = state.dict
    for key, longest in texts:
        if wanted is not None and key not in wanted:
            continue
        value = values.get(key)
        if isinstance(value, str) and len(value) > longest:
            return FieldError(key, N_("must be at most %(max)s characters"), "too_long", {"max": longest})
    for key, smallest, largest in numbers:
        if wanted is not None and key not in wanted:
            continue
        value = values.get(key)
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            if value > largest:
                return FieldError(key, N_("must be at most %(limit)s"), "out_of_range", {"limit": largest})
            if value < smallest:
                return FieldError(key, N_("must be at least %(limit)s"), "out_of_range", {"limit": smallest})
    return None


def refuse_excess(obj: object) -> None:
    """The same check for a new row written outside the ORM's flush (`portal.audit.insert_once`)."""
    if error := _excess(obj, None):
        raise ValidationFailed([error])


def check_before_flush(session: Session, _flush: UOWTransaction, _instances: object) -> None:
    for obj in session.new:
        if error := _excess(obj, None):
            raise ValidationFailed([error])
    for obj in session.dirty:
        changed = inspect(obj).committed_state  # the attributes set since the row was loaded
        if changed and (error := _excess(obj, changed)):
            raise ValidationFailed([error])


def install() -> None:
    if not event.contains(Session, "before_flush", check_before_flush):
        event.listen(Session, "before_flush", check_before_flush)
