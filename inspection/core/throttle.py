"""Throttling of failed logins, per account and per client address.

The state lives where every gunicorn worker sees it: in the database (table ``login_failure``)
or, when ``REDIS_URL`` is set, in Redis sorted sets. A key is blocked once it has reached its
limit of failures within the window; it is free again when the oldest of those failures
leaves the window, and the user is told when that is.
"""
from __future__ import annotations

import math
import time
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import delete, func, select

from ..extensions import db
from .models import LoginFailure, utcnow


class DatabaseThrottle:
    """Failures as rows; written in their own transaction so a failed login keeps its trace."""

    def retry_after(self, key: str, limit: int, window: int) -> int:
        since = utcnow() - timedelta(seconds=window)
        count, oldest = db.session.execute(
            select(func.count(LoginFailure.id), func.min(LoginFailure.at))
            .where(LoginFailure.key == key, LoginFailure.at > since)).one()
        if count < limit:
            return 0
        # The key frees up when enough failures have left the window.
        nth = db.session.scalars(
            select(LoginFailure.at).where(LoginFailure.key == key, LoginFailure.at > since)
            .order_by(LoginFailure.at.desc()).offset(limit - 1).limit(1)).first() or oldest
        free_at = nth + timedelta(seconds=window)
        return max(1, math.ceil((free_at - utcnow()).total_seconds()))

    def fail(self, key: str, window: int) -> None:
        now = utcnow()
        db.session.add(LoginFailure(key=key, at=now))
        db.session.execute(delete(LoginFailure).where(
            LoginFailure.key == key, LoginFailure.at <= now - timedelta(seconds=window)))

    def clear(self, key: str) -> None:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == key))


class RedisThrottle:
    PREFIX = "inspection:login-failures:"

    def __init__(self, url: str):
        import redis

        self.redis = redis.Redis.from_url(url)

    def retry_after(self, key: str, limit: int, window: int) -> int:
        k = self.PREFIX + key
        now = time.time()
        self.redis.zremrangebyscore(k, 0, now - window)
        stamps = self.redis.zrevrange(k, 0, limit - 1, withscores=True)
        if len(stamps) < limit:
            return 0
        free_at = stamps[-1][1] + window
        return max(1, math.ceil(free_at - now))

    def fail(self, key: str, window: int) -> None:
        k = self.PREFIX + key
        now = time.time()
        pipe = self.redis.pipeline()
        pipe.zadd(k, {f"{now:.6f}": now})
        pipe.zremrangebyscore(k, 0, now - window)
        pipe.expire(k, window)
        pipe.execute()

    def clear(self, key: str) -> None:
        self.redis.delete(self.PREFIX + key)


def throttle():
    return current_app.extensions["login_throttle"]


def init_app(app: Flask) -> None:
    url = app.config["SETTINGS"].REDIS_URL
    app.extensions["login_throttle"] = RedisThrottle(url) if url else DatabaseThrottle()
