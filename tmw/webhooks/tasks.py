"""Celery tasks of webhooks: send one delivery (and queue its retry), and the sweep that sends what is due."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from tmw.accounts import policy
from tmw.tasks import TenantTask

from . import services


def _queues_for_real() -> bool:
    """Whether tasks go through a broker (a retry waits there); in-process, the sweep picks retries up instead."""
    return not bool(deliver.app.conf.task_always_eager) and bool(getattr(settings, "REDIS_URL", ""))


@shared_task(bind=True, base=TenantTask, name="webhooks.deliver")
def deliver(self: TenantTask, delivery_id: int) -> dict[str, object]:
    """Send one due delivery; after a failure queue the next attempt after its back-off (the sweep is the net)."""
    delivery, retry_in = services.delivery_attempt(delivery_id=delivery_id, actor=policy.SYSTEM)
    if delivery is not None and retry_in is not None and _queues_for_real():
        deliver.apply_async(args=(delivery.pk,), countdown=retry_in)
    return {
        "delivery_id": delivery_id,
        "status": getattr(delivery, "status", None),
        "attempts": getattr(delivery, "attempts", None),
        "retry_in": retry_in,
    }


@shared_task(base=TenantTask, name="webhooks.send_due")
def send_due() -> int:
    """Every minute (beat): queue every pending delivery whose next attempt is due, e.g. one whose message was lost."""
    ids = services.deliveries_due(actor=policy.SYSTEM)
    for delivery_id in ids:
        deliver.delay(delivery_id)
    return len(ids)
