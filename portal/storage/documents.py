"""PDF documents are kept as they are (there is no safe way to rewrite one), so they are read for what
makes a PDF act rather than show: JavaScript, launching programs, embedded files, forms that send data.
PDF names may be written with #xx escapes (/J#61vaScript) and hidden in compressed object streams; both
are undone before looking. An encrypted PDF cannot be looked into and is refused. They are served as
downloads, never shown inline (serving.py)."""

from __future__ import annotations

import re
import zlib

from portal.errors import ValidationFailed
from portal.i18n import N_

ACTIVE_NAMES = frozenset(
    {
        b"JavaScript",
        b"JS",
        b"Launch",
        b"EmbeddedFile",
        b"EmbeddedFiles",
        b"RichMedia",
        b"XFA",
        b"SubmitForm",
        b"ImportData",
        b"GoToE",
    }
)
# decompressed bytes read from object streams, in all: beyond that the file is refused as unreadable
INFLATE_BUDGET = 64 * 1024 * 1024
_NAME = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_OBJECT_STREAM = re.compile(rb"/Type\s*/ObjStm\b[^>]*?>>\s*stream\r?\n", re.DOTALL)
_FLATE = re.compile(rb"/(?:FlateDecode|Fl)\b")


def check_pdf(content: bytes, field: str = "file") -> None:
    if b"%%EOF" not in content[-1024:]:
        raise ValidationFailed.single(field, N_("is a PDF document that is damaged or incomplete"), "damaged")
    if _names(content) & {b"Encrypt"}:
        raise ValidationFailed.single(
            field,
            N_("is an encrypted PDF document, whose content cannot be checked; save it without a password"),
            "encrypted",
        )
    names = _names(content) | _object_stream_names(content, field)
    found = sorted(n.decode() for n in names & ACTIVE_NAMES)
    if found:
        raise ValidationFailed.single(
            field,
            N_("is a PDF document with active content (%(found)s); save or print it as a plain PDF"),
            "active_content",
            found=", ".join(found),
        )


def _names(data: bytes) -> set[bytes]:
    return {_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), m.group(1)) for m in _NAME.finditer(data)}


def _object_stream_names(content: bytes, field: str) -> set[bytes]:
    names: set[bytes] = set()
    budget = INFLATE_BUDGET
    for match in _OBJECT_STREAM.finditer(content):
        if not _FLATE.search(content[max(0, match.start() - 200) : match.end()]):
            continue
        end = content.find(b"endstream", match.end())
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(content[match.end() : end if end != -1 else None], budget + 1)
        except zlib.error:
            continue  # a broken stream shows nothing to a reader either
        budget -= len(data)
        if budget < 0:
            raise ValidationFailed.single(
                field, N_("is a PDF document too large to check once decompressed"), "too_large"
            )
        names |= _names(data)
    return names
