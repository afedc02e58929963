"""The Django admin, for TMW operators only: everyone else gets a 404, not a login prompt."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import Http404


class OperatorAdminSite(admin.AdminSite):
    site_header = "TMW Channel Desk admin"
    site_title = "TMW Channel Desk admin"
    index_title = "Operations"

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            user = request.user
            if user.is_authenticated and not user.is_operator:
                raise Http404
            return inner(request, *args, **kwargs)

        for attr in ("model_admin", "admin_site"):
            if hasattr(inner, attr):
                setattr(guarded, attr, getattr(inner, attr))
        guarded.__wrapped__ = inner
        return guarded


class TMWAdminConfig(AdminConfig):
    default_site = "tmw.admin_site.OperatorAdminSite"
