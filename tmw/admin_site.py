"""The Django admin, for TMW operators only: everyone else gets a 404, not a login prompt."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import URLPattern, URLResolver, reverse

from tmw.accounts import policy
from tmw.accounts.permissions import mark_refused, public

ADMIN_ACCESS = "admin.site"


class OperatorAdminSite(admin.AdminSite):
    site_header = "TMW Channel Desk admin"
    site_title = "TMW Channel Desk admin"
    index_title = "Operations"

    @public
    def login(self, request, extra_context=None):
        """One login page for the whole app."""
        return redirect_to_login(request.GET.get("next") or reverse("admin:index"), login_url=reverse("accounts:login"))

    def get_urls(self):
        """Every admin page declares ``admin.site`` (model pages too: they wrap ``admin_view`` in their own view)."""
        urls = super().get_urls()
        _declare(urls)
        return urls

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            user = request.user
            if user.is_authenticated and not policy.can(user, ADMIN_ACCESS):
                mark_refused(request, ADMIN_ACCESS)
                raise Http404
            return inner(request, *args, **kwargs)

        for attr in ("model_admin", "admin_site"):
            if hasattr(inner, attr):
                setattr(guarded, attr, getattr(inner, attr))
        owner = getattr(view, "__self__", None)
        if isinstance(owner, admin.ModelAdmin):
            guarded.model_admin = owner  # type: ignore[attr-defined]  # function attributes the admin reads
        guarded.access = ADMIN_ACCESS  # type: ignore[attr-defined]  # read by the role-matrix test
        guarded.__wrapped__ = inner  # type: ignore[attr-defined]  # as functools.wraps would set it
        return guarded


def _declare(patterns) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _declare(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and not hasattr(pattern.callback, "__func__"):  # login is a method
            if getattr(pattern.callback, "access", None) is not None or getattr(pattern.callback, "public", False):
                continue
            pattern.callback.access = ADMIN_ACCESS  # type: ignore[attr-defined]  # read by the role-matrix test
