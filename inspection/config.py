"""Typed settings, checked at start-up.

Settings come from three places, later ones winning: the defaults below, environment variables
(``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and ``INSPECTION_<NAME>`` for the rest), and the
``config`` mapping handed to :func:`inspection.create_app` (tests use it). An unknown key in the
mapping or an unknown ``INSPECTION_*`` variable is a typo that would silently do nothing, so it
stops the start with :class:`ConfigError`, as does a value of the wrong type.

With no configuration at all the app runs: SQLite in ``instance/`` and a ``SECRET_KEY``
generated on first start and kept in ``instance/secret_key`` (mode 0600).
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "INSPECTION_"
#: Twice Pillow's PIL.Image.MAX_IMAGE_PIXELS: it refuses to open an image larger than this.
PILLOW_MAX_PIXELS = 178_956_970
#: Variables read under their conventional names rather than with the prefix.
PLAIN_ENV = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")


class ConfigError(RuntimeError):
    """The configuration is wrong; the message says which key and why."""


@dataclass(frozen=True)
class Settings:
    """Every setting the application reads. Bureau-specific numbers live here too."""

    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    REDIS_URL: str = ""
    TESTING: bool = False
    #: Demo mode allows the published demo password; never on in production.
    DEMO_MODE: bool = False
    #: Argon2id parameters: ``default`` (RFC 9106 low-memory, the library's recommendation);
    #: ``cheapest`` only with TESTING (the suite hashes thousands of passwords).
    PASSWORD_PROFILE: str = "default"
    #: Log out after this many minutes without a request.
    SESSION_IDLE_MINUTES: int = 30
    #: Largest request body accepted, in bytes (413 beyond).
    MAX_CONTENT_LENGTH: int = 32 * 1024 * 1024
    LOGIN_MAX_FAILURES_PER_ACCOUNT: int = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS: int = 30
    LOGIN_FAILURE_WINDOW_SECONDS: int = 15 * 60
    #: Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    TRUSTED_PROXIES: int = 0
    #: Send cookies with the Secure flag even when a request arrives over plain HTTP.
    FORCE_SECURE_COOKIES: bool = False
    DEFAULT_LOCALE: str = "zh_CN"
    BUREAU_NAME: str = "临淄区人力资源和社会保障局"
    #: Where uploaded files (photos, signatures, PDFs) are kept; default instance/files.
    FILE_STORE: str = ""
    #: Field app: also keep and upload each photo's original (besides the resized copy).
    KEEP_PHOTO_ORIGINALS: bool = False
    #: Largest photo upload accepted, in bytes (413 beyond).
    MAX_PHOTO_BYTES: int = 15 * 1024 * 1024
    #: Most pixels (width x height) of a photo, for every format (422 beyond). It bounds the
    #: memory of decoding one (docs/field-sync.md): above every phone camera's usual output
    #: (12-24.5 MP), far above the field app's 1600-pixel copies.
    PHOTO_MAX_PIXELS: int = 25_000_000
    #: Field app: a release label mixed into the app shell's version. Changing it makes phones
    #: install a new service worker (and offer "update") even when no shell file changed.
    FIELD_APP_RELEASE: str = ""
    #: Team draws: also recuse an inspector whose home region is the employer's region.
    RECUSE_SAME_REGION: bool = False
    #: Team draws: also recuse the inspectors of the employer's most recent previous visit.
    RECUSE_LAST_INSPECTOR: bool = False

    # --- after the visit (DOMAIN.md "After the visit"; docs/review.md) -------------------
    #: Which positions (comma-separated: head, deputy_head, principal_head) approve each act.
    APPROVE_DETERMINATION: str = "head,deputy_head,principal_head"
    APPROVE_PUBLICATION_EXCEPTION: str = "head,principal_head"
    #: Seed 004 第二十一条: corrections are signed by the principal head (主要负责人).
    APPROVE_CORRECTION: str = "principal_head"
    #: Seed 000: the department head; seed 004 第十五条: the deputy head.
    APPROVE_SUBSTITUTION: str = "head,deputy_head"
    #: The result categories the bureau uses (comma-separated codes; empty = all ten).
    RESULT_CATEGORIES: str = ""
    #: The publication clock: determination (seed 000: 5), check_end (seed 004: 20) or
    #: task_end (seed 003: 20), and its number of working days.
    PUBLICATION_CLOCK: str = "determination"
    PUBLICATION_WORKDAYS: int = 5
    #: How long a result stays in its publication period (objections taken), in days.
    PUBLICATION_PERIOD_DAYS: int = 7
    #: feedback_first (seed 000: tell the employer within FEEDBACK_WORKDAYS of the
    #: determination) or publish_first (seed 001 第十五条: publish for the period, then tell).
    FEEDBACK_ORDER: str = "feedback_first"
    FEEDBACK_WORKDAYS: int = 5
    #: Working days the office has to review (复查复核) an objection.
    OBJECTION_REVIEW_WORKDAYS: int = 10
    #: Working days the office has to review a sealed record (a to-do's due date).
    REVIEW_WORKDAYS: int = 5
    #: A deadline this many working days ahead or fewer is "due soon".
    DUE_SOON_WORKDAYS: int = 3
    #: Public objections accepted per client address per hour.
    OBJECTIONS_PER_ADDRESS_PER_HOUR: int = 5
    #: Requests to the public portal (every page and file under /public/) per client address
    #: per minute, against scraping (429 beyond); 0 turns the limit off.
    PUBLIC_REQUESTS_PER_MINUTE: int = 120
    #: Handling what was found (DOMAIN.md "After the visit"): a referral (移交/移送) is sent
    #: within REFERRAL_WORKDAYS of the result (seed 004 第十九条(三): 7); violations are
    #: notified and handled and the files completed within HANDLING_WORKDAYS of the end of
    #: the check (seed 002 四(七): 10).
    REFERRAL_WORKDAYS: int = 7
    HANDLING_WORKDAYS: int = 10
    #: A follow-up visit after a rectification order is due this many working days after the
    #: order's due date (seed 002 五(三) sets no period: a setting).
    FOLLOW_UP_WORKDAYS: int = 10
    #: A closed task is archived within ARCHIVE_MONTHS of the end of its check (seed 000 五:
    #: 2) and its case file kept RETENTION_YEARS after archiving (seed 000 五: 2, unless
    #: another rule sets a longer period).
    ARCHIVE_MONTHS: int = 2
    RETENTION_YEARS: int = 2
    #: The job queue (docs/jobs.md): "" chooses Redis when REDIS_URL is set, else the embedded
    #: queue (a SQLite file, JOBS_FILE, default instance/jobs.sqlite3); "held" keeps submitted
    #: jobs waiting in the database until something runs them (tests call
    #: ``inspection.jobs.operations.run_pending()``).
    JOBS_MODE: str = ""
    JOBS_FILE: str = ""
    #: Reminders by e-mail: SMTP server (empty: inbox in the app only).
    SMTP_HOST: str = ""
    SMTP_PORT: int = 25
    SMTP_FROM: str = "inspection@localhost"
    SMTP_USER: str = ""
    SMTP_PASSWORD: str = ""
    SMTP_STARTTLS: bool = False
    #: The public address of the app, for links in e-mails and on printed QR codes.
    PUBLIC_URL: str = ""
    #: The public log of draws (docs/draws.md "The public log"): its origin line, by default
    #: PUBLIC_URL's host and path + /public/log. Set it (or PUBLIC_URL) before the first draw:
    #: witnesses know a log by its origin.
    LOG_ORIGIN: str = ""
    #: The bureau's Ed25519 key that signs the log's checkpoints: a note signer key
    #: (PRIVATE+KEY+<name>+<hash>+<key>) or the path of a file holding one (or a 64-hex
    #: seed). Empty: a key generated on first start and kept in instance/log_signing_key.
    LOG_SIGNING_KEY: str = ""
    #: Witnesses the log submits each new checkpoint to (c2sp.org/tlog-witness), whose
    #: cosignatures it keeps and publishes: "URL KEY" per witness (its submission prefix and
    #: its cosignature verifier key), separated by commas or newlines. Empty: none.
    LOG_WITNESSES: str = ""

    def flask_config(self) -> dict[str, Any]:
        """The mapping Flask and its extensions read."""
        return {
            "SECRET_KEY": self.SECRET_KEY,
            "TESTING": self.TESTING,
            "SQLALCHEMY_DATABASE_URI": self.DATABASE_URL,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.DATABASE_URL),
            "MAX_CONTENT_LENGTH": self.MAX_CONTENT_LENGTH,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_NAME": "inspection_session",
            "SESSION_REFRESH_EACH_REQUEST": True,
            "PERMANENT_SESSION_LIFETIME": self.SESSION_IDLE_MINUTES * 60,
            "REMEMBER_COOKIE_DURATION": 0,
            # A CSRF token lives as long as the session: the PWA fetches a fresh one when it
            # comes back online, so a token may not expire under queued work.
            "WTF_CSRF_TIME_LIMIT": None,
            "WTF_CSRF_HEADERS": ["X-CSRFToken", "X-CSRF-Token"],
            "BABEL_DEFAULT_LOCALE": self.DEFAULT_LOCALE,
            "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
            "API_TITLE": "Labour inspection API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
            "JSON_SORT_KEYS": False,
            "SETTINGS": self,
        }


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Several gunicorn workers share the file: wait for the write lock instead of failing.
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


_TYPES = {f.name: f.type for f in fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    kind = _TYPES[name]
    if kind in ("bool", bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{name} must be true or false, not {value!r}")
    if kind in ("int", int):
        if isinstance(value, bool):
            raise ConfigError(f"{name} must be an integer, not {value!r}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be an integer, not {value!r}") from None
        if number < 0:
            raise ConfigError(f"{name} must not be negative")
        return number
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string, not {type(value).__name__}")
    return value


def _secret_key(instance: Path) -> str:
    """The key kept in instance/secret_key, made on first start with owner-only permissions."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _log_origin(values: Mapping[str, Any]) -> str:
    """LOG_ORIGIN, or PUBLIC_URL's host and path without scheme + /public/log."""
    if values.get("LOG_ORIGIN"):
        return values["LOG_ORIGIN"].strip()
    url = str(values.get("PUBLIC_URL") or "").strip()
    base = url.split("://", 1)[-1].rstrip("/") if url else "localhost"
    return f"{base}/public/log"


def _log_identity(instance: Path, values: Mapping[str, Any]) -> tuple[str, str]:
    """The log's origin and its signer key string (named after the origin)."""
    try:
        from .draws.engine import tlog
        tlog.Signer("x", bytes(32))
    except ImportError:
        raise ConfigError("the public log of draws needs the cryptography package "
                          "(pip install -r requirements.txt)") from None
    origin = _log_origin(values)
    if not origin or "+" in origin or any(c.isspace() for c in origin):
        raise ConfigError(f"LOG_ORIGIN {origin!r} must be non-empty, without spaces or '+'")
    text = str(values.get("LOG_SIGNING_KEY") or "").strip()
    if not text:
        text = _kept_file(instance / "log_signing_key", lambda: secrets.token_hex(32))
    elif not text.startswith("PRIVATE+KEY+"):
        try:
            text = Path(text).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"LOG_SIGNING_KEY: cannot read {text}: {exc.strerror}") from None
    try:
        if text.startswith("PRIVATE+KEY+"):
            signer = tlog.Signer.parse(text)
            if signer.name != origin:
                if values.get("LOG_ORIGIN"):
                    raise ConfigError(f"LOG_SIGNING_KEY is named {signer.name!r}, "
                                      f"LOG_ORIGIN is {origin!r}: they must be the same")
                origin = signer.name
            seed = tlog.unb64(text.split("+", 4)[4])[1:]
        else:
            seed = bytes.fromhex(text)
        return origin, str(tlog.Signer(origin, seed))
    except ValueError:
        raise ConfigError("LOG_SIGNING_KEY is neither a note signer key "
                          "(PRIVATE+KEY+...) nor a 64-hex Ed25519 seed") from None


def _check_witnesses(text: str) -> None:
    from .draws.engine import tlog
    try:
        tlog.parse_witness_list(text)
    except tlog.LogError as exc:
        raise ConfigError(f"LOG_WITNESSES: {exc}") from None


def _kept_file(path: Path, make) -> str:
    """The text kept in ``path``, written on first use with owner-only permissions (two
    processes starting at once keep the first one's)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(make())
    return path.read_text().strip()


def load(instance: Path, overrides: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings, failing loudly on unknown keys, bad types or missing values."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for key, raw in environ.items():
        if key in PLAIN_ENV and raw:
            values[key] = raw
        elif key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX):]
            if name not in _TYPES:
                raise ConfigError(f"unknown setting {key} (known: {', '.join(sorted(_TYPES))})")
            values[name] = raw
    for key, value in (overrides or {}).items():
        if key not in _TYPES:
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = value
    values = {k: _coerce(k, v) for k, v in values.items()}
    if not values.get("DATABASE_URL"):
        instance.mkdir(parents=True, exist_ok=True)
        values["DATABASE_URL"] = f"sqlite:///{instance / 'inspection.sqlite3'}"
    if values["DATABASE_URL"].startswith("postgres://"):
        values["DATABASE_URL"] = "postgresql://" + values["DATABASE_URL"][len("postgres://"):]
    if values["DATABASE_URL"].startswith("postgresql://"):
        values["DATABASE_URL"] = "postgresql+psycopg://" + values["DATABASE_URL"][len("postgresql://"):]
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = _secret_key(instance)
    if len(values["SECRET_KEY"]) < 16:
        raise ConfigError("SECRET_KEY must be at least 16 characters")
    if not values.get("FILE_STORE"):
        values["FILE_STORE"] = str(instance / "files")
    values["LOG_ORIGIN"], values["LOG_SIGNING_KEY"] = _log_identity(instance, values)
    _check_witnesses(values.get("LOG_WITNESSES", ""))
    settings = Settings(**values)
    if settings.SESSION_IDLE_MINUTES < 1:
        raise ConfigError("SESSION_IDLE_MINUTES must be at least 1")
    if settings.DEFAULT_LOCALE not in ("zh_CN", "en"):
        raise ConfigError("DEFAULT_LOCALE must be zh_CN or en")
    if not 1 <= settings.PHOTO_MAX_PIXELS <= PILLOW_MAX_PIXELS:
        raise ConfigError(f"PHOTO_MAX_PIXELS must be between 1 and {PILLOW_MAX_PIXELS} "
                          "(beyond, Pillow refuses to open any image)")
    if settings.PASSWORD_PROFILE not in ("default", "cheapest"):
        raise ConfigError("PASSWORD_PROFILE must be default or cheapest")
    if settings.PASSWORD_PROFILE != "default" and not settings.TESTING:
        raise ConfigError("PASSWORD_PROFILE=cheapest is for the test suite only (TESTING)")
    _check_review(settings)
    return settings


POSITIONS = ("head", "deputy_head", "principal_head")
CATEGORY_CODES = ("no_problem", "not_disclosed", "false_disclosure", "unreachable",
                  "rectification_ordered", "refused_seriously", "no_activity",
                  "pending_follow_up", "qualified", "unqualified")


def split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _check_review(settings: Settings) -> None:
    for name in ("APPROVE_DETERMINATION", "APPROVE_PUBLICATION_EXCEPTION",
                 "APPROVE_CORRECTION", "APPROVE_SUBSTITUTION"):
        chosen = split_list(getattr(settings, name))
        if not chosen or set(chosen) - set(POSITIONS):
            raise ConfigError(f"{name} must list positions among {', '.join(POSITIONS)}")
    if set(split_list(settings.RESULT_CATEGORIES)) - set(CATEGORY_CODES):
        raise ConfigError(f"RESULT_CATEGORIES must list codes among {', '.join(CATEGORY_CODES)}")
    if settings.PUBLICATION_CLOCK not in ("determination", "check_end", "task_end"):
        raise ConfigError("PUBLICATION_CLOCK must be determination, check_end or task_end")
    if settings.FEEDBACK_ORDER not in ("feedback_first", "publish_first"):
        raise ConfigError("FEEDBACK_ORDER must be feedback_first or publish_first")
    if settings.PUBLICATION_PERIOD_DAYS < 7:
        raise ConfigError("PUBLICATION_PERIOD_DAYS must be at least 7 (seed 001 第十五条)")

