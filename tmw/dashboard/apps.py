from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Home pages for partners, finance, vendors and MSPs; reads every app."""

    name = "tmw.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
