"""What a file is, decided by its bytes (magic numbers), never by its name or the type the client sent.

The kinds an upload may be (JPEG, PNG, WebP, PDF) and, so a refusal can say what a file is, the kinds
people or attackers send instead (SVG, HTML, GIF, HEIC, archives, programs). `embedded_other` finds a
second format hidden in a file (a polyglot: a JPEG that is also a ZIP archive or a web page)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.i18n import N_


@dataclass(frozen=True, slots=True)
class FileKind:
    code: str
    label: str  # what the file is, as a refusal says it (a message to translate)
    media_type: str = "application/octet-stream"
    extension: str = ""
    short_name: str = ""  # the format's own name, in lists of what is allowed ("JPEG")


JPEG = FileKind("jpeg", N_("a JPEG image"), "image/jpeg", ".jpg", "JPEG")
PNG = FileKind("png", N_("a PNG image"), "image/png", ".png", "PNG")
WEBP = FileKind("webp", N_("a WebP image"), "image/webp", ".webp", "WebP")
PDF = FileKind("pdf", N_("a PDF document"), "application/pdf", ".pdf", "PDF")
IMAGE_KINDS = (JPEG, PNG, WEBP)

GIF = FileKind("gif", N_("a GIF image"))
BMP = FileKind("bmp", N_("a BMP image"))
TIFF = FileKind("tiff", N_("a TIFF image"))
HEIC = FileKind("heic", N_("a HEIC or AVIF image"))
SVG = FileKind("svg", N_("an SVG image (which can carry scripts)"))
HTML = FileKind("html", N_("an HTML document"))
XML = FileKind("xml", N_("an XML document"))
ZIP = FileKind("zip", N_("a ZIP archive (or an Office document)"))
PROGRAM = FileKind("program", N_("a program"))
SCRIPT = FileKind("script", N_("HTML or a script"))
UNKNOWN = FileKind("unknown", N_("a file of an unrecognised type"))

_TEXT_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*", re.ASCII)
_SVG = re.compile(rb"<svg[\s>]", re.IGNORECASE)
_HTML = re.compile(rb"<(?:!doctype\s+html|html|head|body|script|iframe|meta|a\s|div|p[\s>]|img\s)", re.IGNORECASE)
# Markup or server script anywhere in a file: a browser that sniffs, or a server that runs what it
# stores, would take the file for a page. Each needs a delimiter after the word, so the chance that
# compressed image data holds one by accident is negligible.
_SCRIPT_INSIDE = re.compile(rb"<(?:script|html|svg|iframe|body|object|embed)[\s>/]|<\?php[\s]", re.IGNORECASE)
_ZIP_END = b"PK\x05\x06"


def detect(content: bytes) -> FileKind:
    head = content[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"BM"):
        return BMP
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"hevc"):
        return HEIC
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")):
        return PROGRAM
    return _text_kind(content[:4096])


def _text_kind(start: bytes) -> FileKind:
    text = start[_TEXT_START.match(start).end() :]  # type: ignore[union-attr]
    if not text.startswith(b"<"):
        return UNKNOWN
    if _SVG.search(text):
        return SVG
    if _HTML.match(text) or _HTML.search(text[:1024]):
        return HTML
    if text.startswith(b"<?xml"):
        return XML
    return HTML if _SCRIPT_INSIDE.search(text) else UNKNOWN


def embedded_other(content: bytes, kind: FileKind) -> FileKind | None:
    """A second format inside a file of `kind` (a polyglot), or None."""
    if _SCRIPT_INSIDE.search(content):
        return SCRIPT
    if kind is not PDF and b"%PDF-" in content:
        return PDF
    if _zip_appended(content):
        return ZIP
    return None


def _zip_appended(content: bytes) -> bool:
    """A ZIP archive is read from its end: its last record (signature, 18 bytes, a comment of the length
    it states) ends the file. Requiring exactly that keeps random bytes from passing for one."""
    start = max(0, len(content) - 22 - 0xFFFF)
    position = content.rfind(_ZIP_END, start)
    while position != -1:
        if len(content) >= position + 22:
            comment_length = int.from_bytes(content[position + 20 : position + 22], "little")
            if position + 22 + comment_length == len(content):
                return True
        position = content.rfind(_ZIP_END, start, position)
    return False
