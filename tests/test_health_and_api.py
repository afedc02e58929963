"""Health check, API schema and docs from vendored assets, the business error shape."""

import json

from django.urls import reverse

from tmw.api import exception_handler
from tmw.errors import ApplicationError


def test_healthz_reports_database_and_broker(db, client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["broker"] == ("ok" if settings.REDIS_URL else "in-process")


def test_healthz_says_when_the_broker_is_down(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


def test_schema_and_docs_for_signed_in_users(world, client_for):
    client = client_for(world.partner)
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert "/api/v1/invitations/" in paths and "/api/v1/auth/token/" in paths
    docs = client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn" not in docs.lower() and "unpkg" not in docs.lower()
    assert client_for(None).get(reverse("api-schema")).status_code in (401, 403)


def test_vendored_assets_are_served(world, client_for):
    from django.contrib.staticfiles import finders

    for asset in (
        "vendor/htmx-2.0.11/htmx.min.js",
        "vendor/chart.js-4.5.1/chart.umd.min.js",
        "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
    ):
        assert finders.find(asset), asset
    page = client_for(world.partner).get("/partner/").content.decode()
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in page
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_application_error_has_one_shape():
    response = exception_handler(ApplicationError("Nope.", extra={"field": ["bad"]}, status=409), {})
    assert response.status_code == 409
    assert response.data == {"message": "Nope.", "extra": {"field": ["bad"]}}


def test_validation_errors_are_400_with_field_messages(world, client_for):
    response = client_for(world.partner).post(
        "/api/v1/invitations/", {"email": "not-an-email"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()["extra"]) >= {"email", "organisation", "role"}


def test_htmx_requests_get_the_partial(world, client_for):
    client = client_for(world.a.vendor_admin)
    full = client.get(reverse("accounts:team")).content.decode()
    partial = client.get(reverse("accounts:team"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full and "<html" not in partial and 'id="invite-panel"' in partial
