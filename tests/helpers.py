"""Helpers the tests share: the password of test users and a client that behaves like a
person filling in forms (open the page, take its CSRF token, submit)."""
from __future__ import annotations

import re

PASSWORD = "Correct-horse-42"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or \
        re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


class Client:
    """The Flask test client with the steps a person takes: open the form, then submit it."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def get(self, *a, **kw):
        return self.http.get(*a, **kw)

    def token(self, path: str = "/login") -> str:
        return csrf_from(self.http.get(path).get_data(as_text=True))

    def post_form(self, path: str, data: dict, token_from: str | None = None, **kw):
        data = dict(data)
        data.setdefault("csrf_token", self.token(token_from or path))
        return self.http.post(path, data=data, **kw)

    def login(self, username: str, password: str = PASSWORD):
        return self.post_form("/login", {"username": username, "password": password})

    def api_token(self) -> str:
        return self.http.get("/api/v1/auth/csrf-token").get_json()["csrf_token"]

    def api(self, method: str, path: str, json=None, **kw):
        headers = kw.pop("headers", {})
        if method.upper() not in ("GET", "HEAD"):
            headers.setdefault("X-CSRFToken", self.api_token())
        return self.http.open(path, method=method.upper(), json=json, headers=headers, **kw)


def empty_database() -> None:
    """Empty every table (inside an app context) and restart the audit chain: what each test
    leaves is gone before the next one."""
    from sqlalchemy import text

    from inspection.core import audit
    from inspection.extensions import db

    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()
    audit.ensure_head()
    db.session.commit()
