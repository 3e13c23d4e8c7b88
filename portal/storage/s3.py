"""Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, Alibaba OSS, Tencent COS, ...), through
obstore: an async client with request signing (SigV4), retries and streaming, in one wheel without Python
dependencies. Path-style addressing (`endpoint/bucket/key`), which every S3-compatible server accepts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import obstore
from obstore.store import S3Store as ObstoreS3

from portal.config import Settings
from portal.storage.store import CHUNK_BYTES, ObjectMissing, check_key


class S3Store:
    def __init__(self, client: ObstoreS3) -> None:
        self.client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        config: dict[str, object] = {
            "access_key_id": settings.s3_access_key_id,
            "secret_access_key": settings.s3_secret_access_key,
            "region": settings.s3_region,
            "virtual_hosted_style_request": False,
        }
        if settings.s3_endpoint:
            config["endpoint"] = settings.s3_endpoint
        return cls(
            ObstoreS3(
                settings.s3_bucket,
                config=config,  # type: ignore[arg-type]
                # plain HTTP only to an endpoint configured so (a server on the same host); production refuses it
                client_options={"allow_http": settings.s3_endpoint.startswith("http://")},
            )
        )

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await obstore.put_async(self.client, check_key(key), data, attributes={"Content-Type": content_type})

    async def get(self, key: str) -> bytes:
        try:
            result = await obstore.get_async(self.client, check_key(key))
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            raise ObjectMissing(key) from None

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        try:
            result = await obstore.get_async(self.client, check_key(key))
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        async for chunk in result.stream(min_chunk_size=CHUNK_BYTES):
            yield bytes(chunk)

    async def delete(self, key: str) -> None:
        try:
            await obstore.delete_async(self.client, check_key(key))
        except FileNotFoundError:
            return
