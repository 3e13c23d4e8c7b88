"""Reading an import file: the first sheet of a CSV or XLSX file (read within portal.spreadsheets'
bounds) as rows keyed by column, its header mapped to the columns, and the import's row limit checked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from interconnect.imports.columns import _HEADER_ALIASES, COLUMNS, IGNORED_COLUMNS, REQUIRED_COLUMNS
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_
from portal.spreadsheets import file_error, records

MAX_ROWS = 5000


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # the spreadsheet row (the header is row 1)
    values: dict[str, str]  # column → text, "" when empty


def _header_key(title: str) -> str:
    key = re.sub(r"[\s\-]+", "_", title.strip().lower()).rstrip("*").strip("_")
    return key


def _map_header(cells: list[str]) -> list[str | None]:
    """The column of each header cell (None: ignored), or a clear error naming every problem."""
    errors: list[FieldError] = []
    mapped: list[str | None] = []
    seen: dict[str, str] = {}
    for title in cells:
        key = _header_key(title)
        if not key or key in IGNORED_COLUMNS:
            mapped.append(None)
            continue
        column = _HEADER_ALIASES.get(key)
        if column is None:
            errors.append(
                FieldError(
                    "file",
                    N_("has an unknown column %(column)s; the columns are: %(known)s"),
                    "unknown_column",
                    {"column": repr(title), "known": ", ".join(COLUMNS)},
                )
            )
        elif column in seen:
            errors.append(
                FieldError(
                    "file",
                    N_("has the column %(column)s twice (%(first)s and %(second)s)"),
                    "duplicate_column",
                    {"column": column, "first": repr(seen[column]), "second": repr(title)},
                )
            )
        else:
            seen[column] = title
        mapped.append(column)
    for column in REQUIRED_COLUMNS:
        if column not in seen:
            errors.append(FieldError("file", N_("has no %(column)s column"), "missing_column", {"column": column}))
    if errors:
        raise ValidationFailed(errors)
    return mapped


def parse_file(filename: str, content: bytes) -> list[Row]:
    """The data rows of the first sheet, keyed by column; blank rows are left out but keep their number."""
    rows = records(filename, content)
    try:
        return _read_rows(rows)
    finally:
        rows.close()


def _read_rows(records: Iterator[list[str]]) -> list[Row]:
    header: list[str | None] | None = None
    rows: list[Row] = []
    for number, cells in enumerate(records, start=1):
        if not any(cells):
            continue
        if header is None:
            while cells and not cells[-1]:
                cells.pop()
            header = _map_header(cells)
            continue
        values = {column: "" for column in COLUMNS}
        for column, cell in zip(header, cells, strict=False):
            if column is not None:
                values[column] = cell
        rows.append(Row(number, values))
        if len(rows) > MAX_ROWS:
            raise file_error(N_("has more than %(max)s rows"), "too_many_rows", max=f"{MAX_ROWS:,}")
    if header is None:
        raise file_error(N_("is empty"), "empty")
    if not rows:
        raise file_error(N_("has a header but no rows"), "empty")
    return rows
