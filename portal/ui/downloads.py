"""A file to download: the response every export page and endpoint sends."""

from __future__ import annotations

from litestar import Response

from portal.db.types import utcnow
from portal.spreadsheets import XLSX_MEDIA_TYPE

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def download(content: bytes, filename: str, media_type: str = XLSX_MEDIA_TYPE) -> Response[bytes]:
    """The file as an attachment named `filename` (an XLSX workbook unless said otherwise)."""
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def stamped(name: str, extension: str = "xlsx") -> str:
    """A download's file name: what it holds and when it was made (UTC), so saved copies sort and differ."""
    return f"{name}-{utcnow():%Y%m%d-%H%M}.{extension}"
