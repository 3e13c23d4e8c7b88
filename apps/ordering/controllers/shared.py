"""What the ordering controllers share: building the services for a request, XLSX answers."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response

from apps.ordering.catalog import Catalog
from apps.ordering.orders import Orders
from portal.actor import Actor
from portal.db.types import utcnow
from portal.http.deps import DB
from portal.spreadsheets import XLSX_MEDIA_TYPE, workbook_bytes
from roles.access import policy_of

AnyRequest = Request[Any, Any, Any]


def orders_of(request: AnyRequest, db: DB, actor: Actor, obj: str) -> Orders:
    return Orders(db, policy_of(request), actor, obj)


async def catalog_of(request: AnyRequest, db: DB, actor: Actor, obj: str) -> Catalog:
    return await Catalog.for_actor(db, policy_of(request), actor, obj)


async def xlsx(name: str, columns: list[str], rows: list[list[str]]) -> Response[bytes]:
    content = await asyncio.to_thread(workbook_bytes, columns, rows, name.title())
    filename = f"{name}-{utcnow():%Y%m%d-%H%M}.xlsx"
    return Response(
        content, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
