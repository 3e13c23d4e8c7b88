"""What the ordering controllers share: XLSX answers."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response

from portal.spreadsheets import workbook_bytes
from portal.ui.downloads import download, stamped

AnyRequest = Request[Any, Any, Any]


async def xlsx(name: str, columns: list[str], rows: list[list[str]]) -> Response[bytes]:
    content = await asyncio.to_thread(workbook_bytes, columns, rows, name.title())
    return download(content, stamped(name))
