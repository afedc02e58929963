"""The admin app, using the operators-only site."""

from django.contrib.admin.apps import AdminConfig


class TMWAdminConfig(AdminConfig):
    default_site = "tmw.admin_site.OperatorAdminSite"
