"""The public record of a draw (the first pages of the public portal): anyone, without an
account, reads the commitment and the result and downloads what is needed to re-run the
draw: the record, the canonical pool files and the standalone verifier files. Target draws
list the employers drawn; team draws show each visit's team, the reserve order (递补), the
exclusion categories and any substitution.

Before execution only the commitment is public (pools' hashes, sources declared, secrets'
hashes): that is the point of committing first.

Browsers and proxies may keep these answers (:mod:`inspection.core.caching`): a target draw
executed or cancelled, and every pool file, can no longer change; a prepared draw can, and so
can a team draw's page and record (an approved substitution is added to them), which are
therefore asked for again each time, cheaply, by their ETag.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, url_for
from markupsafe import Markup
from sqlalchemy import Boolean, Date, Integer, String, func, select, text

from ..core import caching
from ..core.access import public
from ..core.errors import NotFound
from ..core.limits import int_arg
from ..extensions import db
from . import commitments, disclosure, public_log
from .models import Draw, DrawKind, DrawStatus
from .target import operations as target

bp = Blueprint("public_draws", __name__, url_prefix="/public/draws")
#: The standalone verifier's files, served as they are in the tree.
ENGINE = Path(__file__).resolve().parent / "engine"


@bp.context_processor
def _labels():
    from . import public_check
    from .target.forms import SHORT_MODE_LABELS

    # check_guide(draw, shown): the "check it without trusting us" values and the browser
    # verifier's switch (templates/draws/_check_guide.html, _browser_verifier.html).
    return {"mode_labels": SHORT_MODE_LABELS, "check_guide": public_check.guide}


def _draw(public_id: str) -> Draw:
    try:
        draw = commitments.get_draw(public_id) if public_id.upper().startswith("DRAW-") else None
    except NotFound:
        draw = None
    if draw is None:
        abort(404)
    return draw


def _is_team(draw: Draw) -> bool:
    return draw.kind == DrawKind.TEAM.value


def _final(draw: Draw) -> bool:
    """Whether the draw's public record can no longer change: a cancelled draw, or an
    executed target draw (a team draw's record gains the substitutions approved later)."""
    # While an unannounced visit is withheld the answer changes when it has happened.
    return (draw.status == DrawStatus.CANCELLED.value or (
        draw.status == DrawStatus.EXECUTED.value and not _is_team(draw))) \
        and disclosure.current(draw).complete


def _state(draw: Draw) -> tuple:
    """What the public sees of the draw that may change: its status and record."""
    return (draw.public_id, draw.kind, draw.status, draw.commitment_sha256, draw.record_sha256,
            draw.cancel_reason, disclosure.current(draw).state())


def _directory_version() -> int | None:
    """The last change of the directory: the target draw's page shows the drawn employers'
    current names. Any change counts (an inspector's too: the page is then made again,
    harmlessly), so that it is the primary key's last value, not a scan of the changes."""
    from ..directory.models import DirectoryChange

    return db.session.scalar(select(func.max(DirectoryChange.id)))


def _public_record(draw: Draw) -> dict:
    from .team import queries as team

    body = team.public_team_record(draw) if _is_team(draw) else target.public_record(draw)
    body = disclosure.public_body(draw, body, disclosure.current(draw))
    # With its entries in the public log: fixed when logged, so no part of the ETag.
    return public_log.with_log(draw, body)


#: Visits per page of a team draw's public page.
TEAMS_PER_PAGE = 50
#: Employers per page of a target draw's public page (issue 15: a portal page stays under
#: 50 KB with its stylesheet; the pool files and the record hold them all).
DRAWN_PER_PAGE = 150


def _team_rows(draw: Draw) -> list[dict]:
    """Per visit: the team and reserve as inspector keys (the public pages name no person,
    docs/portal.md), and the exclusions counted by category."""
    params = draw.commitment.get("parameters", {})
    visits = {v["visit"]: v for v in params.get("visits", [])}
    rows = []
    shown = disclosure.current(draw)
    for entry in (draw.record or {}).get("assignment", []):
        if not shown.shows(entry["visit"]):
            continue
        info = visits.get(entry["visit"], {})
        excluded: dict[str, int] = {}
        for item in info.get("excluded", []):
            for reason in item.get("reasons", []):
                excluded[reason] = excluded.get(reason, 0) + 1
        rows.append({"visit": entry["visit"],
                     "team": list(entry["team"]), "reserve": list(entry["reserve"]),
                     "eligible": len(info.get("eligible", [])), "excluded": excluded})
    return rows


@lru_cache(maxsize=256)
def qr_svg(text: str, scale: int = 4) -> Markup:
    """A QR code as inline SVG with attributes only (no style: the CSP forbids inline
    styles), one path for all dark modules. Drawn once per process and address (in pure
    Python it takes milliseconds; the address of a draw never changes)."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    # One rectangle per horizontal run of dark modules (a third of the bytes of one per
    # module: the page stays small on a phone).
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    path = "".join(runs)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{n * scale}" '
        f'height="{n * scale}" role="img" class="qr" shape-rendering="crispEdges">'
        f'<title>QR</title><rect width="{n}" height="{n}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/></svg>')


def public_url(draw: Draw) -> str:
    return url_for("public_draws.show", public_id=draw.public_id, _external=True)


@bp.get("/<public_id>")
@public
def show(public_id: str):
    number = int_arg("page", 1)
    kept = _kept_target_page(public_id, number)
    if kept is not None:
        return kept
    draw = _draw(public_id)
    if _is_team(draw):
        from .team import labels, queries

        shown = disclosure.current(draw)
        substitutions = [s for s in queries.public_substitutions(draw)
                         if shown.shows(s["visit"])]
        rows = _team_rows(draw)
        # A page of teams at a time: a province's draw has thousands of visits, and each
        # page stays small on a phone; the record file holds them all.
        pages = max(1, -(-len(rows) // TEAMS_PER_PAGE))
        if not 1 <= number <= pages:
            abort(404)
        first = (number - 1) * TEAMS_PER_PAGE
        return caching.page(lambda: render_template(
            "draws/public_team.html", draw=draw, rows=rows[first:first + TEAMS_PER_PAGE],
            page={"page": number, "pages": pages, "total": len(rows),
                  "per_page": TEAMS_PER_PAGE}, shown=shown,
            substitutions=substitutions, reasons=labels.reason_labels(),
            substitution_reasons=labels.substitution_reason_labels(),
            qr=qr_svg(public_url(draw)), url=public_url(draw)),
            (*_state(draw), substitutions, number), final=_final(draw))

    names = _directory_version() if draw.record is not None else None
    return _target_page(draw, number, (*_state(draw), names), _final(draw))


def _target_page(draw: Draw, number: int, parts: tuple, final: bool):
    """The target draw's page ``number`` (404 beyond the last)."""
    shown = disclosure.current(draw)
    rows = target.results(draw, with_visits=False) if draw.record is not None else []
    rows = [r for r in rows if (r.pool, r.rank) not in shown.hidden_picks]
    pages = max(1, -(-len(rows) // DRAWN_PER_PAGE))
    if not 1 <= number <= pages:
        abort(404)
    first = (number - 1) * DRAWN_PER_PAGE

    def render():
        # Per pool: how many it has drawn in all, and its employers on this page with the
        # number of the first (the list goes on from the page before).
        per_pool: dict[str, int] = {}
        groups: dict[str, dict] = {}
        for i, r in enumerate(rows):
            before = per_pool.get(r.pool, 0)
            per_pool[r.pool] = before + 1
            if first <= i < first + DRAWN_PER_PAGE:
                groups.setdefault(r.pool, {"start": before + 1, "items": []})["items"].append(r)
        groups = [(pool, groups.get(pool.name, {"start": 1, "items": []}),
                   per_pool.get(pool.name, 0)) for pool in draw.pools]
        url = public_url(draw)
        return render_template(
            "draws/public.html", draw=draw, rows=rows, groups=groups, shown=shown,
            page={"page": number, "pages": pages, "total": len(rows),
                  "per_page": DRAWN_PER_PAGE}, qr=qr_svg(url), url=url)

    return caching.page(render, (*parts, number), final=final, keep=True)


#: What :func:`_kept_target_page` reads: a draw's state without its record, its task's
#: disclosure and the directory's last change (as :func:`_directory_version`), one statement
#: made once (a text statement: no expression to build and key on every request).
_STATE = text(
    "SELECT d.public_id, d.kind, d.status, d.commitment_sha256, d.record_sha256, "
    "d.cancel_reason, t.id AS task, t.announced, t.window_end, "
    "(SELECT max(c.id) FROM directory_change c) AS names "
    "FROM draw d LEFT JOIN task t ON t.id = d.task_id WHERE d.public_id = :public_id"
).columns(public_id=String, kind=String, status=String, commitment_sha256=String,
          record_sha256=String, cancel_reason=String, task=Integer, announced=Boolean,
          window_end=Date, names=Integer)


def _kept_target_page(public_id: str, number: int):
    """The answer for a target draw's page that can no longer change, from what this
    process rendered before (:func:`caching.kept_page`), with one statement (:data:`_STATE`).
    None when the page must be made from the draw itself (a team draw, a draw that may still
    change, a visit withheld, a page not rendered yet in this process)."""
    if not public_id.upper().startswith("DRAW-") or not caching.shared():
        return None
    # Outside the request's session and its transaction: one round trip, no BEGIN and
    # ROLLBACK around it (the page read after a miss has a session of its own).
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        row = conn.execute(_STATE, {"public_id": public_id.strip().upper()}).first()
    if row is None or row.kind == DrawKind.TEAM.value or row.status not in (
            DrawStatus.EXECUTED.value, DrawStatus.CANCELLED.value):
        return None
    if not (row.task is None or row.announced or row.window_end < disclosure.today()):
        return None                              # visits may be withheld: worked out in full
    # As show() makes them for the same draw (_state() with nothing withheld, the names'
    # version once executed: the record and its hash are written together).
    parts = (row.public_id, row.kind, row.status, row.commitment_sha256, row.record_sha256,
             row.cancel_reason, disclosure.Disclosure().state(),
             row.names if row.record_sha256 is not None else None, number)
    return caching.kept_page(parts)


@bp.get("/<public_id>/record.json")
@public
def record(public_id: str):
    import json

    draw = _draw(public_id)
    body = json.dumps(_public_record(draw), ensure_ascii=False, indent=2) + "\n"
    return caching.file(body, caching.file_control(_final(draw)), mimetype="application/json",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{draw.public_id}.json"'})


@bp.get("/<public_id>/pools/<name>.txt")
@public
def pool(public_id: str, name: str):
    draw = _draw(public_id)
    match = next((p for p in draw.pools if p.name == name), None)
    if match is None:
        abort(404)
    data = commitments.pool_bytes(draw, match)
    filename = commitments.pool_file_name(draw.public_id, match.name)
    # Frozen when the draw was prepared, and named by its hash in the commitment.
    return caching.file(data, caching.IMMUTABLE, mimetype="text/plain; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _source(filename: str) -> Response:
    # The same files for every draw; they change only with a new release of the app.
    return caching.file((ENGINE / filename).read_bytes(), caching.file_control(True),
                        mimetype="text/x-python; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/<public_id>/verify.py")
@public
def verifier(public_id: str):
    _draw(public_id)
    return _source("verify.py")


@bp.get("/<public_id>/rfc3797.py")
@public
def engine(public_id: str):
    _draw(public_id)
    return _source("rfc3797.py")


@bp.get("/<public_id>/teams.py")
@public
def assigner(public_id: str):
    """The team assignment the verifier re-runs for team draws."""
    if not _is_team(_draw(public_id)):
        abort(404)
    return _source("teams.py")


@bp.get("/<public_id>/tlog.py")
@public
def log_checker(public_id: str):
    """The public log's proofs and signatures, which the verifier checks with the record."""
    _draw(public_id)
    return _source("tlog.py")
