"""The figures of the summary reports, as plain dicts (seed 001 第十五条: the task's summary
report, 抽查总结报告; 第十六条: the year's summary, by the end of December).

:func:`task_report_data` reads one task in a fixed number of queries, whatever the number of
its visits; :func:`year_report_data` reads every task of a year the same way (the task
figures are added up). Both are rendered by :mod:`.render` as PDF and XLSX and read by the
archive (the case file holds the task's report).

Sections (the keys of the dict, in the order of the report):

``scope``        the task: plan, departments, type, filters, method, window, items, ratios;
``draws``        each draw with its commitment's SHA-256, its pools (file hashes) and its
                 indexes in the public log (commitment and result);
``teams``        the team of each visit (leader first, replaced members marked) and every
                 substitution with its reason and decision;
``results``      the bureau's result of each visit (approved determination not superseded;
                 withheld results counted apart) by category and by check item;
``problems``     each finding with a handling (rectified on site, order, follow-up,
                 referral, penalty: ``Determination.findings``) and the handling decisions
                 and referrals of :mod:`inspection.review.handling` when present;
``timeliness``   per deadline, on time / late / not counted: review (the determination
                 approved within ``REVIEW_WORKDAYS`` of the day of the check), publication
                 (:attr:`Publication.on_time`), feedback (:attr:`Feedback.on_time`) and
                 objections (decided by their deadline).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from typing import Any, Iterable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..catalogue.models import CheckItem, CheckItemVersion
from ..core.models import Department, User
from ..core.timeutil import to_local
from ..core.workdays import deadline_info
from ..directory.models import Employer, Inspector
from ..draws.commitments import commitment_hash
from ..draws.models import Draw, Substitution, TeamMember
from ..draws.public_log import LogEntry
from ..extensions import db
from ..fieldwork.models import (DONE_STATUSES, RESULT_LABELS, RecordRevision, Visit,
                                VisitStatus, VisitTask)
from ..planning.models import AnnualPlan, Task, TaskDepartment, TaskItem, TaskStatus
from ..review import operations as review_ops
from ..review.models import (Decision, Determination, Feedback, Objection, ObjectionStatus,
                             Publication)
from .models import TaskClosure
from ..review.handling.models import HandlingDecision
from ..review.handling.operations import kind_labels
from ..directory.employers.labels import FLAGS, GRADES, pick
from ..directory.models import Region
from ..directory.reference import EMPLOYER_TYPES, INDUSTRIES
from ..planning import operations as planning_ops
from ..planning.forms import TYPE_LABELS
from ..catalogue.forms import METHOD_LABELS
from ..draws.models import DrawPool
from sqlalchemy.orm import aliased
from ..draws.team.labels import status_labels, substitution_reason_labels
from ..fieldwork.visits import checked_versions_of
from ..core.errors import NotFound
from ..review.todo import task_progress
from ..planning.forms import TASK_STATUS_LABELS

#: The deadlines of the timeliness section, in the report's order.
TIMELINESS_KEYS = ("review", "publication", "feedback", "objections", "handling")


def _settings():
    return current_app.config["SETTINGS"]


def _day(moment: datetime | None) -> date | None:
    return to_local(moment).date() if moment is not None else None


def _iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_local(value).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def timeliness_labels() -> dict[str, str]:
    return {"review": _("Review of the record"), "publication": _("Publication"),
            "feedback": _("Feedback to the employer"), "objections": _("Review of objections"),
            "handling": _("Sending referrals and transfers")}


def section_labels() -> dict[str, str]:
    return {"scope": _("Scope and filters"), "draws": _("Draws and commitments"),
            "teams": _("Teams and substitutions"), "results": _("Results by category"),
            "items": _("Results by check item"), "problems": _("Problems and their handling"),
            "timeliness": _("Timeliness")}


# --- handling decisions (inspection/review/handling, built alongside) -------------------------

def handling_decisions(visit_ids: list[int]) -> dict[int, list[dict]]:
    """The handling decisions and referrals (:mod:`inspection.review.handling`: penalty,
    transfer to an agency or the judiciary, referral) of the visits, by visit id, as plain
    values: one query."""

    found: dict[int, list[dict]] = {i: [] for i in visit_ids}
    if not visit_ids:
        return found
    kinds, decisions = kind_labels(), {Decision.PROPOSED.value: _("proposed"),
                                       Decision.APPROVED.value: _("approved"),
                                       Decision.REJECTED.value: _("rejected")}
    for row in db.session.scalars(select(HandlingDecision).where(
            HandlingDecision.visit_id.in_(visit_ids)).order_by(HandlingDecision.id)):
        found[row.visit_id].append({
            "id": row.id, "problem": row.problem, "item": row.item,
            "question": row.question or "", "kind": row.kind,
            "kind_label": kinds.get(row.kind, row.kind), "recipient": row.recipient,
            "matter": row.matter or "", "status": decisions.get(row.status, row.status),
            "approved": row.status == Decision.APPROVED.value,
            "summary": f"{row.item} → {row.recipient}", "due": _iso(row.deadline),
            "sent_on": _iso(row.sent_on), "on_time": row.on_time,
            "letter_sha256": row.letter_sha256 or "", "outcome": row.outcome or "",
            "outcome_on": _iso(row.outcome_on)})
    return found


# --- reading one task --------------------------------------------------------------------------

def task_visits(task_ids: Iterable[int]) -> list[Any]:
    """Rows (task_id, visit, employer, sealed revision body, received_at) of the tasks'
    visits, in draw order: one query."""
    ids = sorted(set(task_ids))
    if not ids:
        return []
    sealed = (select(RecordRevision.id).where(
        RecordRevision.visit_id == Visit.id, RecordRevision.seal.is_not(None),
        RecordRevision.is_part.is_(False)).order_by(RecordRevision.id.desc()).limit(1)
        .correlate(Visit).scalar_subquery())
    return db.session.execute(
        select(VisitTask.task_id, Visit, Employer, RecordRevision.body,
               RecordRevision.received_at)
        .join(Visit, Visit.id == VisitTask.visit_id)
        .join(Employer, Employer.id == Visit.employer_id)
        .outerjoin(RecordRevision, RecordRevision.id == sealed)
        .where(VisitTask.task_id.in_(ids))
        .order_by(VisitTask.task_id, VisitTask.pool_name, VisitTask.rank, Visit.id)).all()


def check_end(task: Task, rows: list[Any] | None = None) -> date:
    """The end of the task's check: the latest day of check of its visits (the arrival on
    site their sealed records state), the task's window end when none has a record."""
    rows = task_visits([task.id]) if rows is None else rows
    days = [review_ops.check_day(r.body, r.received_at) for r in rows]
    days = [d for d in days if d is not None]
    return max(days) if days else task.window_end


def _filter_label(key: str, code: str) -> str:
    """A directed task's filter value in words (as the task page shows it)."""

    if key == "regions":
        region = db.session.get(Region, code)
        return region.name if region else code
    if key == "industries":
        return f"{code} {pick(INDUSTRIES, code)}"
    if key == "employer_types":
        return pick(EMPLOYER_TYPES, code)
    if key == "grades":
        return pick(GRADES, code)
    if key == "flags":
        return pick(FLAGS, f"flag_{code}")
    return code


def _scope(task: Task) -> dict[str, Any]:

    departments = db.session.execute(
        select(Department.name, TaskDepartment.is_lead)
        .join(TaskDepartment, TaskDepartment.department_id == Department.id)
        .where(TaskDepartment.task_id == task.id).order_by(TaskDepartment.id)).all()
    items = db.session.execute(
        select(CheckItem.code, CheckItemVersion.name, CheckItemVersion.number)
        .join(CheckItemVersion, CheckItemVersion.item_id == CheckItem.id)
        .join(TaskItem, TaskItem.item_version_id == CheckItemVersion.id)
        .where(TaskItem.task_id == task.id).order_by(TaskItem.id)).all()
    filters = [{"key": key, "values": [_filter_label(key, c) for c in codes]}
               for key, codes in (task.filters or {}).items() if codes]
    return {
        "task_id": task.id, "name": task.name, "year": task.plan.year,
        "plan": _("%(year)d plan, revision %(n)d", year=task.plan.year,
                  n=task.plan.revision),
        "lead_department": task.lead_department.name,
        "departments": [name for name, _lead in departments],
        "type": str(TYPE_LABELS.get(task.task_type, task.task_type)),
        "method": str(METHOD_LABELS.get(task.method, task.method)),
        "window_start": task.window_start.isoformat(), "window_end": task.window_end.isoformat(),
        "announced": task.announced, "inspectors_per_visit": task.inspectors_per_visit,
        "filters": filters,
        "ratios": {g: planning_ops.percent(task.grade_ratios.get(g, ""))
                   for g in planning_ops.GRADES},
        "items": [{"code": code, "name": name, "version": number}
                  for code, name, number in items],
        "description": task.description or "",
    }


def _draws(task_ids: list[int]) -> list[dict]:
    draws = db.session.scalars(select(Draw).where(Draw.task_id.in_(task_ids))
                               .order_by(Draw.id)).all()
    if not draws:
        return []

    pools: dict[int, list] = defaultdict(list)
    for pool in db.session.scalars(select(DrawPool).where(
            DrawPool.draw_id.in_([d.id for d in draws])).order_by(DrawPool.ordinal)):
        pools[pool.draw_id].append(pool)
    log: dict[int, dict[str, int]] = defaultdict(dict)
    for draw_id, kind, position in db.session.execute(
            select(LogEntry.draw_id, LogEntry.kind, LogEntry.position)
            .where(LogEntry.draw_id.in_([d.id for d in draws]))):
        log[draw_id][kind] = position
    out = []
    for draw in draws:
        out.append({
            "task_id": draw.task_id, "public_id": draw.public_id, "kind": draw.kind,
            "status": draw.status, "algorithm": draw.algorithm,
            "entropy_mode": draw.entropy_mode,
            "prepared_at": _iso(draw.prepared_at), "executed_at": _iso(draw.executed_at),
            "commitment_sha256": commitment_hash(draw.commitment),
            "pools": [{"name": p.name, "size": p.size, "count": p.count, "sha256": p.sha256}
                      for p in pools[draw.id]],
            "log_commitment": log[draw.id].get("commitment"),
            "log_result": log[draw.id].get("result"),
        })
    return out


def _teams(visits: list[Visit]) -> dict[str, Any]:
    ids = [v.id for v in visits]
    numbers = {v.id: v.number for v in visits}
    members = db.session.execute(
        select(TeamMember, Inspector.name).join(Inspector, Inspector.id == TeamMember.inspector_id)
        .where(TeamMember.visit_id.in_(ids))
        .order_by(TeamMember.visit_id, TeamMember.is_leader.desc(), TeamMember.id)).all()
    teams: dict[int, list[dict]] = {i: [] for i in ids}
    for member, name in members:
        teams[member.visit_id].append({"name": name, "leader": member.is_leader,
                                       "source": member.source,
                                       "replaced": member.replaced_at is not None})

    member_inspector, replacement = aliased(Inspector), aliased(Inspector)
    subs = db.session.execute(
        select(Substitution, member_inspector.name, replacement.name)
        .join(TeamMember, TeamMember.id == Substitution.member_id)
        .join(member_inspector, member_inspector.id == TeamMember.inspector_id)
        .outerjoin(replacement, replacement.id == Substitution.replacement_id)
        .where(Substitution.visit_id.in_(ids))
        .order_by(Substitution.id)).all()

    reasons, statuses = substitution_reason_labels(), status_labels()
    return {
        "visits": [{"number": numbers[i], "members": teams[i]} for i in ids],
        "substitutions": [{
            "visit": numbers.get(s.visit_id, ""), "member": who, "replacement": by or "",
            "reason": reasons.get(s.reason, s.reason), "note": s.note or "",
            "status": statuses.get(s.status, s.status), "requested_at": _iso(s.requested_at),
            "decided_at": _iso(s.decided_at)} for s, who, by in subs],
    }


def _current_determinations(ids: list[int]) -> dict[int, Determination]:
    """The bureau's result of each visit: its newest approved determination not superseded."""
    found: dict[int, Determination] = {}
    if not ids:
        return found
    for det in db.session.scalars(select(Determination).where(
            Determination.visit_id.in_(ids), Determination.status == Decision.APPROVED.value,
            Determination.superseded_at.is_(None)).order_by(Determination.id)):
        found[det.visit_id] = det
    return found


def _first_approved(ids: list[int]) -> dict[int, Determination]:
    """Each visit's first approved determination (not a correction): the end of its review."""
    found: dict[int, Determination] = {}
    if not ids:
        return found
    for det in db.session.scalars(select(Determination).where(
            Determination.visit_id.in_(ids), Determination.status == Decision.APPROVED.value,
            Determination.corrects_id.is_(None)).order_by(Determination.id.desc())):
        found[det.visit_id] = det
    return found


def _figures(rows: list[Any]) -> dict[str, Any]:
    """Results, items, problems and timeliness of a set of visits (task report rows): a fixed
    number of queries."""

    settings = _settings()
    visits = [r.Visit for r in rows]
    ids = [v.id for v in visits]
    current = _current_determinations(ids)
    first = _first_approved(ids)
    publications = {p.visit_id: p for p in db.session.scalars(
        select(Publication).where(Publication.visit_id.in_(ids)))} if ids else {}
    feedback: dict[int, list[Feedback]] = defaultdict(list)
    objections: list[Objection] = []
    if ids:
        for fb in db.session.scalars(select(Feedback).where(Feedback.visit_id.in_(ids))
                                     .order_by(Feedback.id)):
            feedback[fb.visit_id].append(fb)
        objections = db.session.scalars(select(Objection).where(Objection.visit_id.in_(ids))
                                        .order_by(Objection.id)).all()
    versions = checked_versions_of(ids)
    handling = review_ops.handling_labels()
    decisions = handling_decisions(ids)

    # results by category
    counts: Counter = Counter()
    withheld = 0
    per_visit = []
    for r in rows:
        visit, det = r.Visit, current.get(r.Visit.id)
        code = det.result_category if det else None
        if visit.status == VisitStatus.WITHHELD.value:
            withheld += 1
        if code:
            counts[code] += 1
        pub = publications.get(visit.id)
        per_visit.append({
            "number": visit.number, "employer": r.Employer.name,
            "credit_code": r.Employer.credit_code,
            "check_day": _iso(review_ops.check_day(r.body, r.received_at)),
            "category": code or "", "category_label": RESULT_LABELS.get(code, "") if code else "",
            "status": visit.status, "status_label": review_ops.status_label(visit.status),
            "published_on": _iso(_day(pub.published_at)) if pub else "",
            "corrected": bool(det and det.corrects_id)})
    categories = [{"code": code, "label": RESULT_LABELS.get(code, code), "count": n}
                  for code, n in sorted(counts.items(), key=lambda c: (-c[1], c[0]))]

    # by check item
    item_rows: dict[str, dict[str, Any]] = {}
    for visit in visits:
        det = current.get(visit.id)
        problem_items = {f.get("item") for f in (det.findings or [])
                         if f.get("handling")} if det else set()
        for version, code in versions.get(visit.id, []):
            row = item_rows.setdefault(code, {"code": code, "name": version.name,
                                              "visits": 0, "with_problems": 0, "problems": 0})
            row["visits"] += 1
            if code in problem_items:
                row["with_problems"] += 1
                row["problems"] += sum(1 for f in det.findings
                                       if f.get("item") == code and f.get("handling"))

    # problems and their handling
    problems = []
    by_number = {r.Visit.id: r for r in rows}
    kinds: Counter = Counter()
    for visit in visits:
        det = current.get(visit.id)
        for f in (det.findings or []) if det else []:
            if not f.get("handling"):
                continue
            kinds[f["handling"]] += 1
            problems.append({"visit": visit.number, "employer": by_number[visit.id].Employer.name,
                             "item": f.get("item") or "", "question": f.get("question") or "",
                             "finding": f.get("finding") or "",
                             "handling": f["handling"],
                             "handling_label": handling.get(f["handling"], f["handling"]),
                             "due": f.get("due") or "", "note": f.get("note") or ""})
    handling_rows = [dict(d, visit=by_number[visit_id].Visit.number)
                     for visit_id, found in decisions.items() if visit_id in by_number
                     for d in found]

    # timeliness
    def tally() -> dict[str, int]:
        return {"on_time": 0, "late": 0, "open": 0, "unknown": 0}

    timely = {key: tally() for key in TIMELINESS_KEYS}
    late_rows: list[dict[str, str]] = []
    for r in rows:
        visit = r.Visit
        det = first.get(visit.id)
        day = review_ops.check_day(r.body, r.received_at)
        if det is None or day is None:
            timely["review"]["open" if visit.status not in DONE_STATUSES else "unknown"] += 1
        else:
            due = deadline_info(day, settings.REVIEW_WORKDAYS)["deadline"]
            decided = _day(det.decided_at)
            if due is None:
                timely["review"]["unknown"] += 1
            elif decided <= due:
                timely["review"]["on_time"] += 1
            else:
                timely["review"]["late"] += 1
                late_rows.append({"deadline": "review", "visit": visit.number,
                                  "due": due.isoformat(), "done": decided.isoformat()})
        pub = publications.get(visit.id)
        if pub is None or pub.status == "pending":
            timely["publication"]["open"] += 1
        elif pub.on_time is None:
            timely["publication"]["unknown"] += 1
        elif pub.on_time:
            timely["publication"]["on_time"] += 1
        else:
            timely["publication"]["late"] += 1
            late_rows.append({"deadline": "publication", "visit": visit.number,
                              "due": _iso(pub.deadline), "done": _iso(_day(pub.published_at))})
        cur = current.get(visit.id)
        told = [fb for fb in feedback.get(visit.id, []) if cur and fb.determination_id == cur.id]
        if not told:
            timely["feedback"]["open"] += 1
        else:
            fb = told[0]
            key = "unknown" if fb.on_time is None else ("on_time" if fb.on_time else "late")
            timely["feedback"][key] += 1
            if key == "late":
                late_rows.append({"deadline": "feedback", "visit": visit.number,
                                  "due": _iso(fb.deadline), "done": _iso(fb.delivered_on)})
    numbers = {v.id: v.number for v in visits}
    objection_rows = []
    for o in objections:
        if o.status == ObjectionStatus.OPEN.value:
            timely["objections"]["open"] += 1
        elif o.deadline is None:
            timely["objections"]["unknown"] += 1
        elif _day(o.decided_at) <= o.deadline:
            timely["objections"]["on_time"] += 1
        else:
            timely["objections"]["late"] += 1
            late_rows.append({"deadline": "objections", "visit": numbers[o.visit_id],
                              "due": _iso(o.deadline), "done": _iso(_day(o.decided_at))})
        objection_rows.append({"number": o.number, "visit": numbers[o.visit_id],
                               "status": o.status, "submitted_at": _iso(o.submitted_at),
                               "deadline": _iso(o.deadline), "decided_at": _iso(o.decided_at),
                               "outcome": o.outcome or ""})
    for visit_id, found in decisions.items():
        for d in found:
            if not d["approved"]:
                continue
            if not d["sent_on"]:
                timely["handling"]["open"] += 1
            elif d["on_time"] is None:
                timely["handling"]["unknown"] += 1
            elif d["on_time"]:
                timely["handling"]["on_time"] += 1
            else:
                timely["handling"]["late"] += 1
                late_rows.append({"deadline": "handling", "visit": numbers[visit_id],
                                  "due": d["due"], "done": d["sent_on"]})
    labels = timeliness_labels()
    for row in late_rows:
        row["label"] = labels[row["deadline"]]
    return {
        "visits": per_visit,
        "totals": {"visits": len(visits),
                   "done": sum(1 for v in visits if v.status in DONE_STATUSES),
                   "published": sum(1 for v in visits
                                    if v.status == VisitStatus.PUBLISHED.value),
                   "withheld": withheld, "problems": len(problems),
                   "visits_with_problems": len({p["visit"] for p in problems})},
        "categories": categories,
        "items": sorted(item_rows.values(), key=lambda i: i["code"]),
        "problems": problems,
        "handling_kinds": [{"kind": k, "label": handling.get(k, k), "count": n}
                           for k, n in sorted(kinds.items())],
        "handling_decisions": handling_rows,
        "objections": objection_rows,
        "timeliness": [dict(timely[key], key=key, label=labels[key])
                       for key in TIMELINESS_KEYS],
        "late": late_rows,
    }


def task_report_data(task_id: int) -> dict[str, Any]:
    """The task's summary report (seed 001 第十五条) as plain values, in a fixed number of
    queries whatever the number of visits."""
    task = db.session.get(Task, task_id)
    if task is None:

        raise NotFound(_("No such task."))
    rows = task_visits([task.id])
    closure = db.session.scalar(select(TaskClosure).where(TaskClosure.task_id == task.id))
    closed_by = db.session.get(User, closure.closed_by_id) if closure and \
        closure.closed_by_id else None
    data = {"kind": "task", "bureau": _settings().BUREAU_NAME, "scope": _scope(task),
            "status": task.status, "closed": closure is not None,
            "closed_at": _iso(closure.closed_at) if closure else "",
            "closed_by": closed_by.display_name if closed_by else "",
            "check_end": _iso(closure.check_end if closure else check_end(task, rows)),
            "draws": _draws([task.id]), "teams": _teams([r.Visit for r in rows])}
    data.update(_figures(rows))
    return data


def year_report_data(year: int) -> dict[str, Any]:
    """The year's summary (seed 001 第十六条): every task of the year's plans (cancelled tasks
    listed apart), with the figures of all their visits added up (a visit serving two tasks
    counts once)."""
    tasks = db.session.scalars(select(Task).join(AnnualPlan, AnnualPlan.id == Task.plan_id)
                               .where(AnnualPlan.year == year).order_by(Task.id)).all()
    live = [t for t in tasks if t.status != TaskStatus.CANCELLED.value]
    rows = task_visits([t.id for t in live])
    per_task: dict[int, list] = defaultdict(list)
    seen, unique = set(), []
    for r in rows:
        per_task[r.task_id].append(r)
        if r.Visit.id not in seen:
            seen.add(r.Visit.id)
            unique.append(r)
    closures = {c.task_id: c for c in db.session.scalars(select(TaskClosure).where(
        TaskClosure.task_id.in_([t.id for t in tasks])))} if tasks else {}

    progress = task_progress([t.id for t in live])

    task_rows = [{
        "task_id": t.id, "name": t.name, "department": t.lead_department.name,
        "status": str(TASK_STATUS_LABELS.get(t.status, t.status)),
        "window": f"{t.window_start.isoformat()} – {t.window_end.isoformat()}",
        "visits": progress.get(t.id, {}).get("total", 0),
        "done": progress.get(t.id, {}).get("done", 0),
        "closed_at": _iso(closures[t.id].closed_at) if t.id in closures else "",
        "cancelled": t.status == TaskStatus.CANCELLED.value} for t in tasks]
    data = {"kind": "year", "bureau": _settings().BUREAU_NAME, "year": year,
            "tasks": task_rows, "draws": _draws([t.id for t in live])}
    data.update(_figures(unique))
    return data
