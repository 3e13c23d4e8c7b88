"""Spreadsheets in and out: the rows of an uploaded CSV or XLSX file, read within fixed bounds (and, for an
import, keyed by the columns its header names: `read_table`), and XLSX workbooks of text cells that any
stored value can be written into.

An XLSX file is a zip of XML parts, so a few megabytes uploaded can unpack to gigabytes (a
decompression bomb) or hold millions of cells or texts. Reading therefore never trusts the zip's
headers: the declared sizes and compression ratios are checked before anything is unpacked, the bytes
actually unpacked are counted against MAX_UNPACKED_BYTES whatever the headers said, and the parts are
parsed once, streaming, with rows, columns, shared texts and cell lengths capped as they are met.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from xml.parsers import expat

from portal.errors import FieldError, ValidationFailed
from portal.i18n import N_

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MAX_BYTES = 5 * 1024 * 1024  # the file as uploaded
MAX_UNPACKED_BYTES = 16 * 1024 * 1024  # the XML parts read, summed: three times a full 5,000-row import
MAX_RATIO = 100  # unpacked : packed for a large part; generated XML rarely passes 20
MAX_PARTS = 1000  # zip entries; a workbook has a few dozen
MAX_COLUMNS = 64
MAX_PHYSICAL_ROWS = 50_000  # blank rows included: a bound on work for a sparse or padded sheet
MAX_SHARED_STRINGS = 100_000  # a full 5,000-row import of 13 distinct columns has 65,000
MAX_CELL_CHARS = 32_767  # the most a spreadsheet program puts in one cell
# Elements (start tags) in the parts read: each costs the parser's callbacks one to three microseconds,
# so this bounds the time a file of millions of tiny elements takes; a full 5,000-row import of 13
# columns of inline strings has about 200,000.
MAX_ELEMENTS = 500_000

_CHUNK = 64 * 1024
_LARGE_PART = 1024 * 1024  # below this a part's ratio says nothing worth refusing
_MAX_CSV_FIELDS = 16_384  # as many columns as a spreadsheet program has; the values past MAX_COLUMNS refused
_SMALL_PART = 1024 * 1024  # the workbook and its relationships: a few kilobytes in any real file
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def file_error(message: str, code: str = "invalid", **params: Any) -> ValidationFailed:
    """A refusal of the uploaded file as a whole (the field "file")."""
    return ValidationFailed([FieldError("file", message, code, params)])


def _too_many_rows() -> ValidationFailed:
    return file_error(N_("has more than %(max)s rows"), "too_many_rows", max=f"{MAX_PHYSICAL_ROWS:,}")


def _unreadable() -> ValidationFailed:
    return file_error(N_("is not a readable .xlsx workbook"), "unreadable")


def _too_large_unpacked() -> ValidationFailed:
    return file_error(
        N_("unpacks to more than %(max)s MB; a workbook of plain rows is far smaller"),
        "too_large",
        max=MAX_UNPACKED_BYTES // (1024 * 1024),
    )


def cell_text(value: Any) -> str:
    """A cell's value as the text an import reads."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a mobile number typed into a numeric cell
    return str(value).strip()


def file_kind(filename: str) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise file_error(N_("must be a .csv or .xlsx file"), "wrong_type")
    return suffix[1:]


def records(filename: str, content: bytes) -> Generator[list[str]]:
    """The physical rows of an uploaded file's first sheet, as texts (blank rows as empty lists, so a
    row's position is its spreadsheet row number). The size and type are checked here, at once; the
    contents as they are read. Close the generator when done reading early."""
    if len(content) > MAX_BYTES:
        raise file_error(N_("is larger than %(max)s MB"), "too_large", max=MAX_BYTES // (1024 * 1024))
    kind = file_kind(filename)
    if not content.strip():
        raise file_error(N_("is empty"), "empty")
    return csv_records(content) if kind == "csv" else xlsx_records(content)


# --- an import's table ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Columns:
    """The columns an import reads: for each, the header titles accepted (matched case-insensitively,
    spaces and hyphens counting as "_", a trailing "*" ignored), the ones a file must have, titles that
    are read past (what an export adds for the reader), and the most data rows a file may hold."""

    aliases: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    max_rows: int = 5000

    def column_of(self, title: str) -> str | None:
        key = header_key(title)
        for column, accepted in self.aliases.items():
            if key in (alias.lower() for alias in accepted):
                return column
        return None


@dataclass(frozen=True, slots=True)
class SheetRow:
    number: int  # the spreadsheet row (the header is row 1)
    values: dict[str, str]  # column -> text, "" when empty


def header_key(title: str) -> str:
    return re.sub(r"[\s\-]+", "_", title.strip().lower()).rstrip("*").strip("_")


def _map_header(cells: list[str], columns: Columns) -> list[str | None]:
    """The column of each header cell (None: ignored), or a clear error naming every problem."""
    errors: list[FieldError] = []
    mapped: list[str | None] = []
    seen: dict[str, str] = {}
    for title in cells:
        key = header_key(title)
        if not key or key in columns.ignored:
            mapped.append(None)
            continue
        column = columns.column_of(title)
        if column is None:
            errors.append(
                FieldError(
                    "file",
                    N_("has an unknown column %(column)s; the columns are: %(known)s"),
                    "unknown_column",
                    {"column": repr(title), "known": ", ".join(columns.aliases)},
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
    for column in columns.required:
        if column not in seen:
            errors.append(FieldError("file", N_("has no %(column)s column"), "missing_column", {"column": column}))
    if errors:
        raise ValidationFailed(errors)
    return mapped


def read_table(filename: str, content: bytes, columns: Columns) -> list[SheetRow]:
    """The data rows of an uploaded file's first sheet keyed by column: the first row that is not blank is
    the header; blank rows are left out but keep their number. Refuses the file (field "file") for its
    size, type, header or row count, naming each problem."""
    rows = records(filename, content)
    try:
        return _table_rows(rows, columns)
    finally:
        rows.close()


def _table_rows(records: Iterator[list[str]], columns: Columns) -> list[SheetRow]:
    header: list[str | None] | None = None
    rows: list[SheetRow] = []
    for number, cells in enumerate(records, start=1):
        if not any(cells):
            continue
        if header is None:
            while cells and not cells[-1]:
                cells.pop()
            header = _map_header(cells, columns)
            continue
        values = dict.fromkeys(columns.aliases, "")
        for column, cell in zip(header, cells, strict=False):
            if column is not None:
                values[column] = cell
        rows.append(SheetRow(number, values))
        if len(rows) > columns.max_rows:
            raise file_error(N_("has more than %(max)s rows"), "too_many_rows", max=f"{columns.max_rows:,}")
    if header is None:
        raise file_error(N_("is empty"), "empty")
    if not rows:
        raise file_error(N_("has a header but no rows"), "empty")
    return rows


# --- CSV ----------------------------------------------------------------------------------------------


def csv_records(content: bytes) -> Generator[list[str]]:
    if b"\x00" in content[:8192] or content.startswith(b"PK\x03\x04"):
        raise file_error(N_("is not a CSV text file"), "wrong_type")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in Chinese saves CSV as GB18030/GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise file_error(N_("is not a CSV text file in UTF-8 or GB18030"), "wrong_type")
    return _csv_rows(text)


def _too_many_columns() -> ValidationFailed:
    return file_error(N_("has more than %(max)s columns"), "too_many_columns", max=MAX_COLUMNS)


def _csv_lines(text: str, delimiter: str) -> Iterator[str]:
    """The text's lines, each checked before the CSV reader sees it: the reader makes a list of every
    field of a record before any can be looked at, so a line of millions of delimiters would be
    millions of strings."""
    if "\n" not in text:
        text = text.replace("\r", "\n")  # classic Mac line ends
    start = 0
    while start < len(text):
        end = text.find("\n", start) + 1 or len(text)
        if text.count(delimiter, start, end) > _MAX_CSV_FIELDS:
            raise _too_many_columns()
        yield text[start:end]
        start = end


def _csv_rows(text: str) -> Generator[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        for number, record in enumerate(csv.reader(_csv_lines(text, delimiter), delimiter=delimiter), start=1):
            if number > MAX_PHYSICAL_ROWS:
                raise _too_many_rows()
            if any(c.strip() for c in record[MAX_COLUMNS:]):
                raise _too_many_columns()
            yield [cell_text(c) for c in record[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise file_error(N_("could not be read as CSV: %(reason)s"), "unreadable", reason=str(exc)) from None


# --- XLSX ---------------------------------------------------------------------------------------------


def xlsx_records(content: bytes) -> Generator[list[str]]:
    if not content.startswith(b"PK\x03\x04"):
        raise file_error(N_("is not an .xlsx workbook"), "wrong_type")
    _check_directory(content)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _unreadable() from None
    return _xlsx_rows(archive)


def _check_directory(content: bytes) -> None:
    """Refuse a zip whose central directory lists more entries than a workbook has, before zipfile
    builds an object for each of them."""
    end = content.rfind(b"PK\x05\x06", max(0, len(content) - 65_557))
    if end < 0 or len(content) < end + 22:
        raise _unreadable()
    (entries,) = struct.unpack("<H", content[end + 10 : end + 12])
    if entries > MAX_PARTS:  # 0xFFFF, a ZIP64 archive, lands here too: no workbook needs one
        raise _unreadable()


def _xlsx_rows(archive: zipfile.ZipFile) -> Generator[list[str]]:
    try:
        with archive:
            budget = _Budget()
            sheet_path, strings_path = _first_sheet(archive, budget)
            parts = [archive.getinfo(sheet_path)]
            if strings_path is not None:
                parts.append(archive.getinfo(strings_path))
            _check_declared(parts, budget)
            strings = _shared_strings(archive, strings_path, budget) if strings_path is not None else []
            yield from _SheetReader(strings).rows(_chunks(archive, archive.getinfo(sheet_path), budget))
    except ValidationFailed:
        raise
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        raise _unreadable() from None
    except (expat.ExpatError, zlib.error):
        raise _unreadable() from None


class _Budget:
    """Bytes unpacked and elements met so far across the parts read, counted as they come out of the
    decompressor."""

    def __init__(self) -> None:
        self.left = MAX_UNPACKED_BYTES
        self.elements = MAX_ELEMENTS

    def take(self, chunk: bytes) -> None:
        self.left -= len(chunk)
        if self.left < 0:
            raise _too_large_unpacked()
        self.elements -= chunk.count(b"<") - chunk.count(b"</")
        if self.elements < 0:
            raise file_error(
                N_("has more than %(max)s cells and other elements; a workbook of plain rows has far fewer"),
                "too_large",
                max=f"{MAX_ELEMENTS:,}",
            )


def _check_declared(parts: list[zipfile.ZipInfo], budget: _Budget) -> None:
    """Refuse on the headers alone when they already say too much (they may lie the other way: the
    budget counts what is actually unpacked)."""
    if sum(p.file_size for p in parts) > budget.left:
        raise _too_large_unpacked()
    for part in parts:
        if part.file_size > _LARGE_PART and part.file_size > MAX_RATIO * max(part.compress_size, 1):
            raise _too_large_unpacked()


def _chunks(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> Iterator[bytes]:
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            budget.take(chunk)
            yield chunk


def _parser(
    start: Callable[[str, dict[str, str]], None], end: Callable[[str], None], text: Callable[[str], None]
) -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.buffer_text = True

    def no_dtd(*_args: Any) -> None:  # entity expansion is how a few bytes of XML become gigabytes
        raise _unreadable()

    parser.StartDoctypeDeclHandler = no_dtd
    parser.EntityDeclHandler = no_dtd
    return parser


def _local(name: str) -> str:
    return name.rpartition(" ")[2]


def _small_part(archive: zipfile.ZipFile, path: str, budget: _Budget, wanted: str) -> list[dict[str, str]]:
    """The attributes of the `wanted` elements of a small part (the workbook, relationships); a part
    past _SMALL_PART bytes, or with more of them than a workbook has sheets, is no workbook's."""
    info = archive.getinfo(path)
    if info.file_size > _SMALL_PART:
        raise _unreadable()
    found: list[dict[str, str]] = []

    def start(name: str, attrs: dict[str, str]) -> None:
        if _local(name) == wanted:
            if len(found) >= MAX_PARTS:
                raise _unreadable()
            found.append({_local(k): v for k, v in attrs.items()})

    parser = _parser(start, lambda _name: None, lambda _text: None)
    read = 0
    for chunk in _chunks(archive, info, budget):
        read += len(chunk)
        if read > _SMALL_PART:
            raise _unreadable()
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return found


def _first_sheet(archive: zipfile.ZipFile, budget: _Budget) -> tuple[str, str | None]:
    """The paths of the first worksheet and of the shared strings, from the workbook and its relationships."""
    names = set(archive.namelist())
    workbook = "xl/workbook.xml"
    for rel in _small_part(archive, "_rels/.rels", budget, "Relationship"):
        if rel.get("Type", "").endswith("/officeDocument"):
            workbook = rel.get("Target", workbook).lstrip("/")
    folder = workbook.rpartition("/")[0]
    rels_path = f"{folder}/_rels/{workbook.rpartition('/')[2]}.rels"
    sheets = _small_part(archive, workbook, budget, "sheet")
    targets: dict[str, str] = {}
    strings: str | None = None
    for rel in _small_part(archive, rels_path, budget, "Relationship") if rels_path in names else []:
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else f"{folder}/{target}"
        targets[rel.get("Id", "")] = path
        if rel.get("Type", "").endswith("/sharedStrings"):
            strings = path
    if not sheets or targets.get(sheets[0].get("id", "")) not in names:
        raise _unreadable()
    return targets[sheets[0]["id"]], strings if strings in names else None


def _too_long() -> ValidationFailed:
    return file_error(N_("has a cell longer than %(max)s characters"), "too_long", max=f"{MAX_CELL_CHARS:,}")


# Elements are looked up by their full name in one dict: with a bomb of millions of tiny elements, the
# parser's callbacks are most of the cost, so they do as little as possible.
_NAMESPACES = (_MAIN, "http://purl.oclc.org/ooxml/spreadsheetml/main")  # transitional and strict


def _table(**handlers: Callable[..., None]) -> dict[str, Callable[..., None]]:
    return {f"{namespace} {local}": handler for local, handler in handlers.items() for namespace in _NAMESPACES}


class _Capture:
    """The text of one cell or shared string: <v>, or the <t> runs of <is>/<si> without phonetic
    guides (<rPh>), capped in length as it arrives."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.capturing = False
        self.container = False
        self.phonetic = 0

    def reset(self) -> None:
        self.parts, self.size = [], 0

    def text(self, data: str) -> None:
        if self.capturing:
            self.size += len(data)
            if self.size > MAX_CELL_CHARS:
                raise _too_long()
            self.parts.append(data)

    def start_t(self, _attrs: dict[str, str]) -> None:
        self.capturing = self.container and not self.phonetic

    def start_value(self, _attrs: dict[str, str]) -> None:
        self.capturing = True

    def stop(self, *_args: Any) -> None:
        self.capturing = False

    def open_container(self, _attrs: dict[str, str]) -> None:
        self.container = True

    def close_container(self, *_args: Any) -> None:
        self.container = False

    def start_phonetic(self, _attrs: dict[str, str]) -> None:
        self.phonetic += 1

    def end_phonetic(self) -> None:
        self.phonetic -= 1


def _parse(
    chunks: Iterable[bytes], starts: dict[str, Callable[..., None]], ends: dict[str, Callable[..., None]], text: Any
) -> Iterator[None]:
    """Feed the chunks to a parser dispatching on `starts` and `ends`; yields after each chunk."""
    start_of, end_of = starts.get, ends.get

    def start(name: str, attrs: dict[str, str]) -> None:
        handler = start_of(name)
        if handler is not None:
            handler(attrs)

    def end(name: str) -> None:
        handler = end_of(name)
        if handler is not None:
            handler()

    parser = _parser(start, end, text)
    for chunk in chunks:
        parser.Parse(chunk, False)
        yield
    parser.Parse(b"", True)
    yield


def _shared_strings(archive: zipfile.ZipFile, path: str, budget: _Budget) -> list[str]:
    strings: list[str] = []
    capture = _Capture()

    def start_item(_attrs: dict[str, str]) -> None:
        if len(strings) >= MAX_SHARED_STRINGS:
            raise file_error(
                N_("has more than %(max)s different texts"), "too_many_texts", max=f"{MAX_SHARED_STRINGS:,}"
            )
        capture.reset()
        capture.container = True

    def end_item() -> None:
        strings.append("".join(capture.parts))
        capture.container = False

    starts = _table(si=start_item, t=capture.start_t, rPh=capture.start_phonetic)
    ends = _table(si=end_item, t=capture.stop, rPh=capture.end_phonetic)
    for _ in _parse(_chunks(archive, archive.getinfo(path), budget), starts, ends, capture.text):
        pass
    return strings


_REFERENCE = re.compile(r"([A-Z]{1,3})(\d+)")


def _column(reference: str) -> int:
    """The 0-based column of a cell reference such as "AB12"."""
    match = _REFERENCE.fullmatch(reference)
    if match is None:
        raise _unreadable()
    index = 0
    for letter in match.group(1):
        index = index * 26 + ord(letter) - 64
    return index - 1


class _SheetReader:
    """A worksheet's rows from its XML, parsed as it is unpacked: each finished row is queued by the
    parser's callbacks and handed out after the chunk that finished it."""

    def __init__(self, strings: list[str]) -> None:
        self.strings = strings
        self.ready: list[list[str]] = []
        self.next_row = 1  # the number the next row would have
        self.row: list[str] | None = None
        self.cell_type = "n"
        self.cell_column = -1
        self.capture = _Capture()

    def rows(self, chunks: Iterable[bytes]) -> Generator[list[str]]:
        capture = self.capture
        starts = _table(row=self.start_row, v=capture.start_value, t=capture.start_t, rPh=capture.start_phonetic)
        starts.update(_table(**{"is": capture.open_container}))
        ends = _table(row=self.end_row, v=capture.stop, t=capture.stop, rPh=capture.end_phonetic)
        ends.update(_table(**{"is": capture.close_container}))
        start_of, end_of, cell = starts.get, ends.get, frozenset(_table(c=self.end_cell))

        # cells are most of a sheet, and all of a bomb of empty ones: they are handled here, not called
        def start(name: str, attrs: dict[str, str]) -> None:
            if name in cell:
                reference = attrs.get("r")
                self.cell_column = _column(reference) if reference else self.cell_column + 1
                self.cell_type = attrs.get("t", "n")
                if capture.parts:
                    capture.reset()
                return
            handler = start_of(name)
            if handler is not None:
                handler(attrs)

        def end(name: str) -> None:
            if name in cell:
                if capture.parts:
                    self.end_cell()
                return
            handler = end_of(name)
            if handler is not None:
                handler()

        parser = _parser(start, end, capture.text)
        for chunk in chunks:
            parser.Parse(chunk, False)
            yield from self.ready
            self.ready.clear()
        parser.Parse(b"", True)
        yield from self.ready

    def start_row(self, attrs: dict[str, str]) -> None:
        number = int(attrs["r"]) if "r" in attrs else self.next_row
        if number < self.next_row:
            raise _unreadable()
        if number > MAX_PHYSICAL_ROWS:
            raise _too_many_rows()
        self.ready.extend([] for _ in range(number - self.next_row))  # the blank rows left out
        self.next_row = number + 1
        self.row = []
        self.cell_column = -1

    def end_row(self) -> None:
        if self.row is not None:
            while self.row and not self.row[-1]:
                self.row.pop()
            self.ready.append(self.row)
            self.row = None

    def end_cell(self) -> None:
        if self.row is None:
            return
        text = self._typed("".join(self.capture.parts))
        self.capture.reset()
        if not text:
            return
        if self.cell_column >= MAX_COLUMNS:
            raise _too_many_columns()
        row = self.row
        if self.cell_column < len(row):
            if row[self.cell_column]:
                raise _unreadable()  # two cells in one place
        else:
            row.extend("" for _ in range(self.cell_column + 1 - len(row)))
        row[self.cell_column] = text

    def _typed(self, raw: str) -> str:
        kind = self.cell_type
        if kind == "s":
            try:
                return cell_text(self.strings[int(raw)])
            except (ValueError, IndexError):
                raise _unreadable() from None
        if kind == "b":
            return cell_text(raw.strip() == "1") if raw.strip() else ""
        if kind == "n" and raw.strip():
            number = raw.strip()
            try:
                return cell_text(int(number))
            except ValueError:
                try:
                    return cell_text(float(number))
                except ValueError:
                    raise _unreadable() from None
        return cell_text(raw)  # inline and formula strings, errors such as #N/A, ISO dates


# --- writing ------------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry: openpyxl refuses the C0 controls (IllegalCharacterError) and the XML
# writer the rest, so one stored value holding any of them would fail a whole export.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A spreadsheet program runs a cell typed as starting with one of these as a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> str:
    """A value as text a workbook can hold: each character XML cannot carry becomes U+FFFD, so what was
    stored still shows where it differs."""
    text = "" if value is None else str(value)
    return _UNWRITABLE.sub("\ufffd", text)


def sheet_title(name: str, default: str = "Sheet") -> str:
    """A worksheet title: at most 31 characters, none that a spreadsheet forbids in one."""
    return re.sub(r"[\\/*?:\[\]]", " ", _UNWRITABLE.sub("", name)).strip()[:31] or default


def workbook_bytes(header: Iterable[str], rows: Iterable[Iterable[Any]], title: str) -> bytes:
    """An XLSX workbook of text cells, the only way the project writes one. Every cell is a string, and one
    starting like a formula is marked as typed with a leading apostrophe (quotePrefix), so a program
    keeps it text even when the cell is edited; the value itself is unchanged, so an exported file
    imports back as it was."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title(title))
    header = list(header)
    sheet.freeze_panes = "A2"
    for position in range(1, len(header) + 1):
        sheet.column_dimensions[get_column_letter(position)].width = 24 if position <= 2 else 16

    def cells(values: Iterable[Any]) -> list[WriteOnlyCell]:
        out = []
        for value in values:
            text = safe_text(value)
            cell = WriteOnlyCell(sheet, value=text)
            cell.data_type = "s"
            if text.startswith(_FORMULA_START):
                cell.quotePrefix = True
            out.append(cell)
        return out

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
