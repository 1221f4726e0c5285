"""A visit's documents: the inspection record (检查记录表), the advance notice
(检查通知书) and the rectification order (责令改正通知书), rendered as PDF with WeasyPrint
from ``templates/documents/`` and ``static/css/documents.css`` (Noto CJK fonts, embedded),
and the public verification of a sealed record.

* Who may read a visit's documents (:func:`readable_visit`): the office, approvers and
  supervisors, and the active members of the visit's team; another inspector is refused
  (403). A visit that does not exist is 404 for everyone.
* The record document shows the visit's sealed record (:func:`signing.sealed_revision`); a
  visit with no sealed record yet shows its latest save, marked as a draft, without seal or
  QR code.
* The public verification (:func:`public_record`) shows only what the public regime
  publishes about an inspection: that a sealed record with this seal exists, the visit
  number, the employer's name, the date, and the bureau's published result once there is
  one (never the team's on-site category: the result is public only after the bureau's
  review, seed 000 三(九)), and whether a correction superseded it. No names of people, no
  notes, no signatures, no photos.

A sealed revision's record PDF is rendered once, by a job, and kept in the store
(:mod:`.record_pdfs`); drafts and the notice and order are rendered on demand. The record's
evidence is the sealed body and the files it names, all in the content-addressed store.
"""
from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..core import storage
from ..core.errors import NotFound, PermissionDenied
from ..core.models import Role, User, utcnow
from ..core.timeutil import to_local
from ..draws.team import queries as team_queries
from ..extensions import db
from . import operations as ops
from . import photos as photo_files
from . import refusals, signing
from .common import visit_versions
from .models import EvidencePhoto, RecordRevision, RecordSignature, Visit
from .results import answer_labels, label

ROOT = Path(__file__).resolve().parents[2]
CSS_FILE = ROOT / "static" / "css" / "documents.css"
SEAL = re.compile(r"[0-9a-f]{64}\Z")
#: Roles that read every visit's documents; inspectors read those of their own teams.
READERS = (Role.OFFICE, Role.APPROVER, Role.SUPERVISOR)
#: The language of the documents: they are the bureau's official forms.
DOCUMENT_LOCALE = "zh_CN"


# --- scope ------------------------------------------------------------------------------------

def readable_visit(user: User, number: str) -> Visit:
    """The visit ``number`` if ``user`` may read its documents (404 when it does not
    exist, 403 when the user is neither a reader nor on its team)."""
    visit = db.session.scalar(select(Visit).where(Visit.number == number))
    if visit is None:
        raise NotFound(_("No such visit."))
    if user.has_role(*READERS):
        return visit
    if user.has_role(Role.INSPECTOR) and user.id in signing.team_user_ids(visit):
        return visit
    raise PermissionDenied(_("Only the visit's team, the office, approvers and supervisors "
                             "read its documents."))


# --- building the documents' contents ----------------------------------------------------------

def _local(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return to_local(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


def qr_png(text: str) -> str:
    """A QR code of ``text`` as a PNG data URI."""
    import qrcode

    qr = qrcode.QRCode(border=2, box_size=6, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    return _data_uri("image/png", buf.getvalue())


def verification_url(seal: str) -> str:
    return url_for("public_records.show", seal=seal, _external=True)


def _team(visit: Visit) -> list[dict]:
    members = team_queries.members_of(visit)
    people = team_queries.inspectors_by_id(m.inspector_id for m in members)
    out = []
    for m in members:
        person = people[m.inspector_id]
        out.append({"name": person.name, "cert_number": person.cert_number,
                    "department": person.department.name if person.department else "",
                    "is_leader": m.is_leader, "user_id": person.user_id})
    return out


def _store_image(area: str, sha: str | None, mime: str) -> str | None:
    if not sha:
        return None
    try:
        return _data_uri(mime, storage.read(area, sha))
    except storage.StoreError:
        return None


def _photos(visit: Visit, body: dict) -> list[dict]:
    listed = body.get("photos") or []
    uuids = [str(p.get("uuid", "")).lower() for p in listed]
    rows = {r.uuid: r for r in db.session.scalars(select(EvidencePhoto).where(
        EvidencePhoto.uuid.in_(uuids), EvidencePhoto.visit_id == visit.id))} if uuids else {}
    out = []
    for uuid, ref in zip(uuids, listed):
        row = rows.get(uuid)
        arrived = row is not None and row.sha256 == ref.get("sha256")
        out.append({"uuid": uuid, "sha256": ref.get("sha256", ""),
                    "question": ref.get("question"), "taken_at": _local(ref.get("taken_at")),
                    "document_copy": bool(ref.get("document_copy")),
                    "authorisation": bool(ref.get("authorisation")),
                    "thumb": _store_image(photo_files.AREA_THUMBS, row.thumb_sha256,
                                          "image/jpeg") if arrived else None})
    return out


def _signatures(visit: Visit, body: dict, team: list[dict]) -> list[dict]:
    listed = body.get("signatures") or []
    uuids = [str(s.get("uuid", "")).lower() for s in listed]
    rows = {r.uuid: r for r in db.session.scalars(select(RecordSignature).where(
        RecordSignature.uuid.in_(uuids), RecordSignature.visit_id == visit.id))} if uuids else {}
    names = {m["user_id"]: m["name"] for m in team if m["user_id"]}
    kinds = refusals.signer_labels()
    departments = {d.get("department_id"): d.get("name", "")
                   for d in body.get("departments") or [] if isinstance(d, dict)}
    out = []
    for uuid, ref in zip(uuids, listed):
        signer = ref.get("signer") or {}
        row = rows.get(uuid)
        arrived = row is not None and row.png_sha256 == ref.get("png_sha256")
        name = (signer.get("name") or "").strip() or names.get(signer.get("user_id"), "")
        out.append({"kind": signer.get("kind"), "kind_label": kinds.get(signer.get("kind"), ""),
                    "name": name,
                    "department": departments.get(signer.get("department_id"), "")
                    if signer.get("kind") == "inspector" else "",
                    "role_label": refusals.REPRESENTATIVE_ROLES.get(signer.get("role") or "", ""),
                    "signed_at": _local(ref.get("signed_at")),
                    "png_sha256": ref.get("png_sha256", ""),
                    "image": _store_image(signing.AREA_SIGNATURES, row.png_sha256, "image/png")
                    if arrived else None})
    return out


def unlisted_signatures(visit: Visit, body: dict, team: list[dict]) -> list[dict]:
    """Signatures the server received for the visit that this record does not list: made for
    an earlier version and voided by a change, or never sealed. Kept, and shown to the office
    for the audit, never printed on the record."""
    listed = {str(s.get("uuid", "")).lower() for s in body.get("signatures") or []}
    names = {m["user_id"]: m["name"] for m in team if m["user_id"]}
    kinds = refusals.signer_labels()
    rows = db.session.scalars(select(RecordSignature).where(
        RecordSignature.visit_id == visit.id).order_by(RecordSignature.id)).all()
    return [{"uuid": r.uuid, "kind_label": kinds.get(r.signer_kind, ""),
             "name": (r.signer_name or "").strip() or names.get(r.signer_user_id, ""),
             "signed_at": to_local(r.signed_at) if r.signed_at else None,
             "received_at": to_local(r.received_at), "signs": r.signs}
            for r in rows if r.uuid not in listed]


def _items(visit: Visit, body: dict) -> list[dict]:
    answers = {a.get("question"): a for a in body.get("answers") or []}
    words = answer_labels()
    out = []
    for version, code in visit_versions(visit):
        questions = []
        for q in version.questions:
            a = answers.get(q.code) or {}
            questions.append({"code": q.code, "text": q.text, "legal_basis": q.legal_basis,
                              "answer": a.get("answer"),
                              "answer_label": words.get(a.get("answer") or "", ""),
                              "note": a.get("note") or "", "order": a.get("order")})
        out.append({"code": code, "name": version.name, "legal_basis": version.legal_basis,
                    "questions": questions})
    return out


def _orders(items: list[dict]) -> list[dict]:
    return [dict(q, item=i["name"], item_legal_basis=i["legal_basis"])
            for i in items for q in i["questions"]
            if q["answer"] == "non_compliant" and q["order"]]


def _common(visit: Visit) -> dict[str, Any]:
    employer = visit.employer
    tasks = ops._tasks(visit)
    return {"bureau": current_app.config["SETTINGS"].BUREAU_NAME, "visit": visit,
            "employer": employer, "tasks": tasks, "team": _team(visit),
            "announced": all(t.announced for t in tasks),
            "region": employer.region.name if employer.region else "",
            "order_labels": {"stop": _("Order to stop"), "rectify": _("Order to rectify")}}


@dataclass
class RecordDocument:
    revision: RecordRevision | None
    context: dict[str, Any]


def record_document(visit: Visit, revision: RecordRevision | None = None) -> RecordDocument:
    """The contents of the inspection record: ``revision`` when given (a sealed revision's
    PDF kept by :mod:`.record_pdfs`), else the sealed record, or the latest save as a
    draft."""
    revision = revision or signing.sealed_revision(visit) or ops.latest_revision(visit)
    context = _common(visit)
    body = revision.body if revision else {}
    items = _items(visit, body)
    arrival = body.get("arrival") or {}
    refusal = body.get("refusal")
    seal = revision.seal if revision else None
    notice = body.get("notice") or {}
    context.update({
        "revision": revision, "body": body, "sealed": bool(seal), "seal": seal,
        "items": items, "orders": _orders(items),
        "arrived_at": _local(arrival.get("at")), "location": arrival.get("location"),
        "notice": notice, "notice_way": notice_ways().get(notice.get("way") or "", ""),
        "result_category": body.get("result_category"),
        "result_label": label(body.get("result_category")),
        "photos": _photos(visit, body),
        "signatures": _signatures(visit, body, context["team"]),
        "unlisted_signatures": unlisted_signatures(visit, body, context["team"]),
        "refusal": refusal,
        "refusal_label": refusals.reason_labels().get((refusal or {}).get("reason"), ""),
        "verify_url": verification_url(seal) if seal else None,
        "qr": qr_png(verification_url(seal)) if seal else None,
    })
    return RecordDocument(revision, context)


def notice_ways() -> dict[str, str]:
    return {"written": _("In writing"), "phone": _("By telephone"), "fax": _("By fax")}


def notice_document(visit: Visit) -> dict[str, Any]:
    """检查通知书. None exists for an unannounced visit (a visit serving any task that is not
    announced): the employer may learn nothing of it beforehand (seed 004 第十九条(二))."""
    context = _common(visit)
    if not context["announced"]:
        raise NotFound(_("This visit is unannounced: no advance notice exists for it "
                         "(nothing may be revealed to the employer beforehand)."))
    versions = visit_versions(visit)
    context.update({"items": [{"code": code, "name": v.name, "legal_basis": v.legal_basis}
                              for v, code in versions],
                    "announced": all(t.announced for t in context["tasks"]),
                    "issued_on": to_local(utcnow()).date().isoformat()})
    latest = signing.sealed_revision(visit) or ops.latest_revision(visit)
    notice = (latest.body.get("notice") if latest else None) or {}
    if notice.get("date"):
        context["issued_on"] = notice["date"]
    return context


def order_document(visit: Visit) -> dict[str, Any]:
    doc = record_document(visit)
    if not doc.context["orders"]:
        raise NotFound(_("No order to stop or rectify was given on this visit."))
    return doc.context


# --- rendering --------------------------------------------------------------------------------

def _fetcher():
    """WeasyPrint may read data: URIs and nothing else (no network, no files)."""
    from weasyprint.urls import URLFetcher

    class OnlyData(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith("data:"):
                raise ValueError("only data: URIs are fetched")
            return super().fetch(url, headers)

    return OnlyData()


def _weasyprint():
    """WeasyPrint's module, imported with the Pillow setting it changes put back: importing
    it sets ``ImageFile.LOAD_TRUNCATED_IMAGES = True`` for the whole process, which would
    let truncated evidence photos through (:mod:`.photos` relies on the default)."""
    from PIL import ImageFile

    import weasyprint

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return weasyprint


def render_pdf(template: str, context: dict[str, Any]) -> bytes:
    weasyprint = _weasyprint()
    CSS, HTML = weasyprint.CSS, weasyprint.HTML

    with force_locale(DOCUMENT_LOCALE):
        html = render_template(template, **context, pdf=True)
    fetcher = _fetcher()
    css = CSS(string=CSS_FILE.read_text(encoding="utf-8"), url_fetcher=fetcher)
    return HTML(string=html, url_fetcher=fetcher,
                base_url=str(ROOT)).write_pdf(stylesheets=[css])


def record_pdf(visit: Visit, revision: RecordRevision | None = None) -> bytes:
    return render_pdf("documents/record.html", record_document(visit, revision).context)


def notice_pdf(visit: Visit) -> bytes:
    return render_pdf("documents/notice.html", notice_document(visit))


def order_pdf(visit: Visit) -> bytes:
    return render_pdf("documents/order.html", order_document(visit))


# --- public verification ----------------------------------------------------------------------

def public_record(seal: str) -> dict[str, Any]:
    """What anyone may see of a sealed record, by its seal (404 when there is none): that it
    is genuine, and the bureau's published result only (``published``: category, whether
    and when it was corrected, the link to the public result), or ``None`` while the result
    is not published ("result pending"). Never the on-site category: the team's proposal
    becomes the bureau's result by the determination, and nothing of it is public before
    (seed 000 三(九) "经审核批准后再予以公示"). The published result comes from the review
    package through ``app.extensions["published_result"]`` (fieldwork does not import
    review)."""
    seal = (seal or "").strip().lower()
    if not SEAL.match(seal):
        raise NotFound(_("No sealed record has this seal."))
    row = db.session.scalar(select(RecordRevision).where(RecordRevision.seal == seal)
                            .order_by(RecordRevision.id).limit(1))
    if row is None:
        raise NotFound(_("No sealed record has this seal."))
    visit = row.visit
    later = db.session.scalar(select(RecordRevision).where(
        RecordRevision.record_id == row.record_id, RecordRevision.seal.is_not(None),
        RecordRevision.revision > row.revision).order_by(RecordRevision.revision.desc())
        .limit(1))
    arrived = _local((row.body.get("arrival") or {}).get("at"))
    reader = current_app.extensions.get("published_result")
    return {"seal": seal, "number": visit.number, "employer": visit.employer.name,
            "date": arrived.date() if arrived else to_local(row.received_at).date(),
            "published": reader(visit) if reader is not None else None,
            "bureau": current_app.config["SETTINGS"].BUREAU_NAME,
            "tasks": [t.name for t in ops._tasks(visit)],
            "is_correction": bool(row.corrects),
            "superseded_by": later.seal if later else None}

