from django.apps import AppConfig


class BookingConfig(AppConfig):
    """The public channel-review booking that leads into a diagnostic: availability, bookings, conversion."""

    name = "diagnostics.booking"
    label = "booking"
    verbose_name = "Channel-review bookings"

    def ready(self) -> None:
        from tmw.accounts.calendar_feeds import register_feed_source

        from .selectors import feed_items

        register_feed_source(feed_items)
