"""Fixtures of the field-app API tests (not a test module): a bureau whose task has its
targets and teams drawn (through the real draws), an inspector user linked to the first
member of the first visit's team, and helpers to build record bodies and images."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import random
import re
import subprocess
import uuid as uuidlib
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import select

from inspection.core.models import User
from inspection.directory.models import Inspector
from inspection.draws.models import TeamMember
from inspection.extensions import db

from helpers import replayed
from team_support import build_bureau, draw_teams, visits


@dataclass
class Field:
    mine: str                 # the number of a visit on my team
    others: list[str]         # visits I am not on
    questions: list[str]      # question codes of my visit's item (LR-06)
    item: str
    my_inspector: int
    other_inspector: int      # an inspector not on my visit


def setup(app, department, login_as, username: str = "insp_a"):
    """(signed-in inspector client, Field)."""
    with app.app_context():
        field = drawn(department)
    client = login_as("inspector", username=username)
    link(app, field.my_inspector, username)
    return client, field


@replayed
def drawn(department: int) -> Field:
    """Within an app context: the bureau with its targets and teams drawn; my visit is the
    first, and I am the first member of its team."""
    b = build_bureau(department, employers=4, lead_inspectors=4)
    draw_teams(b)
    vs = visits(b)
    team = db.session.scalars(select(TeamMember).where(
        TeamMember.visit_id == vs[0].id, TeamMember.replaced_at.is_(None))
        .order_by(TeamMember.id)).all()
    me = team[0].inspector_id
    mine = {m.visit_id for m in db.session.scalars(select(TeamMember).where(
        TeamMember.inspector_id == me, TeamMember.replaced_at.is_(None)))}
    on_first = {m.inspector_id for m in team}
    other = next(i for i in b.inspectors[department] if i not in on_first)
    from inspection.fieldwork.common import visit_versions as _versions
    versions = _versions(vs[0])
    version, code = versions[0]
    return Field(mine=vs[0].number, others=[v.number for v in vs if v.id not in mine],
                 questions=[q.code for q in version.questions], item=code,
                 my_inspector=me, other_inspector=other)


def link(app, inspector_id: int, username: str) -> None:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        db.session.get(Inspector, inspector_id).user_id = user_id
        db.session.commit()


def new_key() -> str:
    return str(uuidlib.uuid4())


def record(field: Field, *, record_id: str | None = None, revision: int = 1,
           answers=None, category: str | None = None, photos=(), **extra) -> dict:
    body = {"record_id": record_id or new_key(), "revision": revision, "visit": field.mine,
            "saved_at": "2026-04-02T10:15:03+08:00",
            "notice": {"date": "2026-04-01", "way": "phone"},
            "arrival": {"at": "2026-04-02T09:30:00+08:00",
                        "location": {"lat": 36.81, "lon": 118.05, "accuracy": 12.5}},
            "answers": answers if answers is not None else [
                {"item": field.item, "question": field.questions[0], "answer": "compliant",
                 "note": "", "order": None}],
            "result_category": category, "photos": list(photos)}
    body.update(extra)
    return body


def photo_ref(key: str, data: bytes, question: str | None = None) -> dict:
    return {"uuid": key, "sha256": sha(data), "original_sha256": sha(data + b"orig"),
            "question": question, "document_copy": False,
            "taken_at": "2026-04-02T09:45:00+08:00", "bytes": len(data)}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg(width: int = 1600, height: int = 1200, *, seed: int = 1, quality: int = 80,
         exif: Image.Exif | None = None) -> bytes:
    """A photo-like JPEG: gradients, shapes and noise."""
    rng = random.Random(seed)
    img = Image.merge("RGB", (Image.linear_gradient("L").resize((width, height)),
                              Image.radial_gradient("L").resize((width, height)),
                              Image.effect_noise((width, height), 50)))
    draw = ImageDraw.Draw(img)
    for _ in range(20):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.rectangle([x, y, x + width // 8, y + height // 10],
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, **({"exif": exif} if exif is not None else {}))
    return buf.getvalue()


def put_photo(client, key: str, data: bytes, visit: str, *, digest: str | None = None,
              content_type: str = "image/jpeg", **headers):
    h = {"X-Visit": visit, "X-Content-SHA256": digest or sha(data),
         "Content-Type": content_type, "X-CSRFToken": client.api_token()}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    return client.http.put(f"/api/v1/field/photos/{key}", data=data, headers=h)


@contextmanager
def settings(app, **values):
    """Change settings for the block (the settings object is frozen: swap in a copy)."""
    with app.app_context():
        original = current_app.config["SETTINGS"]
        app.config["SETTINGS"] = dataclasses.replace(original, **values)
    try:
        yield
    finally:
        app.config["SETTINGS"] = original


def pdf_text(tmp_path, response, name):
    """A PDF response checked (fonts embedded, CJK, page 1 renders): (text, text without
    white space)."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    path = tmp_path / name
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    assert fonts, "no fonts in the PDF"
    for line in fonts:
        assert re.search(r"\byes\s+yes\s+yes\b", line), f"font not embedded: {line}"
    assert any("CJK" in line for line in fonts), fonts
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path),
                    str(tmp_path / name.replace(".pdf", ""))], check=True)
    assert list(tmp_path.glob(name.replace(".pdf", "") + "*.png"))
    return text, re.sub(r"\s+", "", text)
