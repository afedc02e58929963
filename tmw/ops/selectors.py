"""Reads of the operations app: how fresh the worker and beat heartbeats are."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from .models import Heartbeat

Freshness = Literal["ok", "stale", "never"]


def heartbeat_seen_at(*, name: str) -> datetime | None:
    """When ``name`` was last seen alive, ``None`` if never."""
    return Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()


def heartbeat_freshness(*, seen_at: datetime | None, now: datetime, stale_after: timedelta) -> Freshness:
    """``never`` without a heartbeat, ``stale`` when older than ``stale_after``, else ``ok``."""
    if seen_at is None:
        return "never"
    return "ok" if now - seen_at <= stale_after else "stale"
