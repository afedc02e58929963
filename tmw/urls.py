"""Top-level URLs: pages per app, the API under /api/v1/, its schema and docs, health and admin."""

import warnings

from django.urls import URLPattern, URLResolver, include, path, register_converter
from django.utils.deprecation import RemovedInDjango60Warning

from tmw.web import BoundedIntConverter

# <int:pk> everywhere takes only an id that fits 64 bits (a larger one is a 404, not a database error).
# Registered before any app's patterns are built, since a pattern reads its converters when it is made.
# Django 6 refuses to replace "int": then register this as "id" and use <id:pk> in the patterns.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", RemovedInDjango60Warning)
    register_converter(BoundedIntConverter, "int")

from csp.decorators import csp_update  # noqa: E402
from django.contrib import admin  # noqa: E402
from drf_spectacular.views import (  # noqa: E402
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

import commissions.api  # noqa: E402,F401  (registers the commissions API routes)
import community.api  # noqa: E402,F401  (registers the community API routes)
import diagnostics.api  # noqa: E402,F401  (registers the diagnostics and target-list API routes)
import diagnostics.booking.api  # noqa: E402,F401  (registers the booking API routes)
import engagements.api  # noqa: E402,F401  (registers the engagements API routes)
import tmw.accounts.api  # noqa: E402,F401  (registers the accounts API routes)
import tmw.directory.api  # noqa: E402,F401  (registers the MSP directory API routes)
import tmw.webhooks.api  # noqa: E402,F401  (registers the webhook API routes)
from tmw.accounts import api as accounts_api  # noqa: E402
from tmw.accounts.permissions import Allowed, public  # noqa: E402
from tmw.api import router  # noqa: E402
from tmw.dashboard import views as dashboard_views  # noqa: E402

# The API docs pages are the one relaxation of the Content-Security-Policy. Their scripts are
# drf-spectacular-sidecar's files served from 'self' (the split Swagger view loads its start-up
# script from ?script instead of inlining it; Redoc without settings needs no start-up script), but
# Swagger UI and Redoc are React apps that set style= attributes and insert <style> elements at run
# time, which no nonce or hash can cover: style-src gets 'unsafe-inline' on these two views only.
# script-src stays 'self'.
api_docs_csp = csp_update({"style-src": ["'unsafe-inline'"]})


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, for whoever may use the API."""

    access = "api.use"
    permission_classes = [Allowed]


class SwaggerView(SpectacularSwaggerSplitView):
    access = "api.use"
    permission_classes = [Allowed]


class RedocView(SpectacularRedocView):
    access = "api.use"
    permission_classes = [Allowed]


api_urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", public(accounts_api.TokenView.as_view()), name="token"),
    path("me/", accounts_api.MeView.as_view(), name="me"),
    path("", include(diagnostics.booking.api.public_urlpatterns)),
    path("aging/", commissions.api.AgingView.as_view(), name="aging"),
    path("overdue-schedule/", commissions.api.OverdueScheduleView.as_view(), name="overdue-schedule"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("", include("tmw.dashboard.urls")),
    path("accounts/", include("tmw.accounts.urls")),
    path("diagnostics/", include("tmw.directory.urls")),
    path("msp/profile/", include("tmw.directory.msp_urls")),
    path("diagnostics/", include("diagnostics.urls")),
    path("", include("diagnostics.booking.urls")),
    path("engagements/", include("engagements.urls")),
    path("commissions/", include("commissions.urls")),
    path("community/", include("community.urls")),
    path("webhooks/", include("tmw.webhooks.urls")),
    path("api/v1/", include((api_urlpatterns, "api"))),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        api_docs_csp(SwaggerView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        api_docs_csp(RedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
    path("healthz", dashboard_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler400 = "tmw.error_views.bad_request"
handler403 = "tmw.error_views.permission_denied"
handler404 = "tmw.error_views.page_not_found"
handler500 = "tmw.error_views.server_error"
