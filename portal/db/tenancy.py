"""Tenancy enforcement inside the application: the ORM half of the three guarantees.

1. `do_orm_execute` adds the tenant criterion to every ORM SELECT, UPDATE and DELETE on a tenant-owned
   model (including relationship loads and bulk statements), so a forgotten filter cannot leak rows.
2. `before_flush` stamps tenant_id on new rows and refuses a row of another tenant.
3. `after_begin` hands the context to PostgreSQL (role + app.tenant_id) for row-level security.

`within(session, ctx)` is the one way a unit of work moves to another context for a while, in the same
transaction (partner sign-in: the login is found in the public context, the session opened in a tenant's).
A hot read may run in Core on the unit of work's connection instead, naming the tenant `tenant_of(session)`
gives it in every table it reads (row-level security still holds it on PostgreSQL).
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from types import NoneType
from typing import Any, TypeVar

import msgspec
from sqlalchemy import Insert, Table, event, insert, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria
from sqlalchemy.orm.util import LoaderCriteriaOption

from portal.db.base import TenantOwned
from portal.db.begin import begin_with, commit_with
from portal.db.context import DbContext
from portal.errors import TenantViolation
from portal.ids import uuid7


class TenantSession(Session):
    """The only session class the application uses; the hooks below are bound to it. A flush (an
    explicit one, an autoflush, the one before a savepoint or a change of context) writes the ORM's rows,
    then the rows queued with `queue_insert`, which may refer to them; a commit writes what is still
    queued with the COMMIT."""

    def flush(self, objects: Sequence[object] | None = None) -> None:
        nested = self._flushing
        super().flush(objects)
        if not nested:
            _write_queued(self)


def context_of(session: Session) -> DbContext:
    ctx = session.info.get("ctx")
    if not isinstance(ctx, DbContext):
        raise TenantViolation("database session opened without a tenancy context")
    return ctx


def tenant_of(session: AsyncSession) -> uuid.UUID:
    """The tenant a Core statement run on this unit of work's connection must name itself (the ORM's
    criteria do not reach it): refused in the public and system contexts, which have none."""
    ctx = context_of(session.sync_session)
    if ctx.tenant_id is None or ctx.system:
        raise TenantViolation(f"a tenant's rows read in the {ctx.label}")
    return ctx.tenant_id


@event.listens_for(TenantSession, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # already carries the criterion through propagate_to_loaders
    ctx = context_of(state.session)
    if ctx.system:
        return
    if ctx.public:
        if any(issubclass(mapper.class_, TenantOwned) for mapper in state.all_mappers):
            raise TenantViolation("tenant-owned rows queried in the public context")
        return
    statement, tenant_id = state.statement, ctx.tenant_id
    scoped = _SCOPED.get(statement)
    if scoped is None:
        scoped = _SCOPED[statement] = {}
    found = scoped.get(tenant_id)
    if found is None:
        found = statement.options(_tenant_criterion(tenant_id))
        if len(scoped) < _TENANTS_PER_STATEMENT:
            scoped[tenant_id] = found
    state.statement = found


# A statement built once and run on every request (the session lookup's) keeps its scoped copy per tenant:
# SQLAlchemy memoises a statement's cache key, which `.options()` would make it compute again on every run
# (a walk of the whole statement). The copies go with the statement; a statement built per request is
# collected with its copy as before.
_SCOPED: weakref.WeakKeyDictionary[Any, dict[uuid.UUID, Any]] = weakref.WeakKeyDictionary()
_TENANTS_PER_STATEMENT = 256


@lru_cache(maxsize=4096)
def _tenant_criterion(tenant_id: uuid.UUID) -> LoaderCriteriaOption:
    """The option that keeps a statement to one tenant. Building it analyses the lambda (most of what the
    hook costs a statement), so it is built once per tenant; it holds nothing but the tenant's id, which
    SQLAlchemy binds as a parameter (the compiled statement is the same for every tenant)."""
    return with_loader_criteria(
        TenantOwned,
        lambda cls: cls.tenant_id == tenant_id,
        include_aliases=True,
        propagate_to_loaders=True,
    )


@event.listens_for(TenantSession, "before_flush")
def _stamp_and_check(session: Session, flush_context: Any, instances: Any) -> None:
    ctx = context_of(session)
    for obj in session.new:
        if isinstance(obj, TenantOwned):
            _stamp_new(obj, ctx)
    if ctx.system:
        return
    if ctx.public and any(isinstance(o, TenantOwned) for o in (*session.new, *session.dirty, *session.deleted)):
        raise TenantViolation("tenant-owned rows written in the public context")
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, TenantOwned) and obj.tenant_id != ctx.tenant_id:
            raise TenantViolation(f"{type(obj).__name__} of another tenant refused in {ctx.label}")


def _stamp_new(obj: TenantOwned, ctx: DbContext) -> None:
    """A new row gets its id, and its tenant from the context; a row of another tenant is refused (in
    the public context every tenant's row is another's)."""
    if obj.id is None:
        obj.id = uuid7()
    if obj.tenant_id is None:
        if ctx.tenant_id is None:
            raise TenantViolation(f"{type(obj).__name__} created in the {ctx.label} without tenant_id")
        obj.tenant_id = ctx.tenant_id  # type: ignore[assignment]
    elif not ctx.system and obj.tenant_id != ctx.tenant_id:
        raise TenantViolation(f"{type(obj).__name__} of another tenant refused in {ctx.label}")


_Row = TypeVar("_Row", bound=TenantOwned)

# Rows waiting in `session.info` for the next flush or commit (see `queue_insert`).
_QUEUED = "queued_inserts"


def queue_insert(session: Session | AsyncSession, row: TenantOwned) -> None:
    """Write a new row with the unit of work, outside the ORM's bookkeeping: it is INSERTed at the
    session's next flush or commit, with the other rows queued for its table in one statement, stamped and
    checked like any new row (in the context current when it is written). For rows that are written
    and then left alone in their transaction, and that no row of the transaction refers to (outbox events,
    audit entries, an order's lines and timeline): the unit of work would cost such a row more than the
    change it goes with. The row gets its id, its tenant and its columns' Python-side defaults now (a flush
    writes the queue before its context changes: `within`). It stays transient:
    changing it after it was written changes nothing, and a rollback forgets the rows not yet written."""
    complete(session, row)
    session.info.setdefault(_QUEUED, []).append(row)


def unwatched(model: type[_Row], **values: Any) -> _Row:
    """A new row of `model` holding `values`, built without the ORM's attribute events (building a row the
    ordinary way costs more than writing it): for a row only ever queued (`queue_insert`), never added to a
    session. It reads like any row; `complete()` gives it what its columns default to."""
    row: _Row = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    row.__dict__.update(values)
    return row


def complete(session: Session | AsyncSession, row: TenantOwned) -> TenantOwned:
    """Give a new row its id, its tenant and its columns' Python-side defaults now rather than at its
    flush, so that it reads complete before it is written (a response presenting what was just made)."""
    sync_session = session.sync_session if isinstance(session, AsyncSession) else session
    _stamp_new(row, context_of(sync_session))
    for column, default in _defaults(type(row)):
        if column not in row.__dict__:
            setattr(row, column, default.arg(None) if default.is_callable else default.arg)
    return row


@lru_cache(maxsize=256)
def _defaults(model: type[TenantOwned]) -> tuple[tuple[str, Any], ...]:
    """(attribute, default) of the model's columns with a Python-side scalar or callable default."""
    mapper = inspect(model)
    return tuple(
        (attr.key, attr.columns[0].default)
        for attr in mapper.column_attrs
        if attr.key != "id"
        and attr.columns[0].default is not None
        and (attr.columns[0].default.is_scalar or attr.columns[0].default.is_callable)
    )


def _write_queued(session: Session, *, committing: bool = False) -> None:
    queued: list[TenantOwned] | None = session.info.pop(_QUEUED, None)
    if not queued:
        return
    ctx = context_of(session)
    statements: dict[tuple[Any, tuple[str, ...]], list[dict[str, Any]]] = {}
    for row in queued:
        _stamp_new(row, ctx)
        table, names = _columns_of(type(row))
        given = row.__dict__
        # the attributes given; the columns' defaults fill the others
        values = {column: given[attr] for attr, column in names if attr in given}
        statements.setdefault((table, tuple(values)), []).append(values)
    connection = session.connection()
    # At commit, on a transaction begun with its set-up (portal.db.begin), the rows go with the COMMIT.
    # A session joined to a transaction it does not own (bound to a connection) does not commit it.
    deferred = committing and not isinstance(session.bind, Connection)
    for (table, columns), rows in statements.items():
        literal = _literal_insert(connection, table, columns, rows) if deferred else None
        if literal is None or not commit_with(connection, literal):
            connection.execute(_insert_into(table), rows)


@lru_cache(maxsize=256)
def _columns_of(model: type[TenantOwned]) -> tuple[Table, tuple[tuple[str, str], ...]]:
    """The model's table and (attribute, column) of its columns: every queued row of a model asks."""
    mapper = inspect(model)
    return mapper.local_table, tuple((attr.key, attr.columns[0].key) for attr in mapper.column_attrs)


# Quotes the rows' JSON in a literal INSERT: dollar quoting takes the text as it is, whatever the server's
# string settings (no escaping); rows whose text holds the tag go the ordinary way.
_ROWS_TAG = "$portal_rows$"
_LITERAL_TYPES = (str, int, uuid.UUID, dict, list, NoneType, Decimal)


def _literal_insert(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> str | None:
    """The INSERT of `rows` into `table` as one literal statement: the rows as JSON, which the database
    turns into the table's row type (json_populate_recordset casts each value as its column's input
    would), so every value still reaches the database as data, never as SQL. None when a row holds a
    value this cannot carry as it is (only plain values, UUIDs, aware datetimes and JSON documents
    qualify) or the table has Python-side defaults the rows leave out."""
    head = _literal_head(connection.dialect.identifier_preparer, table, columns)
    if head is None:
        return None
    for row in rows:
        for value in row.values():
            if isinstance(value, datetime):
                if value.tzinfo is None:
                    return None
            elif not isinstance(value, _LITERAL_TYPES):
                return None
    document = msgspec.json.encode(rows).decode()
    if _ROWS_TAG in document:
        return None
    return f"{head}{_ROWS_TAG}{document}{_ROWS_TAG})"


@lru_cache(maxsize=512)
def _literal_head(preparer: Any, table: Table, columns: tuple[str, ...]) -> str | None:
    """The literal INSERT up to its rows, built once per table and columns; None when the table has
    Python-side defaults the columns leave out."""
    if any(column.default is not None and column.key not in columns for column in table.columns):
        return None
    names = ", ".join(preparer.quote(table.columns[column].name) for column in columns)
    name = preparer.format_table(table)
    # names from the table's metadata; the values are data in the one dollar-quoted literal
    return f"INSERT INTO {name} ({names}) SELECT {names} FROM json_populate_recordset(NULL::{name}, "  # noqa: S608


@lru_cache(maxsize=64)
def _insert_into(table: Table) -> Insert:
    """Built once per table: a statement built anew computes its cache key on every execution."""
    return insert(table)


@event.listens_for(TenantSession, "before_commit")
def _write_queued_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        session.flush()  # a savepoint released: what it queued is written now, in the context it was made in
        return
    # The commit's own flush, made here rather than after this hook, and without writing the queue after it
    # as other flushes do, so that what it queues (the audit entries of its changes) goes with the COMMIT.
    Session.flush(session)
    _write_queued(session, committing=True)


@event.listens_for(TenantSession, "after_soft_rollback")
def _forget_queued(session: Session, _previous: SessionTransaction) -> None:
    """A rollback (of a savepoint too: the flush before it wrote what was queued until then) forgets
    the rows queued since."""
    session.info.pop(_QUEUED, None)


_SET_CONTEXT = text("SELECT set_config('role', :role, true), set_config('app.tenant_id', :tenant, true)")


def _database_context(session: Session) -> dict[str, str]:
    ctx = context_of(session)
    app_role, system_role = session.info["db_roles"]
    return {
        "role": system_role if ctx.system else app_role,
        "tenant": "" if ctx.tenant_id is None else str(ctx.tenant_id),
    }


@event.listens_for(TenantSession, "after_begin")
def _set_database_context(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    """Each PostgreSQL transaction runs as the application role (row-level security applies, no
    BYPASSRLS) with app.tenant_id set, or as the system role whose policies admit every tenant."""
    if connection.dialect.name != "postgresql":
        return
    values = _database_context(session)
    if not begin_with(connection, _literal_setup(values)):
        connection.execute(_SET_CONTEXT, values)


def _literal_setup(values: dict[str, str]) -> str:
    role, tenant = (value.replace("'", "''") for value in (values["role"], values["tenant"]))
    return f"SELECT set_config('role', '{role}', true), set_config('app.tenant_id', '{tenant}', true)"


async def _switch(session: AsyncSession, ctx: DbContext) -> None:
    session.info["ctx"] = ctx
    if not session.in_transaction():
        return  # `after_begin` sets the database's side when the transaction begins
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.execute(_SET_CONTEXT, _database_context(session.sync_session))


@asynccontextmanager
async def within(session: AsyncSession, ctx: DbContext) -> AsyncIterator[AsyncSession]:
    """Run a block of the caller's unit of work in `ctx`, in the same transaction, then return to the
    context it was in. Changes made so far are flushed first, and the block's are flushed before it
    ends, so every row is stamped and checked in the context it was made in; on PostgreSQL the role and
    app.tenant_id follow each switch, so row-level security holds the block to `ctx` as well."""
    previous = context_of(session.sync_session)
    await session.flush()
    await _switch(session, ctx)
    try:
        yield session
        await session.flush()
    except BaseException:
        try:
            await _switch(session, previous)  # a refusal the caller may answer and carry on from
        except SQLAlchemyError:
            session.info["ctx"] = previous  # the transaction is broken: it can only be rolled back
        raise
    await _switch(session, previous)
