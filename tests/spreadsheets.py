"""Spreadsheets for tests: hostile XLSX files that openpyxl opens (decompression bombs, lying zip
headers, a sheet of too many rows, columns or texts) made in a few hundred milliseconds, values as older
stored data may hold them, and a check that an exported workbook opens and keeps formula-like text as
text."""

from __future__ import annotations

import io
import struct
import uuid
import zipfile
from collections.abc import Iterable
from typing import Any

import openpyxl
from httpx import Response
from sqlalchemy import update

from portal.config import Settings
from portal.db.context import tenant_context
from portal.db.engine import Database
from tests.db import run_with_database

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
FORMULA_STARTS = ("=", "+", "-", "@")


def _workbook_parts(shared_strings: bool) -> dict[str, bytes]:
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"'
        ' Target="worksheets/sheet1.xml"/>'
    )
    if shared_strings:
        rels += (
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/>'
        )
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    )
    if shared_strings:
        types += (
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
    return {
        "[Content_Types].xml": (types + "</Types>").encode(),
        "_rels/.rels": (
            b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            b'officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (rels + "</Relationships>").encode(),
    }


def xlsx(sheet: Iterable[bytes], strings: Iterable[bytes] | None = None) -> bytes:
    """A workbook whose sheet (and shared strings) XML are the given chunks, deflated as they stream."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in _workbook_parts(strings is not None).items():
            archive.writestr(name, data)
        for name, chunks in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", strings)):
            if chunks is None:
                continue
            with archive.open(name, "w", force_zip64=True) as member:
                for chunk in chunks:
                    member.write(chunk)
    return buffer.getvalue()


def repeated(head: str, body: str, times: int, tail: str) -> Iterable[bytes]:
    yield head.encode()
    block = (body * 4096).encode()
    for _ in range(times // 4096):
        yield block
    yield (body * (times % 4096)).encode()
    yield tail.encode()


def sheet_of(rows: str) -> Iterable[bytes]:
    return [f'<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'.encode()]


def lie_about_sizes(content: bytes, member: str, size: int) -> bytes:
    """The archive with `member`'s uncompressed size in its local header and central directory (ZIP64
    extra fields included) rewritten as `size`: what a hostile file claims."""
    data = bytearray(content)
    name = member.encode()
    for signature, size_at, name_length_at, name_at in (
        (b"PK\x03\x04", 22, 26, 30),
        (b"PK\x01\x02", 24, 28, 46),
    ):
        start = data.find(signature)
        while start >= 0:
            name_length, extra_length = struct.unpack_from("<HH", data, start + name_length_at)
            if bytes(data[start + name_at : start + name_at + name_length]) == name:
                stored = struct.unpack_from("<I", data, start + size_at)[0]
                if stored != 0xFFFFFFFF:
                    struct.pack_into("<I", data, start + size_at, size)
                extra = start + name_at + name_length
                position = extra
                while position < extra + extra_length:
                    tag, length = struct.unpack_from("<HH", data, position)
                    if tag == 1:  # ZIP64: the uncompressed size comes first
                        struct.pack_into("<Q", data, position + 4, size)
                    position += 4 + length
            start = data.find(signature, start + 4)
    return bytes(data)


def bombs() -> dict[str, tuple[bytes, set[str]]]:
    """Hostile workbooks, each at most 5 MB, with the error codes a refusal of it may carry."""
    head = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">'
    huge_sheet = xlsx(repeated(head, "<c/>", 40_000_000, "</row></sheetData></worksheet>"))
    strings_head = f'<sst xmlns="{MAIN}">'
    huge_strings = xlsx(sheet_of(""), repeated(strings_head, "<si><t>aaaaaaaaaaaaaaaa</t></si>", 2_500_000, "</sst>"))
    numbered = (f"<si><t>{n}</t></si>".encode() for n in range(120_000))
    many_strings = xlsx(sheet_of(""), [strings_head.encode(), *numbered, b"</sst>"])
    wide = "".join(f'<c r="{openpyxl.utils.get_column_letter(n)}1"><v>{n}</v></c>' for n in range(1, 16_385))
    one_cell = xlsx(sheet_of(f'<row r="1"><c r="A1" t="inlineStr"><is><t>{"y" * 40_000}</t></is></c></row>'))
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        b'<worksheet xmlns="' + MAIN.encode() + b'"><sheetData><row><c t="inlineStr"><is><t>&d;&d;&d;&d;</t>'
        b"</is></c></row></sheetData></worksheet>"
    )
    sheet = "xl/worksheets/sheet1.xml"
    return {
        "huge sheet XML": (huge_sheet, {"too_large"}),
        "huge shared strings": (huge_strings, {"too_large"}),
        "too many shared strings": (many_strings, {"too_many_texts"}),
        "many columns": (xlsx(sheet_of(f'<row r="1">{wide}</row>')), {"too_many_columns"}),
        "a far row": (xlsx(sheet_of('<row r="1048576"><c r="A1048576"><v>1</v></c></row>')), {"too_many_rows"}),
        "a cell of 40,000 characters": (one_cell, {"too_long"}),
        "entity expansion": (xlsx([laughs]), {"unreadable"}),
        "sizes said small": (lie_about_sizes(huge_sheet, sheet, 4096), {"unreadable"}),
        "sizes said within bounds": (lie_about_sizes(huge_sheet, sheet, 8 * 1024 * 1024), {"unreadable", "too_large"}),
    }


def assert_refused_as_a_file_problem(response: Response, codes: set[str], what: str) -> None:
    assert response.status_code == 422, f"{what}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith("application/problem+json"), what
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["file"], f"{what}: {errors}"
    assert errors[0]["code"] in codes, f"{what}: {errors}"


# --- exports ------------------------------------------------------------------------------------------


def stored_text(settings: Settings, text: str) -> str:
    """`text` with control characters as older rows may hold them (PostgreSQL's text refuses NUL)."""
    nul = "" if settings.database_url.startswith("postgresql") else "\x00"
    return f"{text}\x01{nul}\x1f"


def shown(text: str) -> str:
    """How stored_text comes out of an export: each unwritable character as U+FFFD."""
    return text.replace("\x00", "\ufffd").replace("\x01", "\ufffd").replace("\x02", "\ufffd").replace("\x1f", "\ufffd")


def write_directly(settings: Settings, tenant_id: str, model: Any, where: Any, **values: Any) -> None:
    """An UPDATE straight to the database, past the services' checks, as older data was written."""

    async def work(db: Database) -> None:
        async with db.session(tenant_context(uuid.UUID(tenant_id))) as session:
            result = await session.execute(update(model).where(where).values(**values))
            assert result.rowcount >= 1

    run_with_database(settings, work)


def exported_cells(response: Response) -> list[list[Any]]:
    """The first sheet's cells of an XLSX answer, after checking that every formula-like text is a
    text cell marked to stay text when edited."""
    assert response.status_code == 200, response.text[:400]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    cells = [list(row) for row in sheet.iter_rows()]
    for row in cells:
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                assert cell.data_type == "s" and cell.quotePrefix, f"{cell.coordinate} {cell.value!r} may run"
    return cells


def exported_values(response: Response) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in exported_cells(response)]
