"""Images are decoded and encoded afresh with Pillow: what is stored is pixels we wrote, so metadata
(EXIF with GPS position, camera serial numbers, XMP, comments) and anything hidden after the image are
gone. The EXIF orientation is applied first, so a phone photo keeps its way up; the colour profile is
kept. An animated image keeps its first frame.

Size is checked from the header before any pixel is decoded: too many pixels (a decompression bomb:
a few kilobytes that expand to gigabytes) is refused, and Pillow's own bomb check is made an error."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from portal.errors import ValidationFailed
from portal.i18n import N_
from portal.storage.content import JPEG, PNG, WEBP, FileKind

# 40 megapixels: more than a phone camera's full resolution (a 48 MP sensor saves 12 MP photos by
# default), about 160 MB once decoded.
MAX_PIXELS = 40_000_000
MAX_SIDE = 16_384
_PILLOW_FORMAT = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
_JPEG_MODES = frozenset({"L", "RGB", "CMYK"})
_WEBP_MODES = frozenset({"RGB", "RGBA"})


def reencode(content: bytes, kind: FileKind, field: str = "file") -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(content), formats=[_PILLOW_FORMAT[kind]]) as image:
                _check_size(image.size, field)
                image.load()
                return _encode(image, kind)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Pillow's own limit, met while reading the header: the size is not known to us here
            raise ValidationFailed.single(
                field,
                N_(
                    "is an image of far more pixels than allowed (at most %(megapixels)s million): a decompression bomb"
                ),
                "too_many_pixels",
                megapixels=MAX_PIXELS // 1_000_000,
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
            raise ValidationFailed.single(
                field, N_("could not be read as an image: it is damaged or incomplete"), "damaged"
            ) from error


def _check_size(size: tuple[int, int], field: str) -> None:
    width, height = size
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise _too_many_pixels(field, width, height)


def _too_many_pixels(field: str, width: int, height: int) -> ValidationFailed:
    return ValidationFailed.single(
        field,
        N_(
            "is an image of %(width)s by %(height)s pixels; at most %(megapixels)s million pixels and "
            "%(side)s pixels a side are accepted"
        ),
        "too_many_pixels",
        width=width,
        height=height,
        megapixels=MAX_PIXELS // 1_000_000,
        side=MAX_SIDE,
    )


def _encode(image: Image.Image, kind: FileKind) -> bytes:
    profile = image.info.get("icc_profile")
    transparency = image.info.get("transparency")
    clean = ImageOps.exif_transpose(image)  # a new image, the orientation applied
    if kind is JPEG and clean.mode not in _JPEG_MODES:
        clean = clean.convert("RGB")
    elif kind is WEBP and clean.mode not in _WEBP_MODES:
        clean = clean.convert("RGBA" if clean.has_transparency_data else "RGB")
    # whatever the source carried (EXIF, XMP, comments, text chunks) stays behind: the encoder copies
    # some of it from `info` unless told otherwise
    clean.info = {}
    options: dict[str, object] = {}
    if profile:
        options["icc_profile"] = profile
    if kind is JPEG:
        options.update(quality=90, optimize=True)
    elif kind is WEBP:
        options.update(quality=90, method=4)
    elif transparency is not None and clean.mode in ("P", "L", "RGB"):
        options["transparency"] = transparency
    output = io.BytesIO()
    clean.save(output, format=_PILLOW_FORMAT[kind], **options)
    return output.getvalue()
