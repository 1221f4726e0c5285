"""The privacy walk: no public page or file names a person.

The demo bureau is seeded; then, without an account, a crawler starts at ``/``, ``/public/``
and the record check of every sealed record (the QR codes), follows every same-site link
under ``/public/`` (pages, their JSON and CSV twins, the draws' records, pool files and
verifier sources, pages of lists) in both languages, and fails on

* any value of a person the database holds: the names, user names and e-mail addresses of
  the accounts, the inspectors' names, certificate numbers and phone numbers, the employers'
  legal representatives and contact phones, whoever signed a record (inspectors,
  representatives, witnesses), and the names, ID numbers and phone numbers a record holds;
* a JSON field named for such data (``id_number``, ``phone``, ``signature``, ``photo``,
  ``witness``, ``roster`` ...);
* an image, a photo or a signature: an ``image/*`` answer or a ``data:image/...`` URL.

A name that is also part of a text published by design (an employer's name, an item of the
catalogue, a task) proves nothing where it is found, so it is left out of the search: the
test says how many were, and fails if that is more than a few.
"""
from __future__ import annotations

import json
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from sqlalchemy import select

from inspection.catalogue.models import CheckItemVersion, CheckQuestion
from inspection.core.models import User
from inspection.directory.models import Employer, Inspector
from inspection.extensions import db
from inspection.fieldwork.models import RecordRevision, RecordSignature
from inspection.planning.models import AnnualPlan, Task
from inspection.review.models import Objection

#: JSON keys that carry a person's data, wherever they appear.
FORBIDDEN_KEYS = re.compile(
    r"(id_?number|id_?no|identity|phone|mobile|e_?mail|contact|signature|signer|photo|"
    r"witness|representative|roster|username|display_name|inspector_name|holder)", re.I)
#: An image inlined in a page or a file.
DATA_IMAGE = re.compile(r"data:image/", re.I)
#: Keys of a record's body whose values are a person's (the representative, witnesses).
PERSON_KEYS = re.compile(r"(name|id_?number|phone|mobile|contact)$", re.I)
#: At most this many URLs (the demo has some sixty in each language).
MAX_URLS = 2000


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def _strings_under_person_keys(value, out: set[str], key: str = "") -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _strings_under_person_keys(v, out, k)
    elif isinstance(value, list):
        for v in value:
            _strings_under_person_keys(v, out, key)
    elif isinstance(value, str) and PERSON_KEYS.search(key) and len(value.strip()) >= 2:
        out.add(value.strip())


def people_values() -> set[str]:
    """Every value of a person the demo's database holds."""
    values: set[str] = set()
    for user in db.session.scalars(select(User)):
        values.update({user.display_name, user.email or ""})
        if re.search(r"\d", user.username):  # "office", "admin" ... are words of the pages
            values.add(user.username)
    for inspector in db.session.scalars(select(Inspector)):
        values.update({inspector.name, inspector.cert_number, inspector.phone})
    for rep, phone in db.session.execute(select(Employer.legal_representative,
                                                Employer.contact_phone)):
        values.update({rep, phone})
    values.update(db.session.scalars(select(RecordSignature.signer_name)))
    for body in db.session.scalars(select(RecordRevision.body)):
        _strings_under_person_keys(body, values)
    for contact, text in db.session.execute(select(Objection.contact, Objection.text)):
        values.update({contact, text})
    return {v.strip() for v in values if v and len(v.strip()) >= 2}


def published_texts() -> str:
    """Texts public by design, in which a short name may occur by chance."""
    parts = list(db.session.scalars(select(Employer.name)))
    for v in db.session.scalars(select(CheckItemVersion)):
        parts += [v.name, v.name_en, v.legal_basis, v.content, v.change_note or ""]
    for q in db.session.scalars(select(CheckQuestion)):
        parts += [q.text, q.legal_basis]
    parts += list(db.session.scalars(select(Task.name)))
    parts += list(db.session.scalars(select(Task.description)))
    for plan in db.session.scalars(select(AnnualPlan)):
        parts += [plan.title, plan.scope, plan.schedule, plan.procedure,
                  plan.inspector_requirements]
    return "\n".join(p for p in parts if p)


def _same_site_public(base: str, link: str) -> str | None:
    url, _fragment = urldefrag(urljoin(base, link))
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if parts.path == "/" or parts.path.startswith("/public/"):
        return path
    return None


def _json_keys(value, path: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            if FORBIDDEN_KEYS.search(str(k)):
                found.append(f"{path}.{k}")
            found += _json_keys(v, f"{path}.{k}")
    elif isinstance(value, list):
        for n, v in enumerate(value):
            found += _json_keys(v, f"{path}[{n}]")
    return found


def crawl(app, starts: list[str], language: str) -> dict[str, tuple[int, str, str]]:
    """path -> (status, content type, body text) of every public URL reachable from
    ``starts`` without an account."""
    client = app.test_client()
    client.set_cookie("lang", language)
    seen: dict[str, tuple[int, str, str]] = {}
    queue = deque(starts)
    while queue and len(seen) < MAX_URLS:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        kind = response.headers.get("Content-Type", "")
        body = "" if kind.startswith("image/") else response.get_data(as_text=True)
        seen[path] = (response.status_code, kind, body)
        links = []
        if response.status_code in (301, 302, 303, 307, 308):
            links = [response.headers["Location"]]
        elif kind.startswith("text/html"):
            parser = _Links()
            parser.feed(body)
            links = parser.links
        for link in links:
            found = _same_site_public(f"http://localhost{path}", link)
            if found and found not in seen:
                queue.append(found)
    return seen


def test_no_public_page_or_file_names_a_person(app, demo):
    with app.app_context():
        people = people_values()
        public_text = published_texts()
    by_chance = {v for v in people if v in public_text}
    searched = sorted(people - by_chance, key=len, reverse=True)
    assert len(searched) > 1000, "the demo's people were not found in the database"
    assert len(by_chance) <= max(10, len(people) // 50), sorted(by_chance)
    pattern = re.compile("|".join(re.escape(v) for v in searched))

    starts = ["/", "/public/"] + [f"/public/records/{seal}" for seal in demo["seals"]]
    problems: list[str] = []
    reached: set[str] = set()
    for language in ("zh_CN", "en"):
        pages = crawl(app, starts, language)
        for path, (status, kind, body) in pages.items():
            assert status in (200, 301, 302, 303, 304, 307, 308), (language, path, status)
            reached.add(urlsplit(path).path)
            if kind.startswith("image/"):
                problems.append(f"{path}: an image ({kind})")
                continue
            if DATA_IMAGE.search(body):
                problems.append(f"{path}: an inlined image")
            match = pattern.search(body)
            if match:
                at = match.start()
                problems.append(f"{path}: {match.group(0)!r} in …{body[max(0, at - 60):at + 40]}…")
            if "json" in kind:
                problems += [f"{path}: field {key}" for key in _json_keys(json.loads(body))]
    assert not problems, "\n".join(problems)

    # the walk reached every kind of public answer, so it proves something
    expected = ["/", "/public/", "/public/catalogue", "/public/catalogue.json",
                "/public/plans", "/public/plans.json", "/public/tasks", "/public/tasks.json",
                "/public/draws", "/public/draws.json", "/public/results",
                "/public/results.json", "/public/results.csv"]
    missing = [p for p in expected if p not in reached]
    assert not missing, missing
    for prefix in ("/public/catalogue/", "/public/plans/", "/public/tasks/", "/public/draws/",
                   "/public/results/", "/public/records/"):
        assert any(p.startswith(prefix) for p in reached), prefix
    assert any(p.endswith("/record.json") for p in reached)
    assert any(p.endswith(".txt") for p in reached)  # a draw's pool file
