"""Jinja helpers shared by every page."""
from __future__ import annotations

from flask import Flask
from flask.globals import _cv_app
from flask_babel import get_translations

from .access import access_of
from .forms import ROLE_LABELS
from .timeutil import format_local


def _translations():
    """Flask-Babel's translations for this request, found once per request and locale.

    A page calls ``_()`` a hundred times; Flask-Babel's own template callables look up the
    context, the locale (and its name) and the domain's cache on every call. This keeps the
    object found in Flask-Babel's per-request namespace, tied to the locale and domain
    objects in force: ``refresh()`` and ``force_locale()`` replace those, so a changed
    language is never served from here."""
    app_ctx = _cv_app.get(None)
    ns = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    if ns is not None:
        kept = ns.__dict__.get("templating_translations")
        if kept is not None and kept[0] is ns.__dict__.get("babel_locale") \
                and kept[1] is ns.__dict__.get("babel_domain"):
            return kept[2]
    found = get_translations()
    ns = app_ctx.g.__dict__.get("_flask_babel") if app_ctx is not None else None
    if ns is not None:
        ns.templating_translations = (ns.__dict__.get("babel_locale"),
                                      ns.__dict__.get("babel_domain"), found)
    return found


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local_dt"] = format_local
    # The same callables as Flask-Babel's (installed by i18n.init_app, before this), with
    # the translations found once per request (:func:`_translations`).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n))

    @app.context_processor
    def helpers():
        from flask_login import current_user

        found = []

        def can(endpoint: str, method: str = "GET") -> bool:
            """Whether the current user may open an endpoint: menus show only what works."""
            mark = access_of(endpoint, method)
            if mark in ("public",):
                return True
            if not found:   # the user of this page, looked up once (a menu asks twenty times)
                found.append(current_user._get_current_object())
            user = found[0]
            if not user.is_authenticated or mark is None:
                return False
            return mark == "login" or user.has_role(*mark)

        return {"can": can, "settings": app.config["SETTINGS"], "role_labels": ROLE_LABELS}
