"""What the ordering controllers share: XLSX answers."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response

from portal.db.types import utcnow
from portal.spreadsheets import XLSX_MEDIA_TYPE, workbook_bytes

AnyRequest = Request[Any, Any, Any]


async def xlsx(name: str, columns: list[str], rows: list[list[str]]) -> Response[bytes]:
    content = await asyncio.to_thread(workbook_bytes, columns, rows, name.title())
    filename = f"{name}-{utcnow():%Y%m%d-%H%M}.xlsx"
    return Response(
        content, media_type=XLSX_MEDIA_TYPE, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
