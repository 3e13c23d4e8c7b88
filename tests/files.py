"""Files for the upload tests, made here: photos with metadata, documents, and hostile files."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(width: int = 40, height: int = 20, orientation: int = 6) -> bytes:
    """A photo as a phone saves it: EXIF with the camera, a GPS position and a rotation, and a comment."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 44.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at the customer's home")
    return out.getvalue()


def png(mode: str = "RGBA", size: tuple[int, int] = (16, 16), text: str | None = "secret note") -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    if text:
        info.add_text("Comment", text)
    out = io.BytesIO()
    Image.new(mode, size, (0, 128, 255, 128) if mode == "RGBA" else 128).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), (10, 200, 10)).save(out, "WEBP")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8)).save(out, "GIF")
    return out.getvalue()


def pdf(body: bytes = b"") -> bytes:
    return (
        b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" + body + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def pdf_with_hidden_script() -> bytes:
    """JavaScript in a compressed object stream, where a plain search of the file does not see it."""
    hidden = zlib.compress(b"5 0 << /S /JavaScript /JS (app.alert(1)) >>")
    header = f"3 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {len(hidden)} >>\nstream\n"
    return pdf(header.encode() + hidden + b"\nendstream endobj\n")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares a huge size in a few bytes: a decoder would allocate width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return out.getvalue()


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/me')</script></body></html>"
