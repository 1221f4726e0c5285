"""The public record of a draw (the first pages of the public portal): anyone, without an
account, reads the commitment and the result and downloads what is needed to re-run the
draw: the record, the canonical pool files and the standalone verifier files. Target draws
list the employers drawn; team draws show each visit's team, the reserve order (递补), the
exclusion categories and any substitution.

Before execution only the commitment is public (pools' hashes, sources declared, secrets'
hashes): that is the point of committing first.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template, url_for
from markupsafe import Markup

from ..core.access import public
from ..core.errors import NotFound
from . import commitments, target
from .models import Draw, DrawKind

bp = Blueprint("public_draws", __name__, url_prefix="/public/draws")
HERE = Path(__file__).resolve().parent


@bp.context_processor
def _labels():
    from .forms import SHORT_MODE_LABELS

    return {"mode_labels": SHORT_MODE_LABELS}


def _draw(public_id: str) -> Draw:
    try:
        draw = target.get_draw(public_id) if public_id.upper().startswith("DRAW-") else None
    except NotFound:
        draw = None
    if draw is None:
        abort(404)
    return draw


def _is_team(draw: Draw) -> bool:
    return draw.kind == DrawKind.TEAM.value


def _public_record(draw: Draw) -> dict:
    from . import team_ops

    return team_ops.public_team_record(draw) if _is_team(draw) else target.public_record(draw)


def _team_rows(draw: Draw) -> list[dict]:
    """Per visit: the team and reserve as names, and the exclusions counted by category."""
    params = draw.commitment.get("parameters", {})
    roster = params.get("roster", {})
    visits = {v["visit"]: v for v in params.get("visits", [])}
    rows = []
    for entry in (draw.record or {}).get("assignment", []):
        info = visits.get(entry["visit"], {})
        excluded: dict[str, int] = {}
        for item in info.get("excluded", []):
            for reason in item.get("reasons", []):
                excluded[reason] = excluded.get(reason, 0) + 1
        rows.append({"visit": entry["visit"],
                     "team": [roster.get(k, k) for k in entry["team"]],
                     "reserve": [roster.get(k, k) for k in entry["reserve"]],
                     "eligible": len(info.get("eligible", [])), "excluded": excluded})
    return rows


def qr_svg(text: str, scale: int = 4) -> Markup:
    """A QR code as inline SVG with attributes only (no style: the CSP forbids inline
    styles), one path for all dark modules."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    path = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix)
                   for x, dark in enumerate(row) if dark)
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
    draw = _draw(public_id)
    if _is_team(draw):
        from . import team_ops

        return render_template("draws/public_team.html", draw=draw, rows=_team_rows(draw),
                               substitutions=team_ops.public_substitutions(draw),
                               reasons=team_ops.reason_labels(),
                               substitution_reasons=team_ops.substitution_reason_labels(),
                               qr=qr_svg(public_url(draw)), url=public_url(draw))
    rows = target.results(draw, with_visits=False) if draw.record is not None else []
    return render_template("draws/public.html", draw=draw, rows=rows,
                           qr=qr_svg(public_url(draw)), url=public_url(draw))


@bp.get("/<public_id>/record.json")
@public
def record(public_id: str):
    import json

    draw = _draw(public_id)
    body = json.dumps(_public_record(draw), ensure_ascii=False, indent=2) + "\n"
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{draw.public_id}.json"'})


@bp.get("/<public_id>/pools/<name>.txt")
@public
def pool(public_id: str, name: str):
    draw = _draw(public_id)
    match = next((p for p in draw.pools if p.name == name), None)
    if match is None:
        abort(404)
    data = commitments.pool_bytes(draw, match)
    filename = commitments.pool_file_name(draw.public_id, match.name)
    return Response(data, mimetype="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


def _source(filename: str) -> Response:
    return Response((HERE / filename).read_bytes(), mimetype="text/x-python; charset=utf-8",
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
