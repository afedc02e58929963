"""Operators' webhook pages: the endpoints, one endpoint with its delivery log, and the actions on them."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tmw.accounts.permissions import allow
from tmw.errors import ApplicationError
from tmw.web import add_application_error, htmx_redirect

from . import selectors, services, signing
from .forms import EndpointForm, RotateSecretForm
from .models import TEST_EVENT, Event, WebhookDelivery, WebhookEndpoint

SECRET_SESSION_KEY = "webhooks:new-secret:{}"  # noqa: S105  (a session key name)


def _remember_secret(request, endpoint: WebhookEndpoint, secret: str) -> None:
    """Keep a new secret for the one page view that shows it."""
    request.session[SECRET_SESSION_KEY.format(endpoint.pk)] = secret


@allow("webhook.view")
def endpoint_list(request):
    """Every webhook endpoint: where it points, what it receives, how its deliveries went."""
    return render(
        request, "webhooks/endpoint_list.html", {"endpoints": selectors.endpoint_list(), "events": Event.choices}
    )


@allow("webhook.manage")
def endpoint_create(request):
    """Register an endpoint; its secret is shown once on the next page."""
    form = EndpointForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                endpoint, secret = services.endpoint_register(
                    actor=request.user,
                    url=data["url"],
                    events=data["events"],
                    vendor=data["vendor"],
                    description=data["description"],
                    secret=data.get("secret", ""),
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
                status = exc.status
            else:
                _remember_secret(request, endpoint, secret)
                messages.success(request, "Endpoint registered. Copy its signing secret now: it is shown only once.")
                return htmx_redirect(request, reverse("webhooks:endpoint_detail", args=[endpoint.pk]))
        else:
            status = 400
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None}, status=status)


@allow("webhook.manage")
def endpoint_edit(request, webhook_endpoint_pk: int):
    """Change an endpoint's URL, events, vendor or description; the secret stays."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_endpoint_pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "vendor": endpoint.vendor,
    }
    form = EndpointForm(request.POST or None, initial=initial, with_secret=False)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.endpoint_update(
                    actor=request.user,
                    endpoint=endpoint,
                    url=data["url"],
                    events=data["events"],
                    vendor=data["vendor"],
                    description=data["description"],
                )
            except ApplicationError as exc:
                add_application_error(form, exc)
                status = exc.status
            else:
                messages.success(request, "Endpoint saved.")
                return htmx_redirect(request, reverse("webhooks:endpoint_detail", args=[endpoint.pk]))
        else:
            status = 400
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint}, status=status)


@allow(GET="webhook.view")
def endpoint_detail(request, webhook_endpoint_pk: int):
    """One endpoint: its settings, its secret (once, right after it was set), and every delivery with its attempts."""
    endpoint = get_object_or_404(WebhookEndpoint.objects.select_related("vendor", "created_by"), pk=webhook_endpoint_pk)
    status_filter = request.GET.get("status", "")
    if status_filter not in WebhookDelivery.Status.values:
        status_filter = ""
    deliveries = selectors.delivery_list(endpoint=endpoint, status=status_filter)
    page = Paginator(deliveries, 25).get_page(request.GET.get("page"))
    new_secret = request.session.pop(SECRET_SESSION_KEY.format(endpoint.pk), None)
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "page": page,
            "deliveries": page.object_list,
            "status_filter": status_filter,
            "statuses": WebhookDelivery.Status.choices,
            "new_secret": new_secret,
            "rotate_form": RotateSecretForm(),
            "test_event": TEST_EVENT,
            "max_attempts": services.max_attempts(),
            "signature_header": signing.SIGNATURE_HEADER,
        },
    )


def _back(request, endpoint_pk: int):
    return htmx_redirect(request, reverse("webhooks:endpoint_detail", args=[endpoint_pk]))


@allow("webhook.manage")
@require_POST
def endpoint_toggle(request, webhook_endpoint_pk: int):
    """Disable an endpoint, or enable it again."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_endpoint_pk)
    active = request.POST.get("active") == "1"
    services.endpoint_set_active(actor=request.user, endpoint=endpoint, active=active)
    messages.success(request, "Endpoint enabled." if active else "Endpoint disabled: nothing more is sent to it.")
    return _back(request, endpoint.pk)


@allow("webhook.manage")
@require_POST
def endpoint_rotate(request, webhook_endpoint_pk: int):
    """Replace the signing secret; the new one is shown once."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_endpoint_pk)
    form = RotateSecretForm(request.POST)
    secret = form.cleaned_data.get("secret", "") if form.is_valid() else ""
    try:
        endpoint, new = services.endpoint_rotate_secret(actor=request.user, endpoint=endpoint, secret=secret)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        _remember_secret(request, endpoint, new)
        messages.success(request, "New secret set. Copy it now: it is shown only once.")
    return _back(request, endpoint.pk)


@allow("webhook.manage")
@require_POST
def endpoint_test(request, webhook_endpoint_pk: int):
    """Send a test event to the endpoint now."""
    endpoint = get_object_or_404(WebhookEndpoint, pk=webhook_endpoint_pk)
    try:
        services.endpoint_send_test(actor=request.user, endpoint=endpoint)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Test event queued: its attempt shows in the log below.")
    return _back(request, endpoint.pk)


@allow("webhook.manage")
@require_POST
def delivery_resend(request, webhook_delivery_pk: int):
    """Send a delivery again (same event id and body, a fresh signature)."""
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=webhook_delivery_pk)
    try:
        services.delivery_resend(actor=request.user, delivery=delivery)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{delivery.event_type} queued again, with the same event id.")
    return _back(request, delivery.endpoint_id)
