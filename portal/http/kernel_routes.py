"""Kernel routes that belong to no domain package: health and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import get
from litestar.params import FromQuery
from sqlalchemy import select, text

from portal.audit import AuditEntry
from portal.db.context import PUBLIC
from portal.http.deps import DB, ServicesDep
from portal.http.inputs import Limit
from portal.permissions import public, requires


class Health(msgspec.Struct):
    status: str
    database: str


@get("/health", opt=public(), tags=["system"])
async def health(services: ServicesDep) -> Health:
    """Liveness and database reachability, for load balancers."""
    async with services.db.session(PUBLIC, write=False) as session:
        await session.execute(text("SELECT 1"))
    return Health("ok", services.db.dialect)


class AuditEntryOut(msgspec.Struct):
    id: uuid.UUID
    occurred_at: datetime
    actor_kind: str
    actor_id: uuid.UUID | None
    enterprise_id: uuid.UUID | None
    channel: str
    object_type: str
    object_id: uuid.UUID
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@get("/api/audit", opt=requires("audit", "read"), tags=["audit"])
async def list_audit(
    db: DB,
    object_id: FromQuery[uuid.UUID | None] = None,
    limit: Limit = 50,
) -> list[AuditEntryOut]:
    """The newest audit entries of the tenant, optionally for one object."""
    query = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc()).limit(limit)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    rows = await db.scalars(query)
    return [
        AuditEntryOut(
            r.id,
            r.occurred_at,
            r.actor_kind,
            r.actor_id,
            r.enterprise_id,
            r.channel,
            r.object_type,
            r.object_id,
            r.action,
            r.before,
            r.after,
        )
        for r in rows
    ]


KERNEL_ROUTES = [health, list_audit]
