"""``/public/log/``: the public log of draws served as a tiled transparency log
(c2sp.org/tlog-tiles), without an account.

* ``/public/log/`` a page with the origin line, the bureau's public key, the witnesses
  (name, key, the newest size each cosigned) and how to watch;
* ``/public/log/checkpoint`` the newest signed checkpoint, with the witnesses' cosignature
  lines it has so far (asked for again each time);
* ``/public/log/tile/<L>/<N>[.p/<W>]`` Merkle tree tiles, ``/public/log/tile/entries/...``
  entry bundles: never change once served, so kept for a year by anyone;
* ``/public/log/witness.py`` and ``/public/log/tlog.py``: the witness to run.

Static, cacheable tiles rather than proof endpoints: a tile is the same bytes for every
client and every later size, so a proxy or a mirror can serve them, a witness or monitor
computes any inclusion or consistency proof itself from a few of them, and the tools written
for other tiled logs read this one as they are.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template

from ..core import caching
from ..core.access import public
from . import public_log
from .engine import tlog

bp = Blueprint("public_log", __name__, url_prefix="/public/log")

OCTETS = "application/octet-stream"
HERE = Path(__file__).resolve().parent


@bp.get("/")
@public
def index():
    checkpoint = public_log.latest_checkpoint()
    body = tlog.parse_checkpoint(tlog.parse_note(checkpoint).text)
    latest = public_log.latest_cosignatures()
    witnesses = []
    for witness in public_log.witnesses():
        row = latest.get(str(witness.key))
        witnesses.append({"name": witness.name, "key": str(witness.key),
                          "size": row.size if row else None,
                          "cosigned_at": row.cosigned_at if row else None})
    return caching.page(lambda: render_template(
        "draws/public_log.html", origin=public_log.origin(), key=public_log.verifier_key(),
        checkpoint=checkpoint, size=body.size, witnesses=witnesses),
        (checkpoint, public_log.verifier_key(), witnesses), final=False)


@bp.get("/checkpoint")
@public
def checkpoint():
    return caching.file(public_log.latest_checkpoint(), caching.REVALIDATE,
                        mimetype="text/plain; charset=utf-8")


def _index(rest: str) -> tuple[int, int]:
    try:
        return tlog.parse_tile_index(rest)
    except ValueError:
        abort(404)


@bp.get("/tile/<int:level>/<path:rest>")
@public
def tile(level: int, rest: str):
    n, width = _index(rest)
    data = public_log.tile(level, n, width)
    if data is None:
        abort(404)
    return caching.file(data, caching.IMMUTABLE, mimetype=OCTETS)


@bp.get("/tile/entries/<path:rest>")
@public
def entries(rest: str):
    n, width = _index(rest)
    data = public_log.entries(n, width)
    if data is None:
        abort(404)
    return caching.file(data, caching.IMMUTABLE, mimetype=OCTETS)


def _source(path: Path):
    # The same for everyone; they change only with a new release of the app.
    return caching.file(path.read_bytes(), caching.file_control(True),
                        mimetype="text/x-python; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{path.name}"'})


@bp.get("/witness.py")
@public
def witness_source():
    """The witness anyone can run, with ``tlog.py`` beside it."""
    return _source(HERE / "witness.py")


@bp.get("/tlog.py")
@public
def tlog_source():
    return _source(HERE / "engine" / "tlog.py")
