"""Writes of the operations app: the heartbeat."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

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
