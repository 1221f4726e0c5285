"""The field app's shell, web app manifest and service worker, as the server serves them."""
import json
import re
from pathlib import Path

from inspection.fieldwork import field_views

ROOT = Path(__file__).resolve().parents[2]


def _precache(source: str) -> dict:
    match = re.search(r"^const SHELL = (\{.*?\n\});$", source, re.S | re.M)
    assert match, source[:400]
    return json.loads(match.group(1))


def test_worker_is_served_at_the_root_scope_uncached(client):
    r = client.get("/service-worker.js")
    assert r.status_code == 200
    assert r.mimetype == "text/javascript"
    assert r.headers["Service-Worker-Allowed"] == "/"
    assert r.headers["Cache-Control"] == "no-cache"
    source = r.get_data(as_text=True)
    shell = _precache(source)
    assert shell["cache"] == "field-shell-" + shell["version"]
    assert {"/field/", "/manifest.webmanifest", "/static/field/app.js",
            "/static/vendor/idb/index.js", "/static/icons/icon-512.png"} <= set(shell["urls"])
    for part in field_views.WORKER_PARTS:  # the listeners and helpers are all in the build
        assert (ROOT / "service-worker" / part).read_text(encoding="utf-8") in source
    assert "skipWaiting()" in source and "deleteStaleCaches" in source


def test_every_precached_static_file_exists(client):
    shell = _precache(client.get("/service-worker.js").get_data(as_text=True))
    for url in shell["urls"]:
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url


def test_changing_a_shell_file_changes_the_worker(app, client, tmp_path, monkeypatch):
    before = _precache(client.get("/service-worker.js").get_data(as_text=True))
    static = tmp_path / "static"
    for name in field_views.SHELL_STATIC:
        (static / name).parent.mkdir(parents=True, exist_ok=True)
        (static / name).write_bytes((ROOT / "static" / name).read_bytes())
    monkeypatch.setattr(app, "static_folder", str(static))
    same = _precache(client.get("/service-worker.js").get_data(as_text=True))
    assert same["version"] == before["version"]  # the same bytes elsewhere: the same version
    (static / "field" / "field.css").write_text("/* changed */", encoding="utf-8")
    after = _precache(client.get("/service-worker.js").get_data(as_text=True))
    assert after["version"] != before["version"]
    assert after["cache"] != before["cache"]


def test_manifest_is_installable(client):
    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r.mimetype == "application/manifest+json"
    manifest = r.get_json(force=True)
    assert manifest["name"] == "劳动保障监察·现场检查" and manifest["short_name"] == "现场检查"
    assert manifest["start_url"] == "/field/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone" and manifest["theme_color"] == "#0b4a8b"
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    from PIL import Image
    for icon in manifest["icons"]:
        path = ROOT / icon["src"].lstrip("/")
        with Image.open(path) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"], icon["src"]


def test_shell_is_for_inspectors_and_has_no_inline_code(login_as):
    assert login_as("office").get("/field/").status_code == 403
    r = login_as("inspector").get("/field/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert '<meta name="theme-color" content="#0b4a8b">' in html
    assert '<script type="module" src="/static/field/app.js">' in html
    assert "<script>" not in html and " style=" not in html and "<style" not in html
    assert "csrf" not in html.lower()  # the cached shell holds nothing of the session
    assert r.headers["Cache-Control"] == "no-store"


def test_the_release_setting_changes_the_worker(app, client, monkeypatch):
    """INSPECTION_FIELD_APP_RELEASE forces a new worker (and the phones' "update") without a
    change to any shell file; the browser test of the update offer relies on it."""
    import dataclasses

    before = _precache(client.get("/service-worker.js").get_data(as_text=True))
    monkeypatch.setitem(app.config, "SETTINGS", dataclasses.replace(
        app.config["SETTINGS"], FIELD_APP_RELEASE="2026.2"))
    after = _precache(client.get("/service-worker.js").get_data(as_text=True))
    assert after["version"] != before["version"]
    assert after["cache"] == "field-shell-" + after["version"]
    assert after["urls"] == before["urls"]


def test_shell_is_served_in_the_language_in_force(login_as):
    """Chinese by default; English when chosen. Only the language: nothing of the user."""
    client = login_as("inspector")
    html = client.get("/field/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and 'data-t="我的检查"' in html
    client.http.set_cookie("lang", "en")
    english = client.get("/field/").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "csrf" not in english.lower()
    assert '/static/field/i18n.js' in english  # precached and preloaded with the rest


def test_shell_text_files_are_sent_gzipped(client):
    import gzip

    plain = client.get("/static/field/app.js")
    assert plain.headers.get("Content-Encoding") is None
    source = (ROOT / "static" / "field" / "app.js").read_bytes()
    assert plain.get_data() == source
    packed = client.get("/static/field/app.js", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.get_data()) == source
    assert len(packed.get_data()) < len(source) / 2
    etag = packed.headers["ETag"]
    assert etag.startswith("W/")
    again = client.get("/static/field/app.js", headers={"Accept-Encoding": "gzip",
                                                        "If-None-Match": etag})
    assert again.status_code == 304  # the worker's revalidation downloads nothing
    worker = client.get("/service-worker.js", headers={"Accept-Encoding": "gzip"})
    assert worker.headers["Content-Encoding"] == "gzip"
    assert b"const SHELL" in gzip.decompress(worker.get_data())
    icon = client.get("/static/icons/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert icon.headers.get("Content-Encoding") is None  # PNG: compressed already
    office = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert office.headers.get("Content-Encoding") is None  # not the field app's shell
