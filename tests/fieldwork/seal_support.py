"""Helpers of the signature and sealing tests (not a test module): signatures drawn as
signature_pad would record them, their PNG and SVG, and a record signed and sealed through
the real upload API."""
from __future__ import annotations

import base64
import hashlib
import io
import math
import subprocess

from PIL import Image, ImageDraw
from sqlalchemy import select

from inspection.core.models import User
from inspection.draws.models import TeamMember
from inspection.extensions import db
from inspection.fieldwork import seal
from inspection.fieldwork.models import Visit

from field_support import link, new_key

WIDTH, HEIGHT = 400, 160
NODE = "/usr/bin/node"


def team_users(app, field, login_as) -> list[int]:
    """Link every active member of my visit's team to an account; their user ids, mine
    first."""
    with app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.number == field.mine))
        members = db.session.scalars(select(TeamMember).where(
            TeamMember.visit_id == visit.id, TeamMember.replaced_at.is_(None))
            .order_by(TeamMember.id)).all()
        inspectors = [m.inspector_id for m in members]
    ids = []
    for n, inspector_id in enumerate(inspectors):
        name = "insp_a" if inspector_id == field.my_inspector else f"insp_team{n}"
        with app.app_context():
            exists = db.session.scalar(select(User.id).where(User.username == name))
        if inspector_id != field.my_inspector and exists is None:
            login_as("inspector", username=name)
            link(app, inspector_id, name)
        with app.app_context():
            ids.append(db.session.scalar(select(User.id).where(User.username == name)))
    mine = ids[inspectors.index(field.my_inspector)]
    return [mine] + [i for i in ids if i != mine]


def strokes(*, width: float = 220, height: float = 70, points: int = 30, start: float = 40,
            t0: int = 1775095200000) -> list[dict]:
    """Two strokes like a hand-written name (signature_pad's toData())."""
    out, t = [], t0
    for s in range(2):
        pts = []
        for i in range(points):
            x = start + s * width / 2 + i * (width / 2) / (points - 1)
            y = 40 + height / 2 + math.sin(i / 2.5 + s) * height / 2
            pts.append({"x": round(x, 2), "y": round(y, 2), "pressure": 0.5, "time": t})
            t += 16
        out.append({"penColor": "black", "dotSize": 0, "minWidth": 0.5, "maxWidth": 2.5,
                    "velocityFilterWeight": 0.7, "compositeOperation": "source-over",
                    "points": pts})
        t += 300
    return out


def png_of(data: list[dict], *, ink: bool = True) -> bytes:
    img = Image.new("RGBA", (WIDTH, HEIGHT), (255, 255, 255, 0))
    if ink:
        draw = ImageDraw.Draw(img)
        for stroke in data:
            draw.line([(p["x"], p["y"]) for p in stroke["points"]], fill=(0, 0, 0, 255),
                      width=3)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def svg_of(data: list[dict]) -> str:
    paths = "".join(
        '<path d="M' + " L".join(f'{p["x"]} {p["y"]}' for p in stroke["points"])
        + '" fill="none" stroke="rgb(0, 0, 0)" stroke-width="2"/>' for stroke in data)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}">{paths}</svg>')


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signature_body(visit: str, signer: dict, signs: str, data: list[dict] | None = None,
                   *, png: bytes | None = None, svg: str | None = None) -> dict:
    data = strokes() if data is None else data
    png = png_of(data) if png is None else png
    svg = svg_of(data) if svg is None else svg
    return {"visit": visit, "signer": signer, "signs": signs,
            "signed_at": "2026-04-02T11:00:00+08:00", "strokes": data,
            "strokes_sha256": sha(seal.canonical(data)), "svg": svg,
            "svg_sha256": sha(svg.encode()), "png": base64.b64encode(png).decode(),
            "png_sha256": sha(png)}


def put_signature(client, key: str, body: dict):
    return client.api("PUT", f"/api/v1/field/signatures/{key}", json=body)


def ref(key: str, upload: dict) -> dict:
    """The entry a sealed record lists for an uploaded signature."""
    return {"uuid": key, "signer": upload["signer"], "signs": upload["signs"],
            "signed_at": upload["signed_at"], "strokes_sha256": upload["strokes_sha256"],
            "svg_sha256": upload["svg_sha256"], "png_sha256": upload["png_sha256"]}


def inspector(user_id: int) -> dict:
    return {"kind": "inspector", "user_id": user_id}


def representative(name: str = "王经理", role: str = "legal_representative") -> dict:
    return {"kind": "representative", "name": name, "role": role}


def witness(name: str) -> dict:
    return {"kind": "witness", "name": name}


def sign(client, body: dict, signers: list[dict], *, upload: bool = True) -> dict:
    """The body signed by ``signers`` (each signature uploaded) and sealed."""
    content = seal.content_hash(body)
    refs = []
    for n, signer in enumerate(signers):
        key = new_key()
        upload_body = signature_body(body["visit"], signer, content,
                                     strokes(start=40 + n, points=30 + n))
        if upload:
            response = put_signature(client, key, upload_body)
            assert response.status_code == 201, response.get_json()
        refs.append(ref(key, upload_body))
    signed = dict(body, signatures=refs)
    signed.pop("seal", None)
    signed["seal"] = seal.seal_of(signed)
    return signed


def put_record(client, body: dict, key: str | None = None):
    return client.api("PUT", f"/api/v1/field/records/{key or new_key()}", json=body)


def node(project_root, script: str, *args: str) -> str:
    """The output of a Node.js module script (seal.js checked against the server)."""
    result = subprocess.run([NODE, "--input-type=module", "-e", script, *args],
                            capture_output=True, text=True, timeout=60, cwd=project_root)
    assert result.returncode == 0, result.stderr
    return result.stdout
