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
