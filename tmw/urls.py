"""Top-level URLs: pages per app, the API under /api/v1/, its schema and docs, health and admin."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

import commissions.api  # noqa: F401  (registers the commissions API routes)
import community.api  # noqa: F401  (registers the community API routes)
import diagnostics.api  # noqa: F401  (registers the diagnostics and target-list API routes)
import diagnostics.booking.api  # noqa: F401  (registers the booking API routes)
import engagements.api  # noqa: F401  (registers the engagements API routes)
import tmw.accounts.api  # noqa: F401  (registers the accounts API routes)
import tmw.directory.api  # noqa: F401  (registers the MSP directory API routes)
from tmw.accounts import api as accounts_api
from tmw.api import router
from tmw.dashboard import views as dashboard_views

api_urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", accounts_api.TokenView.as_view(), name="token"),
    path("me/", accounts_api.MeView.as_view(), name="me"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", include("tmw.dashboard.urls")),
    path("accounts/", include("tmw.accounts.urls")),
    path("diagnostics/", include("tmw.directory.urls")),
    path("diagnostics/", include("diagnostics.urls")),
    path("", include("diagnostics.booking.urls")),
    path("engagements/", include("engagements.urls")),
    path("commissions/", include("commissions.urls")),
    path("community/", include("community.urls")),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("healthz", dashboard_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler400 = "tmw.error_views.bad_request"
handler403 = "tmw.error_views.permission_denied"
handler404 = "tmw.error_views.page_not_found"
handler500 = "tmw.error_views.server_error"
