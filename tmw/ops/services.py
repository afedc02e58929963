"""Writes of the operations app: the heartbeat and the daily housekeeping."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction

from tmw.idempotency import idempotency_records_purge

from .models import Heartbeat


def heartbeat_record(*, name: str, at: datetime) -> Heartbeat:
    """Record that ``name`` was alive at ``at``; idempotent, and a later time never goes back.

    No audit row: a heartbeat is the system's own bookkeeping, written every minute, not a business action.
    """
    with transaction.atomic():
        beat, created = Heartbeat.objects.select_for_update().get_or_create(name=name, defaults={"beat_at": at})
        if not created and beat.beat_at < at:
            beat.beat_at = at
            beat.save(update_fields=["beat_at"])
    return beat


def housekeeping_run(*, now: datetime) -> dict[str, int]:
    """Delete what has outlived its use at ``now``: expired sessions, and idempotency records older than
    ``IDEMPOTENCY_KEEP_DAYS``. Idempotent; answers how many of each went.

    No audit row: both are the system's own bookkeeping. Sessions are read through the database in both
    session engines this project uses (``db``, ``cached_db``); a cached copy expires by itself.
    """
    sessions = Session.objects.filter(expire_date__lt=now).delete()[0]
    records = idempotency_records_purge(before=now - timedelta(days=settings.IDEMPOTENCY_KEEP_DAYS))
    return {"sessions": sessions, "idempotency_records": records}
