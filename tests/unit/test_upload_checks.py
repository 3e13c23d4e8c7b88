"""The checks every upload passes: type by content, images re-encoded without metadata, hostile files
refused with an error that names what is wrong."""

from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from portal.errors import ValidationFailed
from portal.i18n import Msgid
from portal.storage import content as kinds
from portal.storage.uploads import DOCUMENTS, IMAGES, CheckedFile, Use, check_upload, safe_name
from tests import files

LIMIT = 1024 * 1024


def check(content: bytes, name: str = "upload.bin", use: Use = IMAGES, limit: int = LIMIT) -> CheckedFile:
    return asyncio.run(check_upload(content, name, use, limit))


def refusal(content: bytes, name: str = "upload.bin", use: Use = IMAGES, limit: int = LIMIT) -> tuple[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        check(content, name, use, limit)
    [error] = caught.value.errors
    assert error.field == "file"
    params = {k: str(v) for k, v in error.params.items()}
    return error.code, error.message % params if params else error.message


def test_a_photo_loses_its_exif_and_gps_and_keeps_its_way_up() -> None:
    original = files.jpeg_with_gps(40, 20, orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(files.GPS_IFD)
    checked = check(original, "IMG_0001.JPG")
    stored = Image.open(io.BytesIO(checked.content))
    assert stored.format == "JPEG" and checked.kind is kinds.JPEG
    assert dict(stored.getexif()) == {} and "exif" not in stored.info and "comment" not in stored.info
    assert b"PhoneMaker" not in checked.content and b"customer's home" not in checked.content
    assert stored.size == (20, 40)  # orientation 6 (rotated a quarter turn) applied to the pixels
    assert checked.name == "IMG_0001.jpg" and len(checked.sha256) == 64


def test_png_and_webp_are_reencoded_in_their_own_format() -> None:
    checked = check(files.png(), "drawing.png")
    stored = Image.open(io.BytesIO(checked.content))
    assert (stored.format, stored.mode) == ("PNG", "RGBA") and "Comment" not in stored.info
    assert b"secret note" not in checked.content
    assert Image.open(io.BytesIO(check(files.webp(), "x.webp").content)).format == "WEBP"


def test_the_type_is_decided_by_content_not_by_name() -> None:
    checked = check(files.png(text=None), "photo.jpg")
    assert checked.kind is kinds.PNG and checked.name == "photo.jpg.png"
    code, message = refusal(files.HTML, "photo.jpg")
    assert code == "type_not_allowed" and "an HTML document" in message and "JPEG, PNG, WebP" in message


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (files.SVG, "an SVG image"),
        (files.gif(), "a GIF image"),
        (files.zip_archive(), "a ZIP archive"),
        (b"MZ\x90\x00" + b"\x00" * 60, "a program"),
        (b"just some text", "a file of an unrecognised type"),
        (files.pdf(), "a PDF document"),
    ],
)
def test_other_kinds_are_refused_by_name(content: bytes, named: str) -> None:
    code, message = refusal(content, "picture.jpg")
    assert code == "type_not_allowed" and named in message


def test_an_empty_file_and_a_too_large_one_are_refused() -> None:
    assert refusal(b"", "empty.jpg") == ("empty", "is empty (0 bytes)")
    code, message = refusal(files.jpeg_with_gps(), limit=100)
    assert code == "too_large" and "more than the 1 KB allowed" in message
    code, _ = refusal(files.pdf(), "a.pdf", Use("tiny", (kinds.PDF,), max_bytes=10))
    assert code == "too_large"


def test_huge_dimensions_are_refused_before_any_pixel_is_decoded() -> None:
    code, message = refusal(files.png_header_only(9000, 9000), "huge.png")  # 81 MP, under Pillow's own limit
    assert code == "too_many_pixels" and "9000 by 9000" in message
    code, message = refusal(files.png_header_only(100_000, 100_000), "bomb.png")  # past Pillow's limit
    assert code == "too_many_pixels" and "decompression bomb" in message
    code, _ = refusal(files.png_header_only(20_000, 10), "strip.png")  # few pixels, one side too long
    assert code == "too_many_pixels"


def test_a_damaged_image_is_refused() -> None:
    code, message = refusal(files.jpeg_with_gps()[:200], "cut.jpg")
    assert code == "damaged" and "damaged or incomplete" in message


@pytest.mark.parametrize(
    ("content", "other"),
    [
        (files.jpeg_with_gps() + files.zip_archive(), "a ZIP archive"),
        (files.png(text="<script>alert(1)</script>"), "HTML or a script"),
        (files.jpeg_with_gps() + b"<?php system($_GET['c']); ?>", "HTML or a script"),
        (files.jpeg_with_gps() + files.pdf(), "a PDF document"),
        (files.pdf(b"% <html><body>hello</body></html>\n"), "HTML or a script"),
    ],
)
def test_a_polyglot_is_refused(content: bytes, other: str) -> None:
    code, message = refusal(content, "two-in-one.jpg", Use("any", (*kinds.IMAGE_KINDS, kinds.PDF)))
    assert code == "polyglot" and other in message


def test_a_plain_pdf_is_kept_as_it_is() -> None:
    checked = check(files.pdf(), "Invoice 2026-12.PDF", DOCUMENTS)
    assert checked.content == files.pdf() and checked.kind is kinds.PDF and checked.name == "Invoice 2026-12.pdf"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"4 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n", "active_content"),
        (b"4 0 obj << /S /J#61vaScript >> endobj\n", "active_content"),
        (b"4 0 obj << /Type /Action /S /Launch /F (cmd.exe) >> endobj\n", "active_content"),
        (b"4 0 obj << /EmbeddedFiles 5 0 R >> endobj\n", "active_content"),
        (b"4 0 obj << /Encrypt 6 0 R >> endobj\n", "encrypted"),
    ],
)
def test_a_pdf_that_acts_is_refused(body: bytes, code: str) -> None:
    assert refusal(files.pdf(body), "a.pdf", DOCUMENTS)[0] == code


def test_javascript_hidden_in_a_compressed_object_stream_is_found() -> None:
    code, message = refusal(files.pdf_with_hidden_script(), "a.pdf", DOCUMENTS)
    assert code == "active_content" and "JavaScript" in message


def test_a_truncated_pdf_is_refused() -> None:
    assert refusal(files.pdf()[:-8], "a.pdf", DOCUMENTS)[0] == "damaged"


@pytest.mark.parametrize(
    ("given", "kind", "safe"),
    [
        ("../../etc/passwd", kinds.PDF, "passwd.pdf"),
        ("C:\\Users\\li\\报价单.pdf", kinds.PDF, "报价单.pdf"),
        ("photo.JPEG", kinds.JPEG, "photo.jpg"),
        ("invoice.pdf.exe", kinds.PDF, "invoice.pdf.exe.pdf"),
        ('a"b<c>\x00d\r\n.png', kinds.PNG, "a_b_c_d.png"),
        ("gpj\u202e.exe", kinds.JPEG, "gpj.exe.jpg"),
        ("", kinds.WEBP, "file.webp"),
        ("...", kinds.WEBP, "file.webp"),
        ("x" * 500 + ".pdf", kinds.PDF, "x" * 196 + ".pdf"),
    ],
)
def test_names_are_made_safe(given: str, kind: kinds.FileKind, safe: str) -> None:
    assert safe_name(given, kind) == safe


def test_a_refusal_names_the_kind_in_the_readers_language() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check(files.SVG, "x.jpg")
    assert isinstance(caught.value.errors[0].params["kind"], Msgid)
