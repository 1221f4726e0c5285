"""The public record of a team draw: the teams, the reserve order and the substitutions are
public, and the downloaded files re-run outside the application."""
import json
import subprocess
import sys

from sqlalchemy import select

from inspection.draws.models import TeamMember
from inspection.draws.team import operations as team_ops
from inspection.extensions import db

from team_support import approver, build_bureau, draw_teams, office, visits


def test_team_draw_public_page_and_standalone_verification(app, department, client, tmp_path):
    with app.app_context():
        bureau = build_bureau(department, employers=3, lead_inspectors=5)
        draw = draw_teams(bureau)
        public_id = draw.public_id
        visit = visits(bureau)[0]
        member = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == visit.id, TeamMember.is_leader.is_(False))).first()
        sub = team_ops.request_substitution(member, "health", "住院", office(bureau))
        team_ops.decide_substitution(sub, approve=True, mode="reserve", replacement_id=None,
                                     actor=approver(bureau))
        number = visit.number

    page = client.get(f"/public/draws/{public_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and number in html
    assert "身体原因" in html or "Health" in html  # the substitution is on the public record

    record = client.get(f"/public/draws/{public_id}/record.json").get_json()
    assert record["kind"] == "team" and record["substitutions"][0]["visit"] == number
    (tmp_path / "record.json").write_text(json.dumps(record), encoding="utf-8")
    names = []
    for pool in record["commitment"]["pools"]:
        data = client.get(f"/public/draws/{public_id}/pools/{pool['name']}.txt").data
        (tmp_path / pool["file"]).write_bytes(data)
        names.append(pool["file"])
    for name in ("verify.py", "rfc3797.py", "teams.py"):
        response = client.get(f"/public/draws/{public_id}/{name}")
        assert response.status_code == 200
        (tmp_path / name).write_bytes(response.data)
    # --no-log: the public log is checked by tests/draws/test_tlog_app.py.
    run = subprocess.run([sys.executable, "-I", "-S", "verify.py", "--no-log", "record.json",
                          *names], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip().startswith("OK"), run.stdout + run.stderr

    record["assignment"][0]["team"].reverse()
    (tmp_path / "record.json").write_text(json.dumps(record), encoding="utf-8")
    run = subprocess.run([sys.executable, "-I", "-S", "verify.py", "record.json", *names],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1 and number in run.stdout


def test_the_teams_come_a_page_at_a_time(app, department, client, monkeypatch):
    from inspection.draws import public_views

    monkeypatch.setattr(public_views, "TEAMS_PER_PAGE", 2)
    with app.app_context():
        bureau = build_bureau(department, employers=3, lead_inspectors=5)
        public_id = draw_teams(bureau).public_id
        numbers = [v.number for v in visits(bureau)]
    first = client.get(f"/public/draws/{public_id}").get_data(as_text=True)
    last = client.get(f"/public/draws/{public_id}?page=2")
    assert last.status_code == 200
    second = last.get_data(as_text=True)
    shown = [[n for n in numbers if f"<code>{n}</code>" in html] for html in (first, second)]
    assert len(shown[0]) == 2 and len(shown[1]) == 1 and sorted(sum(shown, [])) == sorted(numbers)
    assert 'rel="next"' in first and 'rel="prev"' in second
    # Each page has its own ETag: page 2 is not answered "not modified" with page 1's tag.
    tag = client.get(f"/public/draws/{public_id}").headers["ETag"]
    again = client.get(f"/public/draws/{public_id}?page=2", headers={"If-None-Match": tag})
    assert again.status_code == 200
    assert client.get(f"/public/draws/{public_id}?page=3").status_code == 404
    assert client.get(f"/public/draws/{public_id}?page=abc").status_code == 422
