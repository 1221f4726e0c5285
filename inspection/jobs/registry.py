"""The kinds of long work the job queue runs, registered by the packages that own them.

A package registers a kind at import time (from its ``init_app``)::

    from ..jobs.registry import JobFile, Kind, register

    def _build(params: dict, progress: Progress) -> JobFile | None:
        ...                                   # the work, in an app context
        progress(done, total)                 # as often as is useful (throttled by the queue)
        sha = storage.put_stream("reports", stream)   # the store writes atomically
        return JobFile("reports", sha, "报告.pdf", "application/pdf")

    register(Kind("task_report", lambda: _("Task summary report"), _build))

and submits work with :func:`inspection.jobs.operations.submit`. ``params`` is plain JSON
(ids, not objects); a handler must be safe to run again from the start (a worker killed in the
middle runs the job again), so it writes its result only through the store, which never leaves
half a file. This module imports nothing of the application: anything may import it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol


class Progress(Protocol):
    def __call__(self, done: int, total: int | None = None, message: str = "") -> None: ...


@dataclass(frozen=True)
class JobFile:
    """The file a job made, already in the store: the user downloads it when the job is done."""

    area: str
    sha256: str
    filename: str
    content_type: str


@dataclass(frozen=True)
class Kind:
    """A kind of job: its name (stored on the job), a label read in the user's language, and
    the handler, called in an app context with the job's params and a progress callback.
    ``roles``: who may submit it through the generic job pages (empty: only code submits it,
    as the seal submits a record's PDF)."""

    name: str
    label: Callable[[], str]
    run: Callable[[dict[str, Any], Progress], JobFile | None]
    roles: tuple[str, ...] = ()


_KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    """Add (or, for an app made again in tests, replace) a kind."""
    _KINDS[kind.name] = kind


def get(name: str) -> Kind:
    """The kind named ``name``; KeyError when none is registered."""
    return _KINDS[name]


def names() -> tuple[str, ...]:
    return tuple(_KINDS)
