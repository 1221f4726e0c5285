"""Public records that browsers and proxies may keep (RFC 9111): an executed draw's page and
its files, a sealed record's check.

Every such answer carries a strong ETag and a ``Cache-Control`` of its own (which
:func:`inspection.core.security.set_headers` then leaves alone), and answers 304 when the
client already holds it (``If-None-Match``):

* what can no longer change (a target draw executed or cancelled, a pool file) may be kept
  for a while without asking again (``public, max-age=...``);
* what may still change (a prepared draw, a team draw whose members may be substituted, a
  record whose result is pending or may be corrected) may be kept but must be asked for again
  each time (``public, no-cache``): the ETag then makes the question cheap, as it is computed
  from the record's state without making the page.

A page is the same for every visitor only when nobody is signed in and no message waits in
the session: :func:`shared`. Such a page is made without anything of the visitor's (no CSRF
token, no account menu: ``g.shared_page`` tells ``base.html``), sets no cookie, and depends
only on the language, which comes from a cookie (:mod:`.i18n`): hence ``Vary: Cookie``. A
signed-in visitor gets their own page, stored by no cache, as everywhere else.

A shared page that can no longer change is also kept by the process that made it (``keep``
in :func:`page`, then :func:`kept_page`), keyed by its ETag and the address asked for (the
page links to itself): a client that sends no ``If-None-Match`` gets it without rendering
again. The ETag covers everything the page shows (the data's state, the language, the host,
the app's build), so a kept page is never stale; at most :data:`KEPT_PAGES` are kept, the
least recently used go first.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterable

from flask import Response, current_app, g, make_response, request, session
from flask_login import current_user

#: A page that can no longer change may be kept this long without asking again: not for
#: ever, since it shows the directory's current names and the app's wording.
PAGE_MAX_AGE = 3600
#: A record file (JSON, the verifier's sources) that can no longer change.
FILE_MAX_AGE = 24 * 3600
#: Bytes that can never change (a pool file: its hash is in the published commitment).
IMMUTABLE = f"public, max-age={365 * 24 * 3600}, immutable"
#: Kept, but asked for again before each use.
REVALIDATE = "public, no-cache"

_ROOT = Path(__file__).resolve().parents[2]
#: Pages kept per process (each under 50 KB, issue 15: a few MB at most).
KEPT_PAGES = 256
_kept_pages: OrderedDict[tuple[str, str], bytes] = OrderedDict()
_kept_lock = threading.Lock()


def shared() -> bool:
    """Whether this request gets the page made for everyone: nobody signed in, no message
    waiting, and no session cookie to renew (a page that set a cookie could not be shared)."""
    return not current_user.is_authenticated and not session.get("_flashes") \
        and not session.permanent


def build() -> str:
    """A digest of what makes the pages besides the data (templates, translations, code and
    the bureau's name), computed once per process: a new release changes every ETag."""
    found = current_app.extensions.get("caching.build")
    if found is None:
        digest = hashlib.sha256()
        for folder, pattern in (("templates", "**/*.html"), ("translations", "**/*.po"),
                                ("inspection", "**/*.py")):
            for path in sorted((_ROOT / folder).glob(pattern)):
                digest.update(str(path.relative_to(_ROOT)).encode() + b"\0")
                digest.update(path.read_bytes())
        settings = current_app.config["SETTINGS"]
        digest.update(repr((settings.BUREAU_NAME, settings.PUBLIC_URL,
                            settings.DEFAULT_LOCALE)).encode())
        found = current_app.extensions["caching.build"] = digest.hexdigest()
    return found


def tag(parts: Iterable[Any]) -> str:
    """The strong ETag (unquoted) of a page showing ``parts``: with the language, the address
    the page links to and the app's build."""
    from .i18n import current_language

    digest = hashlib.sha256()
    for part in (build(), current_language(), request.host_url, *parts):
        digest.update(repr(part).encode() + b"\0")
    return digest.hexdigest()


def _kept(response: Response, etag: str, cache_control: str, vary: bool) -> Response:
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control
    if vary:
        response.vary.add("Cookie")
    return response


def page(render: Callable[[], Any], parts: Iterable[Any], *, final: bool,
         keep: bool = False) -> Response:
    """A public page that browsers and proxies may keep. ``render`` makes it (only when the
    client does not hold it already); ``parts`` are everything the page shows that may
    change (the ETag is theirs); ``final``: it can no longer change; ``keep``: this process
    keeps it too when it is final and shared (:func:`kept_page` answers it then)."""
    if not shared():
        return make_response(render())
    g.shared_page = True
    etag = tag(parts)
    cache_control = f"public, max-age={PAGE_MAX_AGE}" if final else REVALIDATE
    if request.if_none_match.contains(etag):
        return _kept(Response(status=304), etag, cache_control, vary=True)
    response = make_response(render())
    if keep and final and response.status_code == 200:
        with _kept_lock:
            _kept_pages[(etag, request.full_path)] = response.get_data()
            while len(_kept_pages) > KEPT_PAGES:
                _kept_pages.popitem(last=False)
    return _kept(response, etag, cache_control, vary=True)


def kept_page(parts: Iterable[Any]) -> Response | None:
    """The answer to a shared request for the final page showing ``parts`` (the same parts
    :func:`page` was given with ``keep``): 304 when the client holds it, the page this
    process kept, or None when it has none (the caller then makes it through :func:`page`)."""
    if not shared():
        return None
    etag = tag(parts)
    cache_control = f"public, max-age={PAGE_MAX_AGE}"
    if request.if_none_match.contains(etag):
        g.shared_page = True
        return _kept(Response(status=304), etag, cache_control, vary=True)
    with _kept_lock:
        body = _kept_pages.get((etag, request.full_path))
        if body is not None:
            _kept_pages.move_to_end((etag, request.full_path))
    if body is None:
        return None
    g.shared_page = True
    return _kept(Response(body, mimetype="text/html"), etag, cache_control, vary=True)


def file(body: bytes | str, cache_control: str, **kw) -> Response:
    """Bytes that are the same for everyone in every language: the ETag is their hash."""
    etag = hashlib.sha256(body.encode() if isinstance(body, str) else body).hexdigest()
    if request.if_none_match.contains(etag):
        return _kept(Response(status=304), etag, cache_control, vary=False)
    return _kept(Response(body, **kw), etag, cache_control, vary=False)


def file_control(final: bool) -> str:
    return f"public, max-age={FILE_MAX_AGE}" if final else REVALIDATE
