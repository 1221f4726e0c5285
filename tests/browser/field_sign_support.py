"""Helpers of the signing and joint-visit browser tests (not a test module): a second inspector
account on inspector1's teams, drawing on the signing pad with the mouse or a finger, reading
the device's IndexedDB, and looking at the server's database."""
from __future__ import annotations

import json
import math

from inspection.core.passwords import DEMO_PASSWORD

LINK_COLLEAGUE = """
import json, sys
from sqlalchemy import select
from app import app
from inspection.extensions import db
from inspection.core.models import User
from inspection.directory.models import Inspector
from inspection.draws.models import TeamMember
from inspection.fieldwork.models import Visit
number, password = sys.argv[1], sys.argv[2]
with app.app_context():
    me = db.session.scalar(select(User).where(User.username == "inspector1"))
    mine = db.session.scalar(select(Inspector).where(Inspector.user_id == me.id))
    visit = db.session.scalar(select(Visit).where(Visit.number == number))
    other = next(db.session.get(Inspector, m.inspector_id) for m in db.session.scalars(
        select(TeamMember).where(TeamMember.visit_id == visit.id, TeamMember.inspector_id != mine.id,
                                 TeamMember.replaced_at.is_(None)).order_by(TeamMember.id)))
    if other.user_id is not None:  # a demo account (leader, inspector2): use it
        user = db.session.get(User, other.user_id)
    else:
        user = db.session.scalar(select(User).where(User.username == f"insp{other.id}"))
        if user is None:
            result = app.test_cli_runner().invoke(args=["users", "create", f"insp{other.id}", "--role",
                "inspector", "--department", "LSJC", "--name", other.name, "--password", password])
            assert result.exit_code == 0, result.output
            user = db.session.scalar(select(User).where(User.username == f"insp{other.id}"))
        other.user_id = user.id
        db.session.commit()
    print(json.dumps({"username": user.username, "user_id": user.id, "inspector_id": other.id, "name": other.name}))
"""


def link_colleague(server_python, number: str) -> dict:
    """Give inspector1's colleague on this visit an account of their own (idempotent; the demo
    gives them none): {username, user_id, inspector_id, name}."""
    return json.loads(server_python(LINK_COLLEAGUE, number, DEMO_PASSWORD).strip().splitlines()[-1])


def server_counts(server_python, number: str) -> dict:
    """What the server's database holds for the visit: revisions, sealed revisions, parts,
    signatures."""
    code = f"""
import json
from sqlalchemy import select, func
from app import app
from inspection.extensions import db
from inspection.fieldwork.models import RecordRevision, RecordSignature, Visit
with app.app_context():
    visit = db.session.scalar(select(Visit).where(Visit.number == {number!r}))
    count = lambda *w: db.session.scalar(select(func.count()).select_from(RecordRevision).where(
        RecordRevision.visit_id == visit.id, *w))
    print(json.dumps({{
        "revisions": count(),
        "sealed": count(RecordRevision.seal.is_not(None)),
        "parts": count(RecordRevision.is_part.is_(True)),
        "signatures": sorted(db.session.scalars(select(RecordSignature.uuid).where(
            RecordSignature.visit_id == visit.id))),
    }}))
"""
    return json.loads(server_python(code).strip().splitlines()[-1])


def signature_path(width: float, height: float, *, n: int = 40):
    """Points of a hand-written-looking name inside a box of this size (two loops and a tail)."""
    pts = []
    for i in range(n):
        u = i / (n - 1)
        x = width * (0.1 + 0.8 * u)
        y = height * (0.5 + 0.25 * math.sin(u * 4 * math.pi))
        pts.append((x, y))
    return pts


def draw(page, how: str, *, small: bool = False) -> None:
    """Draw on the open pad with the mouse or a finger (CDP touch events, as a phone sends).
    ``small``: a tiny scribble the app must refuse."""
    box = page.locator("canvas.pad").bounding_box()
    if small:
        strokes = [[(box["x"] + box["width"] / 2 + d, box["y"] + box["height"] / 2 + d / 2)
                    for d in range(0, 8, 2)]]
    else:
        w, h = min(box["width"] * 0.9, 600), min(box["height"] * 0.8, 300)
        left, top = box["x"] + (box["width"] - w) / 2, box["y"] + (box["height"] - h) / 2
        first = signature_path(w * 0.6, h)
        second = [(w * 0.6 + x * 0.4, y * 0.7 + h * 0.15) for x, y in signature_path(w, h, n=20)]
        strokes = [[(left + x, top + y) for x, y in first], [(left + x, top + y) for x, y in second]]
    if how == "mouse":
        for stroke in strokes:
            page.mouse.move(*stroke[0])
            page.mouse.down()
            for point in stroke[1:]:
                page.mouse.move(*point)
            page.mouse.up()
        return
    cdp = page.context.new_cdp_session(page)
    try:
        for stroke in strokes:
            x, y = stroke[0]
            cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
            for x, y in stroke[1:]:
                cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
            cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


INK_BOX = """() => {
    const c = document.querySelector('canvas.pad');
    const { data, width, height } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let minX = width, minY = height, maxX = -1, maxY = -1, ink = 0;
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
        if (data[(y * width + x) * 4 + 3] >= 128) {
            ink++; if (x < minX) minX = x; if (x > maxX) maxX = x; if (y < minY) minY = y; if (y > maxY) maxY = y;
        }
    }
    return { ink, w: maxX - minX, h: maxY - minY, points: Number(c.dataset.points), size: c.dataset.size };
}"""


def ink_box(page) -> dict:
    """The ink on the pad: pixel count, its bounding box, the points kept, the canvas size."""
    return page.evaluate(INK_BOX)


DEVICE = """async (number) => {
    const db = await new Promise((ok) => { const r = indexedDB.open('field-app'); r.onsuccess = () => ok(r.result); });
    const all = (store) => new Promise((ok) => { const q = db.transaction(store).objectStore(store).getAll(); q.onsuccess = () => ok(q.result); });
    return {
        records: (await all('records')).filter((r) => r.visit === number),
        outbox: (await all('outbox')).filter((e) => e.visit === number).map((e) => ({ ...e, body: e.body ? JSON.parse(e.body) : null })),
        signatures: (await all('signatures')).filter((s) => s.visit === number)
            .map((s) => ({ uuid: s.uuid, status: s.status, hasStrokes: !!s.strokes, hasSvg: !!s.svg, hasPng: !!s.png })),
    };
}"""


def device(page, number: str) -> dict:
    return page.evaluate(DEVICE, number)


def wait_all_sent(page, timeout=30_000) -> None:
    page.goto(page.url.split("#")[0] + "#/outbox")
    page.get_by_role("button", name="同步").click()
    page.wait_for_function(
        """() => {
            const entries = [...document.querySelectorAll('li.entry')];
            return entries.length > 0 && entries.every(e => e.dataset.status === 'sent');
        }""", timeout=timeout, polling=250)


def viewshot(page, name: str) -> None:
    """A screenshot of what the screen shows (not the whole page), to /tmp/shots/."""
    from pathlib import Path
    shots = Path("/tmp/shots")  # as conftest.SHOTS
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}.png"))
