from django.apps import AppConfig


class BookingConfig(AppConfig):
    """The public channel-review booking that leads into a diagnostic: availability, bookings, conversion."""

    name = "diagnostics.booking"
    label = "booking"
    verbose_name = "Channel-review bookings"
