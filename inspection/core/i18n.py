"""Language choice: Chinese by default, English on request; the choice is remembered in a
cookie and, for a signed-in user, on the account."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request
from flask_login import current_user

from flask_babel import get_locale

from ..extensions import babel

LANGUAGES = {"zh_CN": "中文", "en": "English"}
COOKIE = "lang"


def select_locale() -> str:
    """The setting and the cookie say ``zh_CN``; Babel reads it as zh_Hans_CN, which is why the
    catalogue lives in translations/zh_Hans_CN."""
    code = current_app.config["SETTINGS"].DEFAULT_LOCALE
    if has_request_context():  # the CLI speaks the bureau's default language
        if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
            code = current_user.locale
        elif request.cookies.get(COOKIE) in LANGUAGES:
            code = request.cookies[COOKIE]
    return code


def current_language() -> str:
    """``zh_CN`` or ``en``: the key of LANGUAGES in force for this request."""
    return "zh_CN" if get_locale().language == "zh" else "en"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(app.root_path + "/../translations"))

    @app.context_processor
    def languages():
        return {"LANGUAGES": LANGUAGES, "current_language": current_language}
