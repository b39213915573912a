"""Kubernetes timestamps. Pure: ``now`` always comes from the caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime; None when absent or unparseable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age(value: str | None, now: datetime) -> timedelta | None:
    """How long ago ``value`` was, or None when unknown."""
    moment = parse_time(value)
    return None if moment is None else now - moment


def human(delta: timedelta) -> str:
    """``3d``, ``5h``, ``12m``: the largest whole unit, as kubectl prints ages."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds >= 86400:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m"
