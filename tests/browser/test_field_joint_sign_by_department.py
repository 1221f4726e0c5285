"""A joint visit's record signed on one tablet (issue 6; seed 000 三(八)): the signing screen
groups the inspectors by department, each department's inspectors sign their department's
part, the representative signs once, and the server accepts the sealed record, which proves
the phone computed each part's hash as the server does."""
from __future__ import annotations

import json

from field_sign_support import link_colleague, server_counts
from test_field_signing import (TABLET, answer_all, download, make_page,  # noqa: F401 (fixture)
                                seal_and_send, sign, sign_as_representative, visit_number)

MAKE_JOINT = """
import json, sys
from sqlalchemy import select, update
from app import app
from inspection.extensions import db
from inspection.core.models import Department
from inspection.catalogue.models import CheckItemVersion
from inspection.directory.models import Inspector
from inspection.draws.models import TeamMember
from inspection.fieldwork.models import Visit
from inspection.fieldwork.visits import item_versions
number, inspector_id, undo = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "undo"
with app.app_context():
    visit = db.session.scalar(select(Visit).where(Visit.number == number))
    lsjc = db.session.scalar(select(Department).where(Department.code == "LSJC"))
    shbx = db.session.scalar(select(Department).where(Department.code == "SHBX"))
    to = lsjc if undo else shbx
    member = db.session.scalar(select(TeamMember).where(
        TeamMember.visit_id == visit.id, TeamMember.inspector_id == inspector_id,
        TeamMember.replaced_at.is_(None)))
    member.department_id = to.id
    db.session.get(Inspector, inspector_id).department_id = to.id
    version = item_versions(visit.id)[-1]
    # the catalogue's versions are immutable through the ORM: this is the test's own change
    db.session.execute(update(CheckItemVersion).where(CheckItemVersion.id == version)
                       .values(department_id=to.id))
    db.session.commit()
    print(json.dumps({"department_id": to.id, "name": to.name}))
"""


def test_each_department_signs_its_part_on_one_tablet(make_page, live_server, server_python,
                                                      shots):
    page, base = make_page(TABLET), live_server
    number = visit_number(page, base, -5)
    colleague = link_colleague(server_python, number)
    shbx = json.loads(server_python(MAKE_JOINT, number, str(colleague["inspector_id"]), "do")
                      .strip().splitlines()[-1])
    try:
        pack = download(page, base, number)
        departments = {d["department_id"]: d for d in pack["departments"]}
        assert shbx["department_id"] in departments and len(departments) == 2
        me = next(m for m in pack["team"] if m["is_me"])
        other = next(m for m in pack["team"] if m["user_id"] == colleague["user_id"])
        assert other["department_id"] == shbx["department_id"] != me["department_id"]

        page.context.set_offline(True)
        answer_all(page, base, number, pack)
        page.goto(f"{base}/field/#/visit/{number}")
        page.select_option("#result", "no_problem")
        page.wait_for_selector("text=检查项目与结论一致。")
        page.click("#go-sign")

        # one group per department, each with its items and its own inspectors
        page.wait_for_selector("li.department-part")
        assert "联合检查：各部门检查人员分别签署本部门检查事项的记录。" in page.inner_text("body")
        group = page.locator(f'li.department-part[data-department="{shbx["department_id"]}"]')
        assert "社会保险" in group.inner_text()
        assert departments[shbx["department_id"]]["items"][0] in group.inner_text()
        assert group.locator(f'li.sign-row[data-signer="inspector-{other["user_id"]}"]').count() == 1
        assert group.locator(f'li.sign-row[data-signer="inspector-{me["user_id"]}"]').count() == 0

        sign(page, f"inspector-{me['user_id']}", "mouse")
        sign(page, f"inspector-{other['user_id']}", "mouse")
        sign_as_representative(page, "mouse")
        shots(page, "field-joint-signing")
        body = seal_and_send(page, base, number)["body"]
        assert body["departments"] == pack["departments"]
        signers = {s["signer"].get("user_id"): s for s in body["signatures"]}
        assert signers[other["user_id"]]["signer"]["department_id"] == shbx["department_id"]
        assert signers[me["user_id"]]["signer"]["department_id"] == me["department_id"]
        # three different hashes: each department's part, and the whole for the representative
        assert len({s["signs"] for s in body["signatures"]}) == 3
        assert server_counts(server_python, number)["sealed"] == 1
        # the printable record on the device names the department of each inspector
        page.goto(f"{base}/field/#/visit/{number}/record")
        page.wait_for_selector(".sig-figure")
        assert f"（{shbx['name']}）" in page.locator(".sig-figures").inner_text()
    finally:
        server_python(MAKE_JOINT, number, str(colleague["inspector_id"]), "undo")
