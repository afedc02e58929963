"""Celery tasks of Phase One diagnostics; imported by the worker's autodiscovery."""

from .booking_services import send_booking_emails  # noqa: F401  (channel-review confirmation and cancellation emails)
