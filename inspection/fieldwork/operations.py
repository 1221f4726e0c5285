"""The field app's server side: visit packs, record revisions and evidence photos
(``docs/field-sync.md`` is the contract with the PWA).

Scope: an inspector sees and writes only the visits of their own teams (the rule of
:func:`inspection.draws.team.queries.my_visits`: an active, not replaced :class:`TeamMember` of the
user's :class:`Inspector`, asked by :func:`inspection.fieldwork.common.my_visit`); any other
visit is "not found". What a record save must satisfy is checked by
:mod:`inspection.fieldwork.record_checks`.

Idempotency: every upload carries a key made on the phone (a UUID). The row is inserted under
the unique constraint on that key, never after a look-up: when the insert fails, the stored row
is loaded and compared. The same body answers the stored receipt (nothing created, no audit
entry); a different body under the same key is a conflict (409).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..core import audit
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.models import User, utcnow
from ..core.timeutil import local_to_utc
from ..directory.models import Inspector
from ..draws.models import TeamMember
from ..extensions import db
from ..planning.models import Task
from . import joint, photos, record_checks, signing
from .common import (VisitFacts, check_key, latest_revisions, listed_photos, missing_photos,
                     my_visit, schema_errors, stamp, visit_facts, visit_questions)
from .models import EvidencePhoto, RecordRevision, Visit, VisitStatus, VisitTask
from .refusals import (MIN_INSPECTOR_SIGNATURES, NEED_REFUSAL, REFUSAL_RULES,
                       REPRESENTATIVE_ROLES)
from .results import CATEGORY_RULES, categories, label
from .schemas import RecordBodySchema

#: Largest record body accepted (canonical JSON), in bytes.
MAX_RECORD_BYTES = 1024 * 1024


def _settings():
    return current_app.config["SETTINGS"]


def photos_limit() -> int:
    """The largest photo upload accepted, in bytes (the bureau's setting)."""
    return _settings().MAX_PHOTO_BYTES


# --- reading ----------------------------------------------------------------------------------
#
# A pack is made from :class:`~.common.VisitFacts`, read for one visit or for a whole list at
# once (the visit list makes every pack for its ETag): the same code, and so the same bytes
# and the same ETag, either way.

def _team(visit: Visit, me_id: int | None, facts: VisitFacts) -> list[dict]:
    people = facts.people
    return [{"name": people[m.inspector_id].name, "is_leader": m.is_leader,
             "is_me": m.inspector_id == me_id, "user_id": people[m.inspector_id].user_id,
             "department_id": m.department_id}
            for m in facts.members[visit.id]]


def _tasks(visit: Visit) -> list[Task]:
    return db.session.scalars(select(Task).join(VisitTask, VisitTask.task_id == Task.id)
                              .where(VisitTask.visit_id == visit.id).order_by(Task.id)).all()


def _summary(visit: Visit, tasks: list[Task], versions, team: list[dict],
             returned: bool = False, follows: str | None = None) -> dict:
    """The visit as the visit list shows it; ``returned``: the office returned its sealed
    record and the team has not sealed a correction yet (an unresolved return);
    ``follows``: the number of the visit a rectification follow-up (复查) checks again."""
    employer = visit.employer
    return {"number": visit.number,
            "employer": {"name": employer.name, "credit_code": employer.credit_code,
                         "address": employer.address},
            "window": [visit.window_start.isoformat(), visit.window_end.isoformat()],
            "status": visit.status,
            "announced": all(t.announced for t in tasks),
            "tasks": [{"id": t.id, "name": t.name, "announced": t.announced} for t in tasks],
            "items": [{"code": code, "name": v.name} for v, code in versions],
            "team": team,
            "returned": returned,
            "follows": follows}


def _review(visit: Visit, facts: VisitFacts) -> dict:
    """The office's returns of the visit's record, newest first."""
    rows = facts.returns[visit.id]
    return {"status": visit.status,
            "returns": [{"at": stamp(r.returned_at), "by": by, "comments": r.comments,
                         "item_comments": [{"item": c.get("item"), "question": c.get("question"),
                                            "comment": c.get("comment")}
                                           for c in r.item_comments or []],
                         "resolved": r.resolved_at is not None}
                        for r, by in rows]}


def _employer(visit: Visit) -> dict:
    e = visit.employer
    return {"credit_code": e.credit_code, "name": e.name, "employer_type": e.employer_type,
            "address": e.address, "region_code": e.region_code,
            "region": e.region.name if e.region else "", "industry": e.industry,
            "legal_representative": e.legal_representative, "contact_phone": e.contact_phone,
            "employees": e.employees, "risk_grade": e.risk_grade,
            "flag_complaints": e.flag_complaints, "flag_abnormal": e.flag_abnormal,
            "flag_serious_violation": e.flag_serious_violation, "status": e.status,
            "notes": e.notes}


def _previous(visit: Visit, facts: VisitFacts) -> list[dict]:
    """Earlier visits of the same employer, newest first, with their recorded results."""
    out = []
    for other in facts.earlier[visit.id]:
        latest = facts.latest[other.id]
        body = latest.body if latest else {}
        answers = body.get("answers") or []
        arrival = (body.get("arrival") or {}).get("at")
        bad = [a for a in answers if a.get("answer") == "non_compliant"]
        if latest is None:
            summary = _("No record received.")
        elif bad:
            summary = _("%(n)d non-compliant answer(s): %(questions)s", n=len(bad),
                        questions=", ".join(a.get("question", "") for a in bad))
        else:
            summary = _("%(n)d answer(s), none non-compliant.", n=len(answers))
        out.append({"number": other.number,
                    "date": arrival[:10] if arrival else other.window_start.isoformat(),
                    "result_category": latest.result_category if latest else None,
                    "result_label": label(latest.result_category) if latest else "",
                    "summary": summary})
    return out


def _notice_text(visit: Visit, versions) -> str:
    names = ", ".join(v.name for v, _code in versions)
    return _("%(bureau)s will carry out a random inspection of %(employer)s between "
             "%(start)s and %(end)s. Items to be checked: %(items)s. Please have the relevant "
             "documents ready and a person in charge present.",
             bureau=_settings().BUREAU_NAME, employer=visit.employer.name,
             start=visit.window_start.isoformat(), end=visit.window_end.isoformat(),
             items=names)


def _pack(visit: Visit, me_id: int | None, facts: VisitFacts) -> tuple[dict, str]:
    tasks, versions = facts.tasks[visit.id], facts.versions[visit.id]
    # A rectification follow-up checks again only what was non-compliant (docs/followup.md).
    scope = facts.scope.get(visit.id)
    if scope is not None:
        versions = [(v, code) for v, code in versions if code in scope]
    team = _team(visit, me_id, facts)
    settings = _settings()
    review = _review(visit, facts)
    returned = any(not r["resolved"] for r in review["returns"])
    pack = {
        "visit": _summary(visit, tasks, versions, team, returned, facts.follows.get(visit.id)),
        "employer": _employer(visit),
        "items": [{"version_id": v.id, "code": code, "name": v.name,
                   "legal_basis": v.legal_basis, "content": v.content,
                   "questions": [{"code": q.code, "text": q.text, "legal_basis": q.legal_basis,
                                  "evidence_hint": q.evidence_hint} for q in v.questions
                                 if scope is None or not scope[code] or q.code in scope[code]]}
                  for v, code in versions],
        "previous": _previous(visit, facts),
        "arrangement": joint.arrangement(visit, me_id, facts),
        "team": team,
        "departments": joint.department_parts(visit, facts),
        # An unannounced visit has no notice at all (seed 004 第十九条(二)).
        "notice_text": _notice_text(visit, versions) if all(t.announced for t in tasks)
        else None,
        "result_categories": categories(),
        "category_rules": CATEGORY_RULES,
        "refusal_rules": {"reasons": REFUSAL_RULES, "need_refusal": NEED_REFUSAL,
                          "representative_roles": REPRESENTATIVE_ROLES,
                          "min_inspector_signatures": MIN_INSPECTOR_SIGNATURES},
        "settings": {"keep_originals": settings.KEEP_PHOTO_ORIGINALS,
                     "max_photo_bytes": settings.MAX_PHOTO_BYTES},
        "review": review,
    }
    etag = hashlib.sha256(audit.canonical_json(pack)).hexdigest()
    pack["generated_at"] = stamp(utcnow())
    return pack, etag


#: The user's visits (team.queries.my_visits's rule: the user's inspector an active member of
#: the visit's team) with that inspector's id and the visits' employers, for the bound
#: ``user_id``; built once.
_MINE = (select(Visit, Inspector.id).join(TeamMember, TeamMember.visit_id == Visit.id)
         .join(Inspector, Inspector.id == TeamMember.inspector_id)
         .where(Inspector.user_id == bindparam("user_id"), TeamMember.replaced_at.is_(None))
         .options(joinedload(Visit.employer)))
_MY_VISITS = _MINE.order_by(Visit.window_start, Visit.number)
_MY_VISIT = _MINE.where(Visit.number == bindparam("number")).limit(1)


def my_visits(user: User) -> list[dict]:
    """The user's visits (those of ``team_queries.my_visits``), each with its pack's ETag:
    the packs are made from what is read for all the visits at once."""
    # team_queries.my_visits's rule and order, with the user's inspector id, in one statement
    # (what else my_visits reads, visit_facts reads for the packs).
    mine: dict[int, Visit] = {}
    me_id = None
    for visit, me_id in db.session.execute(_MY_VISITS, {"user_id": user.id}).tuples():
        mine.setdefault(visit.id, visit)
    visits = list(mine.values())
    facts = visit_facts(visits)
    out = []
    for visit in visits:
        pack, etag = _pack(visit, me_id, facts)
        out.append(dict(pack["visit"], pack_etag=etag))
    return out


def visit_pack(user: User, number: str) -> tuple[dict, str]:
    """Everything the phone needs offline for one visit, and its ETag (the SHA-256 of the
    pack's canonical JSON without ``generated_at``)."""
    # my_visit's rule (the user's inspector an active member of the visit's team), with that
    # inspector's id in the same statement (a user has at most one inspector).
    found = db.session.execute(_MY_VISIT, {"user_id": user.id, "number": number}).first() \
        if number else None
    if found is None:
        raise NotFound(_("No such visit among yours."))   # my_visit's answer
    visit, me_id = found
    return _pack(visit, me_id, visit_facts([visit]))


# --- record state -----------------------------------------------------------------------------

def latest_revision(visit: Visit) -> RecordRevision | None:
    """The visit's current record: of the record most recently written to (two phones may
    each keep a record of the same visit), its highest revision. Team members' parts of a
    joint visit are not the record (:mod:`inspection.fieldwork.joint`)."""
    return latest_revisions([visit.id])[visit.id]


def record_state(visit: Visit) -> dict[str, Any]:
    """The visit's current record (latest revision), the photos it lists, which arrived, and
    whether it is complete (a record, and every photo it lists arrived)."""
    latest = latest_revision(visit)
    if latest is None:
        return {"visit": visit.number, "record_id": None, "revision": None,
                "revision_uuid": None, "received_at": None, "result_category": None,
                "revisions": 0, "photos_listed": [], "photos_received": [],
                "missing_photos": [], "complete": False, "body": None, "seal": None,
                "missing_signatures": [], "sealed_revision_uuid": None}
    listed = listed_photos(latest)
    missing = missing_photos(latest)
    count = db.session.scalar(select(db.func.count(RecordRevision.id))
                              .where(RecordRevision.visit_id == visit.id))
    unsigned = signing.missing_signatures(latest)
    sealed = signing.sealed_revision(visit)
    return {"visit": visit.number, "record_id": latest.record_id, "revision": latest.revision,
            "revision_uuid": latest.revision_uuid, "received_at": stamp(latest.received_at),
            "result_category": latest.result_category, "revisions": count,
            "photos_listed": list(listed),
            "photos_received": [u for u in listed if u not in missing],
            "missing_photos": missing, "complete": not missing and not unsigned,
            "body": latest.body, "seal": latest.seal, "missing_signatures": unsigned,
            "sealed_revision_uuid": sealed.revision_uuid if sealed else None}


def visit_record(user: User, number: str) -> dict[str, Any]:
    return record_state(my_visit(user, number))


# --- receipts ---------------------------------------------------------------------------------

def receipt(row: RecordRevision | EvidencePhoto) -> dict[str, Any]:
    """The answer to an upload: echoes the key (only that counts as success on the phone)."""
    if isinstance(row, RecordRevision):
        return {"key": row.revision_uuid, "kind": "record", "sha256": row.body_sha256,
                "received_at": stamp(row.received_at), "record_id": row.record_id,
                "revision": row.revision, "missing_photos": missing_photos(row),
                "seal": row.seal, "missing_signatures": signing.missing_signatures(row)}
    return {"key": row.uuid, "kind": "photo", "sha256": row.sha256,
            "received_at": stamp(row.received_at), "width": row.width, "height": row.height}


# --- writing: records -------------------------------------------------------------------------

def _stored_revision(revision_uuid: str, sha: str, record_id: str,
                     revision: int) -> dict | None:
    """The stored receipt of the same body under this key; a conflict for another body
    under the key, or for another key with the same record and revision; else None."""
    stored = db.session.scalar(select(RecordRevision)
                               .where(RecordRevision.revision_uuid == revision_uuid))
    if stored is not None:
        if stored.body_sha256 == sha:
            return receipt(stored)
        raise Conflict(_("This key was already used for a different save of the record."),
                       fields={"key": [_("Already used for a different body.")]})
    other = db.session.scalar(select(RecordRevision.revision_uuid).where(
        RecordRevision.record_id == record_id, RecordRevision.revision == revision))
    if other is not None:
        raise Conflict(_("Revision %(n)d of this record is already stored under another key.",
                         n=revision), fields={"revision": [_("Already stored.")]})
    return None


def put_record_revision(user: User, revision_uuid: str, body: Any) -> tuple[dict, bool]:
    """Store one save of a visit record under its key. Returns ``(receipt, created)``."""
    check_key(revision_uuid)
    if not isinstance(body, dict):
        raise ValidationFailed(_("The record must be a JSON object."))
    canonical = audit.canonical_json(body)
    if len(canonical) > MAX_RECORD_BYTES:
        raise photos.TooLarge(_("The record is too large."))
    sha = hashlib.sha256(canonical).hexdigest()
    problems = RecordBodySchema().validate(body)
    if problems:
        raise ValidationFailed(_("Some values are not valid."), fields=schema_errors(problems))
    visit = my_visit(user, body["visit"])
    record_id, revision = body["record_id"].lower(), body["revision"]
    errors = record_checks.check(user, visit, body, record_id, revision)
    if errors:
        # A save stored before a rule changed is still answered with its receipt.
        stored = _stored_revision(revision_uuid, sha, record_id, revision)
        if stored is not None:
            return stored, False
        raise ValidationFailed(record_checks.headline(errors), fields=errors)
    row = RecordRevision(revision_uuid=revision_uuid, record_id=record_id, revision=revision,
                         visit_id=visit.id, author_id=user.id,
                         body=json.loads(canonical), body_sha256=sha,
                         received_at=utcnow(), result_category=body.get("result_category"),
                         seal=body.get("seal") or None,
                         corrects=str(body.get("corrects") or "").lower() or None,
                         is_part=body.get("part") is not None)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        stored = _stored_revision(revision_uuid, sha, record_id, revision)
        if stored is None:
            raise
        return stored, False
    if visit.status in (VisitStatus.PLANNED.value, VisitStatus.ASSIGNED.value):
        visit.status = VisitStatus.IN_PROGRESS.value
    signing.after_store(row, visit)
    audit.record("field.record_revision", "visit", visit.id,
                 {"visit": visit.number, "record_id": record_id, "revision": revision,
                  "key": revision_uuid, "sha256": sha,
                  "result_category": row.result_category, "seal": row.seal,
                  "corrects": row.corrects}, actor=user)
    result = receipt(row)
    db.session.commit()
    return result, True


# --- writing: photos --------------------------------------------------------------------------

def _parse_time(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(_("Not a date and time."),
                               fields={field: [_("Expected ISO 8601, e.g. "
                                                 "2026-04-02T10:15:03+08:00.")]}) from None
    if moment.tzinfo is None:
        return local_to_utc(moment)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _stored_photo(photo_uuid: str, sha: str, visit: Visit) -> dict | None:
    """The stored receipt of these bytes under this key; a conflict for other bytes (or
    another visit) under the key; None when the key is new."""
    found = db.session.execute(select(EvidencePhoto.sha256, EvidencePhoto.visit_id)
                               .where(EvidencePhoto.uuid == photo_uuid)).first()
    if found is None:
        return None
    if found.sha256 != sha or found.visit_id != visit.id:
        raise Conflict(_("This key was already used for a different photo."),
                       fields={"key": [_("Already used for different bytes.")]})
    return receipt(db.session.scalar(select(EvidencePhoto)
                                     .where(EvidencePhoto.uuid == photo_uuid)))


def put_photo(user: User, photo_uuid: str, data: bytes, *, visit_number: str | None,
              content_sha256: str | None, original_sha256: str | None = None,
              question: str | None = None, document_copy: bool = False,
              taken_at: str | None = None, is_original: bool = False) -> tuple[dict, bool]:
    """Check, process and store one evidence photo under its key. ``(receipt, created)``."""
    check_key(photo_uuid)
    settings = _settings()
    photos.check_size(len(data), settings.MAX_PHOTO_BYTES)
    visit = my_visit(user, visit_number)
    sha = photos.check_sha256(data, content_sha256)
    fields: dict[str, list[str]] = {}
    original_sha256 = (original_sha256 or "").strip().lower() or None
    if original_sha256 and not photos.HEX64.match(original_sha256):
        fields["X-Original-SHA256"] = [_("Not a SHA-256.")]
    question = (question or "").strip() or None
    if question and question not in set().union(*visit_questions(visit).values(), set()):
        fields["X-Question"] = [_("This question is not on this visit.")]
    if is_original and not settings.KEEP_PHOTO_ORIGINALS:
        fields["X-Original"] = [_("This bureau does not keep originals.")]
    moment = _parse_time(taken_at, "X-Taken-At")
    if fields:
        # A photo stored before a setting changed is still answered with its receipt.
        stored = _stored_photo(photo_uuid, sha, visit)
        if stored is not None:
            return stored, False
        raise ValidationFailed(_("Some values are not valid."), fields=fields)
    processed = photos.process(data, sha, settings.MAX_PHOTO_BYTES)
    values = dict(uuid=photo_uuid, visit_id=visit.id, uploader_id=user.id, sha256=sha,
                  original_sha256=original_sha256 or (sha if is_original else None),
                  content_type=processed.content_type, bytes=processed.bytes,
                  width=processed.width, height=processed.height, exif=processed.exif,
                  display_sha256=processed.display_sha256,
                  thumb_sha256=processed.thumb_sha256, question=question,
                  document_copy=document_copy, is_original=is_original, taken_at=moment,
                  received_at=utcnow())
    try:
        db.session.execute(insert(EvidencePhoto).values(**values))
    except IntegrityError:
        db.session.rollback()
        stored = _stored_photo(photo_uuid, sha, my_visit(user, visit_number))
        if stored is None:
            raise
        return stored, False
    # The files go in only once the key is ours: a refused upload (409) leaves none behind.
    photos.store(data, processed)
    audit.record("field.photo", "visit", visit.id,
                 {"visit": visit.number, "key": photo_uuid, "sha256": sha,
                  "bytes": processed.bytes, "question": question,
                  "document_copy": document_copy, "original": is_original}, actor=user)
    result = receipt(EvidencePhoto(**values))
    db.session.commit()
    return result, True
