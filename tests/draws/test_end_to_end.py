"""From plan to assignments: a joint task is planned and approved, its employers drawn, each
department draws its inspectors through the office pages, the published team record passes the
standalone verifier, and an inspector sees their visits at /my/visits."""
import json
import random
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import select

from inspection.catalogue.demo import seed_catalogue
from inspection.catalogue.models import CheckItem
from inspection.core import operations as core_ops
from inspection.core.models import User
from inspection.directory.credit_code import random_code
from inspection.directory.employers import operations as employers
from inspection.directory.inspectors import operations as inspector_ops
from inspection.directory.models import Employer, Inspector, Region
from inspection.draws import commitments
from inspection.draws.engine import verify
from inspection.draws.models import Draw, TeamMember
from inspection.draws.target import operations as target
from inspection.draws.team import queries as team_queries
from inspection.extensions import db
from inspection.fieldwork.models import Visit, VisitTask
from inspection.planning import operations as planning
from inspection.planning.models import Task

from helpers import Client
from target_support import soon, wait_until_known
from team_support import english

ENGINE_DIR = Path(verify.__file__).resolve().parent


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def _setup(app, department, make_user):
    """Departments, users, catalogue, regions, employers, inspectors, an approved plan and an
    approved joint task, both directories confirmed, the targets drawn. Returns ids."""
    with app.app_context():
        social = core_ops.create_department("社会保险", "SHBX").id
    make_user("e2e_office", "office")
    make_user("e2e_approver", "approver")
    make_user("e2e_lead", "inspector")
    make_user("e2e_social", "inspector", department_id=social)
    make_user("e2e_idle", "inspector")
    with app.app_context():
        office, approver = _user("e2e_office"), _user("e2e_approver")
        db.session.add_all([Region(code="370305001", name="闻韶街道", county_code="370305",
                                   county_name="临淄区"),
                            Region(code="370305002", name="雪宫街道", county_code="370305",
                                   county_name="临淄区")])
        db.session.commit()
        seed_catalogue()
        rng = random.Random(2026)
        codes = set()
        while len(codes) < 20:
            codes.add(random_code(rng))
        for n, code in enumerate(sorted(codes)):
            db.session.add(Employer(credit_code=code, name=f"淄博端到端{n:02d}有限公司",
                                    employer_type="enterprise", address=f"临淄区桓公路{n + 1}号",
                                    region_code=("370305001", "370305002")[n % 2],
                                    industry="C", risk_grade="B"))
        lead_user, social_user = _user("e2e_lead"), _user("e2e_social")
        for n in range(4):
            db.session.add(Inspector(
                name=f"监察员{n}", department_id=department, cert_kind="labour_inspector",
                cert_number=f"E2E-L{n}", cert_expires=date(2030, 1, 1), tags=[],
                user_id=lead_user.id if n == 0 else None))
        for n in range(2):
            db.session.add(Inspector(
                name=f"社保员{n}", department_id=social, cert_kind="law_enforcement",
                cert_number=f"E2E-S{n}", cert_expires=date(2030, 1, 1), tags=[],
                user_id=social_user.id if n == 0 else None))
        db.session.commit()

        plan = planning.create_plan({"year": 2026, "title": "2026 年度双随机抽查计划",
                                     "scope": "全区用人单位", "yearly_cap": 2}, actor=office)
        planning.submit_plan(plan, actor=office)
        planning.approve_plan(plan, actor=approver)
        items = db.session.scalars(select(CheckItem.id).where(
            CheckItem.code.in_(["LR-01", "LR-07"]))).all()
        task = planning.create_task({
            "name": "2026 年工资支付与社保缴费联合抽查", "plan_id": plan.id,
            "lead_department_id": department, "department_ids": [department, social],
            "item_ids": list(items), "task_type": "undirected", "method": "on_site",
            "window_start": "2026-04-01", "window_end": "2026-06-30", "announced": False,
            "inspectors_per_visit": 2,
            "grade_ratios": {"A": "0.01", "B": "0.25", "C": "0.10", "D": "0.20"}},
            actor=office)
        planning.submit_task(task, actor=office)
        planning.approve_task(task, actor=approver)
        assert task.is_joint

        employers.confirm_current(office)
        inspector_ops.confirm_current(office)
        secrets = {"bureau": "ab" * 16, "supervisor": "cd" * 16}
        declared = soon([{"name": "中国福利彩票3D 2026088期开奖号码"}])
        prepared = target.prepare_target_draw(
            task.id, "public", declared,
            [{"party": p, "sha256": verify.secret_commitment(s)} for p, s in secrets.items()],
            office)
        wait_until_known(declared)
        target.execute_target_draw(prepared.draw.id, ["5 0 8"], secrets, office)
        task = db.session.get(Task, task.id)
        assert task.status == "targets_drawn"
        n_visits = len(db.session.scalars(select(VisitTask).where(
            VisitTask.task_id == task.id)).all())
        assert n_visits == 5          # ceil(0.25 x 20)
        return task.id, social


def _draw_through_pages(app, office, task_id, department_id):
    page = f"/teams/tasks/{task_id}"
    response = office.post_form(f"/teams/tasks/{task_id}/prepare",
                                {"department": str(department_id), "mode": "secrets",
                                 "party_1": "office", "generate_1": "y",
                                 "party_2": "supervisor", "generate_2": "y"}, token_from=page)
    assert response.status_code == 302, response.get_data(as_text=True)
    draw_path = response.headers["Location"]
    shown = office.get(draw_path).get_data(as_text=True)
    secrets = dict(re.findall(r"Secret of (\w+): ([0-9a-f]{32})", shown))
    assert set(secrets) == {"office", "supervisor"}, "generated secrets are shown once"
    draw_id = int(re.search(r"/teams/draws/(\d+)", draw_path).group(1))
    with app.app_context():
        parties = [s.party for s in db.session.get(Draw, draw_id).secrets]
    form = {f"secret_{n}": secrets[p] for n, p in enumerate(parties)}
    response = office.post_form(f"/teams/draws/{draw_id}/execute", form, token_from=draw_path)
    assert response.status_code == 302, response.get_data(as_text=True)
    return draw_id


def _verify_standalone(app, office, draw_id, tmp_path):
    record = office.get(f"/teams/draws/{draw_id}/record.json").get_json()
    with app.app_context():
        draw = db.session.get(Draw, draw_id)
        pool = draw.pools[0]
        pool_bytes = commitments.pool_bytes(draw, pool)
        name = commitments.pool_file_name(draw.public_id, pool.name)
    folder = tmp_path / f"verify-{draw_id}"
    folder.mkdir()
    for file in ("verify.py", "rfc3797.py", "teams.py"):
        (folder / file).write_bytes((ENGINE_DIR / file).read_bytes())
    (folder / "record.json").write_text(json.dumps(record, ensure_ascii=False), "utf-8")
    (folder / name).write_bytes(pool_bytes)
    # --no-log: the public log is checked by tests/draws/test_tlog_app.py.
    run = subprocess.run([sys.executable, "-I", "-S", "verify.py", "--no-log", "record.json",
                          name], cwd=folder, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip().endswith("OK")
    return record


def test_from_plan_to_assignments(app, department, make_user, tmp_path):
    task_id, social = _setup(app, department, make_user)
    office = Client(app)
    assert office.login("e2e_office").status_code == 302
    english(office)
    overview = office.get(f"/teams/tasks/{task_id}").get_data(as_text=True)
    assert "Lead department" in overview and "社会保险" in overview

    lead_draw = _draw_through_pages(app, office, task_id, department)
    social_draw = _draw_through_pages(app, office, task_id, social)
    lead_record = _verify_standalone(app, office, lead_draw, tmp_path)
    social_record = _verify_standalone(app, office, social_draw, tmp_path)
    assert len(lead_record["assignment"]) == len(social_record["assignment"]) == 5
    assert lead_record["commitment"]["parameters"]["required_per_visit"] == 2
    assert social_record["commitment"]["parameters"]["required_per_visit"] == 1

    with app.app_context():
        task = db.session.get(Task, task_id)
        assert task.status == "teams_drawn"
        visits = db.session.scalars(select(Visit).join(VisitTask).where(
            VisitTask.task_id == task_id).order_by(Visit.number)).all()
        assert all(v.status == "assigned" for v in visits)
        for visit in visits:
            team = db.session.scalars(select(TeamMember).where(
                TeamMember.visit_id == visit.id, TeamMember.replaced_at.is_(None))).all()
            assert len(team) == 3
            leaders = [m for m in team if m.is_leader]
            assert len(leaders) == 1 and leaders[0].department_id == department
        me = db.session.scalar(select(Inspector).where(Inspector.cert_number == "E2E-L0"))
        mine = {m.visit_id: m.is_leader for m in db.session.scalars(select(TeamMember).where(
            TeamMember.inspector_id == me.id))}
        numbers = {v.id: v.number for v in visits}
        # 5 visits x 2 places among 4 lead inspectors: 2 or 3 visits each
        assert 2 <= len(mine) <= 3
        not_mine = [numbers[v] for v in numbers if v not in mine]
        leading = [numbers[v] for v, lead in mine.items() if lead]
        names = {v.number: v.employer.name for v in visits}

    inspector = Client(app)
    assert inspector.login("e2e_lead").status_code == 302
    english(inspector)
    page = inspector.get("/my/visits")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for visit_id in mine:
        assert numbers[visit_id] in html and names[numbers[visit_id]] in html
    for number in not_mine:
        assert number not in html and names[number] not in html
    assert html.count('data-you-lead="1"') == len(leading)
    assert "unannounced" in html
    api = inspector.api("GET", "/api/v1/my/visits").get_json()
    assert sorted(v["number"] for v in api) == sorted(numbers[v] for v in mine)
    assert all(len(v["team"]) == 3 and len(v["items"]) == 2 for v in api)
    assert all(v["address"].startswith("临淄区") for v in api)
    assert inspector.get(f"/teams/tasks/{task_id}").status_code == 403

    social_inspector = Client(app)
    assert social_inspector.login("e2e_social").status_code == 302
    theirs = social_inspector.api("GET", "/api/v1/my/visits").get_json()
    assert theirs and all(not v["leader"] for v in theirs)
    idle = Client(app)
    assert idle.login("e2e_idle").status_code == 302
    english(idle)
    assert "not linked" in idle.get("/my/visits").get_data(as_text=True)
    with app.app_context():
        assert team_queries.public_substitutions(team_queries.get_draw(lead_draw)) == []
