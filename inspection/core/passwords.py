"""Argon2id password hashes and the password policy."""
from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context
from flask_babel import gettext as _

#: The demo password, published in the README; refused unless DEMO_MODE is on.
DEMO_PASSWORD = "Demo-2026-shuangsuiji"
MIN_LENGTH = 10

#: Argon2id parameters by the setting PASSWORD_PROFILE: ``default`` is the library's
#: recommendation (RFC 9106, low-memory); ``cheapest`` exists for the test suite only (the
#: settings refuse it unless TESTING), where thousands of hashes would otherwise cost minutes.
HASHERS = {"default": PasswordHasher(),
           "cheapest": PasswordHasher.from_parameters(profiles.CHEAPEST)}


def _hasher() -> PasswordHasher:
    if has_app_context():
        return HASHERS[current_app.config["SETTINGS"].PASSWORD_PROFILE]
    return HASHERS["default"]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str, password: str) -> bool:
    try:
        return _hasher().verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher().check_needs_rehash(stored)


def demo_password_refused(password: str) -> bool:
    return password == DEMO_PASSWORD and not current_app.config["SETTINGS"].DEMO_MODE


def policy_problems(password: str, username: str) -> list[str]:
    """What is wrong with a new password, in the user's language (empty when fine)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("The password must have at least %(n)d characters.", n=MIN_LENGTH))
    if password.strip().lower() == username.strip().lower():
        problems.append(_("The password must not be the user name."))
    if len(set(password)) < 4:
        problems.append(_("The password is too simple."))
    if demo_password_refused(password):
        problems.append(_("The demo password can only be used in demo mode."))
    return problems
