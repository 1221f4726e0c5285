"""Closing a task and making its summary reports (seed 001 第十五、十六条; docs/reports.md).

* :func:`close_task` -- the office closes a task once every visit is done (published, or
  withheld by an approved exception: :data:`~inspection.fieldwork.models.DONE_STATUSES`, as
  :func:`inspection.review.todo.task_progress` counts them); refused, naming the visits that
  are not, while any is not. Audited.
* :func:`make_report` -- the job handlers of the kinds ``task_report`` and ``year_report``:
  the figures of :mod:`.data` rendered by :mod:`.render`, kept in the file store (area
  ``reports``) and listed as a :class:`.models.SummaryReport`.
* the deadlines page's line "the year's summary due 31 December" (:func:`year_items`).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, func, select

from ..core import audit, storage
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.models import Role, User, utcnow
from ..extensions import db
from ..fieldwork.models import DONE_STATUSES, Visit, VisitTask
from ..jobs.registry import JobFile, Progress
from ..planning.models import AnnualPlan, Task, TaskStatus
from . import data as report_data
from . import render
from .models import ReportKind, SummaryReport, TaskClosure
from .schemas import ReportParamsSchema
from ..core.fields import load
from ..jobs import operations as jobs_ops
from ..review.todo import Item

AREA = "reports"
#: A task may be closed from these statuses (its visits were drawn).
CLOSABLE = (TaskStatus.TARGETS_DRAWN.value, TaskStatus.TEAMS_DRAWN.value)
#: Not more than this many visit numbers are named in a refusal (then "and N more").
NAMED = 20


def get_task(task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound(_("No such task."))
    return task


def closure_of(task_id: int) -> TaskClosure | None:
    return db.session.scalar(select(TaskClosure).where(TaskClosure.task_id == task_id))


def not_done(task_id: int) -> list[str]:
    """The numbers of the task's visits that are not done, in order: one query."""
    return list(db.session.scalars(
        select(Visit.number).join(VisitTask, VisitTask.visit_id == Visit.id)
        .where(VisitTask.task_id == task_id, Visit.status.not_in(DONE_STATUSES))
        .order_by(Visit.number)))


def close_task(task_id: int, *, actor: User, note: str = "") -> TaskClosure:
    """Close the task: every visit done; the end of its check is recorded (the archive's
    clock). A second close of a closed task answers the closure made (a double submit)."""
    task = get_task(task_id)
    if task.status == TaskStatus.CLOSED.value:
        closure = closure_of(task.id)
        if closure is not None:
            return closure
    if task.status not in CLOSABLE:
        raise Conflict(_("Only a task whose targets are drawn can be closed."))
    rows = report_data.task_visits([task.id])
    if not rows:
        raise Conflict(_("The task has no visits to close."))
    waiting = not_done(task.id)
    if waiting:
        named = "、".join(waiting[:NAMED])
        if len(waiting) > NAMED:
            named += _(" and %(n)d more", n=len(waiting) - NAMED)
        raise Conflict(_("The task cannot be closed: %(n)d of %(total)d visits are not done "
                         "(published or withheld): %(visits)s.", n=len(waiting),
                         total=len(rows), visits=named))
    note = (note or "").strip()
    if len(note) > 2000:
        raise ValidationFailed(_("Some values are not valid."),
                               fields={"note": [_("At most 2000 characters.")]})
    end = report_data.check_end(task, rows)
    old = task.status
    updated = db.session.execute(
        Task.__table__.update().where(Task.id == task.id, Task.status == old)
        .values(status=TaskStatus.CLOSED.value)).rowcount
    if not updated:
        db.session.rollback()
        raise Conflict(_("Someone else changed this task just now; reload the page."))
    closure = TaskClosure(task_id=task.id, closed_at=utcnow(), closed_by_id=actor.id,
                          check_end=end, visits=len(rows), note=note)
    db.session.add(closure)
    db.session.flush()
    audit.record("task.close", "task", task.id,
                 {"status": [old, TaskStatus.CLOSED.value], "visits": len(rows),
                  "check_end": end.isoformat(), "note": note}, actor=actor)
    db.session.commit()
    db.session.refresh(task)
    return closure


# --- the reports as jobs ----------------------------------------------------------------------

def _params(params: dict[str, Any]) -> tuple[str, int, str, int | None]:
    """(kind, task id or year, format, user id) from a job's params, checked."""

    clean = load(ReportParamsSchema(), params)
    key = clean["task_id"] if clean["kind"] == ReportKind.TASK.value else clean["year"]
    return clean["kind"], key, clean["format"], clean.get("user_id")


def file_name(kind: str, key: int, fmt: str, name: str = "") -> str:
    if kind == ReportKind.TASK.value:
        stem = f"抽查总结报告-{key}-{name}" if name else f"抽查总结报告-{key}"
        return f"{stem[:140]}.{fmt}".replace("/", "-")
    return f"年度抽查总结-{key}.{fmt}"


def make_report(params: dict[str, Any], progress: Progress) -> JobFile:
    """The job of both kinds: params ``{"kind": "task"|"year", "task_id"|"year", "format":
    "pdf"|"xlsx", "user_id"}``. Safe to run again: the store keeps one copy of equal bytes
    and the same report is listed once."""
    kind, key, fmt, user_id = _params(params)
    progress(0, 3, _("Reading the figures"))
    if kind == ReportKind.TASK.value:
        task = get_task(key)
        figures = report_data.task_report_data(task.id)
        year, task_id, name = task.plan.year, task.id, task.name
    else:
        figures = report_data.year_report_data(key)
        year, task_id, name = key, None, ""
    progress(1, 3, _("Rendering"))
    maker = {("task", "pdf"): render.task_pdf, ("task", "xlsx"): render.task_xlsx,
             ("year", "pdf"): render.year_pdf, ("year", "xlsx"): render.year_xlsx}[(kind, fmt)]
    body = maker(figures)
    sha = storage.put(AREA, body)
    progress(2, 3, _("Keeping the file"))
    stored = db.session.scalar(select(SummaryReport).where(
        SummaryReport.kind == kind, SummaryReport.year == year,
        SummaryReport.task_id.is_(None) if task_id is None else SummaryReport.task_id == task_id,
        SummaryReport.format == fmt, SummaryReport.sha256 == sha).limit(1))
    if stored is None:
        actor = db.session.get(User, user_id) if user_id else None
        row = SummaryReport(kind=kind, task_id=task_id, year=year, format=fmt, sha256=sha,
                            size=len(body), made_at=utcnow(), made_by_id=user_id)
        db.session.add(row)
        db.session.flush()
        audit.record(f"report.{kind}", "task" if task_id else "year",
                     task_id if task_id else year,
                     {"format": fmt, "sha256": sha, "size": len(body)}, actor=actor)
        db.session.commit()
    progress(3, 3)
    return JobFile(AREA, sha, file_name(kind, key, fmt, name), render.FORMATS[fmt])


def run_task_report(params: dict[str, Any], progress: Progress) -> JobFile:
    return make_report(dict(params, kind=ReportKind.TASK.value), progress)


def run_year_report(params: dict[str, Any], progress: Progress) -> JobFile:
    return make_report(dict(params, kind=ReportKind.YEAR.value), progress)


def submit_report(kind: str, key: int, fmt: str, *, actor: User):
    """Submit the report to the job queue; returns the job (its page shows the progress)."""

    params: dict[str, Any] = {"format": fmt, "user_id": actor.id}
    if kind == ReportKind.TASK.value:
        get_task(key)
        params["task_id"] = key
    else:
        params["year"] = key
    _params(dict(params, kind=kind))  # the same check the handler makes, before queueing
    return jobs_ops.submit(f"{kind}_report", params, actor)


# --- the reports page -------------------------------------------------------------------------

def years() -> list[dict[str, Any]]:
    """The years with plans, newest first, each with its tasks' count and the year's
    summaries made: three queries."""
    found = db.session.execute(
        select(AnnualPlan.year, func.count(func.distinct(Task.id)))
        .outerjoin(Task, Task.plan_id == AnnualPlan.id)
        .group_by(AnnualPlan.year).order_by(AnnualPlan.year.desc())).all()
    made: dict[int, list[SummaryReport]] = {}
    for row in db.session.scalars(select(SummaryReport).where(
            SummaryReport.kind == ReportKind.YEAR.value).order_by(SummaryReport.id.desc())):
        made.setdefault(row.year, []).append(row)
    closed = dict(db.session.execute(
        select(AnnualPlan.year, func.count(Task.id)).join(Task, Task.plan_id == AnnualPlan.id)
        .where(Task.status == TaskStatus.CLOSED.value).group_by(AnnualPlan.year)).all())
    return [{"year": year, "tasks": n, "closed": closed.get(year, 0),
             "reports": made.get(year, [])} for year, n in found]


def task_reports(task_id: int) -> list[SummaryReport]:
    return db.session.scalars(select(SummaryReport).where(
        SummaryReport.kind == ReportKind.TASK.value, SummaryReport.task_id == task_id)
        .order_by(SummaryReport.id.desc())).all()


def get_report(report_id: int) -> SummaryReport:
    row = db.session.get(SummaryReport, report_id)
    if row is None:
        raise NotFound(_("No such report."))
    return row


# --- the deadlines page: the year's summary -----------------------------------------------------

YEAR_REPORT = "year_report"
#: The line of the year's summary appears from this day of the year (month, day): the month
#: it is due in. Earlier years without a summary stay listed (overdue).
YEAR_REPORT_FROM = (12, 1)


def year_items(today: date) -> list:
    """One line per year that has tasks (not all cancelled) and no summary yet: due
    31 December of that year (seed 001 第十六条); this year's from :data:`YEAR_REPORT_FROM`
    on, earlier years' always. One query."""

    made = exists().where(SummaryReport.kind == ReportKind.YEAR.value,
                          SummaryReport.year == AnnualPlan.year)
    last = today.year if today >= date(today.year, *YEAR_REPORT_FROM) else today.year - 1
    rows = db.session.execute(
        select(AnnualPlan.year).join(Task, Task.plan_id == AnnualPlan.id)
        .where(Task.status != TaskStatus.CANCELLED.value, AnnualPlan.year <= last, ~made)
        .group_by(AnnualPlan.year).order_by(AnnualPlan.year)).scalars().all()
    return [Item(kind=YEAR_REPORT, object=str(year), link="/reports/", year=year,
                 due=date(year, 12, 31), role=Role.OFFICE.value) for year in rows]


def year_item_title(item) -> str:
    return _("Make the year's summary for %(year)d (due 31 December)", year=item.year or 0)
