"""Hostile workbooks against the two imports' readers: time and memory growth to the refusal.

    python -m benchmarks.spreadsheets [--timeout 120]

Each file is at most 5 MB, as the upload limit allows. Each is read in a fresh process by the function
the import endpoints call (interconnect.imports.parse_file for enterprises, apps.ordering.price_sheets
.read_rows for price sheets), so one case's garbage does not weigh on the next; the figures are wall
time, CPU time (what the server spends, whatever else the machine runs: the goal is judged on it) and
the growth of the process's peak resident memory (VmHWM, reset before reading) over what it held with
the file loaded. A legitimate 5,000-row workbook is measured beside the bombs. Goals: a
refusal within 2 s, memory growth under 50 MB.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import openpyxl

from tests.spreadsheets import MAIN, lie_about_sizes, repeated, xlsx

GOAL_SECONDS = 2.0
GOAL_MEGABYTES = 50
LIMIT = 5 * 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"


HEADERS = {"enterprises": ("name", "partner_type"), "price sheet": ("sku", "unit_price")}


def _header(header: tuple[str, ...]) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{title}</t></is></c>' for title in header)
    return f'<worksheet xmlns="{MAIN}"><sheetData><row r="1">{cells}</row>'


def _numbered_rows(header: tuple[str, ...], count: int) -> Iterable[bytes]:
    yield _header(header).encode()
    for n in range(2, count + 2):
        yield f'<row r="{n}"><c r="A{n}"><v>{n * 7919}</v></c><c r="B{n}"><v>{n}</v></c></row>'.encode()
    yield b"</sheetData></worksheet>"


def _empty_cells(header: tuple[str, ...], count: int) -> Iterable[bytes]:
    # styles that differ cell to cell keep the ratio low enough to pass as an ordinary workbook
    yield (_header(header) + '<row r="2">').encode()
    styles = random.Random(1)
    for _ in range(count // 1000):
        yield "".join(f'<c s="{styles.randrange(100_000)}"/>' for _ in range(1000)).encode()
    yield b"</row></sheetData></worksheet>"


def _blank_rows(header: tuple[str, ...], count: int) -> Iterable[bytes]:
    yield _header(header).encode()
    for n in range(2, count + 2):
        yield f'<row r="{n}"><c r="A{n}" s="1"/><c r="B{n}" s="1"/></row>'.encode()
    yield b"</sheetData></worksheet>"


def _strings(count: int) -> Iterable[bytes]:
    yield f'<sst xmlns="{MAIN}">'.encode()
    for n in range(count):
        yield f"<si><t>text {n * 104729}</t></si>".encode()
    yield b"</sst>"


def _long_cells(header: tuple[str, ...], rows: int) -> Iterable[bytes]:
    words = random.Random(2)
    vocabulary = [f"{word}{n}" for n, word in enumerate(("pump", "valve", "seal", "gasket", "dealer") * 40)]
    yield _header(header).encode()
    for n in range(2, rows + 2):
        text = " ".join(words.choices(vocabulary, k=4000))[:32_000]
        yield f'<row r="{n}"><c t="inlineStr"><is><t>{text}</t></is></c><c><v>{n}</v></c></row>'.encode()
    yield b"</sheetData></worksheet>"


def _legitimate(header: tuple[str, ...]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    if header == HEADERS["enterprises"]:
        sheet.append(["name", "code", "partner_type", "contact_phone", "admin_name", "admin_email"])
        for n in range(5000):
            sheet.append([f"Dealer {n}", f"D{n:05}", "dealer", f"138{n:08}", f"Person {n}", f"p{n}@dealer.example"])
    else:
        sheet.append(["sku", "name", "min_quantity", "unit_price"])
        for n in range(5000):
            sheet.append([f"SKU-{n:05}", f"Pump {n}", "1", f"{100 + n % 900}.50"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def cases(header: tuple[str, ...]) -> dict[str, bytes]:
    rows = xlsx(_numbered_rows(header, 300_000))
    no_sheet = [(_header(header) + "</sheetData></worksheet>").encode()]
    made = {
        "legitimate 5,000 rows": _legitimate(header),
        "ratio bomb (400 MB of XML)": xlsx(repeated(_header(header), "<c/>", 100_000_000, "</sheetData></worksheet>")),
        "numbered rows (26 MB)": rows,
        "the same, sizes said 8 MB": lie_about_sizes(rows, SHEET, 8 * 1024 * 1024),
        "the same, sizes said 4 KB": lie_about_sizes(rows, SHEET, 4096),
        "1,200,000 empty cells": xlsx(_empty_cells(header, 1_200_000)),
        "50,000 blank rows": xlsx(_blank_rows(header, 49_999)),
        "100,000 shared strings": xlsx(no_sheet, _strings(99_999)),
        "cells of 32,000 characters": xlsx(_long_cells(header, 440)),
    }
    for name, content in made.items():
        assert len(content) <= LIMIT, f"{name} is {len(content):,} bytes"
    return made


def _high_water_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child(reader: str, path: str) -> None:
    """Read one file as the named import does and print seconds, megabytes grown and the outcome."""
    from apps.ordering.price_sheets import read_rows
    from interconnect.imports import parse_file
    from portal.errors import ValidationFailed

    read = parse_file if reader == "enterprises" else read_rows
    content = Path(path).read_bytes()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to what is resident now
    base = _high_water_kb()
    start, cpu = time.perf_counter(), time.process_time()
    try:
        outcome = f"{len(read('file.xlsx', content))} rows"
    except ValidationFailed as exc:
        error = exc.errors[0]
        outcome = f"422 {error.code}: {error.message % error.params}"
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{seconds:.3f}\t{cpu:.3f}\t{(_high_water_kb() - base) / 1024:.1f}\t{outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a case is stopped")
    parser.add_argument("--child", nargs=2, metavar=("READER", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"goals: a refusal within {GOAL_SECONDS:.0f} s, memory growth under {GOAL_MEGABYTES} MB")
    print(f"load average when started: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print(f"{'file':28} {'size':>8} {'reader':12} {'wall s':>7} {'CPU s':>6} {'MB grown':>9}  outcome")
    with tempfile.TemporaryDirectory() as folder:
        for reader, header in HEADERS.items():
            for name, content in cases(header).items():
                path = Path(folder) / "case.xlsx"
                path.write_bytes(content)
                command = [sys.executable, "-m", "benchmarks.spreadsheets", "--child", reader, str(path)]
                try:
                    done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout, check=True)
                    seconds, cpu, grown, outcome = done.stdout.strip().split("\t", 3)
                    marks = ("" if float(cpu) <= GOAL_SECONDS else " !") + (
                        "" if float(grown) < GOAL_MEGABYTES else " !"
                    )
                except subprocess.TimeoutExpired:
                    seconds, cpu, grown, outcome, marks = f">{args.timeout:.0f}", "?", "?", "stopped", " !"
                except subprocess.CalledProcessError as exc:
                    seconds, cpu, grown, marks = "?", "?", "?", " !"
                    outcome = exc.stderr.strip().splitlines()[-1]
                size = f"{len(content) / 1024 / 1024:.2f}MB"
                print(
                    f"{name:28} {size:>8} {reader:12} {seconds:>7} {cpu:>6} {grown:>9}  {outcome[:56]}{marks}",
                    flush=True,
                )
    print("\n! marks a figure past its goal (the legitimate file is expected to be read, not refused)")


if __name__ == "__main__":
    main()
