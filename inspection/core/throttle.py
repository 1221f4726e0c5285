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
from datetime import timedelta

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

    def release(self, key: str, reservation) -> None:
        """The attempt succeeded: it does not count as a failure."""
        with db.engine.begin() as conn:
            conn.execute(delete(LoginFailure).where(LoginFailure.id == reservation))

    def clear(self, key: str) -> None:
        with db.engine.begin() as conn:
            conn.execute(delete(LoginFailure).where(LoginFailure.key == key))


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

    def release(self, key: str, reservation) -> None:
        self.redis.zrem(self.PREFIX + key, reservation)

    def clear(self, key: str) -> None:
        self.redis.delete(self.PREFIX + key)


def throttle():
    return current_app.extensions["login_throttle"]


def init_app(app: Flask) -> None:
    url = app.config["SETTINGS"].REDIS_URL
    app.extensions["login_throttle"] = RedisThrottle(url) if url else DatabaseThrottle()
