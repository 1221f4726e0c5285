"""The catalogue of check items: the operations views, API, CLI and other areas call.

An item's content lives in immutable, numbered versions (a task pins the versions it uses), so
an edit makes a new version with a change note and an edit that changes nothing makes none.
Retiring keeps every version. Publishing records which versions were public from which date.
Each operation validates, changes, writes the audit trail and commits, all or nothing.

Values come as a plain mapping with the keys ``code`` (creation only), ``name``, ``name_en``,
``legal_basis``, ``content``, ``department_id``, ``target_types``, ``method``, ``kind``,
``ratio`` (a fraction, e.g. ``"0.05"``), ``frequency`` (times a year) and ``questions`` (an
ordered list of mappings with ``text``, ``legal_basis`` and ``evidence_hint``); every version
is loaded through :func:`.schemas.load_item`, which checks them all (the limits are in
:mod:`.rules`). Question codes are assigned here: ``<item code>-<nn>``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping

from flask_babel import gettext as _
from sqlalchemy import event, func, select
from sqlalchemy.orm import selectinload

from ..core import audit
from ..core.errors import Conflict, DomainError, NotFound, ValidationFailed
from ..core.models import User, utcnow
from ..core.timeutil import LOCAL
from ..extensions import db
from .models import CataloguePublication, CheckItem, CheckItemVersion, CheckQuestion, ItemStatus
from .rules import (CODE_MAX, CODE_PATTERN, GENERAL_RATIO_CAP, MAX_FREQUENCY,  # noqa: F401
                    MAX_QUESTIONS, NAME_MAX, QUESTION_FIELDS, TEXT_MAX, VERSION_FIELDS,
                    percent)  # the limits and percent are read through this module too
from .schemas import load_item

# --------------------------------------------------------------------------- immutability
@event.listens_for(CheckItemVersion, "before_update")
@event.listens_for(CheckQuestion, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    """Versions and their questions are pinned by tasks and publications: never changed."""
    if db.session.is_modified(target, include_collections=False):
        raise DomainError(_("A version of a check item cannot be changed; make a new one."))


@event.listens_for(CheckItemVersion, "before_delete")
@event.listens_for(CheckQuestion, "before_delete")
def _refuse_delete(_mapper, _connection, _target) -> None:
    raise DomainError(_("A version of a check item cannot be deleted."))


# --------------------------------------------------------------------------- reading
def get_item(item_id: int) -> CheckItem:
    item = db.session.get(CheckItem, item_id)
    if item is None:
        raise NotFound(_("No such check item."))
    return item


def get_item_by_code(code: str) -> CheckItem:
    item = db.session.scalar(select(CheckItem).where(CheckItem.code == code.strip().upper()))
    if item is None:
        raise NotFound(_("No such check item: %(code)s", code=code))
    return item


def get_version(version_id: int) -> CheckItemVersion:
    """One version, with its questions, as it was made (versions never change)."""
    version = db.session.get(CheckItemVersion, version_id,
                             options=[selectinload(CheckItemVersion.questions)])
    if version is None:
        raise NotFound(_("No such version of a check item."))
    return version


def get_version_number(item: CheckItem, number: int) -> CheckItemVersion:
    version = db.session.scalar(select(CheckItemVersion).where(
        CheckItemVersion.item_id == item.id, CheckItemVersion.number == number))
    if version is None:
        raise NotFound(_("No such version of a check item."))
    return version


def _current_subquery():
    return (select(CheckItemVersion.item_id, func.max(CheckItemVersion.number).label("number"))
            .group_by(CheckItemVersion.item_id).subquery())


def _current_query():
    """Current versions joined with their items, ordered by item code."""
    current = _current_subquery()
    return (select(CheckItemVersion)
            .join(current, (current.c.item_id == CheckItemVersion.item_id)
                  & (current.c.number == CheckItemVersion.number))
            .join(CheckItem, CheckItem.id == CheckItemVersion.item_id)
            .options(selectinload(CheckItemVersion.questions),
                     selectinload(CheckItemVersion.item),
                     selectinload(CheckItemVersion.department))
            .order_by(CheckItem.code))


def active_items() -> list[CheckItem]:
    """Items that may go into new tasks (not retired), by code."""
    return list(db.session.scalars(select(CheckItem).where(
        CheckItem.status == ItemStatus.ACTIVE.value).order_by(CheckItem.code)))


def current_versions(item_ids: Iterable[int] | None = None) -> list[CheckItemVersion]:
    """The current version of each item, by item code, with its questions.

    Without ``item_ids``: those of the active items (what a new task may use). With
    ``item_ids``: those of exactly these items, whatever their status; an unknown id raises
    :class:`NotFound`.
    """
    query = _current_query()
    if item_ids is None:
        return list(db.session.scalars(query.where(CheckItem.status == ItemStatus.ACTIVE.value)))
    wanted = {int(i) for i in item_ids}
    if not wanted:
        return []
    rows = list(db.session.scalars(query.where(CheckItem.id.in_(wanted))))
    missing = wanted - {v.item_id for v in rows}
    if missing:
        raise NotFound(_("No such check item: %(ids)s",
                         ids=", ".join(str(i) for i in sorted(missing))))
    return rows


def list_current(*, status: str | None = None, kind: str | None = None,
                 department_id: int | None = None, method: str | None = None,
                 q: str | None = None):
    """The query behind the office list: current versions, filtered (not yet executed)."""
    query = _current_query()
    if status:
        query = query.where(CheckItem.status == status)
    if kind:
        query = query.where(CheckItemVersion.kind == kind)
    if department_id:
        query = query.where(CheckItemVersion.department_id == department_id)
    if method:
        query = query.where(CheckItemVersion.method == method)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(CheckItem.code.ilike(like) | CheckItemVersion.name.ilike(like))
    return query


# --------------------------------------------------------------------------- validation
def _code_problem(code: str) -> str | None:
    if not code:
        return _("This field is required.")
    if len(code) > CODE_MAX or not CODE_PATTERN.match(code):
        return _("Letters and digits in groups joined by hyphens (e.g. LR-09), at most "
                 "%(n)d characters.", n=CODE_MAX)
    if db.session.scalar(select(CheckItem.id).where(CheckItem.code == code)):
        return _("An item with this code exists already.")
    return None


def version_values(version: CheckItemVersion) -> dict[str, Any]:
    """A version's content in the shape operations take (for forms and comparisons)."""
    values = {key: getattr(version, key) for key in VERSION_FIELDS}
    values["target_types"] = list(version.target_types)
    values["ratio"] = Decimal(version.ratio).quantize(Decimal("0.0001"))
    values["questions"] = [{key: getattr(q, key) for key in QUESTION_FIELDS}
                           for q in version.questions]
    return values


def _add_version(item: CheckItem, number: int, clean: dict[str, Any], change_note: str,
                 actor: User | None) -> CheckItemVersion:
    version = CheckItemVersion(
        item=item, number=number, change_note=change_note,
        created_by_id=actor.id if actor else None, created_at=utcnow(),
        **{key: clean[key] for key in VERSION_FIELDS})
    version.questions = [
        CheckQuestion(position=n, code=f"{item.code}-{n:02d}", **q)
        for n, q in enumerate(clean["questions"], start=1)]
    db.session.add(version)
    db.session.flush()
    return version


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


# --------------------------------------------------------------------------- changes
def create_item(values: Mapping[str, Any], actor: User | None = None,
                change_note: str = "") -> CheckItem:
    """A new item with its version 1."""
    code = str(values.get("code") or "").strip().upper()
    problem = _code_problem(code)
    try:
        clean = load_item(values)
    except ValidationFailed as error:
        if problem:
            error.fields = {"code": [problem], **error.fields}
        raise
    if problem:
        raise ValidationFailed(_("Please correct the marked fields: %(first)s", first=problem),
                               {"code": [problem]})
    item = CheckItem(code=code, status=ItemStatus.ACTIVE.value, created_at=utcnow())
    db.session.add(item)
    db.session.flush()
    version = _add_version(item, 1, clean, change_note.strip(), actor)
    audit.record("catalogue.item.create", "check_item", item.id,
                 {"code": code, "version": 1, "version_id": version.id, "name": clean["name"],
                  "kind": clean["kind"], "ratio": str(clean["ratio"]),
                  "questions": len(clean["questions"])}, actor=actor)
    db.session.commit()
    return item


def revise_item(item: CheckItem, values: Mapping[str, Any], change_note: str,
                actor: User | None = None) -> CheckItemVersion:
    """Make a new version from ``values`` (keys left out keep the current content).

    Returns the new version, or the current one unchanged when nothing differs (no version,
    no audit entry). A real change needs a change note."""
    if item.status != ItemStatus.ACTIVE.value:
        raise Conflict(_("A retired item cannot be edited; reinstate it first."))
    current = item.current
    before = version_values(current)
    merged = {**before, **{k: v for k, v in values.items() if k in before}}
    clean = load_item(merged)
    changes = {key: [_plain(before[key]), _plain(clean[key])] for key in VERSION_FIELDS
               if before[key] != clean[key]}
    if before["questions"] != clean["questions"]:
        changes["questions"] = [len(before["questions"]), len(clean["questions"])]
    if not changes:
        return current
    note = (change_note or "").strip()
    if not note:
        raise ValidationFailed(_("Say what changed and why in the change note."),
                               {"change_note": [_("A change note is required.")]})
    if len(note) > TEXT_MAX:
        raise ValidationFailed(_("The change note is too long."),
                               {"change_note": [_("At most %(n)d characters.", n=TEXT_MAX)]})
    version = _add_version(item, current.number + 1, clean, note, actor)
    audit.record("catalogue.item.revise", "check_item", item.id,
                 {"code": item.code, "version": version.number, "version_id": version.id,
                  "note": note, "changes": changes}, actor=actor)
    db.session.commit()
    return version


def retire_item(item: CheckItem, reason: str, actor: User | None = None) -> CheckItem:
    """Take an item off the list for new tasks; its versions stay."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the reason for retiring the item."),
                               {"reason": [_("A reason is required.")]})
    if item.status == ItemStatus.RETIRED.value:
        raise Conflict(_("The item is retired already."))
    item.status = ItemStatus.RETIRED.value
    item.retired_at = utcnow()
    item.retire_reason = reason
    audit.record("catalogue.item.retire", "check_item", item.id,
                 {"code": item.code, "reason": reason}, actor=actor)
    db.session.commit()
    return item


def reinstate_item(item: CheckItem, reason: str = "", actor: User | None = None) -> CheckItem:
    """Put a retired item back on the list, with its current version."""
    if item.status == ItemStatus.ACTIVE.value:
        raise Conflict(_("The item is active already."))
    previous = item.retire_reason
    item.status = ItemStatus.ACTIVE.value
    item.retired_at = None
    item.retire_reason = None
    audit.record("catalogue.item.reinstate", "check_item", item.id,
                 {"code": item.code, "reason": (reason or "").strip(),
                  "retired_because": previous}, actor=actor)
    db.session.commit()
    return item


# --------------------------------------------------------------------------- publication
def local_today() -> date:
    return datetime.now(LOCAL).date()


def publications(limit: int | None = None) -> list[CataloguePublication]:
    """Newest first."""
    query = select(CataloguePublication).order_by(CataloguePublication.published_on.desc(),
                                                  CataloguePublication.id.desc())
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def get_publication(publication_id: int) -> CataloguePublication:
    pub = db.session.get(CataloguePublication, publication_id)
    if pub is None:
        raise NotFound(_("No such publication."))
    return pub


def last_publication() -> CataloguePublication | None:
    found = publications(limit=1)
    return found[0] if found else None


def publication_versions(pub: CataloguePublication) -> list[CheckItemVersion]:
    """The versions a publication made public, by item code."""
    if not pub.version_ids:
        return []
    return list(db.session.scalars(
        select(CheckItemVersion).join(CheckItem)
        .where(CheckItemVersion.id.in_(pub.version_ids))
        .options(selectinload(CheckItemVersion.questions),
                 selectinload(CheckItemVersion.item))
        .order_by(CheckItem.code)))


@dataclass(frozen=True)
class PendingChanges:
    """What publishing now would change against the last publication."""

    added: list[CheckItemVersion]      # items not in the last publication
    revised: list[CheckItemVersion]    # items published in an older version
    removed: list[CheckItemVersion]    # published versions of items now retired

    def __bool__(self) -> bool:
        return bool(self.added or self.revised or self.removed)


def pending_changes() -> PendingChanges:
    """The difference between the active items' current versions and the last publication."""
    current = current_versions()
    last = last_publication()
    published = publication_versions(last) if last else []
    by_item = {v.item_id: v for v in published}
    current_items = {v.item_id for v in current}
    added = [v for v in current if v.item_id not in by_item]
    revised = [v for v in current if v.item_id in by_item and by_item[v.item_id].id != v.id]
    removed = [v for v in published if v.item_id not in current_items]
    return PendingChanges(added, revised, removed)


def has_unpublished_changes() -> bool:
    return bool(pending_changes())


def publish(published_on: date | None = None, actor: User | None = None,
            note: str = "") -> CataloguePublication:
    """Publish the list: the current versions of all active items, public from
    ``published_on`` (default today in Asia/Shanghai)."""
    published_on = published_on or local_today()
    versions = current_versions()
    if not versions:
        raise ValidationFailed(_("There is no active item to publish."))
    last = last_publication()
    if last is not None:
        if published_on < last.published_on:
            raise ValidationFailed(
                _("The publication date cannot be before the last publication (%(day)s).",
                  day=last.published_on.isoformat()),
                {"published_on": [_("On or after %(day)s.", day=last.published_on.isoformat())]})
        if not pending_changes():
            raise Conflict(_("The list has not changed since its publication on %(day)s.",
                             day=last.published_on.isoformat()))
    note = (note or "").strip()
    if len(note) > TEXT_MAX:
        raise ValidationFailed(_("The note is too long."),
                               {"note": [_("At most %(n)d characters.", n=TEXT_MAX)]})
    pub = CataloguePublication(published_on=published_on, at=utcnow(),
                               actor_id=actor.id if actor else None,
                               version_ids=[v.id for v in versions], note=note)
    db.session.add(pub)
    db.session.flush()
    audit.record("catalogue.publish", "catalogue_publication", pub.id,
                 {"published_on": published_on.isoformat(), "items": len(versions),
                  "versions": {v.item.code: v.number for v in versions}, "note": note},
                 actor=actor)
    db.session.commit()
    return pub


def published_catalogue(on: date | None = None) -> list[CheckItemVersion]:
    """The versions public on day ``on`` (default today): those of the latest publication
    dated on or before it; an empty list before the first publication."""
    on = on or local_today()
    pub = db.session.scalar(
        select(CataloguePublication).where(CataloguePublication.published_on <= on)
        .order_by(CataloguePublication.published_on.desc(), CataloguePublication.id.desc())
        .limit(1))
    return publication_versions(pub) if pub else []


def item_publications(item: CheckItem) -> list[tuple[CataloguePublication, CheckItemVersion]]:
    """The publications that included this item, newest first, with the version published."""
    numbers = {v.id: v for v in item.versions}
    return [(pub, numbers[vid]) for pub in publications()
            for vid in pub.version_ids if vid in numbers]
