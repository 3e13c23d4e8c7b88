"""The one interface to stored bytes, and the implementation the configuration selects.

Keys are made by the kernel (attachments.py), never from a name a person typed; a store still refuses a
key that could leave its root, so a mistake elsewhere cannot reach another file."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Protocol

from portal.config import Settings

CHUNK_BYTES = 64 * 1024
_KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")


class ObjectMissing(LookupError):
    """No object is stored under the key."""


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there; the object appears whole or not at all."""
        ...

    async def get(self, key: str) -> bytes:
        """The whole object; ObjectMissing when there is none."""
        ...

    def stream(self, key: str) -> AsyncIterator[bytes]:
        """The object in chunks, for a response that never holds it whole; ObjectMissing when there is
        none (raised on the first iteration)."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; removing one that is not there is not an error (deletion is retried)."""
        ...


def check_key(key: str) -> str:
    if len(key) > 500 or not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def open_store(settings: Settings) -> ObjectStore:
    """The store PORTAL_STORAGE names: `local` (files under the data directory) or `s3`."""
    if settings.storage_backend == "s3":
        from portal.storage.s3 import S3Store

        return S3Store.from_settings(settings)
    from portal.storage.local import LocalDiskStore

    return LocalDiskStore(settings.data_dir / "files")
