from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Signed webhooks: endpoints, deliveries and their attempts."""

    name = "tmw.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
