"""The operations tasks.

- ``ops.heartbeat``: beat sends it every minute, a worker runs it and writes both heartbeats.
- ``ops.housekeeping``: daily, deletes what has outlived its use: expired sessions and idempotency
  records older than ``IDEMPOTENCY_KEEP_DAYS``.
"""

from __future__ import annotations

from datetime import datetime

from celery import shared_task
from django.utils import timezone

from tmw.request_id import PUBLISHED_HEADER, get_request_id, task_header
from tmw.tasks import TenantTask

from .models import Heartbeat
from .services import heartbeat_record, housekeeping_run


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


@shared_task(bind=True, base=TenantTask, name="ops.housekeeping")
def housekeeping(self: TenantTask) -> dict[str, int]:
    """Delete expired sessions and idempotency records past their keeping; idempotent, says how many went."""
    deleted = housekeeping_run(now=timezone.now())
    self.logger.info(
        "Housekeeping: %d expired sessions and %d idempotency records deleted.",
        deleted["sessions"],
        deleted["idempotency_records"],
    )
    return deleted
