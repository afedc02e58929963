from django.apps import AppConfig


class CommunityConfig(AppConfig):
    name = "community"
    verbose_name = "Community"

    def ready(self) -> None:
        from tmw.accounts.calendar_feeds import register_feed_source

        from .selectors import feed_items

        register_feed_source(feed_items)
