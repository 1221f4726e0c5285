"""Signatures and sealed records (the contract is ``docs/field-sync.md``).

* :func:`put_signature` stores one signature drawn on the phone (stroke points with their
  timing, an SVG and a PNG, and the SHA-256 of each) under its client UUID, like a photo:
  the same body again answers the stored receipt, another body under the key is a conflict.
  Empty and near-empty signatures are refused (:func:`measure`, :data:`MIN_POINTS` ...).
* Two steps of a record save's checks (:mod:`inspection.fieldwork.record_checks`):
  :func:`check_signers`, who signs a sealed save (the rules of
  :func:`inspection.fieldwork.refusals.check_signers`, against the visit's team) and that a
  listed signature that has arrived is the one listed; :func:`check_correction`, once a
  record has a sealed revision, a later revision names the sealed revision it corrects.
* :func:`after_store`: what a stored sealed revision does to its visit.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import math
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any, Iterable

from flask_babel import gettext as _
from PIL import Image, ImageChops, UnidentifiedImageError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ..core import audit, storage
from ..core.errors import Conflict, ValidationFailed
from ..core.models import User, utcnow
from ..directory.models import Inspector
from ..draws.team import queries as team_queries
from ..extensions import db
from . import refusals, seal
from .common import check_key, my_visit, schema_errors, stamp
from .models import RecordRevision, RecordSignature, ReviewReturn, Visit, VisitStatus
from .photos import TooLarge
from .schemas import SignatureUploadSchema

#: Area of the store holding the strokes (canonical JSON), SVGs and PNGs of signatures.
AREA_SIGNATURES = "signatures"
#: Largest signature upload (the JSON body), in bytes.
MAX_SIGNATURE_BYTES = 2 * 1024 * 1024
#: A signature with fewer points, a shorter total stroke length or a smaller bounding box
#: (CSS pixels of the signing canvas) is refused as empty or near-empty.
MIN_POINTS = 10
MIN_LENGTH = 100
MIN_BOX_LONG = 40
MIN_BOX_SHORT = 10
#: The PNG must show at least this many ink pixels (opaque and darker than light grey).
MIN_INK_PIXELS = 100
MAX_PNG_SIDE = 4096
SVG_NS = "{http://www.w3.org/2000/svg}"
_XML_DECLARATION = re.compile(r"\A\s*<\?xml\s[^?]*\?>")
SVG_ELEMENTS = {"svg", "g", "path", "circle", "ellipse", "line", "polyline", "polygon",
                "rect", "title", "desc"}
_URL = re.compile(r"url\(\s*(?!['\"]?#)", re.I)


# --- measuring and checking an upload ---------------------------------------------------------

def measure(strokes: Iterable[dict]) -> tuple[int, float, float, float]:
    """(points, total stroke length, bounding-box width, height) of signature_pad strokes."""
    points, length = 0, 0.0
    xs: list[float] = []
    ys: list[float] = []
    for stroke in strokes:
        previous = None
        for point in stroke.get("points") or []:
            x, y = float(point["x"]), float(point["y"])
            points += 1
            xs.append(x)
            ys.append(y)
            if previous is not None:
                length += math.hypot(x - previous[0], y - previous[1])
            previous = (x, y)
    if not xs:
        return 0, 0.0, 0.0, 0.0
    return points, length, max(xs) - min(xs), max(ys) - min(ys)


def _strokes_problems(strokes: list[dict]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for n, stroke in enumerate(strokes):
        times = [p["time"] for p in stroke.get("points") or []]
        if any(b < a for a, b in zip(times, times[1:])):
            errors.setdefault(f"strokes.{n}", []).append(
                _("The points' times go backwards."))
    if sum(len(s.get("points") or []) for s in strokes) > 20000:
        errors.setdefault("strokes", []).append(_("Too many points."))
    points, length, width, height = measure(strokes)
    if (points < MIN_POINTS or length < MIN_LENGTH
            or max(width, height) < MIN_BOX_LONG or min(width, height) < MIN_BOX_SHORT):
        errors.setdefault("strokes", []).append(
            _("The signature is empty or too small to be a signature. Please sign again, "
              "larger."))
    return errors


def _png(data: str, expected: str) -> tuple[bytes | None, dict[str, list[str]]]:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None, {"png": [_("Not base64.")]}
    if hashlib.sha256(raw).hexdigest() != expected:
        return None, {"png_sha256": [_("Does not match the PNG: it arrived damaged.")]}
    try:
        img = Image.open(io.BytesIO(raw))
        if img.format != "PNG":
            raise ValueError
        if not (0 < img.width <= MAX_PNG_SIDE and 0 < img.height <= MAX_PNG_SIDE):
            return None, {"png": [_("The image is too large for a signature.")]}
        img.verify()
        img = Image.open(io.BytesIO(raw))
        img.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError,
            Image.DecompressionBombError):
        return None, {"png": [_("Not a valid PNG image.")]}
    rgba = img.convert("RGBA")
    opaque = rgba.getchannel("A").point(lambda a: 255 if a >= 128 else 0)
    dark = rgba.convert("RGB").convert("L").point(lambda v: 255 if v < 200 else 0)
    ink = ImageChops.multiply(opaque, dark).histogram()[255]
    if ink < MIN_INK_PIXELS:
        return None, {"png": [_("The signature image is empty.")]}
    return raw, {}


def _svg(text: str, expected: str) -> tuple[bytes | None, dict[str, list[str]]]:
    raw = text.encode("utf-8", "surrogatepass")
    if hashlib.sha256(raw).hexdigest() != expected:
        return None, {"svg_sha256": [_("Does not match the SVG: it arrived damaged.")]}
    bad = {"svg": [_("Not an SVG drawing of a signature.")]}
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        return None, bad
    # Processing instructions (an <?xml-stylesheet?> would pull a style sheet into whatever
    # renders the file) are refused; only the XML declaration may open the text.
    if "<?" in _XML_DECLARATION.sub("", text, count=1):
        return None, bad
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None, bad
    if root.tag != SVG_NS + "svg":
        return None, bad
    for element in root.iter():
        if not element.tag.startswith(SVG_NS) or element.tag[len(SVG_NS):] not in SVG_ELEMENTS:
            return None, bad
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or local == "href" or _URL.search(value or ""):
                return None, bad
    return raw, {}


# --- scope ------------------------------------------------------------------------------------

def team_user_ids(visit: Visit) -> set[int]:
    """The accounts of the visit's active team members (those who may sign as inspectors)."""
    ids = [m.inspector_id for m in team_queries.members_of(visit)]
    if not ids:
        return set()
    return set(db.session.scalars(select(Inspector.user_id).where(
        Inspector.id.in_(ids), Inspector.user_id.is_not(None))))


def _parse_aware(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


# --- receipts ---------------------------------------------------------------------------------

def receipt(row: RecordSignature) -> dict[str, Any]:
    return {"key": row.uuid, "kind": "signature", "sha256": row.body_sha256,
            "received_at": stamp(row.received_at), "signs": row.signs,
            "strokes_sha256": row.strokes_sha256, "svg_sha256": row.svg_sha256,
            "png_sha256": row.png_sha256}


def _stored_signature(key: str, sha: str, visit: Visit) -> dict | None:
    row = db.session.scalar(select(RecordSignature).where(RecordSignature.uuid == key))
    if row is None:
        return None
    if row.body_sha256 != sha or row.visit_id != visit.id:
        raise Conflict(_("This key was already used for a different signature."),
                       fields={"key": [_("Already used for a different body.")]})
    return receipt(row)


def _listed_elsewhere(key: str, body: dict, visit: Visit) -> list[str]:
    """Problems if a sealed record of the visit already lists this key with other values."""
    rows = db.session.scalars(select(RecordRevision).where(
        RecordRevision.visit_id == visit.id, RecordRevision.seal.is_not(None))).all()
    for row in rows:
        for listed in row.body.get("signatures") or []:
            if str(listed.get("uuid", "")).lower() == key and not _same(listed, body):
                return [_("A sealed record lists this signature with other hashes or another "
                          "signer.")]
    return []


def _identity(kind, user_id, name, role) -> tuple:
    """Who signed, as compared: an inspector by account, others by name (and role)."""
    if kind == "inspector":
        return (kind, user_id)
    return (kind, (name or "").strip(), role if kind == "representative" else None)


def _signer_identity(signer: dict) -> tuple:
    return _identity(signer.get("kind"), signer.get("user_id"), signer.get("name"),
                     signer.get("role"))


def _same(listed: dict, upload: dict | RecordSignature) -> bool:
    if isinstance(upload, RecordSignature):
        values = (upload.signs, upload.strokes_sha256, upload.svg_sha256, upload.png_sha256,
                  _identity(upload.signer_kind, upload.signer_user_id, upload.signer_name,
                            upload.signer_role))
    else:
        values = (upload.get("signs"), upload.get("strokes_sha256"),
                  upload.get("svg_sha256"), upload.get("png_sha256"),
                  _signer_identity(upload.get("signer") or {}))
    return values == (listed.get("signs"), listed.get("strokes_sha256"),
                      listed.get("svg_sha256"), listed.get("png_sha256"),
                      _signer_identity(listed.get("signer") or {}))


# --- writing: signatures ----------------------------------------------------------------------

def check_size(size: int | None) -> None:
    if size is not None and size > MAX_SIGNATURE_BYTES:
        raise TooLarge(_("The signature is too large."))


def put_signature(user: User, key: str, body: Any) -> tuple[dict, bool]:
    """Check and store one signature under its key. Returns ``(receipt, created)``."""
    check_key(key)
    if not isinstance(body, dict):
        raise ValidationFailed(_("The signature must be a JSON object."))
    try:
        canonical = seal.canonical(body)
    except seal.NotCanonical:
        raise ValidationFailed(_("The signature holds text that is not valid Unicode or a "
                                 "number beyond the exact range.")) from None
    check_size(len(canonical))
    sha = hashlib.sha256(canonical).hexdigest()
    problems = SignatureUploadSchema().validate(body)
    if problems:
        raise ValidationFailed(_("Some values are not valid."), fields=schema_errors(problems))
    visit = my_visit(user, body["visit"])
    errors = _strokes_problems(body["strokes"])
    strokes = seal.canonical(body["strokes"])
    if hashlib.sha256(strokes).hexdigest() != body["strokes_sha256"]:
        errors.setdefault("strokes_sha256", []).append(
            _("Does not match the strokes: they arrived damaged."))
    png, problems = _png(body["png"], body["png_sha256"])
    errors.update(problems)
    svg, problems = _svg(body["svg"], body["svg_sha256"])
    errors.update(problems)
    signer = body["signer"]
    if signer["kind"] == "inspector" and signer.get("user_id") not in team_user_ids(visit):
        errors.setdefault("signer.user_id", []).append(
            _("This inspector is not on the visit's team."))
    if signer["kind"] != "representative" and signer.get("role"):
        errors.setdefault("signer.role", []).append(_("Only the representative has a role."))
    elsewhere = _listed_elsewhere(key, body, visit)
    if elsewhere:
        errors.setdefault("key", []).extend(elsewhere)
    if errors:
        stored = _stored_signature(key, sha, visit)
        if stored is not None:
            return stored, False
        raise ValidationFailed(_("The signature was not accepted; see the fields."),
                               fields=errors)
    points, length, width, height = measure(body["strokes"])
    values = dict(
        uuid=key, visit_id=visit.id, uploader_id=user.id, signer_kind=signer["kind"],
        signer_user_id=signer.get("user_id") if signer["kind"] == "inspector" else None,
        signer_name=(signer.get("name") or "").strip(), signer_role=signer.get("role"),
        signs=body["signs"], signed_at=_parse_aware(body.get("signed_at")),
        body_sha256=sha, strokes_sha256=storage.put(AREA_SIGNATURES, strokes),
        svg_sha256=storage.put(AREA_SIGNATURES, svg), png_sha256=storage.put(AREA_SIGNATURES, png),
        points=points, length=round(length), box_width=round(width), box_height=round(height),
        received_at=utcnow())
    if signer["kind"] == "inspector" and not values["signer_name"]:
        inspector = db.session.scalar(select(Inspector).where(
            Inspector.user_id == signer["user_id"]))
        values["signer_name"] = inspector.name if inspector else ""
    try:
        db.session.execute(insert(RecordSignature).values(**values))
    except IntegrityError:
        db.session.rollback()
        stored = _stored_signature(key, sha, my_visit(user, body["visit"]))
        if stored is None:
            raise
        return stored, False
    audit.record("field.signature", "visit", visit.id,
                 {"visit": visit.number, "key": key, "signer_kind": signer["kind"],
                  "signer_user_id": values["signer_user_id"], "signer_role": signer.get("role"),
                  "signs": body["signs"], "png_sha256": values["png_sha256"],
                  "svg_sha256": values["svg_sha256"],
                  "strokes_sha256": values["strokes_sha256"]}, actor=user)
    result = receipt(RecordSignature(**values))
    db.session.commit()
    return result, True


# --- record revisions: signers, corrections ---------------------------------------------------

def _against_uploads(body: dict, visit: Visit) -> dict[str, list[str]]:
    listed = body.get("signatures") or []
    keys = [str(s.get("uuid", "")).lower() for s in listed]
    if not keys:
        return {}
    rows = {r.uuid: r for r in db.session.scalars(
        select(RecordSignature).where(RecordSignature.uuid.in_(keys)))}
    errors: dict[str, list[str]] = {}
    for n, (key, entry) in enumerate(zip(keys, listed)):
        row = rows.get(key)
        if row is not None and (row.visit_id != visit.id or not _same(entry, row)):
            errors.setdefault(f"signatures.{n}", []).append(
                _("This does not match the signature uploaded under this key."))
    return errors


def check_signers(body: dict, visit: Visit) -> dict[str, list[str]]:
    """Who signs a sealed save (the rules of :func:`refusals.check_signers`, against the
    accounts of the visit's team), and that each listed signature already uploaded is the one
    uploaded under its key. Nothing for a save that is not sealed."""
    if not seal.is_sealed(body):
        return {}
    errors = refusals.check_signers(body, team_user_ids(visit),
                                    part=body.get("part") is not None)
    for key, messages in _against_uploads(body, visit).items():
        errors.setdefault(key, []).extend(messages)
    return errors


def _latest_sealed_before(record_id: str, revision: int) -> RecordRevision | None:
    return db.session.scalar(select(RecordRevision).where(
        RecordRevision.record_id == record_id, RecordRevision.seal.is_not(None),
        RecordRevision.revision < revision).order_by(RecordRevision.revision.desc()).limit(1))


def check_correction(body: dict, record_id: str, revision: int) -> dict[str, list[str]]:
    """Once a record has a sealed revision, a later revision is a correction: it names the
    latest sealed revision before it (``corrects``) and says why (``correction_reason``)."""
    prior = _latest_sealed_before(record_id, revision)
    corrects = str(body.get("corrects") or "").lower()
    errors: dict[str, list[str]] = {}
    if corrects:
        if prior is None:
            errors["corrects"] = [_("There is no sealed revision of this record before this "
                                    "one to correct (send the sealed revision first).")]
        elif corrects != prior.revision_uuid:
            errors["corrects"] = [_("A correction corrects the latest sealed revision of the "
                                    "record (%(key)s).", key=prior.revision_uuid)]
        if not (body.get("correction_reason") or "").strip():
            errors["correction_reason"] = [_("Say why the sealed record is corrected.")]
    elif prior is not None:
        errors["corrects"] = [_("This record is sealed: a later save is a correction that "
                                "names the sealed revision it corrects (%(key)s) and why.",
                                key=prior.revision_uuid)]
    return errors


def after_store(row: RecordRevision, visit: Visit) -> None:
    """A sealed revision marks the visit recorded. On a visit the office returned to the team
    (``returned``), a new sealed record (not a member's part) answers the return: the visit
    goes back to ``recorded`` (the office's review queue) and the open return is resolved by
    this revision."""
    if not row.seal:
        return
    if visit.status in (VisitStatus.PLANNED.value, VisitStatus.ASSIGNED.value,
                        VisitStatus.IN_PROGRESS.value):
        visit.status = VisitStatus.RECORDED.value
    elif visit.status == VisitStatus.RETURNED.value and not row.is_part:
        visit.status = VisitStatus.RECORDED.value
        now = utcnow()
        for open_return in db.session.scalars(select(ReviewReturn).where(
                ReviewReturn.visit_id == visit.id, ReviewReturn.resolved_at.is_(None))):
            open_return.resolved_by_id = row.id
            open_return.resolved_at = now


def missing_signatures(row: RecordRevision) -> list[str]:
    """The signatures this revision lists that have not arrived (or differ)."""
    listed = {str(s.get("uuid", "")).lower(): s for s in row.body.get("signatures") or []}
    if not listed:
        return []
    got = {r.uuid: r for r in db.session.scalars(select(RecordSignature).where(
        RecordSignature.uuid.in_(list(listed)), RecordSignature.visit_id == row.visit_id))}
    return [k for k, entry in listed.items() if k not in got or not _same(entry, got[k])]


def sealed_revision(visit: Visit) -> RecordRevision | None:
    """The visit's sealed record: of its sealed revisions, the one of the record most
    recently sealed, highest revision (a correction supersedes what it corrects)."""
    last = db.session.scalar(select(RecordRevision.record_id).where(
        RecordRevision.visit_id == visit.id, RecordRevision.seal.is_not(None),
        RecordRevision.is_part.is_(False))
        .order_by(RecordRevision.id.desc()).limit(1))
    if last is None:
        return None
    return db.session.scalar(select(RecordRevision).where(
        RecordRevision.record_id == last, RecordRevision.seal.is_not(None))
        .order_by(RecordRevision.revision.desc()).limit(1))
