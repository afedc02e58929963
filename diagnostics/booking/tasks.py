"""Celery tasks of channel-review bookings: thin wrappers that load the booking and call a service."""

from __future__ import annotations

from celery import shared_task

from tmw.accounts import policy
from tmw.tasks import TenantTask

from . import services
from .models import Booking


@shared_task(
    base=TenantTask,
    scope="operator",
    name="booking.send_booking_emails",
    max_retries=5,
    default_retry_delay=60,
    autoretry_for=(ConnectionError, OSError),
)
def send_booking_emails(booking_id: int, kind: str) -> str:
    """Email the prospect and the partner about a booking that was just confirmed or cancelled."""
    booking = Booking.objects.select_related("partner").get(pk=booking_id)
    return services.booking_emails_send(booking=booking, kind=kind, actor=policy.SYSTEM)
