"""Reading an import file: the first sheet of a CSV or XLSX file as rows keyed by column, its header
mapped to the columns, and the file's own limits (type, size, rows) checked."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from interconnect.imports.columns import _HEADER_ALIASES, COLUMNS, IGNORED_COLUMNS, REQUIRED_COLUMNS
from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
MAX_COLUMNS = 64
MAX_PHYSICAL_ROWS = 50_000  # blank rows included: a bound on work for a sparse or padded sheet


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # the spreadsheet row (the header is row 1)
    values: dict[str, str]  # column → text, "" when empty


def _file_error(message: str, code: str = "invalid", **params: Any) -> ValidationFailed:
    return ValidationFailed([FieldError("file", message, code, params)])


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile number typed into a numeric cell
    return str(value).strip()


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


def _csv_records(content: bytes) -> Generator[list[str]]:
    if b"\x00" in content[:8192] or content.startswith(b"PK\x03\x04"):
        raise _file_error(N_("is not a CSV text file"), "wrong_type")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in Chinese saves CSV as GB18030/GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _file_error(N_("is not a CSV text file in UTF-8 or GB18030"), "wrong_type")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise _file_error(N_("could not be read as CSV: %(reason)s"), "unreadable", reason=str(exc)) from None


def _xlsx_records(content: bytes) -> Generator[list[str]]:
    import openpyxl

    if not content.startswith(b"PK\x03\x04"):
        raise _file_error(N_("is not an .xlsx workbook"), "wrong_type")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise _file_error(N_("is not a readable .xlsx workbook"), "unreadable") from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return
        for cells in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            yield [_text(v) for v in cells]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError):
        raise _file_error(N_("is not a readable .xlsx workbook"), "unreadable") from None
    finally:
        workbook.close()


def file_kind(filename: str) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise _file_error(N_("must be a .csv or .xlsx file"), "wrong_type")
    return suffix[1:]


def parse_file(filename: str, content: bytes) -> list[Row]:
    """The data rows of the first sheet, keyed by column; blank rows are left out but keep their number."""
    if len(content) > MAX_BYTES:
        raise _file_error(N_("is larger than %(max)s MB"), "too_large", max=MAX_BYTES // (1024 * 1024))
    kind = file_kind(filename)
    if not content.strip():
        raise _file_error(N_("is empty"), "empty")
    records = _csv_records(content) if kind == "csv" else _xlsx_records(content)
    try:
        return _read_rows(records)
    finally:
        records.close()


def _read_rows(records: Iterator[list[str]]) -> list[Row]:
    header: list[str | None] | None = None
    rows: list[Row] = []
    for number, record in enumerate(records, start=1):
        if number > MAX_PHYSICAL_ROWS:
            raise _file_error(N_("has more than %(max)s rows"), "too_many_rows", max=f"{MAX_ROWS:,}")
        cells = [_text(c) for c in record[:MAX_COLUMNS]]
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
            raise _file_error(N_("has more than %(max)s rows"), "too_many_rows", max=f"{MAX_ROWS:,}")
    if header is None:
        raise _file_error(N_("is empty"), "empty")
    if not rows:
        raise _file_error(N_("has a header but no rows"), "empty")
    return rows
