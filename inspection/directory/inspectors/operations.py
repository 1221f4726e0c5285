"""The inspectors directory (执法检查人员名录库): the operations that views, API, CLI, import
and the draws call.

Each writing operation validates, changes, records the change in the directory history and the
audit trail, and commits, all or nothing; failures raise :mod:`inspection.core.errors`.

Who may be drawn is decided here, once: :func:`drawable_inspectors` for the pool of a team
draw and :func:`why_not_drawable` for the reasons shown next to an inspector who is not in it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import String, and_, cast, func, not_, or_, select
from sqlalchemy.orm import selectinload

from ...core import audit
from ...core.errors import Conflict, NotFound, ValidationFailed
from ...core.fields import MAX_ID
from ...core.models import Department, User, utcnow
from ...core.operations import find_user
from ...extensions import db
from .. import history
from ..models import (DirectoryChange, DirectoryConfirmation, Employer, Inspector,
                      InspectorConflict, InspectorPool, InspectorStatus, Region)
from . import labels

SUBJECT = "inspector"
CONFIRM_KIND = "inspectors"
#: A certificate that ends within this many days is flagged "即将到期".
EXPIRY_WARNING_DAYS = 30
MAX_TAGS = 20
MAX_TAG_LENGTH = 30

#: Fields an office user edits (the model's names); ``user_id`` is set from a username.
FIELDS = ("name", "department_id", "user_id", "cert_kind", "cert_number", "cert_expires",
          "qualifications", "tags", "status", "pool", "home_region_code", "phone", "notes")
_LIMITS = {"name": 50, "cert_number": 50, "phone": 30, "qualifications": 2000, "notes": 2000}


def today() -> date:
    """The local (Asia/Shanghai) date: certificates expire by the calendar of the bureau."""
    from ...core.timeutil import to_local
    return to_local(utcnow()).date()


# --- reading ------------------------------------------------------------------------------

def get_inspector(inspector_id: int, *, with_conflicts: bool = False) -> Inspector:
    """``with_conflicts``: the declared conflicts and their employers come along (for pages
    that list them: two statements, whatever their number)."""
    options = [selectinload(Inspector.conflicts).selectinload(InspectorConflict.employer)] \
        if with_conflicts else []
    inspector = db.session.get(Inspector, inspector_id, options=options)
    if inspector is None:
        raise NotFound(_("No such inspector."))
    return inspector


def get_conflict(inspector: Inspector, conflict_id: int) -> InspectorConflict:
    conflict = db.session.get(InspectorConflict, conflict_id)
    if conflict is None or conflict.inspector_id != inspector.id:
        raise NotFound(_("No such conflict of interest."))
    return conflict


def tag_condition(tag: str):
    """Inspectors holding ``tag`` (stored as a JSON list; matched on its JSON text so that the
    same query works on SQLite and PostgreSQL)."""
    return cast(Inspector.tags, String).contains(json.dumps(tag), autoescape=True)


def drawable_condition(on: date):
    return and_(Inspector.status == InspectorStatus.AVAILABLE.value, Inspector.cert_expires >= on)


def search(*, q: str | None = None, department_id: int | None = None,
           status: str | None = None, pool: str | None = None, tag: str | None = None,
           drawable: bool | None = None, expiring: bool = False, on: date | None = None):
    """A query of inspectors for the list, the API and the export, ordered by name."""
    on = on or today()
    query = select(Inspector).order_by(Inspector.name, Inspector.id)
    if q:
        q = q.strip()
        query = query.where(or_(Inspector.name.contains(q, autoescape=True),
                                Inspector.cert_number.contains(q.upper(), autoescape=True)))
    if department_id:
        query = query.where(Inspector.department_id == department_id)
    if status:
        query = query.where(Inspector.status == status)
    if pool:
        query = query.where(Inspector.pool == pool)
    if tag:
        query = query.where(tag_condition(normalise_tag(tag)))
    if drawable is True:
        query = query.where(drawable_condition(on))
    elif drawable is False:
        query = query.where(not_(drawable_condition(on)))
    if expiring:
        query = query.where(Inspector.cert_expires >= on,
                            Inspector.cert_expires < on + timedelta(days=EXPIRY_WARNING_DAYS))
    return query


def active_conflicts(inspector: Inspector) -> list[InspectorConflict]:
    return [c for c in inspector.conflicts if c.ended_at is None]


# --- who may be drawn ---------------------------------------------------------------------

class Reason(str):
    """Why an inspector cannot be drawn: a message for people, with a stable ``code``."""

    code: str

    def __new__(cls, code: str, message: str) -> "Reason":
        obj = super().__new__(cls, message)
        obj.code = code
        return obj


def drawable_inspectors(department_id: int | None = None, on: date | None = None,
                        exclude_conflicts_with_employer_ids: Iterable[int] = (),
                        pools: Iterable[str] = (InspectorPool.STAFF.value,)) -> list[Inspector]:
    """The inspectors eligible for a draw on ``on`` (default today), in certificate-number
    order (a stable order that a published draw record can be re-run against).

    Eligible: status available, certificate valid on that day (it expires at the end of its
    expiry date), in one of ``pools`` (staff only unless asked), of ``department_id`` if given,
    and with no active declared conflict with any of the given employers.
    """
    on = on or today()
    query = select(Inspector).where(drawable_condition(on),
                                    Inspector.pool.in_(list(pools)))
    if department_id is not None:
        query = query.where(Inspector.department_id == department_id)
    employer_ids = list(exclude_conflicts_with_employer_ids)
    if employer_ids:
        conflicted = select(InspectorConflict.inspector_id).where(
            InspectorConflict.employer_id.in_(employer_ids), InspectorConflict.ended_at.is_(None))
        query = query.where(Inspector.id.not_in(conflicted))
    return list(db.session.scalars(query.order_by(Inspector.cert_number, Inspector.id)))


def why_not_drawable(inspector: Inspector, on: date | None = None, *,
                     employer_ids: Iterable[int] = (),
                     pools: Iterable[str] | None = None) -> list[Reason]:
    """The reasons ``inspector`` cannot be drawn on ``on``; empty when they can.

    Always checked: status and certificate. With ``employer_ids``: active conflicts with
    those employers. With ``pools``: membership of one of them.
    """
    on = on or today()
    reasons = []
    if inspector.status != InspectorStatus.AVAILABLE.value:
        messages = {
            InspectorStatus.ON_LEAVE.value: _("On leave"),
            InspectorStatus.TRANSFERRED.value: _("Transferred away"),
            InspectorStatus.RETIRED.value: _("Retired"),
        }
        reasons.append(Reason("status:" + inspector.status,
                              messages.get(inspector.status, _("Not available"))))
    if inspector.cert_expires < on:
        reasons.append(Reason("certificate_expired",
                              _("Certificate expired on %(date)s",
                                date=inspector.cert_expires.isoformat())))
    if pools is not None and inspector.pool not in set(pools):
        reasons.append(Reason("pool", _("Not in the pool drawn from (%(pool)s)",
                                         pool=labels.name(labels.POOLS, inspector.pool, "en"))))
    wanted = set(employer_ids)
    # (Only asked with employers: a list of inspectors then reads no conflicts per row.)
    for conflict in active_conflicts(inspector) if wanted else ():
        if conflict.employer_id in wanted:
            reasons.append(Reason("conflict", _("Declared conflict of interest with %(name)s",
                                                name=conflict.employer.name)))
    return reasons


def expiring_soon(inspector: Inspector, on: date | None = None) -> bool:
    """The certificate is still valid but ends within :data:`EXPIRY_WARNING_DAYS` days."""
    on = on or today()
    return on <= inspector.cert_expires < on + timedelta(days=EXPIRY_WARNING_DAYS)


# --- validation ---------------------------------------------------------------------------

_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")


def parse_date(value: Any) -> date | None:
    """A date from a date, an ISO string or the usual spreadsheet spellings; None if bad."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if "T" in text:
        text = text.split("T", 1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def normalise_tag(text: str) -> str:
    """A tag as stored: a suggested tag's code (from its code or either name), else the text
    trimmed, inner spaces collapsed, ASCII letters in lower case."""
    value = re.sub(r"\s+", " ", str(text)).strip()
    return labels.parse(labels.SUGGESTED_TAGS, value) or value.lower()


def split_tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[,，;；、\n]", value)
    else:
        parts = list(value)
    tags: list[str] = []
    for part in parts:
        tag = normalise_tag(part)
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _department(value: Any) -> Department | None:
    if isinstance(value, Department):
        return value
    if value is None or value == "":
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        # An id beyond what the database holds names no department (and would overflow).
        dept = db.session.get(Department, int(value)) if int(value) <= MAX_ID else None
        if dept is not None:
            return dept
    text = str(value).strip()
    return db.session.scalar(select(Department).where(
        or_(Department.name == text, func.upper(Department.code) == text.upper())))


def _region(value: str) -> Region | None:
    text = value.strip()
    return db.session.get(Region, text) or db.session.scalar(
        select(Region).where(Region.name == text).limit(1))


def clean(values: Mapping[str, Any], current: Inspector | None = None, *,
          cert_owner_known: bool = False) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check the values of a new inspector (``current`` None) or of a change to ``current``.

    ``values`` may hold: name, department (a Department, id, code or name), username (the
    linked account, "" to unlink), cert_kind, cert_number, cert_expires (date or text),
    qualifications, tags (list or comma-separated text), status, pool, home_region (code or
    name, "" for none), phone, notes. Keys left out keep their value (or take the default
    when creating). Returns ``(model_values, errors)`` with errors keyed by those names.
    ``cert_owner_known``: the caller looked the certificate number up already (``current`` is
    its holder, or nobody holds it), as the import does for a whole file at once.
    """
    out: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}

    def fail(field: str, code: str, message: str) -> None:
        errors.setdefault(field, []).append(Reason(code, message))

    creating = current is None
    for field in ("name", "cert_number", "phone", "qualifications", "notes"):
        if field in values:
            text = str(values[field] or "").strip()
            if field == "cert_number":
                text = re.sub(r"\s+", "", text).upper()
            if len(text) > _LIMITS[field]:
                fail(field, "too_long", _("At most %(n)d characters.", n=_LIMITS[field]))
            out[field] = text
    for field in ("name", "cert_number"):
        if (creating or field in values) and not out.get(field):
            fail(field, "required", _("Required."))
    if out.get("cert_number") and "cert_number" not in errors and not cert_owner_known:
        other = db.session.scalar(select(Inspector.id).where(
            Inspector.cert_number == out["cert_number"]))
        if other is not None and (current is None or other != current.id):
            fail("cert_number", "cert_number_taken",
                 _("Another inspector holds this certificate number."))

    if creating or "department" in values:
        dept = _department(values.get("department"))
        if dept is None:
            if values.get("department"):
                fail("department", "unknown_department",
                     _("Unknown department: %(value)s.", value=values.get("department")))
            else:
                fail("department", "required", _("Required."))
        elif not dept.active and (current is None or current.department_id != dept.id):
            fail("department", "inactive_department", _("This department is no longer active."))
        else:
            out["department_id"] = dept.id

    for field, table, default in (("cert_kind", labels.CERT_KINDS, None),
                                  ("status", labels.STATUSES, InspectorStatus.AVAILABLE.value),
                                  ("pool", labels.POOLS, InspectorPool.STAFF.value)):
        raw = values.get(field)
        if field not in values or raw in (None, ""):
            if creating:
                if default is None:
                    fail(field, "required", _("Required."))
                else:
                    out[field] = default
            elif field in values and default is None:
                fail(field, "required", _("Required."))
            continue
        code = labels.parse(table, str(raw))
        if code is None:
            fail(field, "unknown_" + field, _("Unknown value: %(value)s.", value=raw))
        else:
            out[field] = code

    if creating or "cert_expires" in values:
        raw = values.get("cert_expires")
        day = parse_date(raw)
        if raw in (None, ""):
            fail("cert_expires", "required", _("Required."))
        elif day is None:
            fail("cert_expires", "bad_date",
                 _("Not a date (use YYYY-MM-DD): %(value)s.", value=raw))
        elif not date(1990, 1, 1) <= day <= date(2100, 12, 31):
            fail("cert_expires", "date_out_of_range", _("The date is out of range."))
        else:
            out["cert_expires"] = day

    if "tags" in values:
        tags = split_tags(values["tags"])
        if len(tags) > MAX_TAGS:
            fail("tags", "too_many_tags", _("At most %(n)d tags.", n=MAX_TAGS))
        elif any(len(t) > MAX_TAG_LENGTH for t in tags):
            fail("tags", "tag_too_long",
                 _("A tag has at most %(n)d characters.", n=MAX_TAG_LENGTH))
        else:
            out["tags"] = tags
    elif creating:
        out["tags"] = []

    if "home_region" in values:
        raw = str(values["home_region"] or "").strip()
        if not raw:
            out["home_region_code"] = None
        else:
            region = _region(raw)
            if region is None:
                fail("home_region", "unknown_region", _("Unknown region: %(value)s.", value=raw))
            else:
                out["home_region_code"] = region.code

    if "username" in values:
        raw = str(values["username"] or "").strip()
        if not raw:
            out["user_id"] = None
        else:
            user = find_user(raw)
            if user is None:
                fail("username", "unknown_username",
                     _("No user account named %(name)s.", name=raw))
            else:
                holder = db.session.scalar(select(Inspector).where(Inspector.user_id == user.id))
                if holder is not None and (current is None or holder.id != current.id):
                    fail("username", "username_taken",
                         _("This account is linked to %(name)s already.", name=holder.name))
                else:
                    out["user_id"] = user.id
    return out, errors


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(_("Please correct the marked fields.") + " " + first, errors)


def _readable(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """History rows name departments and accounts, not their ids."""
    out = dict(changes)
    if "department_id" in out:
        out["department"] = [_dept_name(v) for v in out.pop("department_id")]
    if "user_id" in out:
        out["username"] = [_username(v) for v in out.pop("user_id")]
    return out


def _dept_name(dept_id: int | None) -> str | None:
    dept = db.session.get(Department, dept_id) if dept_id else None
    return dept.name if dept else None


def _username(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user else None


# --- writing ------------------------------------------------------------------------------

def _new(data: dict[str, Any]) -> Inspector:
    inspector = Inspector(**{k: data.get(k) for k in FIELDS if k in data})
    inspector.qualifications = data.get("qualifications", "")
    inspector.phone = data.get("phone", "")
    inspector.notes = data.get("notes", "")
    db.session.add(inspector)
    db.session.flush()
    return inspector


def _creation_changes(inspector: Inspector) -> dict[str, list[Any]]:
    changes = {f: [None, history._plain(getattr(inspector, f))] for f in FIELDS
               if getattr(inspector, f) not in (None, "", [])}
    return _readable(changes)


def create_inspector(values: Mapping[str, Any], actor: User | None = None,
                     reason: str | None = None) -> Inspector:
    """Add an inspector to the directory."""
    data, errors = clean(values)
    _raise(errors)
    inspector = _new(data)
    changes = _creation_changes(inspector)
    history.record_change(SUBJECT, inspector.id, "create", changes, reason=reason, actor=actor)
    audit.record("inspector.create", SUBJECT, inspector.id,
                 {"name": inspector.name, "cert_number": inspector.cert_number}, actor=actor)
    db.session.commit()
    return inspector


def _apply(inspector: Inspector, data: dict[str, Any]) -> dict[str, list[Any]]:
    changes = history.diff(inspector, data, FIELDS)
    if changes:
        inspector.version += 1
        inspector.updated_at = utcnow()
    return _readable(changes)


def update_inspector(inspector: Inspector, values: Mapping[str, Any], version: int | None,
                     actor: User | None = None, reason: str | None = None) -> Inspector:
    """Change an inspector. ``version`` is the version the editor saw: if the record changed
    since, nothing is saved and :class:`Conflict` (409) says so."""
    try:
        seen = int(version) if version is not None else None
    except (TypeError, ValueError):
        seen = None
    if seen is None or seen != inspector.version:
        raise Conflict(_("Someone else changed this inspector after you opened it "
                         "(version %(seen)s, now %(now)d). Reload the page to see their "
                         "changes, then make yours again.",
                         seen=seen if seen is not None else "?", now=inspector.version),
                       {"version": [_("Stale version.")]})
    data, errors = clean(values, current=inspector)
    _raise(errors)
    changes = _apply(inspector, data)
    if changes:
        history.record_change(SUBJECT, inspector.id, "update", changes, reason=reason,
                              actor=actor)
        audit.record("inspector.update", SUBJECT, inspector.id, changes, actor=actor)
        db.session.commit()
    return inspector


def find_employer(ref: Any) -> Employer | None:
    """An employer by id (int) or by credit code (text)."""
    if isinstance(ref, Employer):
        return ref
    if isinstance(ref, int):
        return db.session.get(Employer, ref)
    text = str(ref or "").strip().upper()
    if not text:
        return None
    return db.session.scalar(select(Employer).where(Employer.credit_code == text))


def declare_conflict(inspector: Inspector, employer: Any, relation: str, note: str,
                     actor: User | None = None) -> InspectorConflict:
    """Record a declared conflict of interest (回避): the inspector is never drawn for this
    employer while it is active."""
    errors: dict[str, list[str]] = {}
    found = find_employer(employer)
    if found is None:
        errors["employer"] = [_("No employer with this credit code.") if employer
                              else _("Required.")]
    code = labels.parse(labels.RELATIONS, relation)
    if code is None:
        errors["relation"] = [_("Unknown value: %(value)s.", value=relation) if relation
                              else _("Required.")]
    note = (note or "").strip()
    if len(note) > 2000:
        errors["note"] = [_("At most %(n)d characters.", n=2000)]
    _raise(errors)
    assert found is not None and code is not None
    if any(c.employer_id == found.id for c in active_conflicts(inspector)):
        raise Conflict(_("A conflict with %(name)s is declared already.", name=found.name),
                       {"employer": [_("Declared already.")]})
    conflict = InspectorConflict(inspector=inspector, employer=found, relation=code, note=note,
                                 declared_at=utcnow())
    db.session.add(conflict)
    db.session.flush()
    summary = {"employer": found.credit_code, "employer_name": found.name, "relation": code,
               "note": note}
    history.record_change(SUBJECT, inspector.id, "conflict.declare",
                          {"conflict": [None, summary]}, reason=note or None, actor=actor)
    audit.record("inspector.conflict.declare", SUBJECT, inspector.id,
                 dict(summary, conflict_id=conflict.id), actor=actor)
    db.session.commit()
    return conflict


def end_conflict(conflict: InspectorConflict, reason: str,
                 actor: User | None = None) -> InspectorConflict:
    """End a declared conflict; it stays on record with the time it ended and why."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Say why the conflict ends."), {"reason": [_("Required.")]})
    if conflict.ended_at is not None:
        raise Conflict(_("This conflict has ended already."))
    conflict.ended_at = utcnow()
    summary = {"employer": conflict.employer.credit_code, "employer_name": conflict.employer.name,
               "relation": conflict.relation}
    history.record_change(SUBJECT, conflict.inspector_id, "conflict.end",
                          {"conflict": [summary, None]}, reason=reason, actor=actor)
    audit.record("inspector.conflict.end", SUBJECT, conflict.inspector_id,
                 dict(summary, conflict_id=conflict.id, reason=reason), actor=actor)
    db.session.commit()
    return conflict


# --- "the directory is current" -----------------------------------------------------------

@dataclass(frozen=True)
class ConfirmationState:
    last: DirectoryConfirmation | None
    changes_since: int

    @property
    def stale(self) -> bool:
        return self.last is None or self.changes_since > 0

    @property
    def age_days(self) -> int | None:
        if self.last is None:
            return None
        return (utcnow() - self.last.at).days


def _last_change_id() -> int:
    return db.session.scalar(select(func.max(DirectoryChange.id)).where(
        DirectoryChange.subject_type == SUBJECT)) or 0


def confirmation_state() -> ConfirmationState:
    last = db.session.scalar(select(DirectoryConfirmation)
                             .where(DirectoryConfirmation.kind == CONFIRM_KIND)
                             .order_by(DirectoryConfirmation.id.desc()).limit(1))
    since = db.session.scalar(select(func.count(DirectoryChange.id)).where(
        DirectoryChange.subject_type == SUBJECT,
        DirectoryChange.id > (last.last_change_id if last else 0))) or 0
    return ConfirmationState(last, since)


def confirm_current(actor: User, note: str = "") -> DirectoryConfirmation:
    """The office confirms the inspectors directory current (before a draw)."""
    note = (note or "").strip()[:2000]
    row = DirectoryConfirmation(kind=CONFIRM_KIND, actor_id=actor.id, note=note,
                                row_count=db.session.scalar(select(func.count(Inspector.id))),
                                last_change_id=_last_change_id(), at=utcnow())
    db.session.add(row)
    db.session.flush()
    audit.record("inspector.directory.confirm", "directory_confirmation", row.id,
                 {"kind": CONFIRM_KIND, "rows": row.row_count,
                  "last_change_id": row.last_change_id, "note": note}, actor=actor)
    db.session.commit()
    return row
