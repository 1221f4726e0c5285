"""Joint visits and the team leader (seed 000, 004 第十六条: the lead department's
inspector leads the team and organises the visit).

The leader arranges the visit: the day, the time and place the team meets, and the split of
the items among the members (:class:`VisitArrangement`, :class:`ItemAssignment`). Each member
then works on their own items on their own phone and sends *parts*: record revisions whose
body carries ``"part": {"finished": bool}``. Parts are never the visit's record
(:func:`inspection.fieldwork.operations.latest_revision` skips them); the leader's phone
assembles the one record from the members' parts and its own answers.

What the leader is given of a member's work is always a whole revision that arrived complete
(every photo it lists is on the server): a newer revision still waiting for photos is shown as
waiting, never mixed in (:func:`parts`). So the leader never sees a half-merged record.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..core import audit
from ..core.errors import Conflict, PermissionDenied, ValidationFailed
from ..core.models import Department, User, utcnow
from ..directory.models import Inspector
from ..draws.team import queries as team_queries
from ..draws.models import TeamMember
from ..extensions import db
from .common import (VisitFacts, missing_photos, my_visit, stamp, visit_questions,
                     visit_versions)
from .models import ItemAssignment, RecordRevision, Visit, VisitArrangement

TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d\Z")


# --- who is who -------------------------------------------------------------------------------

def _members(visit: Visit) -> list[TeamMember]:
    return team_queries.members_of(visit)


def _me(user: User, visit: Visit) -> TeamMember | None:
    inspector = team_queries.inspector_of(user)
    if inspector is None:
        return None
    return next((m for m in _members(visit) if m.inspector_id == inspector.id), None)


def require_leader(user: User, visit: Visit) -> TeamMember:
    """The user's membership of the visit's team, if they lead it; else PermissionDenied."""
    me = _me(user, visit)
    if me is None or not me.is_leader:
        raise PermissionDenied(_("Only the team leader of this visit may do this."))
    return me


def _versions(visit: Visit) -> list[tuple[int, str]]:
    """(item version id, item code) of the visit, in the visit's order."""
    return [(v.id, code) for v, code in visit_versions(visit)]


# --- the arrangement --------------------------------------------------------------------------

def split_of(visit: Visit, facts: VisitFacts | None = None) -> dict[str, list[int]]:
    """Item code -> the inspector ids it is given to, in the visit's order of items (empty
    when the visit is not split). ``facts``: read already for a list of visits."""
    if facts is None:
        rows = db.session.execute(
            select(ItemAssignment.item_version_id, ItemAssignment.inspector_id)
            .where(ItemAssignment.visit_id == visit.id).order_by(ItemAssignment.id)).all()
        versions = _versions(visit)
    else:
        rows = facts.assignments[visit.id]
        versions = [(v.id, code) for v, code in facts.versions[visit.id]]
    given: dict[int, list[int]] = {}
    for version_id, inspector_id in rows:
        given.setdefault(version_id, []).append(inspector_id)
    # In the visit's order of items.
    return {code: given[version_id] for version_id, code in versions if version_id in given}


def my_items(visit: Visit, inspector_id: int | None) -> list[str] | None:
    """The item codes assigned to this inspector, or None when the visit is not split
    (every member may answer every item)."""
    split = split_of(visit)
    if not split:
        return None
    return [code for code, people in split.items() if inspector_id in people]


def arrangement(visit: Visit, me_id: int | None,
                facts: VisitFacts | None = None) -> dict[str, Any]:
    """The arrangement as every member sees it (in the visit pack). ``facts``: read already
    for a list of visits."""
    if facts is None:
        row = db.session.scalar(select(VisitArrangement)
                                .where(VisitArrangement.visit_id == visit.id))
        members = _members(visit)
        people = team_queries.inspectors_by_id(m.inspector_id for m in members)
    else:
        row, members = facts.arrangements.get(visit.id), facts.members[visit.id]
        people = facts.people
    split = split_of(visit, facts)
    return {
        "revision": row.revision if row else 0,
        "scheduled_on": row.scheduled_on.isoformat() if row and row.scheduled_on else None,
        "meeting_time": row.meeting_time if row else "",
        "meeting_point": row.meeting_point if row else "",
        "notes": row.notes if row else "",
        "members": [{"inspector_id": m.inspector_id, "name": people[m.inspector_id].name,
                     "department_id": m.department_id, "is_leader": m.is_leader,
                     "is_me": m.inspector_id == me_id} for m in members],
        "split": split,
        "my_items": ([code for code, ids in split.items() if me_id in ids]
                     if split else None),
    }


def arrangement_for(user: User, number: str) -> dict[str, Any]:
    visit = my_visit(user, number)
    me = team_queries.inspector_of(user)
    return arrangement(visit, me.id if me else None)


def set_arrangement(user: User, number: str, data: dict[str, Any]) -> dict[str, Any]:
    """The leader saves the arrangement. ``data`` (checked by the API's schema): ``revision``
    (the one the leader edited; 0 for none), ``scheduled_on``, ``meeting_time``,
    ``meeting_point``, ``notes``, ``split`` (item code -> inspector ids; empty: no split)."""
    visit = my_visit(user, number)
    require_leader(user, visit)
    errors: dict[str, list[str]] = {}
    day: date | None = data.get("scheduled_on")
    if day is not None and not visit.window_start <= day <= visit.window_end:
        errors["scheduled_on"] = [_("The day must be within the visit's window, %(start)s to "
                                    "%(end)s.", start=visit.window_start.isoformat(),
                                    end=visit.window_end.isoformat())]
    meeting_time = (data.get("meeting_time") or "").strip()
    if meeting_time and not TIME.match(meeting_time):
        errors["meeting_time"] = [_("A time such as 08:30.")]
    codes = dict((code, vid) for vid, code in _versions(visit))
    active = {m.inspector_id for m in _members(visit)}
    split: dict[str, list[int]] = data.get("split") or {}
    for code, people in split.items():
        if code not in codes:
            errors.setdefault(f"split.{code}", []).append(
                _("This item is not checked on this visit."))
        elif not people:
            errors.setdefault(f"split.{code}", []).append(_("Choose at least one member."))
        elif any(p not in active for p in people):
            errors.setdefault(f"split.{code}", []).append(
                _("Only members of this visit's team can be given items."))
    if split:
        for code in codes:
            if code not in split:
                errors.setdefault(f"split.{code}", []).append(
                    _("Every item must be given to at least one member."))
    if errors:
        raise ValidationFailed(_("The arrangement is not valid; see the fields."), errors)
    row = db.session.scalar(select(VisitArrangement)
                            .where(VisitArrangement.visit_id == visit.id)
                            .with_for_update())
    current = row.revision if row else 0
    if data.get("revision", 0) != current:
        raise Conflict(_("Someone changed the arrangement since you opened it (now revision "
                         "%(n)d). Reload it and make your change again.", n=current),
                       {"revision": [_("Stale.")]})
    before = arrangement(visit, None)
    if row is None:
        row = VisitArrangement(visit_id=visit.id, revision=0, set_by_id=user.id)
        db.session.add(row)
    row.scheduled_on = day
    row.meeting_time = meeting_time
    row.meeting_point = (data.get("meeting_point") or "").strip()
    row.notes = (data.get("notes") or "").strip()
    row.revision = current + 1
    row.set_by_id, row.set_at = user.id, utcnow()
    db.session.execute(delete(ItemAssignment).where(ItemAssignment.visit_id == visit.id))
    db.session.add_all(ItemAssignment(visit_id=visit.id, item_version_id=codes[code],
                                      inspector_id=p)
                       for code, people in split.items() for p in dict.fromkeys(people))
    db.session.flush()
    after = arrangement(visit, None)
    changes = {key: [before[key], after[key]]
               for key in ("scheduled_on", "meeting_time", "meeting_point", "notes", "split")
               if before[key] != after[key]}
    audit.record("visit.arranged", "visit", visit.id,
                 {"visit": visit.number, "revision": row.revision, **changes}, actor=user)
    db.session.commit()
    me = team_queries.inspector_of(user)
    return arrangement(visit, me.id if me else None)


# --- departments: who signs what (seed 000 三(八)) -------------------------------------------

def department_parts(visit: Visit,
                     facts: VisitFacts | None = None) -> list[dict[str, Any]] | None:
    """The departments of a joint visit's team and what each answers for, as the record body
    lists them (``departments``; :mod:`inspection.fieldwork.seal`): ``[{"department_id",
    "name", "lead", "items", "questions"}]`` in order of department id. A department answers
    for the items it is responsible for (the item version's department); the lead department
    also for items of a department that is not on the team. None when the team is of one
    department (every signer then signs the whole record). ``facts``: read already for a
    list of visits."""
    members = _members(visit) if facts is None else facts.members[visit.id]
    on_team = {m.department_id for m in members}
    if len(on_team) < 2:
        return None
    lead = next((m.department_id for m in members if m.is_leader), min(on_team))
    names = dict(db.session.execute(select(Department.id, Department.name)
                                    .where(Department.id.in_(on_team))).all()) \
        if facts is None else facts.department_names
    parts = {d: {"department_id": d, "name": names[d], "lead": d == lead, "items": [],
                 "questions": []} for d in sorted(on_team)}
    versions = visit_versions(visit) if facts is None else facts.versions[visit.id]
    for version, code in versions:
        part = parts[version.department_id if version.department_id in on_team else lead]
        part["items"].append(code)
        part["questions"].extend(q.code for q in version.questions)
    return list(parts.values())


def check_departments(body: dict, visit: Visit) -> dict[str, list[str]]:
    """A joint visit's record lists the visit's departments as the server sees them; its
    inspector signers name their own department; and when sealed, every department of the
    team has signed its part. A record of a one-department team lists none. Members' parts
    are not signed by departments (the leader's record is)."""
    if body.get("part") is not None:
        return {}
    expected = department_parts(visit)
    listed = body.get("departments")
    errors: dict[str, list[str]] = {}
    if expected is None:
        if listed:
            errors["departments"] = [_("This visit's team is of one department: the record "
                                       "lists no departments.")]
        return errors
    if listed is not None and listed != expected:
        errors["departments"] = [_("The departments and their items do not match the visit's "
                                   "joint team (it may have changed): download the visit "
                                   "again and sign again.")]
        return errors
    if not body.get("seal"):
        return errors
    if listed is None:
        errors["departments"] = [_("A joint visit's record lists its departments, and each "
                                   "department's inspectors sign their part.")]
        return errors
    members = _members(visit)
    people = team_queries.inspectors_by_id(m.inspector_id for m in members)
    department_of = {people[m.inspector_id].user_id: m.department_id for m in members
                     if people[m.inspector_id].user_id is not None}
    signed: set[int] = set()
    for n, signature in enumerate(body.get("signatures") or []):
        signer = signature.get("signer") or {}
        if signer.get("kind") != "inspector" or signer.get("user_id") not in department_of:
            continue
        if signer.get("department_id") != department_of[signer["user_id"]]:
            errors.setdefault(f"signatures.{n}.signer.department_id", []).append(
                _("An inspector signs for their own department's part."))
        else:
            signed.add(signer["department_id"])
    for part in expected:
        if part["department_id"] not in signed:
            errors.setdefault("signatures", []).append(
                _("No inspector of %(department)s has signed the department's part.",
                  department=part["name"]))
    return errors


# --- parts: checked when a member's revision arrives ------------------------------------------

def check_part(user: User, visit: Visit, body: dict) -> dict[str, list[str]]:
    """Rules of a member's part (a body with ``part``), as field errors; {} for a record."""
    if body.get("part") is None:
        return {}
    errors: dict[str, list[str]] = {}
    if body.get("result_category"):
        errors["result_category"] = [_("A member's part has no result category; the team "
                                       "leader chooses it for the visit's record.")]
    me = _me(user, visit)
    mine = my_items(visit, me.inspector_id if me else None)
    if mine is not None:
        for n, answer in enumerate(body.get("answers") or []):
            if answer.get("item") not in mine:
                errors.setdefault(f"answers.{n}.item", []).append(
                    _("The team leader gave this item to another member."))
    return errors


def check_joint(user: User, visit: Visit, body: dict) -> dict[str, list[str]]:
    """The joint visit's step of a record save's checks
    (:mod:`inspection.fieldwork.record_checks`): a member's part by :func:`check_part`, the
    visit's record by :func:`check_departments` (each answers nothing for the other)."""
    errors = check_part(user, visit, body)
    for key, messages in check_departments(body, visit).items():
        errors.setdefault(key, []).extend(messages)
    return errors


# --- what the leader sees ---------------------------------------------------------------------

def _part_revisions(visit: Visit, user_id: int) -> list[RecordRevision]:
    """A member's parts of this visit, newest first (of their most recent part record)."""
    rows = db.session.scalars(select(RecordRevision).where(
        RecordRevision.visit_id == visit.id, RecordRevision.author_id == user_id,
        RecordRevision.is_part.is_(True)).order_by(RecordRevision.id.desc())).all()
    if not rows:
        return []
    record_id = rows[0].record_id
    return sorted((r for r in rows if r.record_id == record_id),
                  key=lambda r: r.revision, reverse=True)


def parts(user: User, number: str) -> dict[str, Any]:
    """For the leader: each member's work as it has arrived, whole or not at all.

    For every active member other than the leader: the items they were given, the newest of
    their part revisions that arrived complete (its answers on those items and the photos it
    lists), whether a newer revision is still waiting for photos, and how far they are
    (questions answered of their items, finished or not). ``ready`` is true when every member
    with items has a complete, finished part."""
    visit = my_visit(user, number)
    leader = require_leader(user, visit)
    questions = visit_questions(visit)
    split = split_of(visit)
    members = _members(visit)
    people = team_queries.inspectors_by_id(m.inspector_id for m in members)
    out, ready = [], True
    for member in members:
        if member.inspector_id == leader.inspector_id:
            continue
        inspector: Inspector = people[member.inspector_id]
        items = ([code for code, ids in split.items() if member.inspector_id in ids]
                 if split else list(questions))
        entry: dict[str, Any] = {
            "inspector_id": member.inspector_id, "name": inspector.name,
            "department_id": member.department_id, "items": items,
            "state": "nothing", "revision": None, "received_at": None, "finished": False,
            "waiting_photos": False, "answered": 0,
            "questions": sum(len(questions.get(code, [])) for code in items),
            "answers": [], "photos": [], "notice": None, "arrival": None}
        revisions = _part_revisions(visit, inspector.user_id) if inspector.user_id else []
        whole = None
        for n, row in enumerate(revisions):
            if not missing_photos(row):
                whole = row
                break
            if n == 0:
                entry["waiting_photos"] = True
        if whole is not None:
            body = whole.body
            answers = [a for a in body.get("answers") or [] if a.get("item") in items]
            asked = {a.get("question") for a in answers}
            photos = [p for p in body.get("photos") or []
                      if not p.get("question") or p.get("question") in asked]
            finished = bool((body.get("part") or {}).get("finished"))
            entry.update(state="finished" if finished else "working",
                         revision=whole.revision, received_at=stamp(whole.received_at),
                         finished=finished, answered=len(answers), answers=answers,
                         photos=photos, notice=body.get("notice"),
                         arrival=body.get("arrival"))
        if items and entry["state"] != "finished":
            ready = False
        out.append(entry)
    return {"visit": visit.number, "split": bool(split), "members": out, "ready": ready}
