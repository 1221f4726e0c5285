"""To-do lists (inspection/review/todo.py): each role's own list with due dates in working
days and the states due soon / overdue / on track / calendar missing, and the home page that
leads with it.

Data is made by the real field API (a sealed record) and the review operations; dates that a
state depends on are passed as ``today`` or set on the rows, so no test depends on the date
it runs."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from inspection.core import calendar_ops, operations as core_ops
from inspection.core.models import Notification, Position, User, UserRole
from inspection.core.workdays import add_workdays, workdays_between
from inspection.extensions import db
from inspection.review import operations as ops, todo

from helpers import Client
from review_support import office_and_approver, sealed_visit, set_position

#: The sealed record says the team arrived on 2026-04-02 (field_support.record): the office
#: has REVIEW_WORKDAYS (5) working days, across the Qingming holiday (4-6 April 2026).
REVIEW_DUE = date(2026, 4, 10)


def _user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def _kinds(items, number=None):
    return sorted(i.kind for i in items if number is None or i.number == number)


def _item(items, kind):
    found = [i for i in items if i.kind == kind]
    assert len(found) == 1, [(i.kind, i.object) for i in items]
    return found[0]


def _before(due: date, workdays: int) -> date:
    """The day that is ``workdays`` working days before ``due``."""
    day = due
    while workdays_between(day, due) < workdays:
        day -= timedelta(days=1)
    return day


def _grant(app, username: str | int, role: str, position: str | None = None) -> None:
    with app.app_context():
        user = db.session.get(User, username) if isinstance(username, int) else _user(username)
        db.session.add(UserRole(user_id=user.id, role=role))
        user.position = position
        db.session.commit()


def test_the_office_review_deadline_and_its_states(app, department, login_as):
    b = sealed_visit(app, department, login_as)
    login_as("office", username="office1")
    with app.test_request_context():
        office = _user("office1")
        visit = ops.get_visit(b.visit)
        assert add_workdays(ops.check_date(visit), 5) == REVIEW_DUE
        states = {}
        for label, today in (("far", _before(REVIEW_DUE, 4)), ("soon", _before(REVIEW_DUE, 3)),
                             ("today", REVIEW_DUE), ("late", REVIEW_DUE + timedelta(days=1)),
                             ("later", date(2026, 4, 17))):
            item = _item(todo.todo(office, today=today), todo.REVIEW)
            assert item.due == REVIEW_DUE and item.number == b.visit
            assert item.link == f"/review/visits/{b.visit}"
            states[label] = (item.state, item.left)
        assert states == {"far": ("ok", 4), "soon": ("due_soon", 3), "today": ("due_soon", 0),
                          "late": ("overdue", 0), "later": ("overdue", -5)}
        item = _item(todo.todo(office, today=date(2026, 4, 17)), todo.REVIEW)
        assert item.task == "工资支付专项" and item.department == "劳动保障监察"
        # nobody else has it: the inspector and the approver have nothing to do yet
        assert todo.todo(_user("insp_a"), today=REVIEW_DUE) == []
        assert [i.kind for i in todo.todo(_user("teamapprover"), today=REVIEW_DUE)] == []


def test_counters_of_plans_tasks_and_substitutions(app, department, login_as):
    """The approver's work waiting on other pages: plans and tasks submitted, and the
    substitutions their position and department decide (not their own request)."""
    from inspection.draws.models import Substitution, TeamMember
    from inspection.planning.models import AnnualPlan, Task
    from team_support import build_bureau, draw_teams

    with app.app_context():
        draw_teams(build_bureau(department, employers=2, lead_inspectors=4))
    office_and_approver(app, login_as)
    with app.test_request_context():
        db.session.add(AnnualPlan(year=2027, title="2027 年度抽查计划", status="submitted"))
        task = db.session.scalars(select(Task)).first()
        task.status = "submitted"
        member = db.session.scalars(select(TeamMember)).first()
        db.session.add(Substitution(visit_id=member.visit_id, member_id=member.id,
                                    reason="health", requested_by_id=_user("office1").id))
        db.session.commit()
        lines = {i.kind: i for i in todo.todo(_user("approver1"))}
        assert (lines["plans"].count, lines["tasks"].count, lines["substitutions"].count) == \
            (1, 1, 1)
        assert lines["plans"].link == "/plans/"
        assert lines["substitutions"].link == "/teams/substitutions?status=requested"
        assert lines["tasks"].link == "/tasks/?status=submitted"
        assert all(i.state == "waiting" for i in lines.values())
        # the office has none of them; an approver without a position decides no substitution
        assert not {"plans", "tasks", "substitutions"} & set(_kinds(todo.todo(_user("office1"))))
        login_as("approver", username="noposition")
        assert "substitutions" not in _kinds(todo.todo(_user("noposition")))
        # nobody decides their own request
        db.session.scalars(select(Substitution)).one().requested_by_id = _user("approver1").id
        db.session.commit()
        assert "substitutions" not in _kinds(todo.todo(_user("approver1")))


def test_records_returned_to_the_team(app, department, login_as):
    b = sealed_visit(app, department, login_as)
    login_as("office", username="office1")
    with app.test_request_context():
        office = _user("office1")
        office.display_name = "审核员甲"
        ops.return_record(b.visit, "照片不足，请补充。", [], actor=office)
        back = ops.open_return(ops.get_visit(b.visit))
        returned_on = ops.to_local(back.returned_at).date()
        line = _item(todo.todo(office, today=REVIEW_DUE), todo.RETURNED)
        assert line.state == "waiting" and line.since == returned_on and line.due is None
        assert todo.REVIEW not in _kinds(todo.todo(office, today=REVIEW_DUE))
        # every inspector of the team has it, with a link into the field app
        for user_id in b.team:
            mine = todo.todo(db.session.get(User, user_id), today=REVIEW_DUE)
            assert [(i.kind, i.number, i.link, i.since) for i in mine] == [
                ("to_correct", b.visit, f"/field/#/visit/{b.visit}", returned_on)]
        # an inspector of another team does not
        core_ops.create_user("insp_other", "Other", core_ops.get_department(department),
                             ("inspector",), "Correct-horse-42")
        assert todo.todo(_user("insp_other"), today=REVIEW_DUE) == []
    html = b.inspector.get("/").get_data(as_text=True)
    assert f'href="/field/#/visit/{b.visit}"' in html and returned_on.isoformat() in html


def test_the_approver_sees_only_what_they_may_decide(app, department, login_as):
    b = sealed_visit(app, department, login_as)
    _office, approver_client = office_and_approver(app, login_as)  # approver1: head
    login_as("approver", username="principal")               # 主要负责人 of the lead dept
    set_position(app, "principal", Position.PRINCIPAL_HEAD.value)
    login_as("approver", username="deputy")
    set_position(app, "deputy", Position.DEPUTY_HEAD.value)
    login_as("approver", username="noposition")
    login_as("office", username="office_head")               # office staff who also approve
    _grant(app, "office_head", "approver", Position.HEAD.value)
    _grant(app, b.team[1], "approver", Position.HEAD.value)  # on the visit's team
    with app.app_context():
        teammate = db.session.get(User, b.team[1]).username
    with app.app_context():
        other = core_ops.create_department("就业促进", "JYCJ")
        core_ops.create_user("elsewhere", "Elsewhere", other, ("approver",), "Correct-horse-42")
    set_position(app, "elsewhere", Position.HEAD.value)

    def waiting(name, kind):
        return [i.number for i in todo.todo(_user(name)) if i.kind == kind]

    with app.test_request_context():
        proposer = _user("office_head")
        det = ops.propose_determination(b.visit, "no_problem", [], "未发现问题。", actor=proposer)
        assert waiting("approver1", "determination") == [b.visit]
        assert waiting("principal", "determination") == [b.visit]
        assert waiting("deputy", "determination") == [b.visit]
        for name in ("office_head", teammate, "noposition", "elsewhere", "office1"):
            assert waiting(name, "determination") == [], name
        line = _item(todo.todo(_user("approver1")), todo.DETERMINATION)
        assert line.link == f"/review/approvals#determination-{det.id}"
        assert line.due == REVIEW_DUE  # the approval is part of the review
        # the approver's home page leads with it, not with the office's queue
        html = approver_client.get("/").get_data(as_text=True).split("<main", 1)[1]
        assert 'data-kind="determination"' in html and b.visit in html
        assert f"/review/approvals#determination-{det.id}" in html
        assert 'data-kind="review"' not in html and 'href="/employers/"' not in html

        approver = _user("approver1")
        ops.decide_determination(det.id, True, actor=approver)
        exc = ops.propose_exception(b.visit, "state_secret", "涉及国家秘密。", actor=_user("office1"))
        # exceptions: head or principal head (APPROVE_PUBLICATION_EXCEPTION), not the deputy
        assert waiting("approver1", "exception") == [b.visit]
        assert waiting("principal", "exception") == [b.visit]
        assert waiting("deputy", "exception") == []
        publication = ops.publication_of(ops.get_visit(b.visit))
        assert _item(todo.todo(approver), todo.EXCEPTION).due == publication.deadline
        ops.decide_exception(exc.id, False, "不涉密。", actor=approver)
        assert waiting("approver1", "exception") == []

        ops.publish(b.visit, actor=_user("office1"))
        objection = ops.submit_objection(
            b.visit, ops.get_visit(b.visit).employer.credit_code, "13800000000", "结果有误。",
            source="office", actor=_user("office1"))
        ops.propose_correction(b.visit, "application", "复核发现记录有误。", "no_problem", [],
                               objection_id=objection.id, actor=_user("office1"))
        # corrections: the principal head only (seed 004 第二十一条)
        assert waiting("principal", "correction") == [b.visit]
        for name in ("approver1", "deputy", "office_head"):
            assert waiting(name, "correction") == [], name
        line = _item(todo.todo(_user("principal")), todo.CORRECTION)
        assert line.due == objection.deadline


def test_publication_and_feedback_due_and_a_year_without_calendar(app, department, login_as):
    b = sealed_visit(app, department, login_as)
    office_and_approver(app, login_as)
    login_as("admin", username="admin1")
    with app.test_request_context():
        office = _user("office1")
        det = ops.propose_determination(b.visit, "no_problem", [], actor=office)
        ops.decide_determination(det.id, True, actor=_user("approver1"))
        visit = ops.get_visit(b.visit)
        publication = ops.publication_of(visit)
        lines = todo.todo(office)
        assert _kinds(lines, b.visit) == ["feedback", "publication"]
        feedback = _item(lines, todo.FEEDBACK)
        assert feedback.due == ops.feedback_deadline(visit)["deadline"]
        assert feedback.person == office.display_name
        assert _item(lines, todo.PUBLICATION).due == publication.deadline

        # the clock started on 2026-12-28: 5 working days end in 2027, which has no calendar
        publication.clock_start, publication.workdays = date(2026, 12, 28), 5
        publication.deadline, publication.deadline_year = None, 2027
        db.session.commit()
        today = date(2026, 12, 29)
        line = _item(todo.todo(office, today=today), todo.PUBLICATION)
        assert (line.state, line.due, line.missing_year) == ("missing", None, 2027)
        assert line.due_text == "缺少 2027 年工作日历"
        admin = todo.todo(_user("admin1"), today=today)
        assert [(i.kind, i.year, i.link, i.state) for i in admin] == [
            ("calendar", 2027, "/admin/calendar", "missing")]
        assert "2027" in admin[0].title
    client = Client(app)
    client.login("office1")
    html = client.get("/").get_data(as_text=True)
    assert 'data-state="missing"' in html and "缺少 2027 年工作日历" in html
    client = Client(app)
    client.login("admin1")
    assert 'href="/admin/calendar"' in client.get("/").get_data(as_text=True)

    with app.test_request_context():
        # once the bureau enters 2027, the same row has its deadline and the admin is done
        calendar_ops.enter_year(2027, "国办发明电〔2026〕X号", [(date(2027, 1, 1), False, "元旦")])
        line = _item(todo.todo(_user("office1"), today=today), todo.PUBLICATION)
        assert (line.state, line.due, line.missing_year) == ("ok", date(2027, 1, 5), None)
        assert todo.todo(_user("admin1"), today=today) == []
        # published: feedback is still due; told: nothing left
        office = _user("office1")
        ops.publish(b.visit, actor=office)
        assert _kinds(todo.todo(office), b.visit) == ["feedback"]
        ops.record_feedback(b.visit, "phone", ops.today(), actor=office)
        assert _kinds(todo.todo(office), b.visit) == []


@pytest.mark.parametrize("role, shows, hides", [
    ("office", ["我的待办", "/employers/", "/deadlines"], ["/review/approvals"]),
    ("approver", ["我的待办", "/review/approvals", "/teams/substitutions", "/deadlines"],
     ["/employers/", "/draws/"]),
    ("supervisor", ["/deadlines?state=overdue", "/employers/"], ["我的待办"]),
    ("inspector", ["我的待办", "/my/visits", "/field/"], ["/deadlines", "/employers/"]),
])
def test_the_home_page_per_role(app, login_as, role, shows, hides):
    html = login_as(role).get("/").get_data(as_text=True)
    body = html.split('<main', 1)[1]
    for text in shows:
        assert text in body, text
    for text in hides:
        assert text not in body, text


def test_the_menu_counts_unread_messages(app, login_as):
    client = login_as("office", username="office1")
    with app.app_context():
        db.session.add(Notification(user_id=_user("office1").id, key="x:1", kind="review",
                                    title="复核记录", link="/deadlines"))
        db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert 'data-unread="1"' in html and 'href="/inbox"' in html and 'href="/#todo"' in html
