"""Reading an import file: the first sheet of a CSV or XLSX file as rows keyed by the import's columns,
through the kernel's reader (portal.spreadsheets.read_table), which checks the file, maps its header and
holds it to the import's row limit."""

from __future__ import annotations

from interconnect.imports.columns import COLUMNS, IGNORED_COLUMNS, REQUIRED_COLUMNS
from portal.spreadsheets import Columns, SheetRow, read_table

MAX_ROWS = 5000
ENTERPRISE_COLUMNS = Columns(COLUMNS, REQUIRED_COLUMNS, IGNORED_COLUMNS, MAX_ROWS)

Row = SheetRow


def parse_file(filename: str, content: bytes) -> list[Row]:
    """The data rows of the first sheet, keyed by column; blank rows are left out but keep their number."""
    return read_table(filename, content, ENTERPRISE_COLUMNS)
