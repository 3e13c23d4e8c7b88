"""What the bulk-loading benchmarks share: their scratch database, the login a production server uses, and
the flag their SQL loads must derive where the application's `Links` keeps it row by row."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.config import normalise_database_url
from portal.db.server import autocommit, on_same_server

# Marks every enterprise of tenant :t that has something under it.
HAS_SUB_ENTERPRISES = (
    "UPDATE enterprise_links SET has_sub_enterprises = EXISTS (SELECT 1 FROM enterprise_links AS child"
    " WHERE child.tenant_id = enterprise_links.tenant_id AND child.parent_id = enterprise_links.id)"
    " WHERE tenant_id = :t"
)


@contextmanager
def scratch_database(server: str, name: str, *, reuse: bool, keep: bool) -> Iterator[str]:
    """The address of database `name` on `server`: created first unless `reuse`d, dropped at the end
    unless kept (a reused database is always kept)."""
    if not reuse:
        asyncio.run(autocommit(server, f'CREATE DATABASE "{name}"'))
    try:
        yield on_same_server(server, name)
    finally:
        if keep or reuse:
            print(f"kept database {name}")
        else:
            asyncio.run(autocommit(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@asynccontextmanager
async def serving_login(url: str) -> AsyncIterator[str]:
    """The address of `url`'s database through a login made for the run, only a member of the application's
    two roles (after the migrations made them), as docs/deployment.md sets production up: a production
    server refuses a superuser or the tables' owner. Dropped at the end."""
    name = f"portal_bench_web_{os.getpid()}"
    password = secrets.token_hex(16)
    await autocommit(url, f"CREATE ROLE {name} LOGIN PASSWORD '{password}' NOSUPERUSER NOBYPASSRLS")
    try:
        await autocommit(url, f"GRANT portal_app, portal_system TO {name}")
        yield make_url(url).set(username=name, password=password).render_as_string(hide_password=False)
    finally:
        await autocommit(url, f"DROP ROLE IF EXISTS {name}")


def on_each_database(
    name: str, run: Callable[[str, str, Path, argparse.Namespace], Awaitable[None]], args: argparse.Namespace
) -> None:
    """`run(dialect, url, workdir, args)` once per database of `args.databases`: SQLite as a file in a
    temporary directory, PostgreSQL as a scratch database on `args.url`; both gone at the end."""
    for dialect in args.databases.split(","):
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-{dialect}-"))
        try:
            if dialect == "sqlite":
                asyncio.run(run("sqlite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", workdir, args))
            else:
                server = normalise_database_url(args.url)
                with scratch_database(server, f"portal_bench_{name}_{os.getpid()}", reuse=False, keep=False) as url:
                    asyncio.run(run("postgresql", url, workdir, args))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
