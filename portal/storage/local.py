"""Objects as files under the data directory: written to a temporary name and renamed into place, so a
reader never sees half a file; disk work runs in a worker thread, off the event loop."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread

from portal.storage.store import CHUNK_BYTES, ObjectMissing, check_key


class LocalDiskStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(self._write, self.path_of(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
        try:
            with open(temporary, "xb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    async def get(self, key: str) -> bytes:
        try:
            return await anyio.Path(self.path_of(key)).read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        try:
            file = await anyio.open_file(self.path_of(key), "rb")
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        async with file:
            while chunk := await file.read(CHUNK_BYTES):
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.Path(self.path_of(key)).unlink(missing_ok=True)
