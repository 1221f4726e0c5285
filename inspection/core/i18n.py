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
    if not has_request_context():  # CLI: messages in the bureau's default language
        return current_app.config["SETTINGS"].DEFAULT_LOCALE
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return current_app.config["SETTINGS"].DEFAULT_LOCALE


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(app.root_path + "/../translations"))

    @app.context_processor
    def languages():
        return {"LANGUAGES": LANGUAGES, "get_locale": get_locale}
