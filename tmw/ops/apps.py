from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: the worker and beat heartbeat read by /healthz."""

    name = "tmw.ops"
    label = "ops"
    verbose_name = "Operations"
