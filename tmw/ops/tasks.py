"""The heartbeat task: beat sends it every minute, a worker runs it and writes both heartbeats."""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from tmw.request_id import PUBLISHED_HEADER, get_request_id, task_header
from tmw.tasks import TenantTask

from .models import Heartbeat
from .services import heartbeat_record


def _published_at(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        published = datetime.fromisoformat(value)
    except ValueError:
        return None
    return published if timezone.is_aware(published) else None


@shared_task(bind=True, base=TenantTask, name="ops.heartbeat")
def heartbeat(self: TenantTask) -> dict[str, str | None]:
    """Write the beat heartbeat (when the message was sent) and the worker heartbeat (now); idempotent."""
    now = timezone.now()
    sent_at = _published_at(task_header(self.request, PUBLISHED_HEADER)) or now
    heartbeat_record(name=Heartbeat.Name.BEAT, at=sent_at)
    heartbeat_record(name=Heartbeat.Name.WORKER, at=now)
    return {"beat_at": sent_at.isoformat(), "worker_at": now.isoformat(), "request_id": get_request_id()}
