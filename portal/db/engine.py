"""The engine and the one way to open a unit of work: `Database.session(context)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only

from portal.actor import Actor
from portal.config import Settings
from portal.db import limits, tenancy
from portal.db.context import DbContext, actor_context
from portal.db.write_gate import WriteGate
from portal.errors import ConfigurationError

# What the login role could do around row-level security: a superuser or a BYPASSRLS role ignores it, and
# a table's owner (or a member of the owning role) may switch it off; both through the role itself or a
# role it can SET ROLE to. `set_config('role', ...)` per transaction does not help: the session can undo it.
SERVING_ROLE_CHECK = text(
    """
    SELECT session_user AS login,
           EXISTS (SELECT FROM pg_roles r WHERE r.rolsuper AND pg_has_role(session_user, r.oid, 'MEMBER'))
               AS superuser,
           EXISTS (SELECT FROM pg_roles r WHERE r.rolbypassrls AND pg_has_role(session_user, r.oid, 'MEMBER'))
               AS bypassrls,
           (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
               AND pg_has_role(session_user, c.relowner, 'MEMBER')) AS owned_tables
    """
)


def ensure_sqlite_directory(database_url: str) -> None:
    """The embedded default is a file under the data directory; create the directory on first run."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(settings: Settings) -> AsyncEngine:
    limits.install()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        ensure_sqlite_directory(settings.database_url)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    if url.get_driver_name() != "asyncpg":
        return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    engine = create_async_engine(url, pool_size=10, max_overflow=10)
    _ping_as_handed_out(engine)
    return engine


def _ping_as_handed_out(engine: AsyncEngine) -> None:
    """Each connection is checked as the pool hands it out, as `pool_pre_ping` would, in one round trip
    instead of three: SQLAlchemy's asyncpg ping wraps its query in a BEGIN and a ROLLBACK, on every
    request. A simple-protocol query needs no transaction (nor a prepared statement). A connection
    that does not answer is dropped and another one is handed out (the pool's DisconnectionError)."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _ping(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        try:
            await_only(dbapi_connection._connection.execute("SELECT 1"))
        except Exception as error:
            raise DisconnectionError("the pooled connection did not answer") from error


# The execution option that says whether a SQLite transaction may write (see `_configure_sqlite`).
WRITES = "portal_writes"


def _configure_sqlite(engine: AsyncEngine) -> None:
    """SQLite: foreign keys on, WAL, and transactions that may write take the write lock when they begin,
    so two concurrent writers queue instead of failing on a lock upgrade; they queue at the write gate
    first (portal.db.write_gate), in the order they came. A transaction that only reads (a GET) begins
    deferred: under WAL it reads its snapshot without waiting for, or holding up, a writer."""
    path = engine.url.database
    gate = WriteGate(path if path and path != ":memory:" and not path.startswith("file:") else None)
    _open_gate_as_transactions_end(engine, gate)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(WRITES, True):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_connection = conn.connection.dbapi_connection
        await_only(gate.enter(dbapi_connection))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            gate.leave(dbapi_connection)
            raise


def _open_gate_as_transactions_end(engine: AsyncEngine, gate: WriteGate) -> None:
    """The gate opens once the transaction has ended (committed, rolled back, or its connection closed):
    SQLAlchemy's commit event comes before the COMMIT, so the dialect's own calls are wrapped."""
    dialect = engine.sync_engine.dialect
    commit, rollback, close, terminate = dialect.do_commit, dialect.do_rollback, dialect.do_close, dialect.do_terminate

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            gate.leave(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            gate.leave(dbapi_connection)

    def do_close(dbapi_connection: Any) -> None:
        try:
            close(dbapi_connection)
        finally:
            gate.leave(dbapi_connection)

    def do_terminate(dbapi_connection: Any) -> None:
        try:
            terminate(dbapi_connection)
        finally:
            gate.leave(dbapi_connection)

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback  # type: ignore[method-assign]
    dialect.do_close, dialect.do_terminate = do_close, do_terminate  # type: ignore[method-assign]


@asynccontextmanager
async def read_phase(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """The reads a unit of work makes before work that commits outside it (counting a sign-in attempt,
    portal.identity.throttle): the block runs in a transaction that ends with it, and the unit of work's
    next statement begins the transaction it writes in. Meanwhile the unit of work holds nothing that
    work could wait for: on SQLite, the one write lock (so the block takes none: a snapshot read before
    another's write could not become a writer anyway); on any database, a pooled connection (parallel
    sign-ins each holding one and waiting for a second would empty the pool). On PostgreSQL a unit of
    work whose session lookup already began its transaction reads in it: no row there is waited for."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if session.in_transaction():
        if sqlite:
            raise ConfigurationError("a read phase must come before anything else in its unit of work")
        yield session
        return
    if sqlite:
        await session.connection(execution_options={WRITES: False})
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    if session.new or session.dirty or session.deleted:
        await session.rollback()
        raise ConfigurationError("a read phase may not change anything")
    await session.commit()


class Database:
    def __init__(self, settings: Settings, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.engine = engine or create_engine(settings)
        self._sessions = async_sessionmaker(
            self.engine, sync_session_class=tenancy.TenantSession, expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def open(self, ctx: DbContext, *, write: bool = True) -> AsyncSession:
        """A session in `ctx` whose transaction begins with its first statement; the caller commits and
        closes it. `write=False` promises the transaction only reads (on SQLite it then takes no lock)."""
        roles = (self.settings.db_app_role, self.settings.db_system_role)
        return self._sessions(info={"ctx": ctx, "db_roles": roles}, execution_options={WRITES: write})

    @asynccontextmanager
    async def session(self, ctx: DbContext, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work in `ctx`: committed when the block ends, rolled back if it raises (a
        `read_phase` inside it ends a transaction of its own: the block's later work is committed too)."""
        async with self.open(ctx, write=write) as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    def session_for(self, actor: Actor) -> AbstractAsyncContextManager[AsyncSession]:
        return self.session(actor_context(actor))

    async def check_serving_role(self) -> None:
        """Refuse to serve production through a PostgreSQL login that row-level security cannot hold."""
        if self.dialect != "postgresql":
            return
        async with self.engine.connect() as conn:
            row = (await conn.execute(SERVING_ROLE_CHECK)).one()
        problems = []
        if row.superuser:
            problems.append("is (or can become) a superuser")
        if row.bypassrls:
            problems.append("has (or can take) BYPASSRLS")
        if row.owned_tables:
            problems.append(f"owns (or can act as the owner of) {row.owned_tables} tables")
        if problems:
            raise ConfigurationError(
                f"refusing to start in production: the database login {row.login!r} {' and '.join(problems)}, "
                "so row-level security would not hold. Serve through a login role that is only a member of "
                f"{self.settings.db_app_role} and {self.settings.db_system_role}, and run migrations as the "
                "owner (see docs/deployment.md)"
            )

    async def dispose(self) -> None:
        await self.engine.dispose()
