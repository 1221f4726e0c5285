"""The queue that carries job ids to workers: huey (docs/jobs.md "Two modes").

* ``REDIS_URL`` set (and ``JOBS_MODE`` empty or ``redis``): :class:`huey.RedisHuey`, for
  several machines sharing the work.
* otherwise (``JOBS_MODE`` empty or ``embedded``): :class:`huey.SqliteHuey` in ``JOBS_FILE``
  (default ``instance/jobs.sqlite3``): no server to run, as SQLite is for the database.
* ``JOBS_MODE=held`` (tests): no queue; jobs wait in the database until
  :func:`inspection.jobs.operations.run_pending` runs them.

The huey is made once per app and named after the app's database (``inspection-`` and a hash
of ``DATABASE_URL``): the workers of one database share one queue, and two apps on two
databases (two test runs on one Redis) never take each other's messages.

Only the job's id travels; the :class:`~.models.Job` row is the truth. This module imports
no operation: the task calls back through the function handed to :func:`setup`.
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Callable

from flask import Flask, current_app

log = logging.getLogger(__name__)

EXTENSION = "inspection.jobs"
#: The daily reminders run at 07:00 in Asia/Shanghai (23:00 UTC the day before).
REMINDERS_HOUR_UTC = "23"


def mode(app: Flask | None = None) -> str:
    """``held``, ``redis`` or ``embedded``."""
    settings = (app or current_app).config["SETTINGS"]
    chosen = (settings.JOBS_MODE or "").strip().lower()
    if chosen in ("held", "redis", "embedded"):
        return chosen
    return "redis" if settings.REDIS_URL else "embedded"


def queue_name(app: Flask) -> str:
    url = app.config["SETTINGS"].DATABASE_URL
    return "inspection-" + hashlib.sha256(url.encode()).hexdigest()[:16]


def jobs_file(app: Flask) -> Path:
    settings = app.config["SETTINGS"]
    return Path(settings.JOBS_FILE or Path(app.instance_path) / "jobs.sqlite3")


class Queue:
    """The app's huey and its tasks (None for ``held``)."""

    def __init__(self, app: Flask, run: Callable[[int], object],
                 periodic: dict[str, Callable[[], object]]):
        self.app = app
        self.mode = mode(app)
        self.huey = None
        self.run_job = None
        if self.mode == "held":
            return
        from huey import RedisHuey, SqliteHuey, crontab

        name = queue_name(app)
        if self.mode == "redis":
            url = app.config["SETTINGS"].REDIS_URL
            if not url:
                raise RuntimeError("JOBS_MODE=redis needs REDIS_URL")
            # results=False: a job's outcome is on its row, nothing to keep in the queue.
            self.huey = RedisHuey(name, url=url, results=False)
        else:
            path = jobs_file(app)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.huey = SqliteHuey(name, filename=str(path), results=False)

        def in_app(fn: Callable[..., object]) -> Callable[..., object]:
            def call(*args):
                with app.app_context():
                    return fn(*args)
            return call

        self.run_job = self.huey.task(name="run_job")(in_app(run))
        self.huey.periodic_task(crontab(minute="*"), name="recover")(in_app(periodic["recover"]))
        self.huey.periodic_task(crontab(minute="0", hour=REMINDERS_HOUR_UTC),
                                name="daily")(in_app(periodic["daily"]))

    def enqueue(self, job_id: int) -> bool:
        """Put the job's id on the queue; False (logged) when the queue cannot be reached:
        the job stays queued in the database and the worker's recovery enqueues it again."""
        if self.run_job is None:
            return False
        try:
            self.run_job(job_id)
            return True
        except Exception:  # noqa: BLE001 (Redis down, SQLite file locked ...)
            log.exception("job %s: could not enqueue", job_id)
            return False


def setup(app: Flask, run: Callable[[int], object],
          periodic: dict[str, Callable[[], object]]) -> Queue:
    queue = Queue(app, run, periodic)
    app.extensions[EXTENSION] = queue
    return queue


def current() -> Queue:
    return current_app.extensions[EXTENSION]
