"""SQLite's writers, one at a time in the order they came.

SQLite has one write lock for the whole database, and a transaction that may write takes it as it begins
(portal.db.engine). A writer that finds it taken waits in SQLite's busy handler, which polls: after a few
tries it sleeps 100 ms between looks, so a writer that has waited long looks less often than one that has
just come, and the lock sits free between a commit and the next look. Under a queue of writers (orders
placed at once from many connections) some waited seconds while others went first.

The gate puts the writers in line before they ask SQLite: in one process an asyncio lock (first come,
first served; it is handed on at once), between the processes serving one database file an exclusive
`flock` on a file beside it, which the kernel hands to a process already waiting for it. BEGIN IMMEDIATE
then finds the lock free. The gate only orders writers: SQLite's own lock still guards the data, and a
writer that waited for the gate as long as SQLite's busy timeout goes on without it (SQLite then decides,
as it did before).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import weakref
from contextlib import suppress
from typing import Any

# As long as SQLite's busy timeout (portal.db.engine): past it the writer asks SQLite without the gate.
PATIENCE_SECONDS = 30.0


class WriteGate:
    """The gate of one engine: a line per event loop that uses it."""

    def __init__(self, database_path: str | None) -> None:
        # beside the database file; None for a database in memory (one process)
        self._path = f"{database_path}-writers" if database_path else None
        self._lines: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Line] = weakref.WeakKeyDictionary()

    async def enter(self, connection: Any) -> None:
        """Wait for the gate for `connection`'s write transaction (called as it begins)."""
        line = self._lines.get(asyncio.get_running_loop())
        if line is None:
            line = self._lines[asyncio.get_running_loop()] = _Line(self._path)
        await line.enter(connection)

    def leave(self, connection: Any) -> None:
        """Open the gate if `connection`'s transaction went through it (called as it ends, whichever way;
        with the DBAPI connection or the pool's proxy of it)."""
        connection = getattr(connection, "dbapi_connection", connection)
        for line in list(self._lines.values()):
            if line.holder is connection:
                line.leave()
                return


class _Line:
    """The writers of one event loop: an asyncio lock, then the file lock through a file description of
    the line's own (flock holds between descriptions, so between lines and processes)."""

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._fd: int | None = None
        self._fd_pid = 0
        self._lock = asyncio.Lock()
        self.holder: Any = None  # the DBAPI connection whose transaction is through the gate

    async def enter(self, connection: Any) -> None:
        try:
            await asyncio.wait_for(self._lock.acquire(), PATIENCE_SECONDS)
        except TimeoutError:
            return
        try:
            await self._lock_file()
        except BaseException:
            self._lock.release()
            raise
        self.holder = connection

    def leave(self) -> None:
        self.holder = None
        self._unlock_file()
        self._lock.release()

    async def _lock_file(self) -> None:
        if self._path is None:
            return
        if self._fd is None or self._fd_pid != os.getpid():  # a forked process opens its own
            self._fd, self._fd_pid = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
            weakref.finalize(self, os.close, self._fd)  # a line goes with its event loop
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # another process writes: wait in a thread (the event loop goes on), as patiently
            waited = asyncio.ensure_future(asyncio.to_thread(self._wait_for_file))
            try:
                await asyncio.wait_for(asyncio.shield(waited), PATIENCE_SECONDS)
            except TimeoutError:
                waited.add_done_callback(lambda _done: self._unlock_file())  # went on without it
            except BaseException:
                waited.add_done_callback(lambda _done: self._unlock_file())
                raise

    def _wait_for_file(self) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def _unlock_file(self) -> None:
        if self._fd is not None:
            with suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
