"""The checks every uploaded file passes before a byte of it is stored, in this order: not empty, within
the size limit, a kind the use allows (decided by content), no second format hidden inside it; then an
image is re-encoded (images.py) and a PDF read for active content (documents.py). Each refusal names
what is wrong with the file, under the field `file`.

CPU-heavy work (decoding an image) runs in a worker thread, off the event loop."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import anyio.to_thread
from litestar.datastructures import UploadFile

from portal.config import UPLOAD_CEILING_BYTES
from portal.errors import ValidationFailed
from portal.i18n import N_, Msgid
from portal.storage import content as kinds
from portal.storage.content import FileKind, detect, embedded_other
from portal.storage.documents import check_pdf
from portal.storage.images import reencode

# For an upload route's `request_max_body_size`: the largest file any configuration allows, plus its
# multipart envelope. The configured limit (PORTAL_UPLOAD_MAX_BYTES) is checked on the file itself.
UPLOAD_BODY_LIMIT = UPLOAD_CEILING_BYTES + 256 * 1024
MAX_NAME_LENGTH = 200
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;`$]+')


@dataclass(frozen=True, slots=True)
class Use:
    """What a feature accepts for one purpose: the kinds allowed, and a size limit tighter than the
    configured one where the purpose needs it (a signature needs no 10 MB)."""

    name: str
    kinds: tuple[FileKind, ...]
    max_bytes: int | None = None

    @property
    def allowed(self) -> str:
        return ", ".join(k.short_name for k in self.kinds)


IMAGES = Use("images", kinds.IMAGE_KINDS)
DOCUMENTS = Use("documents", (kinds.PDF,))
IMAGES_AND_DOCUMENTS = Use("images_and_documents", (*kinds.IMAGE_KINDS, kinds.PDF))


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """What is stored: the bytes (re-encoded for an image), their kind and digest, and a safe name."""

    content: bytes
    kind: FileKind
    name: str
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


async def check_upload(content: bytes, filename: str | None, use: Use, limit: int, field: str = "file") -> CheckedFile:
    limit = min(limit, use.max_bytes or limit)
    if not content:
        raise ValidationFailed.single(field, N_("is empty (0 bytes)"), "empty")
    if len(content) > limit:
        raise ValidationFailed.single(
            field,
            N_("is %(size)s, more than the %(limit)s allowed"),
            "too_large",
            size=size_text(len(content)),
            limit=size_text(limit),
        )
    kind = detect(content)
    if kind not in use.kinds:
        raise ValidationFailed.single(
            field,
            N_("is %(kind)s, whatever its name says; allowed here: %(allowed)s"),
            "type_not_allowed",
            kind=Msgid(kind.label),
            allowed=use.allowed,
        )
    other = embedded_other(content, kind)
    if other is not None:
        raise ValidationFailed.single(
            field,
            N_("is %(kind)s that also contains %(other)s; a file that is two formats at once is refused"),
            "polyglot",
            kind=Msgid(kind.label),
            other=Msgid(other.label),
        )
    if kind is kinds.PDF:
        await anyio.to_thread.run_sync(check_pdf, content, field)
        stored = content
    else:
        stored = await anyio.to_thread.run_sync(reencode, content, kind, field)
    return CheckedFile(stored, kind, safe_name(filename, kind), hashlib.sha256(stored).hexdigest())


def safe_name(filename: str | None, kind: FileKind) -> str:
    """The name a person gave the file, fit to show and to offer as a download's name: the last path
    part only, no control, formatting or shell characters, NFC, at most 200 characters, and an extension that says
    what the file is (`invoice.pdf.exe` that is a PDF becomes `invoice.pdf.exe.pdf`)."""
    name = unicodedata.normalize("NFC", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    # control and formatting characters: a right-to-left override shows "gpj.exe" as "exe.jpg"
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
    name = " ".join(_UNSAFE_NAME.sub("_", name).split()).strip(" .") or "file"
    stem, dot, extension = name.rpartition(".")
    if dot and stem and f".{extension.lower()}" in _extensions(kind):
        name = stem  # the extension is put back in its usual spelling
    stem = name[: MAX_NAME_LENGTH - len(kind.extension)]
    return f"{stem}{kind.extension}"


def _extensions(kind: FileKind) -> tuple[str, ...]:
    return (kind.extension, ".jpeg", ".jpe") if kind is kinds.JPEG else (kind.extension,)


async def read_upload(upload: UploadFile | None, field: str = "file") -> tuple[bytes, str]:
    """The bytes and the given name of a multipart file field; a missing field is "is required"."""
    if upload is None:
        raise ValidationFailed.single(field, N_("is required: choose a file to upload"), "required")
    try:
        return await upload.read(), upload.filename
    finally:
        await upload.close()
