"""Public records that browsers and proxies may keep (inspection/core/caching.py): an executed
draw's page and files, a sealed record's check. A strong ETag, a Cache-Control of their own,
304 when the client holds them, a new ETag when what they show changes; made for everyone
(no token, no cookie) unless somebody is signed in."""
from __future__ import annotations

from sqlalchemy import select

from inspection.draws.models import TeamMember
from inspection.draws.target import operations as target_ops
from inspection.draws.team import operations as team_ops
from inspection.extensions import db

from helpers import Client
from review_support import office_and_approver, sealed_visit
from target_support import execute, make_task, office, prepare, world  # noqa: F401
from team_support import approver, build_bureau, draw_teams, office as team_office

FINAL_PAGE = "public, max-age=3600"
FINAL_FILE = "public, max-age=86400"
REVALIDATE = "public, no-cache"


def _etag(response) -> str:
    etag = response.headers["ETag"]
    assert not etag.startswith("W/") and len(etag.strip('"')) == 64, etag
    return etag


def _kept(client, path: str, cache_control: str, *, page: bool = True):
    """The answer at ``path``: 200 with a strong ETag and ``cache_control`` (a page: made
    for everyone, varying with the language cookie), then 304 for a client holding it."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    etag = _etag(response)
    assert response.headers["Cache-Control"] == cache_control, path
    assert "Set-Cookie" not in response.headers, path
    if page:
        assert "Cookie" in response.headers["Vary"], path
        html = response.get_data(as_text=True)
        assert "csrf" not in html, path
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data, path
    assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == cache_control
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    return response


def test_an_executed_target_draw_and_its_files_may_be_kept(app, world, client):
    with app.app_context():
        draw = prepare(world, make_task(world)).draw
        public_id = draw.public_id
        execute(world, draw.id)
    base = f"/public/draws/{public_id}"
    _kept(client, base, FINAL_PAGE)
    record = _kept(client, f"{base}/record.json", FINAL_FILE, page=False)
    assert record.get_json()["draw_id"] == public_id
    pool = _kept(client, f"{base}/pools/B.txt", "public, max-age=31536000, immutable",
                 page=False)
    assert pool.data.count(b"\n") == 30
    for name in ("verify.py", "rfc3797.py"):
        _kept(client, f"{base}/{name}", FINAL_FILE, page=False)
    assert client.get(f"{base}/teams.py").status_code == 404   # a target draw's


def test_a_prepared_draw_is_asked_for_again_and_changes_when_executed(app, world, client):
    with app.app_context():
        draw = prepare(world, make_task(world)).draw
        draw_id, public_id = draw.id, draw.public_id
    base = f"/public/draws/{public_id}"
    before = _etag(_kept(client, base, REVALIDATE))
    record = _etag(_kept(client, f"{base}/record.json", REVALIDATE, page=False))
    with app.app_context():
        execute(world, draw_id)
    after = client.get(base, headers={"If-None-Match": before})
    assert after.status_code == 200 and _etag(after) != before
    assert after.headers["Cache-Control"] == FINAL_PAGE
    assert _etag(client.get(f"{base}/record.json")) != record
    # cancelled: final too
    with app.app_context():
        other = prepare(world, make_task(world, name="第二项任务")).draw
        target_ops.cancel_target_draw(other, "计划调整", office(world))
        cancelled = other.public_id
    _kept(client, f"/public/draws/{cancelled}", FINAL_PAGE)
    _kept(client, f"/public/draws/{cancelled}/record.json", FINAL_FILE, page=False)


def test_the_language_is_part_of_the_page(app, world, client):
    with app.app_context():
        public_id = prepare(world, make_task(world)).draw.public_id
    path = f"/public/draws/{public_id}"
    chinese = _kept(client, path, REVALIDATE)
    # a visitor switches to English from the shared page, which carries no token
    switched = client.http.post("/language", data={"lang": "en", "next": path})
    assert switched.status_code == 302 and "lang=en" in switched.headers["Set-Cookie"]
    english = _kept(client, path, REVALIDATE)
    assert _etag(english) != _etag(chinese)
    assert 'lang="en"' in english.get_data(as_text=True)
    assert client.get(path, headers={"If-None-Match": _etag(chinese)}).status_code == 200


def test_a_signed_in_visitor_gets_their_own_page(app, world, login_as):
    with app.app_context():
        public_id = prepare(world, make_task(world)).draw.public_id
    c = login_as("office")
    response = c.get(f"/public/draws/{public_id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
    assert 'name="csrf-token"' in response.get_data(as_text=True)
    # and their language choice still needs their token
    assert c.http.post("/language", data={"lang": "en", "next": "/"}).status_code == 400
    assert c.post_form("/language", {"lang": "en", "next": "/"}, token_from="/") \
        .status_code == 302


def test_a_team_draw_is_asked_for_again_and_changes_with_a_substitution(app, department,
                                                                         client):
    with app.app_context():
        bureau = build_bureau(department, employers=2, lead_inspectors=5)
        public_id = draw_teams(bureau).public_id
    base = f"/public/draws/{public_id}"
    page = _etag(_kept(client, base, REVALIDATE))
    record = _etag(_kept(client, f"{base}/record.json", REVALIDATE, page=False))
    _kept(client, f"{base}/teams.py", FINAL_FILE, page=False)
    with app.app_context():
        member = db.session.scalars(select(TeamMember).where(
            TeamMember.replaced_at.is_(None)).order_by(TeamMember.id)).first()
        sub = team_ops.request_substitution(member, "health", "住院", team_office(bureau))
        team_ops.decide_substitution(sub, approve=True, mode="reserve",
                                     actor=approver(bureau))
    after = client.get(base, headers={"If-None-Match": page})
    assert after.status_code == 200 and _etag(after) != page
    assert _etag(client.get(f"{base}/record.json")) != record


def test_a_sealed_records_check_changes_when_its_result_is_published(app, department,
                                                                     login_as):
    sealed = sealed_visit(app, department, login_as)
    office1, approver1 = office_and_approver(app, login_as)
    anyone = Client(app)
    path = f"/public/records/{sealed.body['seal']}"
    pending = _kept(anyone, path, REVALIDATE)
    assert "结果待审核认定" in pending.get_data(as_text=True)

    base = f"/api/v1/review/visits/{sealed.visit}"
    proposed = office1.api("POST", f"{base}/determinations", json={
        "result_category": "no_problem", "findings": [], "summary": "", "key": "caching-1"})
    assert proposed.status_code == 201, proposed.get_json()
    decided = approver1.api(
        "POST", f"/api/v1/review/determinations/{proposed.get_json()['id']}/decision",
        json={"approve": True, "reason": ""})
    assert decided.status_code == 200, decided.get_json()
    # approved, not yet published: the page still says pending, and so does its ETag
    assert anyone.get(path, headers={"If-None-Match": _etag(pending)}).status_code == 304
    published = office1.api("POST", f"{base}/publish")
    assert published.status_code == 200, published.get_json()
    after = anyone.get(path, headers={"If-None-Match": _etag(pending)})
    assert after.status_code == 200 and _etag(after) != _etag(pending)
    assert "未发现问题" in after.get_data(as_text=True)
    _kept(anyone, path, REVALIDATE)
