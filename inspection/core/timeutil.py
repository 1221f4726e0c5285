"""Time: stored in UTC (naive columns), shown in Asia/Shanghai."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")


def to_local(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(LOCAL)


def local_to_utc(value: datetime) -> datetime:
    """A naive local (Asia/Shanghai) time as naive UTC, for queries."""
    return value.replace(tzinfo=LOCAL).astimezone(timezone.utc).replace(tzinfo=None)


def format_local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    local = to_local(value)
    return local.strftime(fmt) if local else ""
