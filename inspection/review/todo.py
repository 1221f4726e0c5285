"""Deadlines and to-do lists (DOMAIN.md "After the visit", "Working days").

Every deadline of the work after the visit is read here, for three readers:

* :func:`todo` -- one user's to-do list (the home page, the reminders): the office's records
  to review, returned records, publications, feedback and objections due; the approver's
  determinations, corrections and exceptions *they* may decide (position and department,
  four eyes), with counters of plans, tasks and substitutions waiting for them; the
  inspector's records returned to their team; the administrator's missing calendar years.
* :func:`deadlines` -- the bureau's deadlines page: everything due, grouped by task and
  lead department, with the person responsible.
* :func:`task_progress` -- visits done per task: a visit is done only when its result is
  published or its publication withheld by an approved exception
  (:data:`~inspection.fieldwork.models.DONE_STATUSES`; seed 000 "a check that is not published
  counts as not done").

Each kind of row is read by ONE query with its joins (the task and lead department of the
visit, the person responsible), whatever the number of rows; the deadlines are computed in
Python through :mod:`inspection.core.workdays` (which reads the bureau's calendar once per app
context). A deadline is

* ``overdue`` when it has passed, ``due_soon`` when it is ``DUE_SOON_WORKDAYS`` working days
  away or fewer (today included), ``ok`` otherwise;
* ``missing`` when it falls in a year with no calendar: it reads "calendar for YEAR missing"
  and every administrator gets the to-do "enter the calendar for YEAR";
* ``waiting`` for a line without a deadline of its own (a record returned to its team, an
  approval with no clock).

Where the clocks start:

==================  ==================================================================
records to review   ``REVIEW_WORKDAYS`` after the day of the check (the arrival on site
                    the sealed record states, else the day it arrived; as
                    :func:`.operations.check_date`). A proposed determination keeps it:
                    the approval is part of the review.
publications        :attr:`.models.Publication.deadline` (set at approval by the bureau's
                    clock; recomputed here when it fell in a year that had no calendar
                    then). An exception from publication is due by the same date.
feedback            :func:`.operations.feedback_deadline`: ``FEEDBACK_WORKDAYS`` after the
                    determination (feedback_first) or after the publication period
                    (publish_first), for determined, published and withheld results,
                    until a :class:`.models.Feedback` of the current result is recorded
                    (an approved correction is a new result: the employer is told again).
objections          :attr:`.models.Objection.deadline` (recomputed likewise); a correction
                    proposed on an objection is due with it.
==================  ==================================================================
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import aliased

from ..core.authority import POSITION_LABELS, Act, may_approve, positions_for
from ..core.forms import ROLE_LABELS
from ..core.models import Department, Role, User
from ..core.timeutil import to_local
from ..core.workdays import UnknownCalendarYear, deadline_info, workdays_between
from ..directory.models import Employer, Inspector
from ..draws.models import Substitution, TeamMember
from ..extensions import db
from ..fieldwork.models import DONE_STATUSES, RecordRevision, ReviewReturn, Visit, \
    VisitStatus, VisitTask
from ..planning.models import AnnualPlan, PlanStatus, Task, TaskStatus
from . import operations as ops
from .models import (Correction, Decision, Determination, Feedback, Objection,
                     ObjectionStatus, Publication, PublicationException)

# --- kinds and states -------------------------------------------------------------------------

#: The office's kinds (the whole bureau's queue).
REVIEW, RETURNED, PUBLICATION, FEEDBACK, OBJECTION = (
    "review", "returned", "publication", "feedback", "objection")
#: The approver's kinds (only what the user may decide).
DETERMINATION, CORRECTION, EXCEPTION = "determination", "correction", "exception"
#: Counters of work waiting on other pages.
PLANS, TASKS, SUBSTITUTIONS = "plans", "tasks", "substitutions"
#: The inspector's kind: a record returned to their team.
TO_CORRECT = "to_correct"
#: The administrator's kind: a calendar year to enter.
CALENDAR = "calendar"

OFFICE_KINDS = (REVIEW, RETURNED, PUBLICATION, FEEDBACK, OBJECTION)
APPROVAL_KINDS = (DETERMINATION, CORRECTION, EXCEPTION)
COUNTER_KINDS = (PLANS, TASKS, SUBSTITUTIONS)
#: What the deadlines page lists (everything with a task and a department).
DEADLINE_KINDS = OFFICE_KINDS + APPROVAL_KINDS

OVERDUE, MISSING, DUE_SOON, OK, WAITING = "overdue", "missing", "due_soon", "ok", "waiting"
STATES = (OVERDUE, MISSING, DUE_SOON, OK, WAITING)
_RANK = {state: n for n, state in enumerate(STATES)}
#: The states a reminder is written for.
REMIND_STATES = (OVERDUE, DUE_SOON)



@dataclass(frozen=True)
class Source:
    """A kind of office line added by a later step of the work (handling and referrals,
    follow-up visits, reports, the archive), registered with :func:`register_source` by the
    module that owns it, so that this module needs to import none of them.

    ``collect(today)`` returns the bureau's lines of this kind (one query, whatever the number
    of rows); ``label()`` names the kind and ``title(item)`` words one line, both read in the
    language in force when they are read."""

    kind: str
    label: Callable[[], str]
    title: Callable[["Item"], str]
    collect: Callable[[date], list["Item"]]


#: The registered sources, by kind, in order of registration.
_SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> None:
    """Add a kind of office line (on the office's to-do lists, the deadlines page and the
    reminders). Registering the same kind again replaces it (an app made twice in tests)."""
    if source.kind in DEADLINE_KINDS + COUNTER_KINDS + (TO_CORRECT, CALENDAR):
        raise ValueError(f"kind {source.kind!r} is taken")
    _SOURCES[source.kind] = source


def office_kinds() -> tuple[str, ...]:
    """The office's kinds: the built-in ones and the registered sources."""
    return OFFICE_KINDS + tuple(_SOURCES)


def deadline_kinds() -> tuple[str, ...]:
    """What the deadlines page and the reminders read."""
    return DEADLINE_KINDS + tuple(_SOURCES)


#: Where the office's pages are (built in inspection/review by their authors).
REVIEW_PAGE = "/review/visits/{number}"
APPROVALS_PAGE = "/review/approvals"
FIELD_VISIT = "/field/#/visit/{number}"
CALENDAR_PAGE = "/admin/calendar"


def state_labels() -> dict[str, str]:
    return {OVERDUE: _("Overdue"), MISSING: _("Calendar missing"), DUE_SOON: _("Due soon"),
            OK: _("On track"), WAITING: _("No deadline")}


def state_badges() -> dict[str, str]:
    """The CSS class of each state's badge."""
    return {OVERDUE: "off", MISSING: "off", DUE_SOON: "warn", OK: "ok", WAITING: ""}


def kind_labels() -> dict[str, str]:
    return {REVIEW: _("Record to review"), RETURNED: _("Returned to the team"),
            PUBLICATION: _("Result to publish"), FEEDBACK: _("Result to tell the employer"),
            OBJECTION: _("Objection to review"), DETERMINATION: _("Determination to decide"),
            CORRECTION: _("Correction to decide"), EXCEPTION: _("Exception to decide"),
            PLANS: _("Annual plans"), TASKS: _("Tasks"), SUBSTITUTIONS: _("Substitutions"),
            TO_CORRECT: _("Record to correct"), CALENDAR: _("Working-day calendar"),
            **{kind: source.label() for kind, source in _SOURCES.items()}}


# --- the item ---------------------------------------------------------------------------------

@dataclass
class Item:
    """One line of a to-do list or of the deadlines page.

    ``object`` names the thing (a visit number, ``objection:12`` ...) for the reminder's key;
    ``title``, ``due_text`` and ``responsible`` are read in the language in force when they
    are read (a reminder is written in its reader's language)."""

    kind: str
    object: str
    link: str
    due: date | None = None
    missing_year: int | None = None
    state: str = WAITING
    #: Working days from today to ``due`` (negative when overdue); None when not counted.
    left: int | None = None
    number: str = ""
    employer: str = ""
    task_id: int | None = None
    task: str = ""
    department_id: int | None = None
    department: str = ""
    #: Who is responsible: a person's name, or None for a position / role (``act`` / role).
    person: str | None = None
    act: Act | None = None
    role: str | None = None
    #: A date the line starts from (the office's comments on a returned record).
    since: date | None = None
    count: int | None = None
    year: int | None = None
    #: The day the state was computed for.
    today: date | None = None
    #: For filtering by user (never shown): the proposer and everyone ever on the team.
    proposer_id: int | None = None
    participants: frozenset = field(default_factory=frozenset)
    team: frozenset = field(default_factory=frozenset)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.object}:{self.state}"

    @property
    def title(self) -> str:
        if self.kind in _SOURCES:
            return _SOURCES[self.kind].title(self)
        values = {"number": self.number, "employer": self.employer,
                  "count": self.count or 0, "year": self.year or 0,
                  "objection": self.object.split(":", 1)[-1]}
        text = {
            REVIEW: _("Review the record of %(number)s · %(employer)s", **values),
            RETURNED: _("Record of %(number)s returned to the team · %(employer)s", **values),
            PUBLICATION: _("Publish the result of %(number)s · %(employer)s", **values),
            FEEDBACK: _("Tell %(employer)s the result of %(number)s", **values),
            OBJECTION: _("Review objection %(objection)s against %(number)s · %(employer)s",
                         **values),
            DETERMINATION: _("Decide the determination of %(number)s · %(employer)s",
                             **values),
            CORRECTION: _("Decide the correction of %(number)s · %(employer)s", **values),
            EXCEPTION: _("Decide withholding the result of %(number)s · %(employer)s",
                         **values),
            PLANS: _("Annual plans waiting for approval: %(count)d", **values),
            TASKS: _("Tasks waiting for approval: %(count)d", **values),
            SUBSTITUTIONS: _("Substitutions waiting for your decision: %(count)d", **values),
            TO_CORRECT: _("Correct the returned record of %(number)s · %(employer)s",
                          **values),
            CALENDAR: _("Enter the working-day calendar for %(year)d (%(count)d deadlines "
                        "cannot be computed)", **values),
        }
        return text[self.kind]

    @property
    def due_text(self) -> str:
        if self.missing_year is not None:
            return missing_text(self.missing_year)
        if self.due is None:
            if self.since is not None:
                return _("returned on %(date)s", date=self.since.isoformat())
            return ""
        day = self.due.isoformat()
        if self.state == OVERDUE:
            if self.left:
                return _("due %(date)s, %(n)d working days overdue", date=day, n=-self.left)
            return _("due %(date)s, overdue", date=day)
        if self.due == self.today:
            return _("due today, %(date)s", date=day)
        if self.left:
            return _("due %(date)s, in %(n)d working days", date=day, n=self.left)
        return _("due %(date)s", date=day)

    @property
    def responsible(self) -> str:
        if self.person:
            return self.person
        if self.act is not None:
            positions = "、".join(str(POSITION_LABELS[p]) for p in positions_for(self.act))
            return f"{self.department} · {positions}" if self.department else positions
        if self.role:
            return str(ROLE_LABELS[self.role])
        return ""


def missing_text(year: int) -> str:
    """What a deadline in a year with no calendar reads."""
    return _("calendar for %(year)d missing", year=year)


# --- dates ------------------------------------------------------------------------------------

def _settings():
    return current_app.config["SETTINGS"]


def local_today() -> date:
    from .operations import today as _today

    return _today()


def _local_day(moment: datetime | None) -> date | None:
    return to_local(moment).date() if moment is not None else None


def _check_day(body: dict | None, received_at: datetime | None, today: date) -> date:
    """:func:`.operations.check_day`, today when there is no sealed revision."""
    return ops.check_day(body, received_at) or today


def _counted(start: date | None, workdays: int) -> tuple[date | None, int | None]:
    if start is None:
        return None, None
    info = deadline_info(start, workdays)
    return info["deadline"], info["missing_year"]


def _stored(deadline: date | None, year: int | None, start: date | None,
            workdays: int) -> tuple[date | None, int | None]:
    """A stored deadline; one stored as missing is counted again (the year may have been
    entered since)."""
    if deadline is not None:
        return deadline, None
    if start is None:
        return None, year
    return _counted(start, workdays)


def _left(today: date, due: date) -> int | None:
    """Working days from today to ``due`` (None when a year between has no calendar)."""
    try:
        return workdays_between(today, due)
    except UnknownCalendarYear:
        return None


def _finish(items: list[Item], today: date) -> list[Item]:
    """Set each item's state and working days left."""
    soon = _settings().DUE_SOON_WORKDAYS
    for item in items:
        item.today = today
        if item.missing_year is not None:
            item.state, item.due = MISSING, None
        elif item.due is None:
            item.state = WAITING
        else:
            item.left = _left(today, item.due)
            if item.due < today:
                item.state = OVERDUE
            elif item.left is not None:
                item.state = DUE_SOON if item.left <= soon else OK
            else:
                item.state = DUE_SOON if (item.due - today).days <= soon else OK
    return items


def sort_items(items: list[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (_RANK[i.state], i.due or date.max, i.kind, i.object))


# --- the queries ------------------------------------------------------------------------------

def _first_task_id():
    """The visit's first task (the one whose lead department owns the result, as
    :func:`.operations.lead_department_id`), correlated to :class:`Visit`; a rectification
    follow-up serves the tasks of the visit it follows (docs/followup.md)."""
    return (select(VisitTask.task_id)
            .where(VisitTask.visit_id == func.coalesce(Visit.follows_id, Visit.id))
            .order_by(VisitTask.id).limit(1).correlate(Visit).scalar_subquery())


def _sealed_id():
    """The visit's latest sealed record revision (not a member's part)."""
    return (select(func.max(RecordRevision.id))
            .where(RecordRevision.visit_id == Visit.id, RecordRevision.seal.is_not(None),
                   RecordRevision.is_part.is_(False))
            .correlate(Visit).scalar_subquery())


def _current_determination_id():
    """The visit's result: its newest approved determination not superseded."""
    d = aliased(Determination)
    return (select(func.max(d.id))
            .where(d.visit_id == Visit.id, d.status == Decision.APPROVED.value,
                   d.superseded_at.is_(None))
            .correlate(Visit).scalar_subquery())


_VISIT_COLUMNS = (Visit.id.label("visit_id"), Visit.number, Employer.name.label("employer"),
                  Task.id.label("task_id"), Task.name.label("task"),
                  Department.id.label("department_id"), Department.name.label("department"))


def _visit_query(*columns, department_id: int | None = None):
    """SELECT the visit, its employer, first task and lead department, plus ``columns``."""
    query = (select(*_VISIT_COLUMNS, *columns).select_from(Visit)
             .join(Employer, Employer.id == Visit.employer_id)
             .outerjoin(Task, Task.id == _first_task_id())
             .outerjoin(Department, Department.id == Task.lead_department_id))
    if department_id is not None:
        query = query.where(Task.lead_department_id == department_id)
    return query


def _visit_item(kind: str, row, link: str, obj: str | None = None, **kw) -> Item:
    return Item(kind=kind, object=obj or row.number, link=link, number=row.number,
                employer=row.employer, task_id=row.task_id, task=row.task or "",
                department_id=row.department_id, department=row.department or "", **kw)


def _review(today: date) -> list[Item]:
    workdays = _settings().REVIEW_WORKDAYS
    rows = db.session.execute(
        _visit_query(RecordRevision.body, RecordRevision.received_at)
        .outerjoin(RecordRevision, RecordRevision.id == _sealed_id())
        .where(Visit.status == VisitStatus.RECORDED.value))
    items = []
    for row in rows:
        due, year = _counted(_check_day(row.body, row.received_at, today), workdays)
        items.append(_visit_item(REVIEW, row, REVIEW_PAGE.format(number=row.number), due=due,
                                 missing_year=year, role=Role.OFFICE.value))
    return items


def _returned(member_user_id: int | None = None) -> list[Item]:
    """Visits returned to their team, with the office's comments' date; for one inspector,
    only the visits of their teams."""
    by = aliased(User)
    open_return = (select(func.max(ReviewReturn.id))
                   .where(ReviewReturn.visit_id == Visit.id, ReviewReturn.resolved_at.is_(None))
                   .correlate(Visit).scalar_subquery())
    query = (_visit_query(ReviewReturn.returned_at, by.display_name.label("returned_by"))
             .outerjoin(ReviewReturn, ReviewReturn.id == open_return)
             .outerjoin(by, by.id == ReviewReturn.returned_by_id)
             .where(Visit.status == VisitStatus.RETURNED.value))
    if member_user_id is not None:
        query = query.where(exists().where(
            TeamMember.visit_id == Visit.id, TeamMember.replaced_at.is_(None),
            TeamMember.inspector_id == Inspector.id, Inspector.user_id == member_user_id))
    items = []
    for row in db.session.execute(query):
        if member_user_id is not None:
            items.append(_visit_item(TO_CORRECT, row, FIELD_VISIT.format(number=row.number),
                                     since=_local_day(row.returned_at)))
        else:
            items.append(_visit_item(RETURNED, row, REVIEW_PAGE.format(number=row.number),
                                     since=_local_day(row.returned_at)))
    return items


def _publications() -> list[Item]:
    proposer = aliased(User)
    det = aliased(Determination)
    rows = db.session.execute(
        _visit_query(Publication.deadline, Publication.deadline_year, Publication.clock_start,
                     Publication.workdays, proposer.display_name.label("proposer"))
        .join(Publication, Publication.visit_id == Visit.id)
        .outerjoin(det, det.id == _current_determination_id())
        .outerjoin(proposer, proposer.id == det.proposed_by_id)
        .where(Publication.status == "pending",
               Visit.status == VisitStatus.DETERMINED.value))
    items = []
    for row in rows:
        due, year = _stored(row.deadline, row.deadline_year, row.clock_start, row.workdays)
        items.append(_visit_item(PUBLICATION, row, REVIEW_PAGE.format(number=row.number),
                                 due=due, missing_year=year, person=row.proposer,
                                 role=Role.OFFICE.value))
    return items


def _feedback() -> list[Item]:
    """Results not yet told to the employer (no Feedback of the current result)."""
    settings = _settings()
    proposer = aliased(User)
    det = aliased(Determination)
    rows = db.session.execute(
        _visit_query(det.decided_at, Publication.period_end,
                     proposer.display_name.label("proposer"))
        .join(det, det.id == _current_determination_id())
        .outerjoin(Publication, Publication.visit_id == Visit.id)
        .outerjoin(proposer, proposer.id == det.proposed_by_id)
        .where(Visit.status.in_((VisitStatus.DETERMINED.value, VisitStatus.PUBLISHED.value,
                                 VisitStatus.WITHHELD.value)),
               ~exists().where(Feedback.visit_id == Visit.id,
                               Feedback.determination_id == det.id)))
    items = []
    for row in rows:
        if settings.FEEDBACK_ORDER == "feedback_first":
            start = _local_day(row.decided_at)
        else:
            start = row.period_end  # publish first: told after the publication period
            if start is None:
                continue  # not yet published: nothing to tell yet
        due, year = _counted(start, settings.FEEDBACK_WORKDAYS)
        items.append(_visit_item(FEEDBACK, row, REVIEW_PAGE.format(number=row.number),
                                 due=due, missing_year=year, person=row.proposer,
                                 role=Role.OFFICE.value))
    return items


def _objections() -> list[Item]:
    workdays = _settings().OBJECTION_REVIEW_WORKDAYS
    rows = db.session.execute(
        _visit_query(Objection.id.label("objection_id"), Objection.number.label("receipt"),
                     Objection.deadline, Objection.deadline_year, Objection.submitted_at)
        .join(Objection, Objection.visit_id == Visit.id)
        .where(Objection.status == ObjectionStatus.OPEN.value))
    items = []
    for row in rows:
        due, year = _stored(row.deadline, row.deadline_year, _local_day(row.submitted_at),
                            workdays)
        items.append(_visit_item(OBJECTION, row, REVIEW_PAGE.format(number=row.number),
                                 obj=f"objection:{row.receipt}", due=due, missing_year=year,
                                 role=Role.OFFICE.value))
    return items


def _determinations(today: date, department_id: int | None) -> list[Item]:
    workdays = _settings().REVIEW_WORKDAYS
    rows = db.session.execute(
        _visit_query(Determination.id.label("row_id"), Determination.proposed_by_id,
                     RecordRevision.body, RecordRevision.received_at,
                     department_id=department_id)
        .join(Determination, Determination.visit_id == Visit.id)
        .outerjoin(RecordRevision, RecordRevision.id == Determination.revision_id)
        .where(Determination.status == Decision.PROPOSED.value,
               Determination.corrects_id.is_(None)))
    items = []
    for row in rows:
        due, year = _counted(_check_day(row.body, row.received_at, today), workdays)
        items.append(_visit_item(DETERMINATION, row, f"{APPROVALS_PAGE}#determination-"
                                 f"{row.row_id}", obj=f"determination:{row.row_id}", due=due,
                                 missing_year=year, act=Act.DETERMINATION,
                                 proposer_id=row.proposed_by_id))
    return items


def _corrections(department_id: int | None) -> list[Item]:
    workdays = _settings().OBJECTION_REVIEW_WORKDAYS
    rows = db.session.execute(
        _visit_query(Correction.id.label("row_id"), Correction.proposed_by_id,
                     Objection.deadline, Objection.deadline_year, Objection.submitted_at,
                     department_id=department_id)
        .join(Correction, Correction.visit_id == Visit.id)
        .outerjoin(Objection, Objection.id == Correction.objection_id)
        .where(Correction.status == Decision.PROPOSED.value))
    items = []
    for row in rows:
        due, year = (_stored(row.deadline, row.deadline_year, _local_day(row.submitted_at),
                             workdays) if row.submitted_at is not None else (None, None))
        items.append(_visit_item(CORRECTION, row, f"{APPROVALS_PAGE}#correction-{row.row_id}",
                                 obj=f"correction:{row.row_id}", due=due, missing_year=year,
                                 act=Act.CORRECTION, proposer_id=row.proposed_by_id))
    return items


def _exceptions(department_id: int | None) -> list[Item]:
    rows = db.session.execute(
        _visit_query(PublicationException.id.label("row_id"),
                     PublicationException.proposed_by_id, Publication.deadline,
                     Publication.deadline_year, Publication.clock_start, Publication.workdays,
                     department_id=department_id)
        .join(PublicationException, PublicationException.visit_id == Visit.id)
        .outerjoin(Publication, Publication.visit_id == Visit.id)
        .where(PublicationException.status == Decision.PROPOSED.value))
    items = []
    for row in rows:
        due, year = _stored(row.deadline, row.deadline_year, row.clock_start,
                            row.workdays or 0)
        items.append(_visit_item(EXCEPTION, row, f"{APPROVALS_PAGE}#exception-{row.row_id}",
                                 obj=f"exception:{row.row_id}", due=due, missing_year=year,
                                 act=Act.PUBLICATION_EXCEPTION,
                                 proposer_id=row.proposed_by_id))
    return items


def _teams(items: list[Item]) -> None:
    """Fill in, in one query, everyone ever on each item's team (``participants``: nobody
    approves a visit they were on) and the team leader's name of returned records."""
    numbers = {i.number for i in items if i.number}
    if not numbers:
        return
    rows = db.session.execute(
        select(Visit.number, Inspector.user_id, Inspector.name, TeamMember.is_leader,
               TeamMember.replaced_at)
        .join(TeamMember, TeamMember.visit_id == Visit.id)
        .join(Inspector, Inspector.id == TeamMember.inspector_id)
        .where(Visit.number.in_(sorted(numbers))).order_by(TeamMember.id))
    ever, current, leader = defaultdict(set), defaultdict(set), {}
    for number, user_id, name, is_leader, replaced_at in rows:
        if user_id is not None:
            ever[number].add(user_id)
            if replaced_at is None:
                current[number].add(user_id)
        if is_leader and replaced_at is None:
            leader.setdefault(number, name)
    for item in items:
        item.participants = frozenset(ever.get(item.number, ()))
        item.team = frozenset(current.get(item.number, ()))
        if item.kind == RETURNED:
            item.person = leader.get(item.number)


def _counters(user: User) -> list[Item]:
    """Plans and tasks waiting for approval, and the substitutions this approver may decide
    (position and department, not their own request), as counters linking to their pages."""
    plans, tasks = db.session.execute(select(
        select(func.count(AnnualPlan.id)).where(AnnualPlan.status == PlanStatus.SUBMITTED.value)
        .scalar_subquery(),
        select(func.count(Task.id)).where(Task.status == TaskStatus.SUBMITTED.value)
        .scalar_subquery())).one()
    subs = db.session.execute(
        select(Substitution.id, Substitution.requested_by_id, TeamMember.department_id)
        .join(TeamMember, TeamMember.id == Substitution.member_id)
        .where(Substitution.status == "requested")).all()
    mine = sum(1 for _id, by, dept in subs
               if by != user.id and may_approve(user, Act.SUBSTITUTION, dept))
    items = []
    for kind, count, link in ((PLANS, plans, "/plans/"),
                              (TASKS, tasks, "/tasks/?status=submitted"),
                              (SUBSTITUTIONS, mine, "/teams/substitutions?status=requested")):
        if count:
            items.append(Item(kind=kind, object=kind, link=link, count=count,
                              role=Role.APPROVER.value))
    return items


def _collect(kinds: Iterable[str], today: date, *, department_id: int | None = None
             ) -> list[Item]:
    """The bureau's items of ``kinds`` (the approvals of one department when given)."""
    kinds = set(kinds)
    items: list[Item] = []
    if REVIEW in kinds:
        items += _review(today)
    if RETURNED in kinds:
        items += _returned()
    if PUBLICATION in kinds:
        items += _publications()
    if FEEDBACK in kinds:
        items += _feedback()
    if OBJECTION in kinds:
        items += _objections()
    if DETERMINATION in kinds:
        items += _determinations(today, department_id)
    if CORRECTION in kinds:
        items += _corrections(department_id)
    if EXCEPTION in kinds:
        items += _exceptions(department_id)
    for kind, source in _SOURCES.items():
        if kind in kinds:
            items += source.collect(today)
    if kinds & {RETURNED, DETERMINATION, CORRECTION, EXCEPTION}:
        _teams([i for i in items if i.kind in (RETURNED, DETERMINATION, CORRECTION,
                                                EXCEPTION)])
    return items


def _calendar_items(items: Iterable[Item]) -> list[Item]:
    years: dict[int, int] = defaultdict(int)
    for item in items:
        if item.missing_year is not None:
            years[item.missing_year] += 1
    return [Item(kind=CALENDAR, object=str(year), link=CALENDAR_PAGE, year=year, count=n,
                 missing_year=year, state=MISSING, role=Role.ADMIN.value)
            for year, n in sorted(years.items())]


def may_decide(user: User, item: Item) -> bool:
    """Whether ``user`` decides this approval: the position for the act in the department
    that owns the visit, and four eyes (not their own proposal, not a visit they were on)."""
    return (item.act is not None and may_approve(user, item.act, item.department_id)
            and item.proposer_id != user.id and user.id not in item.participants)


# --- the readers ------------------------------------------------------------------------------

def todo(user: User, *, today: date | None = None) -> list[Item]:
    """``user``'s to-do list, most urgent first, in a fixed number of queries.

    office: the bureau's records to review, records returned to teams, publications,
    feedback and objections due; approver: the determinations, corrections and exceptions
    they may decide, and counters of plans, tasks and substitutions; inspector: the records
    returned to their teams; administrator: the calendar years to enter."""
    today = today or local_today()
    items: list[Item] = []
    if user.has_role(Role.OFFICE):
        items += _collect(office_kinds(), today)
    if user.has_role(Role.APPROVER):
        if user.department_id is not None:
            items += [i for i in _collect(APPROVAL_KINDS, today,
                                          department_id=user.department_id)
                      if may_decide(user, i)]
        items += _counters(user)
    if user.has_role(Role.INSPECTOR):
        items += _returned(member_user_id=user.id)
    if user.has_role(Role.ADMIN):
        items += _calendar_items(_finish(_collect(deadline_kinds(), today), today))
    if not items:
        return []
    return sort_items(_unique(_finish(items, today)))


def _unique(items: list[Item]) -> list[Item]:
    """One line per thing (a user holding several roles may meet it twice)."""
    seen, unique = set(), []
    for item in items:
        if (item.kind, item.object) not in seen:
            seen.add((item.kind, item.object))
            unique.append(item)
    return unique


def bureau_todo(today: date | None = None) -> list[tuple[User, list[Item]]]:
    """Every active user with their to-do list (the reminders), reading the bureau's rows
    once: a fixed number of queries whatever the number of users. (Counters of plans, tasks
    and substitutions are left out: they have no deadline to remind of.)"""
    today = today or local_today()
    users = db.session.scalars(select(User).where(User.active.is_(True))
                               .order_by(User.id)).all()
    items = _finish(_collect(deadline_kinds(), today), today)
    office = office_kinds()
    returned = [i for i in items if i.kind == RETURNED]
    calendar = _finish(_calendar_items(items), today)
    lists: list[tuple[User, list[Item]]] = []
    for user in users:
        mine: list[Item] = []
        if user.has_role(Role.OFFICE):
            mine += [i for i in items if i.kind in office]
        if user.has_role(Role.APPROVER):
            mine += [i for i in items if i.kind in APPROVAL_KINDS and may_decide(user, i)]
        if user.has_role(Role.INSPECTOR):
            mine += [Item(kind=TO_CORRECT, object=i.object, link=FIELD_VISIT.format(
                number=i.number), number=i.number, employer=i.employer, task_id=i.task_id,
                task=i.task, department_id=i.department_id, department=i.department,
                since=i.since, state=WAITING, today=today) for i in returned
                if user.id in i.team]
        if user.has_role(Role.ADMIN):
            mine += calendar
        lists.append((user, sort_items(_unique(mine))))
    return lists


def deadlines(*, today: date | None = None, state: str | None = None,
              department_id: int | None = None) -> dict[str, Any]:
    """The deadlines page: every deadline of the bureau, grouped by task and lead
    department, with the person responsible and each task's progress.

    Returns ``{"groups": [{"task_id", "task", "department_id", "department", "items",
    "progress": {"done", "total"} | None}], "counts": {state: n}, "missing_years": [...],
    "departments": [(id, name)]}``; ``state`` and ``department_id`` filter the groups (the
    counts are of the whole bureau)."""
    today = today or local_today()
    items = sort_items(_finish(_collect(deadline_kinds(), today), today))
    counts = {s: 0 for s in STATES}
    departments: dict[int, str] = {}
    for item in items:
        counts[item.state] += 1
        if item.department_id is not None:
            departments[item.department_id] = item.department
    missing = sorted({i.missing_year for i in items if i.missing_year is not None})
    shown = [i for i in items if (state is None or i.state == state)
             and (department_id is None or i.department_id == department_id)]
    groups: dict[tuple, dict[str, Any]] = {}
    for item in shown:
        key = (item.task_id, item.department_id)
        group = groups.setdefault(key, {"task_id": item.task_id, "task": item.task,
                                        "department_id": item.department_id,
                                        "department": item.department, "items": []})
        group["items"].append(item)
    progress = task_progress([g["task_id"] for g in groups.values() if g["task_id"]])
    for group in groups.values():
        group["progress"] = progress.get(group["task_id"])
    return {"groups": list(groups.values()), "counts": counts, "missing_years": missing,
            "departments": sorted(departments.items(), key=lambda d: d[1]),
            "total": len(items)}


def task_progress(task_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """``{task_id: {"done", "total"}}`` in one query: a visit is done only when its result is
    published or withheld by an approved exception (:data:`DONE_STATUSES`)."""
    ids = sorted(set(task_ids))
    if not ids:
        return {}
    done = func.sum(case((Visit.status.in_(DONE_STATUSES), 1), else_=0))
    rows = db.session.execute(
        select(VisitTask.task_id, func.count(Visit.id), done)
        .join(Visit, Visit.id == VisitTask.visit_id)
        .where(VisitTask.task_id.in_(ids)).group_by(VisitTask.task_id))
    return {task_id: {"done": int(d or 0), "total": int(total)}
            for task_id, total, d in rows}


def overview(*, today: date | None = None) -> dict[str, int]:
    """Counts of the bureau's deadlines by state (the supervisor's home page)."""
    return deadlines(today=today)["counts"]
