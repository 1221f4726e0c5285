"""Chinese by default, English by choice, and every string a user sees is translated."""
import subprocess
import sys

from babel.messages.pofile import read_po

from helpers import Client


def test_every_message_is_translated_to_chinese(project_root, tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "--no-location", "-o", str(pot), "."],
                   cwd=project_root, check=True, capture_output=True)
    source = {m.id for m in read_po(pot.open("rb")) if m.id}
    po = read_po((project_root / "translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb"))
    translated = {m.id for m in po if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(str(m) for m in source - translated)
    assert not missing, f"{len(missing)} messages without a Chinese translation: {missing[:20]}"
    assert len(source) > 100


def test_chinese_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "登录" in html


def test_language_switch_is_remembered(client):
    token = client.token()
    r = client.http.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert r.status_code == 302 and "lang=en" in r.headers["Set-Cookie"]
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html
    client.http.post("/language", data={"lang": "xx", "csrf_token": client.token()})
    assert '<html lang="en">' in client.get("/login").get_data(as_text=True)


def test_signed_in_users_language_follows_them(app, make_user):
    make_user("alice", "office")
    first = Client(app)
    first.login("alice")
    first.http.post("/language", data={"lang": "en", "next": "/", "csrf_token": first.token("/")})
    second = Client(app)  # another device, no cookie
    second.login("alice")
    assert "Welcome, Alice" in second.get("/").get_data(as_text=True)


def test_error_pages_in_both_languages(client):
    zh = client.get("/no/such/page")
    assert zh.status_code == 404 and "页面不存在" in zh.get_data(as_text=True)
    client.http.set_cookie("lang", "en")
    en = client.get("/no/such/page")
    assert en.status_code == 404 and "Page not found" in en.get_data(as_text=True)


def test_api_messages_follow_the_language(client):
    assert client.get("/api/v1/me").get_json()["error"]["message"] == "请先登录。"
    client.http.set_cookie("lang", "en")
    assert client.get("/api/v1/me").get_json()["error"]["message"] == "Please sign in."


def test_me_says_which_language_is_in_force(app, make_user):
    """The field app reads `language` from /api/v1/me (its shell is cached, so it cannot rely
    on the page it was first served with): the cookie, then the account's own choice."""
    make_user("bob", "inspector")
    c = Client(app)
    c.login("bob")
    me = c.get("/api/v1/me").get_json()
    assert me["locale"] is None and me["language"] == "zh_CN"
    c.http.set_cookie("lang", "en")
    assert c.get("/api/v1/me").get_json()["language"] == "en"
    assert c.api("PATCH", "/api/v1/me", json={"locale": "zh_CN"}).get_json()["language"] == "zh_CN"
    assert c.get("/api/v1/me").get_json()["language"] == "zh_CN"  # the account beats the cookie


def test_result_categories_read_in_the_pages_language(app):
    """In Chinese a page shows each result category in its legal wording (seed 004 第十九条(四),
    RESULT_LABELS) exactly; in English, in English; the documents' label stays the legal one."""
    from flask_babel import force_locale

    from inspection.fieldwork.models import RESULT_LABELS
    from inspection.fieldwork.results import ENGLISH_LABELS, label, shown_label

    assert set(ENGLISH_LABELS) == set(RESULT_LABELS)
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert {c: shown_label(c) for c in RESULT_LABELS} == RESULT_LABELS
        with force_locale("en"):
            assert {c: shown_label(c) for c in RESULT_LABELS} == ENGLISH_LABELS
            assert {c: label(c) for c in RESULT_LABELS} == RESULT_LABELS
        assert shown_label("") == "" and shown_label("other") == "other"
