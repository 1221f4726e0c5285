"""The draw wizard's pages, the API, the CLI and who may use them."""
import re

from sqlalchemy import func, select

from inspection.draws.models import Draw
from inspection.draws.target import operations as target
from inspection.extensions import db
from inspection.fieldwork.models import Visit

from target_support import (SECRETS, SOURCE, execute, make_task, prepare, secret_specs, soon,
                            wait_until_known, world)  # noqa: F401


def test_wizard_prepare_with_generated_secret_then_execute(app, world, login_as):
    with app.app_context():
        task_id = make_task(world, name="工资支付专项检查")
    c = login_as("office")
    page = c.get("/draws/").get_data(as_text=True)
    assert "工资支付专项检查" in page and f"/draws/tasks/{task_id}/new" in page
    new = c.get(f"/draws/tasks/{task_id}/new")
    assert new.status_code == 200
    html = new.get_data(as_text=True)
    assert "Confirmed current" in html or "已确认" in html
    own_hash = secret_specs({"劳动保障监察": SECRETS["劳动保障监察"]})[0]["sha256"]
    declared = soon()
    response = c.post_form(f"/draws/tasks/{task_id}/new", {
        "mode": "public", "sources-0-name": SOURCE[0]["name"],
        "sources-0-available_at": declared[0]["available_at"],
        "parties-0-party": "劳动保障监察", "parties-0-sha256": own_hash,
        "parties-1-party": "法制机构", "parties-1-generate": "y"})
    assert response.status_code == 201, response.get_data(as_text=True)[:3000]
    html = response.get_data(as_text=True)
    generated = re.search(r'<code class="hash secret">([0-9a-f]{32})</code>', html).group(1)
    assert "<svg" in html and 'style="' not in html
    with app.app_context():
        draw = db.session.scalar(select(Draw))
        assert [s.secret for s in draw.secrets] == [None, None]   # never stored before
        draw_id, public_id = draw.id, draw.public_id
    shown = c.get(f"/draws/{draw_id}").get_data(as_text=True)
    assert generated not in shown and public_id in shown
    wait_until_known(declared)

    bad = c.post_form(f"/draws/{draw_id}/execute", {
        "values-0": "5 0 8", "secrets-0-party": "劳动保障监察",
        "secrets-0-secret": SECRETS["劳动保障监察"], "secrets-1-party": "法制机构",
        "secrets-1-secret": "0" * 32})
    assert bad.status_code == 422
    ok = c.post_form(f"/draws/{draw_id}/execute", {
        "values-0": "5，0，8", "secrets-0-party": "劳动保障监察",
        "secrets-0-secret": SECRETS["劳动保障监察"], "secrets-1-party": "法制机构",
        "secrets-1-secret": generated}, token_from=f"/draws/{draw_id}/execute")
    assert ok.status_code == 302
    result = c.get(f"/draws/{draw_id}").get_data(as_text=True)
    assert "2026-000001" in result and "badge ok" in result
    assert 'href="/visits/2026-000001/record"' in result  # the office opens the visit's record
    with app.app_context():
        assert db.session.scalar(select(func.count(Visit.id))) == 10
        assert db.session.get(Draw, draw_id).execution["sources"] == [["5", "0", "8"]]
    again = c.get(f"/draws/{draw_id}/execute")
    assert again.status_code == 302   # executed: back to the result


def test_wizard_refuses_when_directory_not_confirmed(app, department, login_as):
    from target_support import build_world
    with app.app_context():
        w = build_world(department, confirm=False)
        task_id = make_task(w)
    c = login_as("office")
    page = c.get(f"/draws/tasks/{task_id}/new").get_data(as_text=True)
    assert "/employers/" in page
    response = c.post_form(f"/draws/tasks/{task_id}/new", {
        "mode": "system", "parties-0-party": ""})
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count(Draw.id))) == 0


def test_roles(app, world, login_as):
    with app.app_context():
        task_id = make_task(world)
        draw_id = prepare(world, task_id).draw.id
    inspector = login_as("inspector")
    for path in ("/draws/", f"/draws/{draw_id}", "/api/v1/draws", f"/api/v1/draws/{draw_id}"):
        assert inspector.get(path).status_code == 403, path
    for role in ("supervisor", "approver"):
        c = login_as(role, username=f"r_{role}")
        assert c.get("/draws/").status_code == 200
        assert c.get(f"/draws/{draw_id}").status_code == 200
        assert c.get(f"/api/v1/draws/preview/{task_id}").status_code == 200
        assert c.get(f"/draws/{draw_id}/execute").status_code == 403
        assert c.api("POST", f"/api/v1/draws/{draw_id}/execute",
                     json={"sources": ["1 2 3"], "secrets": SECRETS}).status_code == 403
    with app.app_context():
        assert db.session.get(Draw, draw_id).status == "prepared"


def test_no_endpoint_edits_a_draw(app):
    """The drawn list is locked: no PUT, PATCH or DELETE anywhere under the draws."""
    for rule in app.url_map.iter_rules():
        if "draw" in rule.rule:
            assert not rule.methods & {"PUT", "PATCH", "DELETE"}, rule.rule


def test_api_preview_prepare_execute_verify(app, world, login_as):
    with app.app_context():
        task_id = make_task(world)
    c = login_as("office")
    preview = c.get(f"/api/v1/draws/preview/{task_id}").get_json()
    assert [p["count"] for p in preview["pools"]] == [1, 3, 4, 2]
    assert preview["blocking"] == [] and preview["confirmed_current"] is True
    made = c.api("POST", "/api/v1/draws", json={
        "task_id": task_id, "mode": "secrets",
        "secrets": [{"party": "劳动保障监察", "sha256": secret_specs()[0]["sha256"]},
                    {"party": "法制机构", "generate": True}]})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    secret = body["generated_secrets"]["法制机构"]
    draw_id = body["draw"]["id"]
    assert body["draw"]["public_url"].endswith(f"/public/draws/{body['draw']['public_id']}")
    assert c.api("POST", "/api/v1/draws", json={"task_id": task_id, "mode": "system"}
                 ).status_code == 409
    wrong = c.api("POST", f"/api/v1/draws/{draw_id}/execute",
                  json={"secrets": {"劳动保障监察": SECRETS["劳动保障监察"], "法制机构": "nope"}})
    assert wrong.status_code == 422 and "法制机构" in wrong.get_json()["error"]["fields"]
    done = c.api("POST", f"/api/v1/draws/{draw_id}/execute",
                 json={"secrets": {"劳动保障监察": SECRETS["劳动保障监察"], "法制机构": secret}})
    assert done.status_code == 200, done.get_json()
    detail = done.get_json()
    assert detail["status"] == "executed" and len(detail["results"]) == 10
    assert all(r["visit_number"] and r["employer_id"] for r in detail["results"])
    twice = c.api("POST", f"/api/v1/draws/{draw_id}/execute",
                  json={"secrets": {"劳动保障监察": SECRETS["劳动保障监察"], "法制机构": secret}})
    assert twice.status_code == 409
    assert c.get(f"/api/v1/draws/{draw_id}/verify").get_json() == {"ok": True, "problems": []}
    listed = c.get("/api/v1/draws").get_json()
    assert [d["id"] for d in listed] == [draw_id]
    assert c.api("PUT", f"/api/v1/draws/{draw_id}", json={}).status_code == 405
    assert c.api("DELETE", f"/api/v1/draws/{draw_id}").status_code == 405


def test_api_cancel_prepared_only(app, world, login_as):
    with app.app_context():
        task_id = make_task(world)
        draw_id = prepare(world, task_id).draw.id
    c = login_as("office")
    assert c.api("POST", f"/api/v1/draws/{draw_id}/cancel", json={"reason": ""}
                 ).status_code == 422
    assert c.api("POST", f"/api/v1/draws/{draw_id}/cancel", json={"reason": "来源停售"}
                 ).get_json()["status"] == "cancelled"
    assert c.api("POST", f"/api/v1/draws/{draw_id}/cancel", json={"reason": "again"}
                 ).status_code == 409


def test_cli_verify_exit_codes(app, world):
    with app.app_context():
        task_id = make_task(world)
        draw = prepare(world, task_id).draw
        draw_id, public_id = draw.id, draw.public_id
    runner = app.test_cli_runner()
    pending = runner.invoke(args=["draws", "verify", public_id])
    assert pending.exit_code == 1 and "FAILED" in pending.output
    with app.app_context():
        execute(world, draw_id)
    for ref in (public_id, str(draw_id), public_id.lower()):
        ok = runner.invoke(args=["draws", "verify", ref])
        assert ok.exit_code == 0 and ok.output.startswith("OK"), ok.output
    with app.app_context():
        d = db.session.get(Draw, draw_id)
        record = dict(d.record)
        results = [dict(r) for r in record["results"]]
        pool = next(r for r in results if len(r["positions"]) > 1)
        pool["positions"] = list(reversed(pool["positions"]))
        record["results"] = results
        d.record = record
        db.session.commit()
    tampered = runner.invoke(args=["draws", "verify", public_id])
    assert tampered.exit_code == 1 and "FAILED" in tampered.output
    assert runner.invoke(args=["draws", "verify", "DRAW-1999-0001"]).exit_code == 1


def test_results_and_preview_helpers_match(app, world):
    with app.app_context():
        task_id = make_task(world)
        preview = target.preview(task_id)
        draw = prepare(world, task_id).draw
        execute(world, draw.id)
        rows = target.results(db.session.get(Draw, draw.id))
        per_pool = {p.grade: p.count for p in preview.pools.pools}
        for grade, count in per_pool.items():
            assert [r.rank for r in rows if r.pool == grade] == list(range(1, count + 1))
