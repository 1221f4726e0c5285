"""What the field modules share, kept below :mod:`~inspection.fieldwork.operations`,
:mod:`~inspection.fieldwork.joint` and :mod:`~inspection.fieldwork.signing` (it imports none of
them), so that they import it at the top and never each other from inside a function: the
visit scope of a user, upload keys, receipt times, schema errors as field keys, a visit's item
versions and questions, the photos a record revision still waits for, and what the packs of a
list of visits read, read for the whole list at once (:func:`visit_facts`).
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, inspect, select
from sqlalchemy.orm import joinedload

from ..catalogue.models import CheckItemVersion
from ..core.errors import NotFound, ValidationFailed
from ..core.models import Department, User
from ..directory.models import Inspector
from ..draws.models import TeamMember
from ..extensions import db
from .models import (EvidencePhoto, ItemAssignment, RecordRevision, ReviewReturn, Visit,
                     VisitArrangement)
from .visits import TaskRow, VersionRow, checked_versions, pack_rows_of

#: An upload key: a UUID in lower case, as ``crypto.randomUUID()`` makes it on the phone.
KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def stamp(value: datetime) -> str:
    """A stored UTC time as it appears in receipts: ISO 8601 with milliseconds and Z."""
    return value.isoformat(timespec="milliseconds") + "Z"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY.match(key):
        raise ValidationFailed(_("The key must be a UUID in lower case."),
                               fields={"key": [_("Not a lower-case UUID.")]})
    return key


def schema_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested errors as ``{"answers.2.note": [...]}``.

    Not :func:`inspection.core.fields.flat_errors`: that one files a nested object's own
    errors under the object (``refusal``), this one under ``refusal._schema``, and the field
    app's error keys stay as they were."""
    out: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            out.update(schema_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        out[prefix or "_schema"] = list(errors)
    else:
        out[prefix or "_schema"] = [str(errors)]
    return out


# --- scope ------------------------------------------------------------------------------------

def my_visit(user: User, number: str | None) -> Visit:
    """The visit ``number`` if the user is on its team, otherwise :class:`NotFound`.

    The rule of :func:`inspection.draws.team.queries.my_visits` (the user's inspector,
    ``team.queries.inspector_of``, is an active member of the visit's team), asked for one visit
    in one query: the photo upload calls it for every photo."""
    visit = None
    if number:
        visit = db.session.scalar(
            select(Visit).join(TeamMember, TeamMember.visit_id == Visit.id)
            .join(Inspector, Inspector.id == TeamMember.inspector_id)
            .where(Visit.number == number, Inspector.user_id == user.id,
                   TeamMember.replaced_at.is_(None)).limit(1))
    if visit is None:
        raise NotFound(_("No such visit among yours."))
    return visit


# --- what a visit checks ----------------------------------------------------------------------

def visit_versions(visit: Visit) -> list[tuple[CheckItemVersion, str]]:
    """(item version, item code) the visit checks, in its order."""
    return checked_versions(visit.id)


def visit_questions(visit: Visit) -> dict[str, set[str]]:
    """Item code -> its question codes, for the item versions of the visit; for a
    rectification follow-up, only the items and questions it checks again
    (:func:`follow_up_scope`)."""
    questions = {code: {q.code for q in v.questions} for v, code in visit_versions(visit)}
    if visit.follows_id is None:
        return questions
    _numbers, scope = follow_up_scope([visit])
    return {item: questions[item] & set(codes)
            for item, codes in scope.get(visit.id, {}).items() if item in questions}


# --- photos of a record revision --------------------------------------------------------------

def listed_photos(row: RecordRevision) -> dict[str, str]:
    """Photo key -> SHA-256 of the photos the revision lists."""
    return {str(p.get("uuid", "")).lower(): str(p.get("sha256", "")).lower()
            for p in (row.body.get("photos") or [])}


def _received(visit_id: int, uuids) -> dict[str, str]:
    uuids = list(uuids)
    if not uuids:
        return {}
    return dict(db.session.execute(select(EvidencePhoto.uuid, EvidencePhoto.sha256).where(
        EvidencePhoto.uuid.in_(uuids), EvidencePhoto.visit_id == visit_id)).all())


def missing_photos(row: RecordRevision) -> list[str]:
    """The photos this revision lists that have not arrived (or arrived with other bytes)."""
    listed = listed_photos(row)
    got = _received(row.visit_id, listed)
    return [u for u, sha in listed.items() if got.get(u) != sha]


# --- the record of a visit --------------------------------------------------------------------

def latest_revisions(visit_ids) -> dict[int, RecordRevision | None]:
    """Visit id -> its current record (:func:`inspection.fieldwork.operations.latest_revision`:
    of the record most recently written to, its highest revision; members' parts of a joint
    visit are not the record), or None: two queries for a list of visits."""
    ids = list(dict.fromkeys(visit_ids))
    found: dict[int, RecordRevision | None] = {i: None for i in ids}
    if not ids:
        return found
    last = select(func.max(RecordRevision.id)).where(
        RecordRevision.visit_id.in_(ids), RecordRevision.is_part.is_(False)) \
        .group_by(RecordRevision.visit_id)
    records = dict(db.session.execute(select(RecordRevision.record_id, RecordRevision.visit_id)
                                      .where(RecordRevision.id.in_(last))).tuples().all())
    if records:
        highest = select(RecordRevision.record_id, func.max(RecordRevision.revision)
                         .label("revision")).where(RecordRevision.record_id.in_(records)) \
            .group_by(RecordRevision.record_id).subquery()
        for row in db.session.scalars(select(RecordRevision).join(highest, and_(
                RecordRevision.record_id == highest.c.record_id,
                RecordRevision.revision == highest.c.revision))):
            found[records[row.record_id]] = row
    return found


# --- what the packs of a list of visits read --------------------------------------------------

#: Earlier visits of the employer shown in the pack (pre-check, 预查比对).
PREVIOUS_VISITS = 5


@dataclass
class VisitFacts:
    """What the packs of a list of visits read (:func:`visit_facts`), read for all of them at
    once: the field app's visit list makes every visit's pack for its ETag, in a number of
    statements that does not grow with the visits. Keyed by visit id."""

    versions: dict[int, list[tuple[VersionRow, str]]]           # with their questions
    tasks: dict[int, list[TaskRow]]
    members: dict[int, list[TeamMember]]                        # active, leader first
    people: dict[int, Inspector]                                # by inspector id
    arrangements: dict[int, VisitArrangement]
    assignments: dict[int, list[tuple[int, int]]]               # (version id, inspector id)
    department_names: dict[int, str]
    returns: dict[int, list[tuple[ReviewReturn, str]]]          # newest first, with who
    earlier: dict[int, list[Visit]]                             # newest first
    latest: dict[int, RecordRevision | None]                    # of the earlier visits
    #: Rectification follow-ups only (absent for a drawn visit): the number of the visit
    #: followed, and its item code -> the question codes answered non-compliant in its
    #: sealed record, the only ones the follow-up checks again (:func:`follow_up_scope`).
    follows: dict[int, str] = dataclasses.field(default_factory=dict)
    scope: dict[int, dict[str, list[str]]] = dataclasses.field(default_factory=dict)


def follow_up_scope(visits: list[Visit]) -> tuple[dict[int, str], dict[int, dict[str, list[str]]]]:
    """For the rectification follow-ups among ``visits`` (``follows_id`` set): (visit id ->
    the number of the visit followed, visit id -> {item code: [question codes]} answered
    non-compliant in the sealed record of the visit followed). No statement when there is
    no follow-up among them, three otherwise, whatever their number."""
    follows = {v.id: v.follows_id for v in visits if v.follows_id is not None}
    if not follows:
        return {}, {}
    originals = set(follows.values())
    numbers = dict(db.session.execute(select(Visit.id, Visit.number)
                                      .where(Visit.id.in_(originals))).tuples().all())
    # The sealed record of each visit followed (signing.sealed_revision, for a list): the
    # record most recently sealed, its highest sealed revision.
    record_of: dict[int, str] = {}
    for visit_id, record_id in db.session.execute(
            select(RecordRevision.visit_id, RecordRevision.record_id).where(
                RecordRevision.visit_id.in_(originals), RecordRevision.seal.is_not(None),
                RecordRevision.is_part.is_(False)).order_by(RecordRevision.id.desc())):
        record_of.setdefault(visit_id, record_id)
    sealed: dict[str, RecordRevision] = {}
    if record_of:
        for row in db.session.scalars(select(RecordRevision).where(
                RecordRevision.record_id.in_(set(record_of.values())),
                RecordRevision.seal.is_not(None)).order_by(RecordRevision.revision)):
            sealed[row.record_id] = row
    scope: dict[int, dict[str, list[str]]] = {}
    for visit_id, original in follows.items():
        row = sealed.get(record_of.get(original, ""))
        found: dict[str, list[str]] = {}
        for answer in (row.body.get("answers") or []) if row is not None else []:
            if answer.get("answer") == "non_compliant" and answer.get("item"):
                found.setdefault(answer["item"], [])
                if answer.get("question"):
                    found[answer["item"]].append(answer["question"])
        scope[visit_id] = found
    return {v: numbers[o] for v, o in follows.items()}, scope


# visit_facts's statements, built once (the visit ids bound as ``ids``, a list): only their
# parameters change per request, and SQLAlchemy's compiled cache answers them.
_IDS = bindparam("ids", expanding=True)
_TEAMS = (select(TeamMember, Inspector).join(Inspector, Inspector.id == TeamMember.inspector_id)
          .where(TeamMember.visit_id.in_(_IDS), TeamMember.replaced_at.is_(None))
          .order_by(TeamMember.is_leader.desc(), TeamMember.id))
_ARRANGEMENTS = select(VisitArrangement).where(VisitArrangement.visit_id.in_(_IDS))
_ASSIGNMENTS = (select(ItemAssignment.visit_id, ItemAssignment.item_version_id,
                       ItemAssignment.inspector_id)
                .where(ItemAssignment.visit_id.in_(_IDS)).order_by(ItemAssignment.id))
_RETURNS = (select(ReviewReturn, User.display_name)
            .join(User, User.id == ReviewReturn.returned_by_id)
            .where(ReviewReturn.visit_id.in_(_IDS))
            .order_by(ReviewReturn.returned_at.desc(), ReviewReturn.id.desc()))
_EMPLOYERS_VISITS = (select(Visit).where(Visit.employer_id.in_(_IDS))
                     .order_by(Visit.window_start.desc(), Visit.id.desc()))


def visit_facts(visits: list[Visit]) -> VisitFacts:
    """Read what the packs of ``visits`` need (the visits' employers come along, unless the
    caller read them with the visits)."""
    ids = [v.id for v in visits]
    unloaded = [v.id for v in visits if "employer" in inspect(v).unloaded]
    if unloaded:
        # Fills the employers (with their regions) of the visits already in the session.
        db.session.scalars(select(Visit).where(Visit.id.in_(unloaded))
                           .options(joinedload(Visit.employer))).all()
    # The active members, leader first (team.queries.members_by_visit), with their people.
    members: dict[int, list[TeamMember]] = {i: [] for i in ids}
    people: dict[int, Inspector] = {}
    if ids:
        for member, person in db.session.execute(_TEAMS, {"ids": ids}).tuples():
            members[member.visit_id].append(member)
            people[person.id] = person
    # Department names are shown for joint teams only (several departments).
    joint_departments = {m.department_id for team in members.values()
                         if len({m.department_id for m in team}) > 1 for m in team}
    names = dict(db.session.execute(select(Department.id, Department.name).where(
        Department.id.in_(joint_departments))).tuples().all()) if joint_departments else {}
    arrangements = {row.visit_id: row for row in db.session.scalars(
        _ARRANGEMENTS, {"ids": ids})} if ids else {}
    assignments: dict[int, list[tuple[int, int]]] = {i: [] for i in ids}
    returns: dict[int, list[tuple[ReviewReturn, str]]] = {i: [] for i in ids}
    earlier: dict[int, list[Visit]] = {i: [] for i in ids}
    if ids:
        for visit_id, version_id, inspector_id in db.session.execute(_ASSIGNMENTS,
                                                                     {"ids": ids}):
            assignments[visit_id].append((version_id, inspector_id))
        for row, by in db.session.execute(_RETURNS, {"ids": ids}).tuples():
            returns[row.visit_id].append((row, by))
        # Every visit of the employers, then per visit the earlier ones as the pack shows them.
        others = db.session.scalars(_EMPLOYERS_VISITS, {
            "ids": sorted({v.employer_id for v in visits})}).all()
        for visit in visits:
            earlier[visit.id] = [o for o in others if o.employer_id == visit.employer_id
                                 and o.id != visit.id
                                 and o.window_start <= visit.window_start][:PREVIOUS_VISITS]
    follows, scope = follow_up_scope(visits)
    versions, tasks = pack_rows_of(ids)
    return VisitFacts(
        follows=follows, scope=scope,
        versions=versions, tasks=tasks,
        members=members, people=people, arrangements=arrangements, assignments=assignments,
        department_names=names, returns=returns, earlier=earlier,
        latest=latest_revisions(o.id for rows in earlier.values() for o in rows))
