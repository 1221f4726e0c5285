"""Every check of one record save, run in one place and in one order (:func:`check`):

1. the answers: against the visit (items, questions and photos of this visit, each question
   answered once, each photo listed once; no notice on an unannounced visit), then each
   answer's own rules (:func:`inspection.fieldwork.results.check_record`);
2. the result category against the answers and photos (the same call);
3. the refusal section (:func:`inspection.fieldwork.refusals.check_refusal`);
4. the signers of a sealed save (:func:`inspection.fieldwork.signing.check_signers`);
5. the seal and what each signature signs (:func:`inspection.fieldwork.seal.check_seal`);
6. the joint visit's parts and departments (:func:`inspection.fieldwork.joint.check_joint`);

then the record's history: a save after a sealed revision corrects it
(:func:`inspection.fieldwork.signing.check_correction`), and a record belongs to one visit.

Each check is a function of the module of its concern and calls no other module's check: a
rule is found where its concern lives, and the messages of a field come in the order above.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..core.models import User
from ..extensions import db
from . import joint, refusals, seal, signing
from .common import visit_questions
from .models import RecordRevision, Visit
from .results import check_record

Errors = dict[str, list[str]]


def _merge(errors: Errors, more: Errors) -> None:
    for key, messages in more.items():
        errors.setdefault(key, []).extend(messages)


def check_against_visit(body: dict, visit: Visit) -> Errors:
    """The answers and photos against the visit: each answer of an item of the visit and a
    question of that item, each question answered once; each photo's question on the visit,
    each photo listed once."""
    errors: Errors = {}
    items = visit_questions(visit)
    all_questions = set().union(*items.values()) if items else set()
    seen: set[str] = set()
    for n, answer in enumerate(body.get("answers") or []):
        item, question = answer["item"], answer["question"]
        if item not in items:
            errors.setdefault(f"answers.{n}.item", []).append(
                _("This item is not checked on this visit."))
        elif question not in items[item]:
            errors.setdefault(f"answers.{n}.question", []).append(
                _("This question does not belong to the item."))
        if question in seen:
            errors.setdefault(f"answers.{n}.question", []).append(
                _("This question is answered twice."))
        seen.add(question)
    uuids: set[str] = set()
    for n, photo in enumerate(body.get("photos") or []):
        if photo.get("question") and photo["question"] not in all_questions:
            errors.setdefault(f"photos.{n}.question", []).append(
                _("This question is not on this visit."))
        uuid = str(photo.get("uuid", "")).lower()
        if uuid in uuids:
            errors.setdefault(f"photos.{n}.uuid", []).append(_("This photo is listed twice."))
        uuids.add(uuid)
    return errors


def check_notice(body: dict, visit: Visit) -> Errors:
    """No advance notice on an unannounced visit (one serving any task that is not
    announced): nothing may be revealed to the employer beforehand (seed 004 第十九条(二))."""
    if not body.get("notice"):
        return {}
    from ..planning.models import Task
    from .models import VisitTask

    unannounced = db.session.scalar(select(Task.id).join(VisitTask, VisitTask.task_id == Task.id)
                                    .where(VisitTask.visit_id == visit.id,
                                           Task.announced.is_(False)).limit(1))
    if unannounced is None:
        return {}
    return {"notice": [_("This visit is unannounced: no advance notice is given to the "
                         "employer, so the record has no notice section.")]}


def check_record_of_visit(visit: Visit, record_id: str) -> Errors:
    """A record id belongs to the visit it was first saved for."""
    other_visit = db.session.scalar(select(RecordRevision.visit_id).where(
        RecordRevision.record_id == record_id, RecordRevision.visit_id != visit.id).limit(1))
    if other_visit is None:
        return {}
    return {"record_id": [_("This record belongs to another visit.")]}


def check(user: User, visit: Visit, body: dict, record_id: str, revision: int) -> Errors:
    """Every problem of a record save (a body its schema accepted, of a visit of the user's
    teams), as field errors keyed like the body; empty when it may be stored."""
    errors: Errors = {}
    _merge(errors, check_against_visit(body, visit))
    _merge(errors, check_notice(body, visit))
    _merge(errors, check_record(body.get("answers") or [], body.get("result_category"),
                                len(body.get("photos") or [])))
    _merge(errors, refusals.check_refusal(body, seal.is_sealed(body)))
    _merge(errors, signing.check_signers(body, visit))
    _merge(errors, seal.check_seal(body))
    _merge(errors, joint.check_joint(user, visit, body))
    _merge(errors, signing.check_correction(body, record_id, revision))
    _merge(errors, check_record_of_visit(visit, record_id))
    return errors


def headline(errors: Errors) -> str:
    """The message of a refused save: what concerns the seal first, else the general one."""
    if "seal" in errors:
        return _("The sealed record does not match its seal: it was changed after sealing. "
                 "It was not stored.")
    if any(k.startswith("signatures.") and k.endswith(".signs") for k in errors):
        return _("The signatures were made for another version of the record: sign again.")
    if "corrects" in errors:
        return _("This record is sealed: only a correction naming the sealed revision can "
                 "follow it.")
    return _("The record is not consistent; see the fields.")
