"""The task's summary report (seed 001 第十五条) and the year's summary (第十六条): the figures
read back from the PDF (pdftotext) and the XLSX (openpyxl) equal the hand-built task of
reports_support; closing a task; the pages and jobs; the deadlines line; the reports page's
statements do not grow with its rows."""
from __future__ import annotations

import io
import re
import subprocess
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from inspection.core import storage
from inspection.core.errors import Conflict
from inspection.core.models import AuditEntry
from inspection.extensions import db
from inspection.fieldwork.models import Visit
from inspection.planning.models import AnnualPlan, Task
from inspection.reports import data as report_data
from inspection.reports import operations as report_ops
from inspection.reports.models import SummaryReport, TaskClosure
from inspection.review import todo

from helpers import Client
from reports_support import APPROVER, OFFICE, case, run_job, user

EXPECTED_CATEGORIES = {"no_problem": 2, "rectification_ordered": 1, "no_activity": 1}
#: (on time, late, not yet done, not counted) per deadline
EXPECTED_TIMELINESS = {"review": (3, 1, 0, 0), "publication": (3, 1, 0, 0),
                       "feedback": (2, 1, 1, 0), "objections": (1, 0, 0, 0),
                       "handling": (1, 0, 0, 0)}
ZH_TIMELINESS = {"review": "检查记录审核", "publication": "公布",
                 "feedback": "向用人单位告知结果", "objections": "异议复查复核",
                 "handling": "移交移送时限"}
ZH_CATEGORIES = {"no_problem": "未发现问题", "rectification_ordered": "发现问题已责令改正",
                 "no_activity": "未发现开展本次抽查涉及的经营活动"}


def _text(tmp_path, data: bytes, name: str = "report.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    assert data.startswith(b"%PDF")
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "CJK" in fonts and "yes" in fonts, fonts  # Noto CJK, embedded
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def _row(text: str, label: str, n: int) -> tuple[int, ...]:
    """The ``n`` numbers printed on the line that starts with ``label``."""
    match = re.search(rf"^\s*{re.escape(label)}\s+" + r"\s+".join([r"(\d+)"] * n) + r"\s*$",
                      text, re.M)
    assert match, f"no line {label!r} with {n} numbers in:\n{text}"
    return tuple(int(g) for g in match.groups())


def test_figures_of_the_hand_built_task(app, department):
    with app.app_context():
        c = case(department)
        r = report_data.task_report_data(c.task_id)
    assert r["totals"] == {"visits": 4, "done": 4, "published": 3, "withheld": 1,
                           "problems": 2, "visits_with_problems": 1}
    assert {x["code"]: x["count"] for x in r["categories"]} == EXPECTED_CATEGORIES
    assert {t["key"]: (t["on_time"], t["late"], t["open"], t["unknown"])
            for t in r["timeliness"]} == EXPECTED_TIMELINESS
    assert [(i["code"], i["visits"], i["with_problems"], i["problems"]) for i in r["items"]] \
        == [(c.item, 4, 1, 2)]
    problem, referred = r["problems"]
    assert (problem["visit"], problem["handling"], problem["due"]) == \
        (c.numbers[1], "rectification_order", "2026-05-10")
    assert (referred["visit"], referred["handling"]) == (c.numbers[1], "referral")
    assert {k["kind"]: k["count"] for k in r["handling_kinds"]} == {"rectification_order": 1,
                                                                   "referral": 1}
    [decision] = r["handling_decisions"]
    assert (decision["visit"], decision["kind"], decision["sent_on"], decision["outcome"]) == \
        (c.numbers[1], "referral_department", "2026-04-09", "已立案处理")
    assert {(late["deadline"], late["visit"]) for late in r["late"]} == {
        ("publication", c.numbers[1]), ("review", c.numbers[2]), ("feedback", c.numbers[2])}
    assert [d["kind"] for d in r["draws"]] == ["target", "team"]
    assert all(d["log_commitment"] is not None and d["log_result"] is not None
               for d in r["draws"])
    assert r["closed"] and r["check_end"] == "2026-04-02"
    assert len(r["teams"]["visits"]) == 4 and all(t["members"] for t in r["teams"]["visits"])


def test_pdf_reads_back_the_figures(app, department, tmp_path):
    with app.app_context():
        c = case(department)
        made = run_job("task_report", {"task_id": c.task_id, "format": "pdf", "user_id":
                                       c.office_id})
        assert made.content_type == "application/pdf" and made.filename.endswith(".pdf")
        text = _text(tmp_path, storage.read(made.area, made.sha256))
        row = db.session.scalar(select(SummaryReport))
        assert (row.kind, row.task_id, row.format, row.sha256) == ("task", c.task_id, "pdf",
                                                                   made.sha256)
    assert "抽查总结报告" in text and "工资支付专项" in text
    for code, n in EXPECTED_CATEGORIES.items():
        assert _row(text, ZH_CATEGORIES[code], 1) == (n,)
    assert _row(text, "不予公示", 1) == (1,)
    for key, expected in EXPECTED_TIMELINESS.items():
        assert _row(text, ZH_TIMELINESS[key], 4) == expected
    assert re.search(rf"{re.escape(c.item)}\s+\S.*\s4\s+1\s+2\s*$", text, re.M), text
    assert "责令限期改正" in text and "2026-05-10" in text and "未按月足额支付工资" in text
    # the handling decision (its cells wrap in the table's narrow columns)
    assert "移交有管辖权的部门" in text and "区医疗保" in text and "已立案处理" in text
    for number in c.numbers:
        assert number in text


def test_xlsx_reads_back_the_figures(app, department):
    with app.app_context():
        c = case(department)
        made = run_job("task_report", {"task_id": c.task_id, "format": "xlsx"})
        book = load_workbook(io.BytesIO(storage.read(made.area, made.sha256)))
    assert made.filename.endswith(".xlsx")
    assert book.sheetnames[:3] == ["抽查范围和条件", "检查组及调整更换", "调整更换"]
    assert {"抽取及承诺", "按结果类别统计", "按抽查事项统计", "发现问题及处理情况",
            "时限执行情况", "检查户数"} <= set(book.sheetnames)
    results = {r[1]: r[2] for r in book["按结果类别统计"].iter_rows(min_row=2, values_only=True)}
    assert results == {**EXPECTED_CATEGORIES, "withheld": 1, "total": 4}
    timely = {r[0]: tuple(r[1:]) for r in book["时限执行情况"].iter_rows(min_row=2,
                                                                         values_only=True)}
    assert timely == {ZH_TIMELINESS[k]: v for k, v in EXPECTED_TIMELINESS.items()}
    [item] = list(book["按抽查事项统计"].iter_rows(min_row=2, values_only=True))
    assert (item[0], item[2], item[3], item[4]) == (c.item, 4, 1, 2)
    problem, referred, decision = list(book["发现问题及处理情况"].iter_rows(min_row=2,
                                                                           values_only=True))
    assert (problem[0], problem[5], problem[6]) == (c.numbers[1], "责令限期改正", "2026-05-10")
    assert referred[0] == c.numbers[1] and referred[4] == "未依法参加社会保险"
    assert (decision[0], decision[5], decision[7]) == (c.numbers[1], "移交有管辖权的部门",
                                                       "已立案处理")
    draws = list(book["抽取及承诺"].iter_rows(min_row=2, values_only=True))
    assert len(draws) == 2 and all(len(d[5]) == 64 for d in draws)
    teams = list(book["检查组及调整更换"].iter_rows(min_row=2, values_only=True))
    assert {t[0] for t in teams} == set(c.numbers)


def test_year_summary(app, department, tmp_path):
    with app.app_context():
        c = case(department)
        r = report_data.year_report_data(2026)
        assert [t["task_id"] for t in r["tasks"]] == [c.task_id]
        assert r["totals"]["visits"] == 4
        assert {x["code"]: x["count"] for x in r["categories"]} == EXPECTED_CATEGORIES
        made = run_job("year_report", {"year": 2026, "format": "pdf"})
        text = _text(tmp_path, storage.read(made.area, made.sha256))
        xlsx = run_job("year_report", {"year": 2026, "format": "xlsx"})
        book = load_workbook(io.BytesIO(storage.read(xlsx.area, xlsx.sha256)))
    assert "2026 年度抽查工作总结" in text
    for key, expected in EXPECTED_TIMELINESS.items():
        assert _row(text, ZH_TIMELINESS[key], 4) == expected
    [task_row] = list(book["抽查任务"].iter_rows(min_row=2, values_only=True))
    assert task_row[4:6] == (4, 4)


def test_close_refused_while_a_visit_is_not_done(app, department):
    with app.app_context():
        c = case(department, close=False)
        visit = db.session.scalar(select(Visit).where(Visit.number == c.numbers[2]))
        visit.status = "determined"
        db.session.commit()
        with pytest.raises(Conflict) as refused:
            report_ops.close_task(c.task_id, actor=user(OFFICE))
        assert c.numbers[2] in refused.value.message
        assert "1" in refused.value.message and c.numbers[0] not in refused.value.message
        assert db.session.get(Task, c.task_id).status == "teams_drawn"
        assert db.session.scalar(select(TaskClosure)) is None
    # the page says which visit, and closes nothing
    office = Client(app)
    office.login(OFFICE)
    page = office.get(f"/tasks/{c.task_id}").get_data(as_text=True)
    assert "办结及总结报告" in page and c.numbers[2] in page
    response = office.http.post(f"/reports/tasks/{c.task_id}/close",
                           data={"csrf_token": office.token(f"/tasks/{c.task_id}")},
                           follow_redirects=True)
    assert "任务尚不能办结" in response.get_data(as_text=True)
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.number == c.numbers[2]))
        visit.status = "published"
        db.session.commit()
    response = office.http.post(f"/reports/tasks/{c.task_id}/close",
                           data={"csrf_token": office.token(f"/tasks/{c.task_id}")})
    assert response.status_code == 302
    with app.app_context():
        task = db.session.get(Task, c.task_id)
        closure = db.session.scalar(select(TaskClosure))
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "task.close"))
        assert task.status == "closed" and closure.check_end == date(2026, 4, 2)
        assert entry.object_id == str(c.task_id) and entry.summary["visits"] == 4
    # an approver may not close
    approver = Client(app)
    approver.login(APPROVER)
    assert approver.http.post(f"/reports/tasks/{c.task_id}/close",
                         data={"csrf_token": approver.token("/reports/")}).status_code == 403


def test_report_buttons_submit_jobs(app, department, login_as):
    jobs = pytest.importorskip("inspection.jobs.operations")
    with app.app_context():
        c = case(department)
    office = Client(app)
    office.login(OFFICE)
    page = office.get(f"/tasks/{c.task_id}").get_data(as_text=True)
    assert "总结报告（PDF）" in page and "总结报告（XLSX）" in page and "已办结" in page
    token = office.token(f"/tasks/{c.task_id}")
    response = office.http.post(f"/reports/tasks/{c.task_id}/report",
                           data={"csrf_token": token, "format": "xlsx"})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    assert office.http.post(f"/reports/tasks/{c.task_id}/report",
                       data={"csrf_token": token, "format": "doc"}).status_code == 302
    response = office.http.post("/reports/years/2026", data={"csrf_token": token, "format": "pdf"})
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    with app.app_context():
        assert jobs.run_pending() == 2
        made = db.session.scalars(select(SummaryReport).order_by(SummaryReport.id)).all()
        assert [(m.kind, m.format) for m in made] == [("task", "xlsx"), ("year", "pdf")]
        ids = [m.id for m in made]
    page = office.get("/reports/")
    assert page.status_code == 200 and "2026" in page.get_data(as_text=True)
    download = office.get(f"/reports/files/{ids[0]}")
    assert download.status_code == 200 and download.data[:2] == b"PK"
    inspector = login_as("inspector")
    assert inspector.get("/reports/").status_code == 403
    assert inspector.get(f"/reports/files/{ids[0]}").status_code == 403


def test_deadlines_line_of_the_years_summary(app, department):
    with app.app_context():
        case(department)
        items = [i for i in todo._collect(todo.deadline_kinds(), date(2026, 12, 1))
                 if i.kind == report_ops.YEAR_REPORT]
        assert [(i.year, i.due) for i in items] == [(2026, date(2026, 12, 31))]
        assert "2026" in items[0].title
        # shown in the month it is due in; a past year's missing summary stays (overdue)
        assert not [i for i in todo._collect(todo.deadline_kinds(), date(2026, 11, 30))
                    if i.kind == report_ops.YEAR_REPORT]
        [late] = [i for i in todo._finish(todo._collect(todo.deadline_kinds(),
                                                         date(2027, 2, 1)), date(2027, 2, 1))
                  if i.kind == report_ops.YEAR_REPORT]
        assert (late.year, late.state) == (2026, "overdue")
        run_job("year_report", {"year": 2026, "format": "xlsx"})
        assert not [i for i in todo._collect(todo.deadline_kinds(), date(2026, 12, 1))
                    if i.kind == report_ops.YEAR_REPORT]
    office = Client(app)
    office.login(OFFICE)
    assert office.get("/deadlines").status_code == 200


def _statements(app, client, path: str) -> int:
    count = 0

    def before(*_args, **_kw):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return count


def test_reports_page_statements_do_not_grow(app, department):
    """/reports/ is a list (of years): the same statements for 1 year as for 6 with reports."""
    with app.app_context():
        case(department)
    office = Client(app)
    office.login(OFFICE)
    small = _statements(app, office, "/reports/")
    with app.app_context():
        for year in range(2020, 2025):
            db.session.add(AnnualPlan(year=year, title=f"{year}", status="approved"))
            for fmt in ("pdf", "xlsx"):
                db.session.add(SummaryReport(kind="year", year=year, format=fmt,
                                             sha256="0" * 64, size=1))
        db.session.commit()
    large = _statements(app, office, "/reports/")
    assert large <= small, (small, large)
