"""What the public may see of a draw whose visits are unannounced (不预先告知).

An unannounced visit is revealed to nobody outside the bureau before it has happened (seed
004 第十九条(二) "不得向检查对象透露情况"): a public list of the drawn employers, or of the
teams with the inspectors' names, would tell the employer it is coming. So, for a draw (target
or team) of a task that is not announced (``Task.announced`` false), a visit is **withheld**
from the public while

* it has not happened (no sealed record yet: status before ``recorded``), and
* the task's window has not ended (``today <= window_end``).

What stays public meanwhile: the commitment from the preparation (pools and their files,
sources, the parties' hashes), the execution time, and the record's SHA-256 (also written to
the audit trail and the log), so that nothing can change while it is withheld. What waits:
the withheld visits' employers (target draw) and teams (team draw), and, while any visit of
the draw is withheld, the revealed secrets and the key string (with the public pool files
they would let anyone work out the whole list) and the record file itself. Once the last
withheld visit has happened, or the window has ended, everything is published as for any
draw and the record verifies as it always did.

The office sees everything inside the application; only the public pages and files go
through :func:`of` and :func:`public_body`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..core.timeutil import LOCAL
from ..extensions import db
from .models import Draw, DrawKind

#: A visit has happened once its sealed record arrived (and at every later stage); ``closed``
#: visits will not happen any more, so they have nothing left to keep secret either.
HAPPENED = ("recorded", "returned", "proposed", "determined", "published", "withheld", "closed")


@dataclass(frozen=True)
class Disclosure:
    """The visits of a draw the public may not see yet."""

    #: Visit numbers withheld.
    hidden: frozenset[str] = frozenset()
    #: Target draws: the withheld picks as (pool, rank).
    hidden_picks: frozenset[tuple[str, int]] = frozenset()
    #: The last day the withheld visits stay withheld at most (the task's window end).
    until: date | None = None
    #: The draw's picks (target) or visits (team), for the page's count.
    total: int = 0

    @property
    def complete(self) -> bool:
        """Nothing is withheld: the draw is published in full."""
        return not self.hidden

    def shows(self, visit_number: str | None) -> bool:
        return visit_number not in self.hidden

    def state(self) -> tuple:
        """What changes the public answer (for its ETag)."""
        return (tuple(sorted(self.hidden)), self.until)


def today() -> date:
    return datetime.now(LOCAL).date()


def of(draw: Draw, on: date | None = None) -> Disclosure:
    """The draw's withheld visits on ``on`` (default: today in Beijing time). A draw of an
    announced task, or of one whose window has ended, withholds nothing (one read of the
    task); otherwise one statement finds its visits that have not happened."""
    from ..fieldwork.models import Visit, VisitTask
    from ..planning.models import Task

    on = on or today()
    task = db.session.get(Task, draw.task_id)
    if task is None or task.announced or task.window_end < on:
        return Disclosure()
    query = (select(Visit.number, VisitTask.pool_name, VisitTask.rank)
             .join(Visit, Visit.id == VisitTask.visit_id)
             .where(Visit.status.not_in(HAPPENED)))
    if draw.kind == DrawKind.TEAM.value:
        committed = [v.get("visit") for v in
                     (draw.commitment.get("parameters") or {}).get("visits") or []]
        wanted = set(committed)
        rows = [r for r in db.session.execute(query.where(VisitTask.task_id == draw.task_id))
                if r[0] in wanted]
        return Disclosure(frozenset(r[0] for r in rows), frozenset(),
                          task.window_end if rows else None, len(committed))
    rows = db.session.execute(query.where(VisitTask.draw_id == draw.id)).all()
    total = sum(len(r.get("selected") or []) for r in (draw.record or {}).get("results", []))
    return Disclosure(frozenset(r[0] for r in rows), frozenset((r[1], r[2]) for r in rows),
                      task.window_end if rows else None, total)


def _commitment(draw: Draw, shown: Disclosure) -> dict:
    """The commitment as the public may read it: a team draw's visits that are withheld keep
    only their number (the employer and the eligibility would tell who is visited)."""
    commitment = draw.commitment
    params = commitment.get("parameters") or {}
    if shown.complete or "visits" not in params:
        return commitment
    visits = [v if shown.shows(v.get("visit")) else {"visit": v.get("visit"), "withheld": True}
              for v in params["visits"]]
    return dict(commitment, parameters=dict(params, visits=visits))


def public_body(draw: Draw, body: dict, shown: Disclosure) -> dict:
    """``body`` (the record, or the commitment of a draw not executed) as the public may
    download it. Unchanged when nothing is withheld; otherwise without the picks, the revealed
    secrets and the key string, but with the hashes that fix them."""
    if shown.complete:
        return body
    out = {key: body[key] for key in ("algorithm", "draw_id", "task", "kind") if key in body}
    out["status"] = draw.status
    out["commitment"] = _commitment(draw, shown)
    out["commitment_sha256"] = draw.commitment_sha256
    execution = body.get("execution") if draw.record is not None else None
    if execution:
        # The public values are public anyway, and show the time lock was kept; the system
        # mode's value, like the secrets, would let anyone re-run the draw.
        kept = {key: execution[key] for key in ("executed_at", "sources_entered")
                if key in execution}
        if draw.commitment.get("entropy_mode") == "public":
            kept["sources"] = execution.get("sources")
        out["execution"] = kept
        out["record_sha256"] = draw.record_sha256
    out["withheld"] = {
        "why": "unannounced visits: the drawn list and the teams are published once each "
               "visit has happened or the task's window has ended (seed 004 第十九条(二))",
        "visits": len(shown.hidden),
        "until": shown.until.isoformat() if shown.until else None,
    }
    return out


def current(draw: Draw) -> Disclosure:
    """:func:`of` for today, worked out once per request (a public page asks several times:
    for its ETag, whether it may be kept, and what it shows)."""
    from flask import g

    cache = g.setdefault("draw_disclosures", {})
    if draw.id not in cache:
        cache[draw.id] = of(draw)
    return cache[draw.id]
