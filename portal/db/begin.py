"""Beginning a PostgreSQL transaction together with its set-up, and ending it together with its last
rows, in one round trip each.

SQLAlchemy's asyncpg adapter begins a transaction lazily, with a round trip of its own (BEGIN) right before
the transaction's first statement, and the tenancy set-up (portal.db.tenancy) would be a second one, run
through SQLAlchemy's statement machinery. Every request pays both, so the set-up travels with the BEGIN in
one simple-protocol message on the driver's connection, and the adapter is handed a transaction that
ends with a plain COMMIT or ROLLBACK. Where the adapter would begin differently (an isolation level, a
read-only or deferrable transaction asked for) or is not asyncpg's, nothing is done here and the caller
runs its set-up as an ordinary statement.

The rows a unit of work writes only as it commits (outbox events: portal.db.tenancy.queue_insert) travel
with the COMMIT the same way (`commit_with`): their INSERT was a round trip of its own on every write that
publishes an event. A check that must hold when the transaction ends (`commit_with(..., refusal=...)`)
goes there too: a row lock it takes lasts only as long as the COMMIT, not from the middle of the request.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.util import await_only


class _Begun:
    """What the adapter keeps as its transaction: it only ever commits or rolls it back."""

    __slots__ = ("_checks", "_last", "_raw", "_refusals")

    def __init__(self, raw: Any) -> None:
        self._raw = raw
        self._last: list[str] = []  # statements sent with the COMMIT
        self._checks: list[str] = []  # sent after them: checks of what the transaction wrote
        self._refusals: dict[str, Callable[[str], BaseException]] = {}

    async def commit(self) -> None:
        if not self._last and not self._checks:
            await self._raw.execute("COMMIT")
            return
        try:
            await self._raw.execute("; ".join([*self._last, *self._checks, "COMMIT"]))
        except Exception as error:
            # a statement before the COMMIT failed, so the COMMIT did not run and the transaction is
            # aborted: end it, or the connection would go back to the pool inside it
            with suppress(Exception):
                await self._raw.execute("ROLLBACK")
            refused = self._refusals.get(getattr(error, "message", "")) if _raised(error) else None
            if refused is not None:
                raise refused(getattr(error, "detail", None) or "") from None
            raise

    async def rollback(self) -> None:
        await self._raw.execute("ROLLBACK")


def begin_with(connection: Connection, setup: str) -> bool:
    """Begin `connection`'s transaction with `setup` (literal SQL, no parameters) in the same message;
    False when this connection's transaction must be begun the adapter's own way."""
    if connection.dialect.driver != "asyncpg":
        return False
    adapter = connection.connection.dbapi_connection
    if (
        getattr(adapter, "_transaction", True) is not None
        or getattr(adapter, "isolation_level", True) is not None
        or getattr(adapter, "readonly", True)
        or getattr(adapter, "deferrable", True)
    ):
        return False
    await_only(_begin(adapter, setup))
    return True


def commit_with(
    connection: Connection,
    statement: str,
    *,
    refusal: tuple[str, Callable[[str], BaseException]] | None = None,
) -> bool:
    """Send `statement` (literal SQL, no parameters) in the same message as the COMMIT of `connection`'s
    transaction, after what is sent with it so far; False when this transaction was not begun by
    `begin_with` (the caller then runs the statement as an ordinary one). A rollback drops it. A failing
    statement fails the commit, and the transaction is rolled back. `refusal` (message, make): a check,
    sent after every other statement (it sees the rows sent with the COMMIT too), that RAISEs an exception
    with that message (SQLSTATE P0001) to fail the commit with `make(detail)`, the exception's DETAIL,
    instead of the database's error."""
    begun = _begun(connection)
    if begun is None:
        return False
    if refusal is None:
        begun._last.append(statement)
    else:
        begun._checks.append(statement)
        begun._refusals[refusal[0]] = refusal[1]
    return True


def commits_with(connection: Connection) -> bool:
    """Whether `commit_with` would send a statement with this transaction's COMMIT (asked before work
    that is only right when it does)."""
    return _begun(connection) is not None


def _begun(connection: Connection) -> _Begun | None:
    if connection.dialect.driver != "asyncpg":
        return None
    begun = getattr(connection.connection.dbapi_connection, "_transaction", None)
    return begun if isinstance(begun, _Begun) else None


def _raised(error: BaseException) -> bool:
    """An exception RAISEd by a PL/pgSQL block (SQLSTATE P0001), as asyncpg reports it."""
    return getattr(error, "sqlstate", None) == "P0001"


async def _begin(adapter: Any, setup: str) -> None:
    raw = adapter._connection
    async with adapter._execute_mutex:
        # kept even when the set-up fails: the BEGIN before it holds, and the adapter must roll it back
        adapter._transaction = _Begun(raw)
        try:
            await raw.execute(f"BEGIN; {setup}")
        except Exception as error:  # the adapter turns the driver's error into the DBAPI's
            adapter._handle_exception(error)
