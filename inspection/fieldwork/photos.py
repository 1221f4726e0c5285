"""Evidence photos: checking an upload and making its display copy and thumbnail.

:func:`process` takes the uploaded bytes and refuses, with a message for the inspector:

* a body larger than ``MAX_PHOTO_BYTES`` (:class:`TooLarge`, 413);
* bytes whose SHA-256 is not the one the phone computed (422);
* anything Pillow cannot open and verify, a format other than JPEG, PNG or WebP, a truncated
  file (422, "The file is not a valid image.");
* an image declaring more pixels than :data:`MAX_PIXELS` (the decompression-bomb guard, 422),
  checked from the header before any pixel is decoded.

It applies the EXIF orientation, keeps the EXIF as JSON-safe data (tag names, values made
plain), and makes a display copy (long side at most :data:`DISPLAY_MAX`, JPEG; an upright JPEG
that small already is its own display copy) and a thumbnail (long side :data:`THUMB_MAX`). A large JPEG is decoded in draft mode (the decoder scales by
1/2, 1/4 or 1/8 while decoding), so a 12-megapixel original costs little more than a phone's
1600-pixel copy. :func:`store` puts the three files into the content-addressed store.
"""
from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import warnings
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError
from PIL.TiffImagePlugin import IFDRational

from ..core import storage
from ..core.errors import DomainError, ValidationFailed

#: Areas of the store: the uploaded bytes, the display copies, the thumbnails.
AREA_PHOTOS = "photos"
AREA_DISPLAY = "photo-display"
AREA_THUMBS = "photo-thumbs"

DISPLAY_MAX = 1600
THUMB_MAX = 320
DISPLAY_QUALITY = 85
THUMB_QUALITY = 80
#: The decompression-bomb guard: a JPEG is decoded scaled down (draft mode), so it may declare
#: more pixels (a 108-megapixel phone sensor) than a PNG or WebP, decoded at full size.
MAX_PIXELS = {"JPEG": 120_000_000, "MPO": 120_000_000, "PNG": 50_000_000,
              "WEBP": 50_000_000}
CONTENT_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png",
                 "WEBP": "image/webp"}
#: Pillow's default filter (``Image.resize``, ``Image.thumbnail``): sharper than bilinear on
#: the text of document photos. ``reducing_gap``: see ``Image.resize``.
RESAMPLE = Image.Resampling.BICUBIC
DISPLAY_GAP = 3.0
THUMB_GAP = 2.0
#: Tags left out of the kept EXIF: binary blobs of no use as evidence.
SKIP_TAGS = {0x927C, 0x02BC, 0x83BB, 0x8773, 0xA302}  # MakerNote, XMP, IPTC, ICC, CFAPattern
HEX64 = re.compile(r"[0-9a-f]{64}\Z")
log = logging.getLogger(__name__)


class TooLarge(DomainError):
    status = 413
    code = "too_large"


class PhotoRefused(ValidationFailed):
    """The upload is not an image we accept; ``message`` says why, for the inspector."""


@dataclass
class Processed:
    sha256: str
    content_type: str
    bytes: int
    width: int
    height: int
    exif: dict[str, Any]
    display: bytes
    thumb: bytes
    display_size: tuple[int, int] = (0, 0)
    thumb_size: tuple[int, int] = (0, 0)
    orientation: int = 1


def check_size(size: int | None, limit: int) -> None:
    if size is not None and size > limit:
        raise TooLarge(_("The photo is too large (%(size)s MB; at most %(limit)s MB).",
                         size=f"{size / 1048576:.1f}", limit=f"{limit / 1048576:.0f}"))


def check_sha256(data: bytes, expected: str | None) -> str:
    actual = hashlib.sha256(data).hexdigest()
    expected = (expected or "").strip().lower()
    if not HEX64.match(expected):
        raise PhotoRefused(_("The X-Content-SHA256 header must be the SHA-256 of the photo "
                             "(64 hexadecimal digits)."),
                           fields={"X-Content-SHA256": [_("Missing or not a SHA-256.")]})
    if actual != expected:
        raise PhotoRefused(_("The photo arrived damaged (its SHA-256 does not match). "
                             "It will be sent again."),
                           fields={"X-Content-SHA256": [_("Does not match the body.")]})
    return actual


def fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """``size`` scaled so that its long side is at most ``longest`` (never enlarged)."""
    w, h = size
    if max(w, h) <= longest:
        return w, h
    scale = longest / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def _not_an_image() -> PhotoRefused:
    return PhotoRefused(_("The file is not a valid image."))


def _open(data: bytes) -> Image.Image:
    """Open under the bomb guard: Pillow's own limit raises instead of warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _bomb() from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise _not_an_image() from None


def _bomb() -> PhotoRefused:
    return PhotoRefused(_("The image declares too many pixels to be a photo; it was refused "
                          "as a possible decompression bomb."))


def _plain(value: Any, depth: int = 0) -> Any:
    """An EXIF value as JSON-safe data: text, numbers, lists; long binaries summarised."""
    if depth > 3:
        return None
    if isinstance(value, IFDRational):
        if value.denominator == 0:
            return None
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes):
        stripped = value.rstrip(b"\x00")
        if len(stripped) <= 256:
            try:
                text = stripped.decode("ascii")
                if text.isprintable():
                    return text
            except UnicodeDecodeError:
                pass
            return stripped.hex() if len(stripped) <= 64 else f"<{len(value)} bytes>"
        return f"<{len(value)} bytes>"
    if isinstance(value, str):
        return value.replace("\x00", "").strip()[:512]
    if isinstance(value, (tuple, list)):
        return [_plain(v, depth + 1) for v in value[:64]]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in list(value.items())[:64]}
    return str(value)[:256]


def _tags(items, names: dict[int, str]) -> dict[str, Any]:
    out = {}
    for tag, value in items:
        if tag in SKIP_TAGS:
            continue
        out[names.get(tag, f"0x{tag:04x}")] = _plain(value)
    return out


def exif_json(exif: Image.Exif) -> dict[str, Any]:
    """The EXIF of an image: base tags by name, with ``Exif`` and ``GPSInfo`` sub-tables."""
    out = _tags(((t, v) for t, v in exif.items()
                 if t not in (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo)), ExifTags.TAGS)
    for ifd, key, names in ((ExifTags.IFD.Exif, "Exif", ExifTags.TAGS),
                            (ExifTags.IFD.GPSInfo, "GPSInfo", ExifTags.GPSTAGS)):
        try:
            sub = exif.get_ifd(ifd)
        except Exception:  # a malformed sub-IFD is left out, never a reason to refuse
            log.warning("photo EXIF: sub-IFD %s unreadable, left out", key, exc_info=True)
            sub = {}
        if sub:
            out[key] = _tags(sub.items(), names)
    return out


def _encode(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGB", "L"):
        return img
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def process(data: bytes, expected_sha256: str | None, max_bytes: int) -> Processed:
    """Check an upload and make its display copy and thumbnail (nothing stored yet)."""
    check_size(len(data), max_bytes)
    sha = check_sha256(data, expected_sha256)
    img = _open(data)
    fmt = img.format or ""
    if fmt not in CONTENT_TYPES:
        raise PhotoRefused(_("Only JPEG, PNG and WebP photos are accepted."))
    width, height = img.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS[fmt]:
        raise _bomb()
    try:
        img.verify()
    except Exception:
        raise _not_an_image() from None
    img = _open(data)  # verify() leaves the image unusable: open it again
    try:
        exif = img.getexif()
        orientation = int(exif.get(ExifTags.Base.Orientation, 1) or 1)
        kept = exif_json(exif)
    except Exception:  # malformed EXIF: the photo is kept, upright as stored, without it
        log.warning("photo EXIF unreadable, kept without it", exc_info=True)
        exif, orientation, kept = None, 1, {}
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    display_size = fit(img.size, DISPLAY_MAX)
    # The phone's usual upload (a JPEG already at most DISPLAY_MAX, upright, RGB or grey) is
    # its own display copy: re-encoding it would only lose quality. It is then decoded once,
    # scaled down to the thumbnail while decoding (which still reads every coded block, so a
    # damaged file is still refused).
    as_is = (fmt == "JPEG" and orientation == 1 and display_size == img.size
             and img.mode in ("RGB", "L"))
    decode_size = fit(display_size, THUMB_MAX) if as_is else display_size
    try:
        if fmt in ("JPEG", "MPO") and decode_size != img.size:
            img.draft("RGB", decode_size)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
        if orientation != 1:
            ImageOps.exif_transpose(img, in_place=True)
        img = _to_rgb(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bomb() from None
    except Exception:
        raise PhotoRefused(_("The file is not a valid image: it is damaged or incomplete.")) \
            from None
    display_size = fit((width, height), DISPLAY_MAX)
    thumb_size = fit(display_size, THUMB_MAX)
    if as_is:
        display_bytes = data
        thumb = img if img.size == thumb_size else img.resize(thumb_size, RESAMPLE,
                                                                reducing_gap=THUMB_GAP)
    else:
        display = img if img.size == display_size else img.resize(display_size, RESAMPLE,
                                                                  reducing_gap=DISPLAY_GAP)
        display_bytes = _encode(display, DISPLAY_QUALITY)
        thumb = display.resize(thumb_size, RESAMPLE, reducing_gap=THUMB_GAP)
    return Processed(sha256=sha, content_type=CONTENT_TYPES[fmt], bytes=len(data),
                     width=width, height=height, exif=kept,
                     display=display_bytes,
                     thumb=_encode(thumb, THUMB_QUALITY), display_size=display_size,
                     thumb_size=thumb_size, orientation=orientation)


def store(data: bytes, processed: Processed) -> tuple[str, str, str]:
    """Put the upload, its display copy and its thumbnail in the store; their SHA-256s."""
    sha = storage.put(AREA_PHOTOS, data)
    return sha, storage.put(AREA_DISPLAY, processed.display), \
        storage.put(AREA_THUMBS, processed.thumb)
