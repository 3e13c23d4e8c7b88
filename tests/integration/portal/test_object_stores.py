"""The object store contract, kept alike by the local disk and an S3-compatible bucket (moto's S3
server on a loopback port, in a process of its own)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from portal.config import Settings
from portal.storage.local import LocalDiskStore
from portal.storage.s3 import S3Store
from portal.storage.store import ObjectMissing, ObjectStore, open_store
from tests.notifications import free_port

BUCKET = "portal-files"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.put(f"{endpoint}/{BUCKET}", timeout=2).raise_for_status()
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("moto's S3 server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


def s3_settings(endpoint: str) -> Settings:
    return Settings.from_env(
        {},
        environment="test",
        storage_backend="s3",
        s3_endpoint=endpoint,
        s3_bucket=BUCKET,
        s3_region="us-east-1",
        s3_access_key_id="test-key",
        s3_secret_access_key="test-secret",
    )


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalDiskStore(tmp_path / "files")
    return open_store(s3_settings(request.getfixturevalue("s3_endpoint")))


async def collect(store: ObjectStore, key: str) -> list[bytes]:
    return [chunk async for chunk in store.stream(key)]


def test_put_get_stream_and_delete(store: ObjectStore) -> None:
    big = bytes(range(256)) * 1200  # 300 KB: several chunks

    async def scenario() -> None:
        await store.put("tenant-1/2026/12/a.jpg", b"first", "image/jpeg")
        await store.put("tenant-1/2026/12/a.jpg", b"second", "image/jpeg")  # replaced whole
        assert await store.get("tenant-1/2026/12/a.jpg") == b"second"
        await store.put("tenant-1/2026/12/b.pdf", big, "application/pdf")
        chunks = await collect(store, "tenant-1/2026/12/b.pdf")
        assert b"".join(chunks) == big
        await store.delete("tenant-1/2026/12/b.pdf")
        await store.delete("tenant-1/2026/12/b.pdf")  # already gone: not an error
        with pytest.raises(ObjectMissing):
            await store.get("tenant-1/2026/12/b.pdf")
        with pytest.raises(ObjectMissing):
            await collect(store, "tenant-1/2026/12/b.pdf")

    asyncio.run(scenario())


@pytest.mark.parametrize("key", ["../outside", "/absolute", "a//b", "a/../b", "", "a/.hidden", "x\n"])
def test_a_key_that_could_leave_the_store_is_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        asyncio.run(store.put(key, b"x", "text/plain"))


def test_the_configuration_picks_the_store(tmp_path: Path) -> None:
    local = open_store(Settings.from_env({}, environment="test", data_dir=tmp_path))
    assert isinstance(local, LocalDiskStore) and local.root == tmp_path / "files"
    assert isinstance(open_store(s3_settings("http://127.0.0.1:9")), S3Store)


def test_local_files_are_written_whole_and_private(tmp_path: Path) -> None:
    store = LocalDiskStore(tmp_path)
    asyncio.run(store.put("t/x.png", b"data", "image/png"))
    path = tmp_path / "t" / "x.png"
    assert path.read_bytes() == b"data" and path.stat().st_mode & 0o077 == 0
    assert [p.name for p in path.parent.iterdir()] == ["x.png"]  # no temporary file left behind
