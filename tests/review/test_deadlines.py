"""The deadlines page (/deadlines): everything due in the bureau, grouped by task and
department, with the person responsible and the task's progress; who may read it; filters;
a fixed number of statements whatever the number of rows."""
from datetime import date, datetime

import pytest
from sqlalchemy import event, select

from inspection.core.models import User
from inspection.extensions import db
from inspection.fieldwork.models import RecordRevision, Visit, VisitTask
from inspection.review import operations as ops, todo
from inspection.review.models import (Correction, Determination, Objection, Publication,
                                      PublicationException)

from review_support import office_and_approver, sealed_visit


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


@pytest.mark.parametrize("role, status", [("office", 200), ("approver", 200),
                                          ("supervisor", 200), ("admin", 200),
                                          ("inspector", 403)])
def test_who_reads_the_deadlines_page(login_as, role, status):
    response = login_as(role).get("/deadlines")
    assert response.status_code == status
    if status == 200:
        assert "没有到期事项" in response.get_data(as_text=True)


def _visits(number: str) -> tuple[Visit, list[Visit], int]:
    """My (sealed) visit, the task's other visits and the task's id."""
    mine = ops.get_visit(number)
    task_id = db.session.scalar(select(VisitTask.task_id).where(VisitTask.visit_id == mine.id))
    others = db.session.scalars(select(Visit).join(VisitTask).where(
        VisitTask.task_id == task_id, Visit.id != mine.id).order_by(Visit.number)).all()
    return mine, others, task_id


def _objection(visit: Visit, n: int, deadline: date | None = date(2026, 4, 20)) -> None:
    db.session.add(Objection(number=f"YY-2026-T{visit.id}{n}", visit_id=visit.id,
                             source="office", credit_code=visit.employer.credit_code,
                             contact="13800000000", text="异议", deadline=deadline,
                             submitted_at=datetime(2026, 4, 6, 2, 0)))


def _determined(visit: Visit, revision_id: int, office: User, approver: User,
                deadline: date = date(2026, 4, 15)) -> Determination:
    """A visit whose result is approved and not yet published (rows as the operations leave
    them), with an exception and a correction proposed."""
    det = Determination(visit_id=visit.id, revision_id=revision_id, result_category="no_problem",
                        status="approved", proposed_by_id=office.id, decided_by_id=approver.id,
                        decided_at=datetime(2026, 4, 8, 2, 0))
    visit.status = "determined"
    db.session.add_all([det, Publication(visit_id=visit.id, status="pending",
                                         clock="determination", clock_start=date(2026, 4, 8),
                                         workdays=5, deadline=deadline)])
    db.session.flush()
    db.session.add_all([
        PublicationException(visit_id=visit.id, kind="state_secret", reason="涉密",
                             proposed_by_id=office.id),
        Correction(visit_id=visit.id, origin="bureau", original_id=det.id, reason="有误",
                   result_category="no_problem", proposed_by_id=office.id)])
    return det


def test_the_page_groups_by_task_with_responsible_and_progress(app, department, login_as):
    b = sealed_visit(app, department, login_as)
    office_client, _approver = office_and_approver(app, login_as)
    supervisor = login_as("supervisor", username="supervisor1")
    with app.test_request_context():
        office, approver = _user("office1"), _user("approver1")
        office.display_name = "科员甲"
        ops.propose_determination(b.visit, "no_problem", [], actor=office)
        mine, (published, withheld, determined), task_id = _visits(b.visit)
        revision = db.session.scalar(select(RecordRevision.id).where(
            RecordRevision.visit_id == mine.id))
        published.status, withheld.status = "published", "withheld"
        _determined(determined, revision, office, approver)
        _objection(mine, 1)
        db.session.commit()
        # progress: done only when published or withheld (the proposed and the determined
        # visits are not done)
        assert todo.task_progress([task_id]) == {task_id: {"done": 2, "total": 4}}

        data = todo.deadlines(today=date(2026, 4, 14))
        [group] = data["groups"]
        assert (group["task"], group["department"], group["progress"]) == (
            "工资支付专项", "劳动保障监察", {"done": 2, "total": 4})
        lines = {(i.kind, i.number): i for i in group["items"]}
        assert set(lines) == {("determination", mine.number), ("objection", mine.number),
                              ("publication", determined.number),
                              ("feedback", determined.number),
                              ("exception", determined.number),
                              ("correction", determined.number)}
        assert lines["publication", determined.number].responsible == "科员甲"
        assert lines["publication", determined.number].state == "due_soon"
        assert lines["determination", mine.number].state == "overdue"   # review due 4-10
        assert lines["determination", mine.number].responsible.startswith("劳动保障监察 · ")
        assert lines["objection", mine.number].responsible == "科室人员"
        assert lines["correction", determined.number].state == "waiting"
        assert {s: n for s, n in data["counts"].items() if n} == {
            "overdue": 1, "due_soon": 3, "ok": 1, "waiting": 1}

    html = supervisor.get("/deadlines").get_data(as_text=True)
    assert 'data-progress="2/4"' in html and "工资支付专项" in html and "科员甲" in html
    assert 'data-kind="determination"' in html and 'data-kind="correction"' in html
    # the state filter (the real date decides the states: count what the page shows)
    page = office_client.get("/deadlines?state=waiting").get_data(as_text=True)
    assert 'data-kind="correction"' in page and 'data-kind="publication"' not in page
    page = office_client.get("/deadlines?state=nonsense").get_data(as_text=True)
    assert "筛选条件无效" in page and 'data-kind="publication"' in page
    page = office_client.get(f"/deadlines?department={department + 999}").get_data(as_text=True)
    assert 'data-kind=' not in page


def _count_statements(app, client, path: str) -> int:
    statements = []

    def listener(*args):
        statements.append(args[2])

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(statements)


def test_the_page_does_not_query_per_row(app, department, login_as):
    b = sealed_visit(app, department, login_as)
    office_client, _approver = office_and_approver(app, login_as)
    with app.test_request_context():
        office, approver = _user("office1"), _user("approver1")
        ops.propose_determination(b.visit, "no_problem", [], actor=office)
        mine, others, _task = _visits(b.visit)
        revision = db.session.scalar(select(RecordRevision.id).where(
            RecordRevision.visit_id == mine.id))
        _determined(others[0], revision, office, approver)
        others[1].status = "recorded"
        _objection(mine, 1)
        db.session.commit()
    _count_statements(app, office_client, "/deadlines")  # warm the caches of the first page
    few = _count_statements(app, office_client, "/deadlines")
    with app.test_request_context():
        mine, others, _task = _visits(b.visit)
        _determined(others[2], revision, _user("office1"), _user("approver1"),
                    deadline=date(2026, 4, 1))
        others[1].status = "returned"
        for n in range(2, 8):
            _objection(mine, n, deadline=None if n % 2 else date(2026, 5, 1))
        db.session.commit()
        rows = sum(len(g["items"]) for g in todo.deadlines(today=date(2026, 4, 14))["groups"])
        assert rows >= 15
    many = _count_statements(app, office_client, "/deadlines")
    assert many == few, (few, many)
