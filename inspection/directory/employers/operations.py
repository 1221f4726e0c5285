"""The employers directory (检查对象名录库): the operations views, API, CLI and tests call.

Each operation validates, changes the state, records the change history
(:func:`..history.record_change`) and the audit trail, and commits, all or nothing. The rules
of a row are those of the importer (:class:`.importer.Validator`), so a value refused in a
file is refused in a form and in the API for the same reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Iterator

from flask_babel import gettext as _
from sqlalchemy import and_, func, literal, or_, select, tuple_, update
from sqlalchemy.orm.attributes import set_committed_value

from ...core import audit
from ...core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from ...core.models import Role, User, utcnow
from ...extensions import db
from .. import credit_code as cc
from .. import history as hist
from ..models import DirectoryChange, DirectoryConfirmation, Employer, ImportBatch, Region
from ..reference import EMPLOYER_TYPES
from .importer import FIELDS, FLAG_FIELDS, Validator, fast_valid
from .labels import STATUSES, current_lang, is_zh, pick

KIND = "employers"
#: Fields whose change needs a written reason: they steer the draw.
REASON_FIELDS = ("risk_grade",) + FLAG_FIELDS
PAGE_SIZE = 50
#: The list counts matches up to this number and shows "more than" beyond (no full COUNT).
COUNT_CAP = 10_000


# --- reading ------------------------------------------------------------------------------
def get_employer(employer_id: int) -> Employer:
    employer = db.session.get(Employer, employer_id)
    if employer is None:
        raise NotFound(_("No such employer."))
    return employer


#: The employer's columns, by attribute name (they are also the column names).
_EMPLOYER_KEYS = tuple(c.key for c in Employer.__table__.c)


def employer_row(employer_id: int) -> SimpleNamespace:
    """The employer for its page, read as one row (no ORM object): its columns, ``region``
    (name and county, or None) and ``import_batch`` (id, file name, time and who ran it, or
    None: the import that created it, shown in its history)."""
    row = db.session.execute(
        select(*Employer.__table__.c, Region.name, Region.county_name, ImportBatch.filename,
               ImportBatch.at, User.username)
        .outerjoin(Region, Region.code == Employer.region_code)
        .outerjoin(ImportBatch, ImportBatch.id == Employer.import_id)
        .outerjoin(User, User.id == ImportBatch.actor_id)
        .where(Employer.id == employer_id)).first()
    if row is None:
        raise NotFound(_("No such employer."))
    n = len(_EMPLOYER_KEYS)
    employer = SimpleNamespace(**dict(zip(_EMPLOYER_KEYS, row[:n])))
    region_name, county_name, filename, at, username = row[n:]
    employer.region = None if region_name is None else SimpleNamespace(
        code=employer.region_code, name=region_name, county_name=county_name)
    employer.import_batch = None if filename is None else SimpleNamespace(
        id=employer.import_id, filename=filename, at=at, username=username or "system")
    return employer


def employer_json(code: str) -> dict:
    """One employer by credit code as the API answers it (:class:`.schemas.EmployerDumpSchema`,
    which documents it; a test holds the two equal), read as one row."""
    row = db.session.execute(
        select(*Employer.__table__.c, Region.name)
        .outerjoin(Region, Region.code == Employer.region_code)
        .where(Employer.credit_code == cc.normalise(code))).first()
    if row is None:
        raise NotFound(_("No employer has the credit code %(code)s.", code=code))
    e = dict(zip(_EMPLOYER_KEYS, row))
    return {"id": e["id"], "credit_code": e["credit_code"], "name": e["name"],
            "employer_type": e["employer_type"], "address": e["address"],
            "region_code": e["region_code"], "region_name": row[len(_EMPLOYER_KEYS)],
            "industry": e["industry"], "legal_representative": e["legal_representative"],
            "contact_phone": e["contact_phone"], "employees": e["employees"],
            "risk_grade": e["risk_grade"], "flag_complaints": e["flag_complaints"],
            "flag_abnormal": e["flag_abnormal"],
            "flag_serious_violation": e["flag_serious_violation"], "status": e["status"],
            "notes": e["notes"], "code_override_reason": e["code_override_reason"],
            "version": e["version"], "created_at": _utc(e["created_at"]),
            "updated_at": _utc(e["updated_at"]), "import_id": e["import_id"]}


def _utc(value: datetime | None) -> str | None:
    """As :class:`inspection.core.fields.UtcDateTime` sends a stored time."""
    return None if value is None else value.isoformat() + "Z"


def get_by_code(code: str) -> Employer:
    employer = db.session.scalar(select(Employer).where(Employer.credit_code == cc.normalise(code)))
    if employer is None:
        raise NotFound(_("No employer has the credit code %(code)s.", code=code))
    return employer


# --- validation ---------------------------------------------------------------------------
def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def _clean(values: dict[str, Any], lang: str) -> dict[str, Any]:
    """Check every field with the importer's rules; raise ValidationFailed naming each bad
    field. ``values`` holds all of :data:`FIELDS` (the credit code is checked by the caller)."""
    validator = Validator(lang, track_duplicates=False)
    row = validator.row(0, {k: _text(values.get(k)) for k in FIELDS}, check_code=False)
    if row is None:
        errors: dict[str, list[str]] = {}
        for p in validator.problems:
            errors.setdefault(p.column, []).append(p.reason)
        first = validator.problems[0]
        raise ValidationFailed(_("%(field)s: %(reason)s", field=first.label, reason=first.reason),
                               errors)
    return dict(zip(FIELDS, row[1:]))


def _may_override(actor: User | None) -> bool:
    return actor is not None and actor.has_role(Role.ADMIN, Role.OFFICE)


def check_code(code: str, override_reason: str | None, actor: User | None,
               lang: str) -> tuple[str, str | None]:
    """The normalised code and the override reason to store; refuses an invalid code unless
    an officer (office or admin) accepts it as a legacy code with a written reason."""
    code = cc.normalise(code)
    if fast_valid(code):
        return code, None
    problems = [p.text(lang) for p in cc.check(code)]
    reason = (override_reason or "").strip()
    if not code:
        raise ValidationFailed(problems[0], {"credit_code": problems})
    if not reason:
        hint = _("An officer may accept a non-conforming legacy code with a written reason.")
        raise ValidationFailed(_("The credit code is not valid: %(why)s", why=" ".join(problems)),
                               {"credit_code": problems + [hint]})
    if not _may_override(actor):
        raise PermissionDenied(_("Only office staff or an administrator may accept a "
                                 "non-conforming credit code."))
    if len(code) > 18:
        raise ValidationFailed(_("A legacy code may have at most 18 characters."),
                               {"credit_code": [_("At most 18 characters.")]})
    return code, reason


# --- writing ------------------------------------------------------------------------------
def create_employer(values: dict[str, Any], *, actor: User | None,
                    override_reason: str | None = None, lang: str | None = None) -> Employer:
    """Add an employer. ``values`` holds the credit code and the fields of :data:`FIELDS`
    (codes or labels); missing optional fields take their defaults."""
    lang = lang or current_lang()
    code, accepted = check_code(_text(values.get("credit_code")), override_reason, actor, lang)
    clean = _clean(values, lang)
    if db.session.scalar(select(Employer.id).where(Employer.credit_code == code)):
        raise Conflict(_("An employer with the credit code %(code)s exists already.", code=code),
                       {"credit_code": [_("This credit code is in the directory already.")]})
    now = utcnow()
    employer = Employer(credit_code=code, code_override_reason=accepted, version=1,
                        created_at=now, updated_at=now, **clean)
    db.session.add(employer)
    db.session.flush()
    changes = {"credit_code": [None, code], **{k: [None, v] for k, v in clean.items()
                                                if v not in ("", None, False)}}
    hist.record_change("employer", employer.id, "create", changes,
                       reason=accepted and _("Legacy credit code accepted: %(why)s", why=accepted),
                       actor=actor)
    summary = {"credit_code": code, "name": employer.name}
    if accepted:
        summary["code_override_reason"] = accepted
    audit.record("employer.create", "employer", employer.id, summary, actor=actor)
    db.session.commit()
    return employer


def current_values(employer: Employer) -> dict[str, Any]:
    return {f: getattr(employer, f) for f in FIELDS}


def update_employer(employer: Employer, values: dict[str, Any], *, version: int | None,
                    reason: str | None = None, actor: User | None,
                    lang: str | None = None) -> Employer:
    """Change an employer's fields. ``version`` is the one the editor started from: if the
    employer changed since, :class:`Conflict` (409) and nothing is saved. A change of the risk
    grade or a flag needs a ``reason``. The credit code (the key) does not change here."""
    lang = lang or current_lang()
    if version is None:
        raise ValidationFailed(_("The version of the record being edited is missing."),
                               {"version": [_("Required.")]})
    if int(version) != employer.version:
        raise _stale(employer)
    merged = current_values(employer)
    merged.update({k: v for k, v in values.items() if k in FIELDS})
    clean = _clean(merged, lang)
    reason = (reason or "").strip() or None
    touched = [f for f in REASON_FIELDS if clean[f] != getattr(employer, f)]
    if touched and not reason:
        raise ValidationFailed(_("A change of the risk grade or of a flag needs a reason."),
                               {"reason": [_("Say why the grade or flag changes.")]})
    if not any(clean[f] != getattr(employer, f) for f in FIELDS):
        return employer
    # Claim the version in the database: a concurrent editor's UPDATE finds no row.
    claimed = db.session.execute(
        update(Employer).where(Employer.id == employer.id, Employer.version == int(version))
        .values(version=int(version) + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise _stale(db.session.get(Employer, employer.id))
    set_committed_value(employer, "version", int(version) + 1)
    changes = hist.diff(employer, clean, FIELDS)
    hist.record_change("employer", employer.id, "update", changes, reason=reason, actor=actor)
    audit.record("employer.update", "employer", employer.id,
                 {"credit_code": employer.credit_code, **changes,
                  **({"reason": reason} if reason else {})}, actor=actor)
    db.session.commit()
    return employer


def _stale(employer: Employer) -> Conflict:
    return Conflict(_("Someone else changed this employer while you were editing (it is now "
                      "at version %(v)d). Nothing was saved; your entries are kept below. Check "
                      "the current values and save again.", v=employer.version),
                    {"version": [_("Stale: now version %(v)d.", v=employer.version)]})


# --- searching ----------------------------------------------------------------------------
@dataclass
class Filters:
    """The list's filters (the page, the API and the export share them)."""

    q: str = ""
    contains: bool = False
    region_code: str = ""
    industry: str = ""
    employer_type: str = ""
    risk_grade: str = ""
    flag: str = ""
    status: str = ""

    @classmethod
    def from_args(cls, args) -> "Filters":
        get = args.get
        return cls(q=(get("q") or "").strip()[:100], contains=_text(get("contains")) in ("1", "y", "on", "true", "True"),
                   **{f.name: (get(f.name) or "").strip()[:20] for f in fields(cls)
                      if f.name not in ("q", "contains")})

    def args(self) -> dict[str, str]:
        out = {f.name: getattr(self, f.name) for f in fields(self)
               if f.name != "contains" and getattr(self, f.name)}
        if self.contains:
            out["contains"] = "1"
        return out

    def code_like(self) -> bool:
        return bool(re.fullmatch(r"[0-9A-Z]{2,18}", cc.normalise(self.q)))

    def name_order(self) -> bool:
        """A name-prefix search lists in name order: the name index then serves both the
        range and the order, whatever share of the rows the prefix matches."""
        return bool(self.q) and not self.contains and not self.code_like()

    def conditions(self) -> list:
        conds = []
        if self.q:
            q = self.q
            if self.contains:
                by_name = Employer.name.contains(q, autoescape=True)
            else:  # a range on the name index: fast at 10^6 rows
                by_name = and_(Employer.name >= q, Employer.name < q + "\U0010ffff")
            code = cc.normalise(q)
            if self.code_like():
                by_code = (Employer.credit_code == code if len(code) == 18 else
                           and_(Employer.credit_code >= code, Employer.credit_code < code + "~"))
                conds.append(or_(by_name, by_code))
            else:
                conds.append(by_name)
        for name in ("region_code", "industry", "employer_type", "risk_grade", "status"):
            value = getattr(self, name)
            if value:
                conds.append(getattr(Employer, name) == value)
        if self.flag in FLAG_FIELDS:
            conds.append(getattr(Employer, self.flag).is_(True))
        return conds


@dataclass
class Page:
    items: list[Employer]
    count: int            # matches, up to COUNT_CAP + 1
    capped: bool          # more than COUNT_CAP match
    next_after: int | None
    prev_before: int | None


#: What the office's list shows of each employer (:func:`search` with ``rows``).
_LIST_COLUMNS = (Employer.id, Employer.credit_code, Employer.name, Employer.employer_type,
                 Employer.region_code, Employer.industry, Employer.risk_grade,
                 Employer.flag_complaints, Employer.flag_abnormal,
                 Employer.flag_serious_violation, Employer.status)


def search(filters: Filters, *, after: int | None = None, before: int | None = None,
           limit: int = PAGE_SIZE, count: bool = True, rows: bool = False) -> Page:
    """One page of employers in id order (name order for a name-prefix search), paged by
    keyset (``after`` / ``before`` the id of the last / first row shown): no OFFSET and no
    full COUNT over a million rows. ``rows``: the items are rows of what the office's list
    shows (:data:`_LIST_COLUMNS`), not :class:`Employer` objects."""
    conds = filters.conditions()
    query = (select(*_LIST_COLUMNS) if rows else select(Employer)).where(*conds)
    if filters.name_order():
        key = tuple_(Employer.name, Employer.id)

        def mark(employer_id: int):
            name = db.session.scalar(select(Employer.name).where(Employer.id == employer_id))
            return tuple_(literal(name or ""), literal(employer_id))

        if before:
            query = query.where(key < mark(before)).order_by(Employer.name.desc(),
                                                              Employer.id.desc())
        else:
            if after:
                query = query.where(key > mark(after))
            query = query.order_by(Employer.name, Employer.id)
    elif before:
        query = query.where(Employer.id < before).order_by(Employer.id.desc())
    else:
        if after:
            query = query.where(Employer.id > after)
        query = query.order_by(Employer.id)
    found = db.session.execute(query.limit(limit + 1))
    rows = list(found if rows else found.scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    if before:
        rows.reverse()
        has_next, has_prev = True, more
    else:
        has_next, has_prev = more, bool(after)
    total = 0
    if count:
        total = db.session.scalar(select(func.count()).select_from(
            select(Employer.id).where(*conds).limit(COUNT_CAP + 1).subquery()))
    return Page(rows, min(total, COUNT_CAP), total > COUNT_CAP,
                rows[-1].id if rows and has_next else None,
                rows[0].id if rows and has_prev else None)


def export_rows(filters: Filters, lang: str | None = None) -> Iterator[list[Any]]:
    """Rows for :func:`..tabular.write_xlsx` in the importer's column order, streamed from the
    database (``yield_per``): a million rows never sit in memory as objects."""
    zh = is_zh(lang or current_lang())
    yes, no = ("是", "否") if zh else ("yes", "no")
    types = {code: (z if zh else e) for code, z, e in EMPLOYER_TYPES}
    statuses = {code: (z if zh else e) for code, z, e in STATUSES}
    cols = [getattr(Employer, f) for f in ("credit_code",) + FIELDS]
    query = (select(*cols).where(*filters.conditions()).order_by(Employer.id)
             .execution_options(yield_per=2000))
    for row in db.session.execute(query):
        (code, name, etype, address, region, industry, legal, phone, employees, grade,
         f1, f2, f3, status, notes) = row
        yield [code, name, types.get(etype, etype), address, region, industry, legal, phone,
               employees, grade, yes if f1 else no, yes if f2 else no, yes if f3 else no,
               statuses.get(status, status), notes]


# --- history ------------------------------------------------------------------------------
@dataclass
class HistoryEntry:
    at: datetime
    actor_name: str
    action: str
    changes: dict[str, Any]
    reason: str | None
    import_id: int | None


def history(employer, limit: int = 200) -> list[HistoryEntry]:
    """Every change of ``employer``, newest first, including its creation by an import
    (derived from ``Employer.import_id``: an import writes no change row for new employers).
    ``employer`` is an :class:`Employer` or the row of :func:`employer_row` (which brings
    its import along)."""
    entries = [HistoryEntry(*row) for row in db.session.execute(
        select(DirectoryChange.at, DirectoryChange.actor_name, DirectoryChange.action,
               DirectoryChange.changes, DirectoryChange.reason, DirectoryChange.import_id)
        .where(DirectoryChange.subject_type == "employer",
               DirectoryChange.subject_id == employer.id)
        .order_by(DirectoryChange.id.desc()).limit(limit))]
    for entry in entries:
        entry.changes = entry.changes or {}
    if employer.import_id and not any(e.action == "create" for e in entries):
        batch = getattr(employer, "import_batch", False)
        if batch is False:
            found = db.session.execute(
                select(ImportBatch.filename, ImportBatch.at, User.username)
                .outerjoin(User, User.id == ImportBatch.actor_id)
                .where(ImportBatch.id == employer.import_id)).first()
            batch = None if found is None else SimpleNamespace(
                id=employer.import_id, filename=found[0], at=found[1],
                username=found[2] or "system")
        if batch is not None:
            entries.append(HistoryEntry(
                batch.at, batch.username, "create", {},
                _("Created by import #%(n)d (%(file)s)", n=batch.id, file=batch.filename),
                batch.id))
    return entries


# --- confirming the directory current (before a draw) --------------------------------------
def _last_change_id() -> int:
    return db.session.scalar(select(func.max(DirectoryChange.id))
                             .where(DirectoryChange.subject_type == "employer")) or 0


def confirm_current(actor: User, note: str = "") -> DirectoryConfirmation:
    """Record that the office checked the directory and holds it current (before a draw)."""
    row_count = db.session.scalar(select(func.count(Employer.id)))
    conf = DirectoryConfirmation(kind=KIND, actor_id=actor.id, row_count=row_count,
                                 last_change_id=_last_change_id(), note=(note or "").strip(),
                                 at=utcnow())
    db.session.add(conf)
    db.session.flush()
    audit.record("directory.confirm", "directory_confirmation", conf.id,
                 {"kind": KIND, "row_count": row_count, "last_change_id": conf.last_change_id},
                 actor=actor)
    db.session.commit()
    return conf


def latest_confirmation(kind: str = KIND) -> DirectoryConfirmation | None:
    return db.session.scalar(select(DirectoryConfirmation).where(DirectoryConfirmation.kind == kind)
                             .order_by(DirectoryConfirmation.id.desc()).limit(1))


def changes_since(conf: DirectoryConfirmation) -> int:
    """Changes of employers recorded after ``conf``: edits (and updates by import) plus
    imports that created employers (they write no change row per employer)."""
    edits = db.session.scalar(select(func.count(DirectoryChange.id)).where(
        DirectoryChange.id > conf.last_change_id, DirectoryChange.subject_type == "employer"))
    created = db.session.scalar(select(func.coalesce(func.sum(ImportBatch.created), 0)).where(
        ImportBatch.kind == KIND, ImportBatch.at > conf.at, ImportBatch.created > 0))
    return int(edits or 0) + int(created or 0)


def _confirmation_statement():
    conf = (select(DirectoryConfirmation).where(DirectoryConfirmation.kind == KIND)
            .order_by(DirectoryConfirmation.id.desc()).limit(1).subquery())
    edits = select(func.count(DirectoryChange.id)).where(
        DirectoryChange.id > conf.c.last_change_id,
        DirectoryChange.subject_type == "employer").scalar_subquery()
    created = select(func.coalesce(func.sum(ImportBatch.created), 0)).where(
        ImportBatch.kind == KIND, ImportBatch.at > conf.c.at,
        ImportBatch.created > 0).scalar_subquery()
    return (select(conf.c.at, conf.c.row_count, User.display_name, edits, created)
            .join(User, User.id == conf.c.actor_id))


_CONFIRMATION = None


def confirmation_state() -> SimpleNamespace | None:
    """The employers directory's latest confirmation for the list's page, in one statement
    (made once): ``at``, ``row_count``, ``actor_name`` (who confirmed) and ``pending``
    (:func:`changes_since` it), or None."""
    global _CONFIRMATION
    if _CONFIRMATION is None:
        _CONFIRMATION = _confirmation_statement()
    row = db.session.execute(_CONFIRMATION).first()
    if row is None:
        return None
    return SimpleNamespace(at=row[0], row_count=row[1], actor_name=row[2],
                           pending=int(row[3] or 0) + int(row[4] or 0))


def is_confirmed_current(kind: str = KIND) -> bool:
    """True when the directory was confirmed current and nothing changed since."""
    conf = latest_confirmation(kind)
    return conf is not None and changes_since(conf) == 0


# --- regions ------------------------------------------------------------------------------
def list_regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.code)))


def create_region(code: str, name: str, county_code: str, county_name: str,
                  actor: User | None = None, commit: bool = True) -> Region:
    code, name = (code or "").strip(), (name or "").strip()
    county_code, county_name = (county_code or "").strip(), (county_name or "").strip()
    errors: dict[str, list[str]] = {}
    if not re.fullmatch(r"\d{6}", county_code):
        errors["county_code"] = [_("Six digits (GB/T 2260).")]
    if not re.fullmatch(r"\d{9}|\d{12}", code):
        errors["code"] = [_("Nine or twelve digits.")]
    elif county_code and not code.startswith(county_code):
        errors["code"] = [_("The region code must start with the county code.")]
    if not name:
        errors["name"] = [_("Required.")]
    if not county_name:
        errors["county_name"] = [_("Required.")]
    if errors:
        raise ValidationFailed(_("Some values are not valid."), errors)
    if db.session.get(Region, code) is not None:
        raise Conflict(_("The region %(code)s exists already.", code=code),
                       {"code": [_("This code exists already.")]})
    region = Region(code=code, name=name, county_code=county_code, county_name=county_name,
                    active=True)
    db.session.add(region)
    db.session.flush()
    audit.record("region.create", "region", code, {"name": name, "county": county_name},
                 actor=actor)
    if commit:
        db.session.commit()
    return region


def region_rows() -> list:
    """Every region as (code, name, active), in code order: one statement for the list's
    filter and its names."""
    return db.session.execute(select(Region.code, Region.name, Region.active)
                              .order_by(Region.code)).all()


def region_names() -> dict[str, str]:
    return {code: name for code, name in db.session.execute(select(Region.code, Region.name))}


def label_type(code: str) -> str:
    return pick(EMPLOYER_TYPES, code)
