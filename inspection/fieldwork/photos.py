"""Evidence photos: checking an upload and making its display copy and thumbnail.

:func:`process` takes the uploaded bytes and refuses, with a message for the inspector:

* a body larger than ``MAX_PHOTO_BYTES`` (:class:`TooLarge`, 413);
* bytes whose SHA-256 is not the one the phone computed (422);
* a JPEG with more than :data:`MAX_JPEG_SCANS` scans or :data:`MAX_JPEG_SEGMENTS` marker
  segments, a PNG of more than :data:`MAX_PNG_CHUNKS` chunks (422), counted from the file's
  structure before anything is decoded;
* anything Pillow cannot open and verify, a format other than JPEG, PNG or WebP, a truncated
  file (422, "The file is not a valid image.");
* an image of more pixels than the setting ``PHOTO_MAX_PIXELS`` (the decompression-bomb guard,
  422), checked from the header before any pixel is decoded. It is the only pixel limit:
  Pillow's own (``Image.MAX_IMAGE_PIXELS``) never refuses first.

Those bound the work and memory of one decode (figures in docs/field-sync.md): a JPEG's
decoding time grows with its pixels times its scans (each scan of a progressive JPEG is one
more pass over every block of the image, and a repeated scan costs bytes, not pixels, so a
file under 1 MB could hold hundreds of passes over 89 megapixels); its memory with its
pixels (a multi-scan JPEG keeps every coefficient, up to 8 bytes a pixel, whatever the draft
scale). A PNG or WebP has no reduced decoding: it is decoded whole (4 bytes a pixel, WebP
about 16 with libwebp's buffers).

It applies the EXIF orientation, keeps the EXIF as JSON-safe data (tag names, values made
plain), and makes a display copy (long side at most :data:`DISPLAY_MAX`, JPEG; an upright JPEG
that small already is its own display copy) and a thumbnail (long side :data:`THUMB_MAX`). A
large JPEG is decoded in draft mode (the decoder scales by 1/2, 1/4 or 1/8 while decoding), so
a 12-megapixel original costs little more than a phone's 1600-pixel copy. An image is reduced
before it is flattened onto white or turned upright, so that neither copies it at full size.
:func:`store` puts the three files into the content-addressed store; the caller stores them
only once the photo's key is taken, so that a refused upload leaves nothing behind.
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

from flask import current_app
from flask_babel import gettext as _
from PIL import ExifTags, Image, UnidentifiedImageError
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
#: A camera's JPEG has one scan (baseline), one per component (3 or 4), or the scans of a
#: progressive script (libjpeg's has 10, 18 for CMYK; other encoders' about as many). The
#: bound keeps a hostile file to a few passes over the image's blocks.
MAX_JPEG_SCANS = 32
#: A photo's JPEG has a few dozen marker segments (EXIF, XMP in 64 KB pieces, an ICC profile
#: in at most 255, tables, a scan and its tables each). Pillow reads those before the first
#: scan one by one in Python: 15 MB of empty comments took it 5 s.
MAX_JPEG_SEGMENTS = 1024
#: A marker as libjpeg finds one: FF then a code. Not FF 00 (a stuffed byte in entropy-coded
#: data), FF 01 and FF D0-D7 (no length: TEM and restarts) nor FF FF (fill before a marker).
_JPEG_MARKER = re.compile(rb"\xff[\x02-\xcf\xd8-\xfe]")
_EOI, _SOI, _SOS = 0xD9, 0xD8, 0xDA
#: Pillow reads a PNG's chunks one by one in Python, three times here (open, verify, open
#: again): 14 MB of a million empty text chunks took it 9 s. Encoders write image data in
#: chunks of 8 KB or more, so a 15 MB photo has under 2,000.
MAX_PNG_CHUNKS = 16_384
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: EXIF orientation: the transposition that turns the stored image upright.
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
           4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
           6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
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

    @property
    def display_sha256(self) -> str:
        return hashlib.sha256(self.display).hexdigest()

    @property
    def thumb_sha256(self) -> str:
        return hashlib.sha256(self.thumb).hexdigest()


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


def max_pixels() -> int:
    """The most pixels a photo may have (the setting ``PHOTO_MAX_PIXELS``)."""
    return current_app.config["SETTINGS"].PHOTO_MAX_PIXELS


def _too_many_pixels(limit: int) -> PhotoRefused:
    megapixels = f"{limit / 1_000_000:.1f}".removesuffix(".0")
    return PhotoRefused(_("The image has more than %(limit)s megapixels, the most accepted for "
                          "a photo; it was refused as a possible decompression bomb.",
                          limit=megapixels))


def check_jpeg_structure(data: bytes) -> None:
    """Refuse a JPEG of more than :data:`MAX_JPEG_SCANS` scans or :data:`MAX_JPEG_SEGMENTS`
    segments, from its markers alone (nothing is decoded).

    The markers are walked as libjpeg reads them: a segment is skipped by its length (an FF D9
    inside a comment ends nothing), a scan's entropy-coded data runs to the next marker, and
    stray bytes between segments are skipped to the next marker. Only the first image counts
    (up to its EOI): the decoder reads no further, and an MPO's other images are never decoded.
    The search runs in C, so the Python loop turns once a segment, at most
    ``MAX_JPEG_SEGMENTS + 1`` times, whatever the file's size.
    """
    scans = segments = 0
    pos = 2
    while (found := _JPEG_MARKER.search(data, pos)) is not None:
        pos = found.start()
        marker = data[pos + 1]
        if marker == _EOI:
            return
        if marker == _SOI:  # a second SOI: libjpeg refuses the file itself
            pos += 2
            continue
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise PhotoRefused(_("The JPEG has more than %(limit)s marker segments, far more "
                                 "than a photo has; it was refused.", limit=MAX_JPEG_SEGMENTS))
        if marker == _SOS:
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise PhotoRefused(_("The JPEG has more than %(limit)s scans (a photo has "
                                     "about 10); decoding it would take too long, so it was "
                                     "refused.", limit=MAX_JPEG_SCANS))
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")


def check_png_structure(data: bytes) -> None:
    """Refuse a PNG of more than :data:`MAX_PNG_CHUNKS` chunks (up to IEND, where Pillow
    stops reading), from their lengths alone."""
    pos, chunks = len(_PNG_SIGNATURE), 0
    while pos + 8 <= len(data):
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise PhotoRefused(_("The PNG has more than %(limit)s chunks, far more than a "
                                 "photo has; it was refused.", limit=MAX_PNG_CHUNKS))
        if data[pos + 4:pos + 8] == b"IEND":
            return
        pos += 12 + int.from_bytes(data[pos:pos + 4], "big")  # length, type, data, CRC


def _open(data: bytes, limit: int) -> Image.Image:
    """Open (the header only: nothing is decoded yet). Pillow's own guard warns beyond
    ``Image.MAX_IMAGE_PIXELS`` and raises beyond twice that: the warning is silenced so that
    the setting decides, and the error, which only an image beyond any allowed setting can
    cause (see the check in config), answers the setting's refusal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise _too_many_pixels(limit) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise _not_an_image() from None


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
    """RGB or grey, a transparent image flattened onto white (with the image as its own mask:
    an RGBA image is not copied, nor its alpha band)."""
    if img.mode in ("RGB", "L"):
        return img
    if img.mode in ("LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img)
        return background
    return img.convert("RGB")


def _reduce(img: Image.Image, size: tuple[int, int], gap: float) -> Image.Image:
    return img if img.size == size else img.resize(size, RESAMPLE, reducing_gap=gap)


def process(data: bytes, expected_sha256: str | None, max_bytes: int,
            limit: int | None = None) -> Processed:
    """Check an upload and make its display copy and thumbnail (nothing stored yet).
    ``limit``: the most pixels accepted (default: the setting ``PHOTO_MAX_PIXELS``)."""
    check_size(len(data), max_bytes)
    sha = check_sha256(data, expected_sha256)
    limit = max_pixels() if limit is None else limit
    if data[:3] == b"\xff\xd8\xff":  # how Pillow recognises a JPEG (or an MPO)
        check_jpeg_structure(data)
    elif data.startswith(_PNG_SIGNATURE):
        check_png_structure(data)
    img = _open(data, limit)
    fmt = img.format or ""
    if fmt not in CONTENT_TYPES:
        raise PhotoRefused(_("Only JPEG, PNG and WebP photos are accepted."))
    width, height = img.size
    if width < 1 or height < 1:
        raise _not_an_image()
    if width * height > limit:
        raise _too_many_pixels(limit)
    try:
        img.verify()
    except Exception:
        raise _not_an_image() from None
    img = _open(data, limit)  # verify() leaves the image unusable: open it again
    try:
        exif = img.getexif()
        orientation = int(exif.get(ExifTags.Base.Orientation, 1) or 1)
        kept = exif_json(exif)
    except Exception:  # malformed EXIF: the photo is kept, upright as stored, without it
        log.warning("photo EXIF unreadable, kept without it", exc_info=True)
        exif, orientation, kept = None, 1, {}
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    stored_display = fit(img.size, DISPLAY_MAX)  # as stored: turned upright once reduced
    # The phone's usual upload (a JPEG already at most DISPLAY_MAX, upright, RGB or grey) is
    # its own display copy: re-encoding it would only lose quality. It is then decoded once,
    # scaled down to the thumbnail while decoding (which still reads every coded block, so a
    # damaged file is still refused).
    as_is = (fmt == "JPEG" and orientation == 1 and stored_display == img.size
             and img.mode in ("RGB", "L"))
    decode_size = fit(stored_display, THUMB_MAX) if as_is else stored_display
    try:
        if fmt in ("JPEG", "MPO") and decode_size != img.size:
            img.draft("RGB", decode_size)
        img.load()
        img = _to_rgb(img)
    except Image.DecompressionBombError:
        raise _too_many_pixels(limit) from None
    except Exception:
        raise PhotoRefused(_("The file is not a valid image: it is damaged or incomplete.")) \
            from None
    display_size = fit((width, height), DISPLAY_MAX)
    thumb_size = fit(display_size, THUMB_MAX)
    if as_is:
        display_bytes = data
        thumb = _reduce(img, thumb_size, THUMB_GAP)
    else:
        display = _reduce(img, stored_display, DISPLAY_GAP)
        del img  # a full-size PNG or WebP: freed before the copies are encoded
        if orientation in UPRIGHT:
            display = display.transpose(UPRIGHT[orientation])
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
