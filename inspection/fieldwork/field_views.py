"""The field app's shell, its service worker and its web app manifest.

The app itself is static: one HTML shell (``templates/fieldwork/shell.html``) and ES modules
under ``static/field/`` that talk to ``/api/v1/field`` (docs/field-sync.md). Everything the
phone needs to open with no network is the *app shell*: the files in :data:`SHELL_FILES`. The
service worker is built here from ``service-worker/*.js`` and a precache preamble naming those
URLs and a cache name derived from a hash of their contents, so changing any shell file
changes the worker's bytes, which is what makes browsers install a new version. One of them,
``static/field/constants.js``, is built from the server's enums by
:mod:`inspection.fieldwork.constants_js`, so a change to those is a new version too.

``/service-worker.js`` is served from the root so that its scope can be ``/`` (the shell lives
under ``/field/`` but fetches ``/static/...`` and ``/manifest.webmanifest``); it and the
manifest carry no data and are public: browsers fetch both without cookies at times.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import threading
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, url_for

from ..core.access import public, roles
from ..core.models import Role

bp = Blueprint("field", __name__)

ROOT = Path(__file__).resolve().parents[2]
WORKER_DIR = ROOT / "service-worker"
#: The worker's parts, in the order they are joined: helpers first, listeners last.
WORKER_PARTS = ("precache.js", "strategies.js", "sw.js")
SHELL_TEMPLATE = "fieldwork/shell.html"
#: Static files of the app shell (relative to /static), precached by the worker.
SHELL_STATIC = (
    "field/app.js", "field/api.js", "field/db.js", "field/outbox.js", "field/sync.js",
    "field/swbridge.js", "field/record.js", "field/photos.js", "field/editor.js",
    "field/packs.js", "field/views.js", "field/checklist.js", "field/ui.js", "field/i18n.js",
    "field/sha256.js", "field/field.css",
    # the server's codes and limits, built by constants_js.py: a change to them changes the
    # worker's version like any shell file
    "field/constants.js",
    "vendor/idb/index.js",
    # signing, refusals, sealing, the record, joint visits
    "field/seal.js", "field/signdata.js", "field/sign.js", "field/refusal.js",
    "field/summary.js", "field/leader.js", "field/sign.css",
    "vendor/signature_pad/signature_pad.js",
    "vendor/canonicalize/canonicalize.js",     # seal.js: RFC 8785 canonical JSON
    "icons/favicon.svg", "icons/icon-192.png", "icons/icon-512.png",
    "icons/icon-maskable-512.png", "icons/apple-touch-icon.png",
)
THEME = "#0b4a8b"
CACHE_PREFIX = "field-shell-"

#: Text types of the shell that are sent gzipped (PNG icons are compressed already).
GZIP_TYPES = ("text/", "application/javascript", "application/json",
              "application/manifest+json", "image/svg+xml")
GZIP_LEVEL = 6

_lock = threading.Lock()
_gzipped: dict[tuple[str, bytes], bytes] = {}
_built: dict[tuple[str, str], tuple[tuple, str]] = {}


@bp.get("/field/")
@roles(Role.INSPECTOR)
def shell():
    """The app shell; the views are hash routes (#/visits, #/visit/<n>, #/outbox ...)."""
    response = current_app.make_response(render_template(
        SHELL_TEMPLATE, shell_files=SHELL_STATIC, theme=THEME))
    # The worker keeps its own copy; the browser's HTTP cache must not keep another.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/manifest.webmanifest")
@public
def manifest():
    """The web app manifest: installable, standalone, starts at the visit list."""
    body = json.dumps(_manifest(), ensure_ascii=False, indent=1)
    response = Response(body, mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/service-worker.js")
@public
def service_worker():
    """The worker, built from service-worker/ with the precache list and its versioned cache
    name. Served at the root with ``Service-Worker-Allowed: /`` and never cached by HTTP."""
    response = Response(_worker_source(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


def _manifest() -> dict:
    icon = lambda name: url_for("static", filename=f"icons/{name}")  # noqa: E731
    return {
        "id": "/field/",
        "name": "劳动保障监察·现场检查",
        "short_name": "现场检查",
        "description": "双随机、一公开 现场检查：离线填写检查记录、拍摄证据照片、联网后上传。",
        "lang": "zh-CN",
        "start_url": "/field/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME,
        "background_color": "#ffffff",
        "icons": [
            {"src": icon("icon-192.png"), "sizes": "192x192", "type": "image/png",
             "purpose": "any"},
            {"src": icon("icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "any"},
            {"src": icon("icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
            {"src": icon("apple-touch-icon.png"), "sizes": "180x180", "type": "image/png"},
        ],
    }


def shell_urls() -> list[str]:
    """The URLs the worker precaches: the shell page, the manifest and the static files."""
    return ([url_for("field.shell"), url_for("field.manifest")]
            + [url_for("static", filename=name) for name in SHELL_STATIC])


def _sources() -> list[Path]:
    static = Path(current_app.static_folder or ROOT / "static")
    template = Path(current_app.template_folder or ROOT / "templates") / SHELL_TEMPLATE
    return ([template] + [static / name for name in SHELL_STATIC]
            + [WORKER_DIR / part for part in WORKER_PARTS])


def _stamp(paths: list[Path]) -> tuple:
    """A cheap fingerprint (size, mtime) that says when the content hash must be redone."""
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths)


def shell_version() -> str:
    """The first 16 hex digits of the SHA-256 over every shell file, the manifest and the
    ``FIELD_APP_RELEASE`` setting."""
    digest = hashlib.sha256()
    for path in _sources():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps(_manifest(), sort_keys=True).encode())
    digest.update(current_app.config["SETTINGS"].FIELD_APP_RELEASE.encode())
    return digest.hexdigest()[:16]


def _worker_source() -> str:
    """The worker's text, rebuilt only when a source file changed (checked by stat)."""
    paths = _sources()
    stamp = _stamp(paths)
    # one build per URL layout (script root) and release label
    key = (url_for("field.shell"), current_app.config["SETTINGS"].FIELD_APP_RELEASE)
    with _lock:
        cached = _built.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
        version = shell_version()
        preamble = ("/* Built by inspection/fieldwork/field_views.py from service-worker/*.js:"
                    " do not edit this output. */\n"
                    f"const SHELL = {json.dumps({'version': version, 'cache': CACHE_PREFIX + version, 'prefix': CACHE_PREFIX, 'shell': url_for('field.shell'), 'urls': shell_urls()}, indent=1)};\n")
        parts = [(WORKER_DIR / part).read_text(encoding="utf-8") for part in WORKER_PARTS]
        source = preamble + "\n".join(f"/* --- {name} --- */\n{text}"
                                      for name, text in zip(WORKER_PARTS, parts))
        _built[key] = (stamp, source)
        return source


@bp.after_app_request
def gzip_shell(response):
    """Send the app shell's text files gzipped when the browser accepts gzip: they are what a
    phone downloads on its first visit, often on a slow network (the budget is 150 KB
    compressed). Only the shell's own URLs and only full 200 answers; anything else, and any
    answer already encoded, is left alone. The ETag becomes weak (same content, another
    encoding), which If-None-Match still matches, so revalidation keeps answering 304."""
    if (response.status_code != 200 or response.headers.get("Content-Encoding")
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or not (response.mimetype or "").startswith(GZIP_TYPES)
            or request.path not in _shell_paths()):
        return response
    response.direct_passthrough = False
    body = response.get_data()
    key = (request.path, hashlib.sha256(body).digest())
    packed = _gzipped.get(key)
    if packed is None:
        packed = gzip.compress(body, GZIP_LEVEL, mtime=0)
        _gzipped[key] = packed
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    etag = response.headers.get("ETag")
    if etag and not etag.startswith("W/"):
        response.headers["ETag"] = "W/" + etag
    return response


def _shell_paths() -> set[str]:
    return set(shell_urls()) | {url_for("field.service_worker")}
