"""The public log submits its checkpoints to witnesses and keeps their cosignatures
(c2sp.org/tlog-witness, c2sp.org/tlog-cosignature; docs/draws.md "Witnesses").

The witnesses are the setting ``LOG_WITNESSES``: per witness its submission prefix and its
cosignature key. Each append to the log records a job (``log_witnesses``, see
:func:`.public_log.append`) that the queue runs once the draw's transaction has committed;
``flask --app app log submit`` does the same from the command line (cron, or to retry). No
network call is ever made inside a web request or a draw's transaction, and a witness that
is down or refuses never holds a draw up: the draw is committed before anyone asks.

For each witness, :func:`submit_all` brings it up to the log's newest checkpoint:

* it starts from the newest size that witness cosigned (kept in ``tlog_cosignature``), and
  submits each size after it in turn (``old N``, the consistency proof from N computed from
  the stored leaf hashes, the bureau's signed checkpoint), so that every checkpoint a draw's
  record carries is cosigned; a witness more than :data:`CATCH_UP` sizes behind gets the
  newest straight away;
* 409 (the witness holds another size): sent again from the size it answered, at most
  :data:`MAX_CONFLICTS` times; a size larger than the log's, or the same size with another
  root, is a fork and is reported;
* 422 (proof refused: the tree it holds is not this log's), 403, 404, another status, or no
  answer within :data:`TIMEOUT` seconds: reported, nothing kept, next witness;
* 200: the answer's cosignature of the witness's configured key is verified over the
  checkpoint (and its time must not be ahead of this clock by more than
  :data:`CLOCK_SKEW`) before it is kept; an answer without one is reported and dropped.

The job fails with every witness's problem as its reason (on the job's page, and in the
application's log), so that the office sees it; the next draw's job or ``log submit`` tries
again.
"""
from __future__ import annotations

import functools
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..jobs.registry import JobFile, Kind, Progress, register
from . import public_log
from .engine import tlog

log = logging.getLogger(__name__)

#: Seconds to wait for a witness's answer.
TIMEOUT = 10.0
#: A witness this many sizes behind or fewer gets each size in turn; beyond, the newest.
CATCH_UP = 16
#: 409 answers followed (each with the witness's size) before giving up on a witness.
MAX_CONFLICTS = 3
#: Requests to one witness in one run, whatever happens.
MAX_REQUESTS = CATCH_UP + MAX_CONFLICTS + 2
#: A cosignature dated more than this many seconds ahead of this clock is refused.
CLOCK_SKEW = 600
#: The largest answer read from a witness.
MAX_ANSWER = 64 * 1024

#: ``post(url, body)`` -> ``(status, content type, body)``; raises OSError when unreachable.
Post = Callable[[str, bytes], "tuple[int, str, bytes]"]


@dataclass(frozen=True)
class Outcome:
    """What one witness did in a run: ``size`` is the newest size it has cosigned."""

    witness: str
    ok: bool
    size: int | None
    message: str


def http_post(url: str, body: bytes, timeout: float = TIMEOUT) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "text/plain; charset=utf-8", "User-Agent": "inspection-log/1"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.headers.get("Content-Type", ""), \
                answer.read(MAX_ANSWER)
    except urllib.error.HTTPError as answer:
        with answer:
            return answer.code, answer.headers.get("Content-Type", ""), \
                answer.read(MAX_ANSWER)


def submit_all(post: Post = http_post, progress: Progress | None = None) -> list[Outcome]:
    """Bring every configured witness up to the log's newest checkpoint and keep the
    cosignatures that verify (each committed as it comes). Ends the session's transaction
    before the first request; makes no request when no witness is configured."""
    configured = public_log.witnesses()
    if not configured:
        return []
    newest = public_log.size()
    if newest == 0:
        db.session.commit()
        return [Outcome(w.name, True, None, "the log is empty: nothing to cosign yet")
                for w in configured]
    hashes = public_log.leaf_hashes(newest)
    cosigned = {key: row.size for key, row in public_log.latest_cosignatures().items()}
    db.session.commit()                    # no transaction stays open while witnesses answer
    subtree = functools.lru_cache(maxsize=None)(tlog.list_subtree(hashes))
    notes: dict[int, str] = {}

    def note(size: int) -> str:
        if size not in notes:
            notes[size] = public_log.checkpoint_note(size)
            db.session.commit()
        return notes[size]

    outcomes = []
    for n, witness in enumerate(configured):
        if progress:
            progress(n, len(configured), witness.name)
        outcome = _submit(witness, newest, cosigned.get(str(witness.key)), note, subtree, post)
        (log.info if outcome.ok else log.warning)(
            "public log witness %s: %s", witness.name, outcome.message)
        outcomes.append(outcome)
    if progress:
        progress(len(configured), len(configured), "")
    return outcomes


def _submit(witness: tlog.Witness, newest: int, cosigned: int | None,
            note: Callable[[int], str], subtree, post: Post) -> Outcome:
    def failed(message: str) -> Outcome:
        return Outcome(witness.name, False, cosigned, message)

    if cosigned == newest:
        return Outcome(witness.name, True, newest, f"had already cosigned size {newest}")
    if cosigned is not None and cosigned > newest:
        return failed(f"cosigned size {cosigned}, but the log has {newest} entries")
    old, conflicts, kept = cosigned or 0, 0, []
    for _request in range(MAX_REQUESTS):
        target = newest if newest - old > CATCH_UP or old >= newest else old + 1
        checkpoint = note(target)
        body = tlog.add_checkpoint_body(old, tlog.consistency_proof(old, target, subtree),
                                        checkpoint)
        try:
            status, content_type, answer = post(witness.add_checkpoint_url, body)
        except (OSError, ValueError) as exc:       # URLError, timeouts, refused connections
            return failed(f"unreachable at {witness.add_checkpoint_url}: {exc}")
        if status == 200:
            try:
                line, moment = verified_cosignature(witness, checkpoint, answer)
            except tlog.LogError as exc:
                return failed(f"answered size {target} without a valid cosignature of its key "
                              f"{witness.key}: {exc}; nothing kept")
            public_log.keep_cosignature(str(witness.key), target, line, moment)
            db.session.commit()
            cosigned, old = target, target
            kept.append(target)
            if target == newest:
                return Outcome(witness.name, True, newest,
                               f"cosigned size{'s' if len(kept) > 1 else ''} "
                               f"{', '.join(map(str, kept))}")
            continue
        if status == 409:
            try:
                if not content_type.startswith(tlog.SIZE_CONTENT_TYPE):
                    raise tlog.LogError(f"content type {content_type!r}")
                theirs = tlog.parse_size_body(answer)
            except tlog.LogError as exc:
                return failed(f"answered 409 without its tree size ({exc})")
            if theirs > newest:
                return failed(f"holds a tree of size {theirs}, larger than this log's {newest}: "
                              "another log under the same origin and key, or this log's "
                              "history was rewritten")
            if theirs == old:
                return failed(f"holds another tree of size {old} than this log's (409 for the "
                              "same size): this log's history is not the one it saw (a fork)")
            conflicts += 1
            if conflicts > MAX_CONFLICTS:
                return failed(f"answered 409 {conflicts} times; last size {theirs}")
            old = theirs
            continue
        if status == 422:
            return failed(f"refused the consistency proof from size {old} to {target} (422): "
                          f"the tree of size {old} it cosigned is not this log's (a fork, or "
                          "a rewritten history)")
        if status == 404:
            return failed("does not know this log's origin (404): it needs the log's key")
        if status == 403:
            return failed("refused the log's signature (403): it trusts another key for "
                          "this origin")
        return failed(f"answered HTTP {status}: "
                      f"{answer[:200].decode('utf-8', 'replace').strip()}")
    return failed(f"gave up after {MAX_REQUESTS} requests")


def verified_cosignature(witness: tlog.Witness, checkpoint: str,
                         answer: bytes) -> tuple[str, datetime]:
    """The signature line of ``witness``'s key in an ``add-checkpoint`` answer, verified as a
    tlog-cosignature/v1 of ``checkpoint``, and its time (naive UTC). Lines of other keys are
    ignored; :class:`tlog.LogError` when none of its key verifies."""
    try:
        lines = tlog.parse_signature_lines(answer.decode("utf-8"))
    except UnicodeDecodeError:
        raise tlog.LogError("the answer is not UTF-8") from None
    text = tlog.parse_note(checkpoint).text
    key = witness.key
    mine = [s for s in lines if (s.name, s.key_id) == (key.name, key.key_id)]
    if not mine:
        raise tlog.LogError(f"no signature line of {key.name}+{key.key_id:08x}")
    for signature in mine:
        single = tlog.Note(text, (signature,))
        good, _bad = tlog.cosigned_by(single, [key])
        if good:
            stamp = tlog.cosignature_time(single, key)
            if stamp > time.time() + CLOCK_SKEW:
                raise tlog.LogError(f"the cosignature is dated {stamp}, in the future")
            moment = datetime.fromtimestamp(stamp, timezone.utc).replace(tzinfo=None)
            return signature.line(), moment
    raise tlog.LogError("its cosignature does not verify")


def run_job(params: dict, progress: Progress) -> JobFile | None:
    """The ``log_witnesses`` job: :func:`submit_all`; fails with the witnesses' problems."""
    problems = [f"{o.witness}: {o.message}" for o in submit_all(progress=progress)
                if not o.ok]
    if problems:
        raise RuntimeError("; ".join(problems))
    return None


def init_app(app) -> None:
    """Register the job kind (``flask log submit`` is in :mod:`.cli`)."""
    register(Kind(public_log.WITNESS_JOB,
                  lambda: str(_l("Witnesses' cosignatures of the public log")), run_job))
