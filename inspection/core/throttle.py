"""Throttling of failed logins, per account and per client address.

The state lives where every gunicorn worker sees it: in the database (table ``login_failure``)
or, when ``REDIS_URL`` is set, in Redis sorted sets. A key is blocked once it has reached its
limit of failures within the window; it is free again when the oldest of those failures
leaves the window, and the user is told when that is.

Every sign-in first *reserves* an attempt, atomically: the reservation and the count that
decides whether it may go ahead are one step that no other worker can interleave with, so
twenty simultaneous guesses against a limit of five get five tries, not six. A reservation
becomes a failure when the password is wrong and is released when it is right.
"""
from __future__ import annotations

import math
import secrets
import time
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, insert, select, text

from ..extensions import db
from .models import LoginFailure, utcnow


class DatabaseThrottle:
    """Failures as rows, reserved and counted in a transaction of their own (on a connection
    apart from the request's session) that holds the key's lock: SQLite's write lock taken by
    ``BEGIN IMMEDIATE``, PostgreSQL's transaction-level advisory lock on the key."""

    def _locked(self, conn, key: str) -> None:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})

    def attempt(self, key: str, limit: int, window: int) -> tuple[int, object]:
        """Reserve an attempt: ``(0, reservation)`` when it may go ahead, or ``(seconds to
        wait, None)`` when the key has reached its limit (nothing is then kept)."""
        with db.engine.connect() as conn:
            self._locked(conn, key)
            now = utcnow()
            since = now - timedelta(seconds=window)
            conn.execute(delete(LoginFailure).where(LoginFailure.key == key,
                                                    LoginFailure.at <= since))
            # The newest ``limit`` failures in the window: the oldest of them leaves first.
            stamps = conn.scalars(
                select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at > since)
                .order_by(LoginFailure.at.desc()).limit(limit)).all()
            if len(stamps) >= limit:
                conn.commit()
                free_at = stamps[-1] + timedelta(seconds=window)
                return max(1, math.ceil((free_at - now).total_seconds())), None
            row_id = conn.execute(insert(LoginFailure).values(key=key, at=now)
                                  .returning(LoginFailure.id)).scalar_one()
            conn.commit()
        return 0, row_id

    #: :meth:`count`'s one step: a row for the request unless the key has ``limit`` rows in
    #: the window already (the count stops at the limit).
    _COUNT = ("INSERT INTO login_failure (key, at) SELECT {p}, {t} WHERE (SELECT count(*) "
              "FROM (SELECT 1 FROM login_failure WHERE key = {p} AND at > {t} LIMIT {p}) AS w)"
              " < {p}")
    _OLDEST = ("SELECT at FROM login_failure WHERE key = {p} AND at > {t} ORDER BY at DESC "
               "LIMIT {p}")

    def count(self, key: str, limit: int, window: int) -> int:
        """Count a request of ``key`` (the public portal's limit): 0 when it may go ahead, or
        the seconds to wait when the key has ``limit`` requests in the window already (not
        counted then). The same rows and locks as :meth:`attempt`, in fewer statements and
        on the driver's connection (no statement to build: this runs on every public
        request): the lock, one ``INSERT ... SELECT`` that counts and adds, the commit.
        The key's rows that left the window stay until the portal's sweep
        (:func:`inspection.portal.throttling._sweep`). On PostgreSQL the commit does not
        wait for the disk (``synchronous_commit`` off for this transaction only): a crash
        may forget the last requests' counts, which is harmless for a limit."""
        now = utcnow()
        since = now - timedelta(seconds=window)
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if db.engine.dialect.name == "sqlite":
                p, t, stamp, since_value = "?", "?", _sqlite_time(now), _sqlite_time(since)
                cursor.execute("BEGIN IMMEDIATE")
            else:
                p, t, stamp, since_value = "%s", "%s::timestamp", now, since
                cursor.execute("SELECT set_config('synchronous_commit', 'off', true), "
                               "pg_advisory_xact_lock(hashtext(%s))", (key,))
            cursor.execute(self._COUNT.format(p=p, t=t),
                           (key, stamp, key, since_value, limit, limit))
            counted = cursor.rowcount == 1
            raw.commit()
            if counted:
                return 0
            # Refused: when the oldest of the key's requests in the window leaves it.
            cursor.execute(self._OLDEST.format(p=p, t=t), (key, since_value, limit))
            stamps = [row[0] for row in cursor.fetchall()]
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()
        oldest = stamps[-1] if stamps else now
        if isinstance(oldest, str):
            oldest = datetime.fromisoformat(oldest)
        free_at = oldest + timedelta(seconds=window)
        return max(1, math.ceil((free_at - now).total_seconds()))

    def release(self, key: str, reservation) -> None:
        """The attempt succeeded: it does not count as a failure."""
        with db.engine.begin() as conn:
            conn.execute(delete(LoginFailure).where(LoginFailure.id == reservation))

    def clear(self, key: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(LoginFailure).where(LoginFailure.key == key))


def _sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy's DateTime keeps it in SQLite (text, to the microsecond), so
    that rows written by the driver compare with the others."""
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


class RedisThrottle:
    """One sorted set per key; the reservation is a Lua script, which Redis runs atomically."""

    PREFIX = "inspection:login-failures:"
    _ATTEMPT = """
    local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
    redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
    local stamps = redis.call('ZREVRANGE', KEYS[1], 0, limit - 1, 'WITHSCORES')
    if #stamps >= 2 * limit then
        return tostring(tonumber(stamps[#stamps]) + window - now)
    end
    redis.call('ZADD', KEYS[1], now, ARGV[4])
    redis.call('EXPIRE', KEYS[1], window)
    return '0'
    """

    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url)
        self._attempt = self.redis.register_script(self._ATTEMPT)

    def attempt(self, key: str, limit: int, window: int) -> tuple[int, object]:
        member = secrets.token_hex(8)
        wait = float(self._attempt(keys=[self.PREFIX + key],
                                   args=[time.time(), window, limit, member]))
        if wait > 0:
            return max(1, math.ceil(wait)), None
        return 0, member

    def count(self, key: str, limit: int, window: int) -> int:
        """:meth:`DatabaseThrottle.count` in Redis: one script, as :meth:`attempt`."""
        return self.attempt(key, limit, window)[0]

    def release(self, key: str, reservation) -> None:
        self.redis.zrem(self.PREFIX + key, reservation)

    def clear(self, key: str) -> None:
        self.redis.delete(self.PREFIX + key)


def throttle():
    return current_app.extensions["login_throttle"]


def init_app(app: Flask) -> None:
    url = app.config["SETTINGS"].REDIS_URL
    app.extensions["login_throttle"] = RedisThrottle(url) if url else DatabaseThrottle()
