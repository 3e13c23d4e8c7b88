"""What the bulk-loading benchmarks share: their scratch database, and the flag their SQL loads must derive
where the application's `Links` keeps it row by row."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

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
