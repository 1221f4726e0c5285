"""An executed target draw's public page is made once per process and language and then
answered from what was made (inspection/core/caching.py ``kept_page``), as long as nothing it
shows changed: a change of the directory (the drawn employers' current names) makes it again.
Its list of drawn employers comes a page at a time (issue 15: under 50 KB with the
stylesheet); the pool and record files hold them all."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from inspection.directory.employers import operations as employers
from inspection.directory.models import Employer
from inspection.draws import public_views
from inspection.extensions import db

from target_support import execute, make_task, office, prepare, world  # noqa: F401

CSS = Path(__file__).resolve().parents[2] / "static/css/app.css"


def _made(monkeypatch) -> list[str]:
    """The templates the draw pages render from now on (the rendering itself runs)."""
    made: list[str] = []
    real = public_views.render_template

    def spy(name, **kw):
        made.append(name)
        return real(name, **kw)

    monkeypatch.setattr(public_views, "render_template", spy)
    return made


def test_an_executed_draws_page_is_made_once_until_a_name_changes(app, world, client,
                                                                  monkeypatch):
    with app.app_context():
        draw = prepare(world, make_task(world)).draw
        public_id = draw.public_id
        execute(world, draw.id)
        code = draw.record["results"][0]["selected"][0]
    made = _made(monkeypatch)
    path = f"/public/draws/{public_id}"
    first = client.get(path)
    again = client.get(path)
    assert first.status_code == again.status_code == 200
    assert made == ["draws/public.html"]                     # the second was kept
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"] \
        == "public, max-age=3600"
    assert "Set-Cookie" not in again.headers and b"csrf" not in again.data
    # a client holding it still gets 304
    assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    # the language is part of what was kept
    client.http.set_cookie("lang", "en")
    english = client.get(path)
    assert b'lang="en"' in english.data and made == ["draws/public.html"] * 2
    client.http.delete_cookie("lang")
    # a drawn employer renamed: the page is made again, with the new name
    with app.app_context():
        employer = db.session.scalar(select(Employer).where(Employer.credit_code == code))
        employers.update_employer(employer, {"name": "淄博改名后的单位有限公司"},
                                  version=employer.version, actor=office(world))
        db.session.commit()
    renamed = client.get(path)
    assert renamed.status_code == 200 and "淄博改名后的单位有限公司" in renamed.get_data(as_text=True)
    assert renamed.headers["ETag"] != first.headers["ETag"]
    assert made == ["draws/public.html"] * 3


def test_a_prepared_draws_page_is_made_each_time(app, world, client, monkeypatch):
    with app.app_context():
        public_id = prepare(world, make_task(world)).draw.public_id
    made = _made(monkeypatch)
    for _n in range(2):
        assert client.get(f"/public/draws/{public_id}").status_code == 200
    assert made == ["draws/public.html"] * 2


def test_a_signed_in_visitor_gets_a_page_of_their_own(app, world, login_as, monkeypatch):
    with app.app_context():
        draw = prepare(world, make_task(world)).draw
        public_id = draw.public_id
        execute(world, draw.id)
    path = f"/public/draws/{public_id}"
    assert login_as("office").get(path).status_code == 200
    made = _made(monkeypatch)
    anyone = app.test_client()
    assert anyone.get(path).status_code == 200
    # not the page made for the office (it carried their token), nor kept from it
    assert made == ["draws/public.html"]
    assert b"csrf" not in anyone.get(path).data and made == ["draws/public.html"]


def test_the_drawn_employers_come_a_page_at_a_time(app, world, client, monkeypatch):
    monkeypatch.setattr(public_views, "DRAWN_PER_PAGE", 4)
    with app.app_context():
        draw = prepare(world, make_task(world)).draw
        public_id = draw.public_id
        execute(world, draw.id)
        picks = [code for result in draw.record["results"] for code in result["selected"]]
    assert len(picks) > 4
    path = f"/public/draws/{public_id}"
    pages, shown = -(-len(picks) // 4), []
    for number in range(1, pages + 1):
        response = client.get(f"{path}?page={number}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert len(response.data) + CSS.stat().st_size < 50 * 1024
        shown += [code for code in picks if f"<code>{code}</code>" in html]
        assert ('rel="next"' in html) == (number < pages)
    assert sorted(shown) == sorted(picks)                    # each once, on some page
    assert client.get(f"{path}?page={pages + 1}").status_code == 404
