"""The Idempotency dependency: binds portal.idempotency to the request (header, method, path, actor)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from portal import idempotency
from portal.actor import Actor


class Idempotency:
    def __init__(self, request: Request[Any, Any, Any], db: AsyncSession, actor: Actor) -> None:
        self.request, self.db, self.actor = request, db, actor
        self.key = request.headers.get(idempotency.HEADER)

    async def run(self, data: Any, create: Callable[[], Awaitable[tuple[int, Any]]]) -> Response[bytes]:
        fingerprint = idempotency.fingerprint(self.request.method, self.request.url.path, msgspec.to_builtins(data))
        saved = await idempotency.run_once(self.db, self.actor, self.key, fingerprint, create)
        headers = {"Idempotent-Replayed": "true"} if saved.replayed else {}
        return Response(saved.body, status_code=saved.status_code, media_type=MediaType.JSON, headers=headers)


def provide_idempotency(
    request: Request[Any, Any, Any], db: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
) -> Idempotency:
    return Idempotency(request, db, actor)


IDEMPOTENCY_DEPENDENCY = {"idempotency": Provide(provide_idempotency, sync_to_thread=False)}
IdempotencyDep = NamedDependency[Idempotency]
