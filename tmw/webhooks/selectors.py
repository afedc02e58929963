"""Reads shared by the webhook pages and the API."""

from __future__ import annotations

from django.db.models import Count, Max, Prefetch, Q, QuerySet

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    """Every endpoint with its vendor, its delivery counts and its last delivery's time."""
    return (
        WebhookEndpoint.objects.select_related("vendor")
        .annotate(
            delivered_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.DELIVERED)),
            failed_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.FAILED)),
            pending_count=Count("deliveries", filter=Q(deliveries__status=WebhookDelivery.Status.PENDING)),
            last_delivery_at=Max("deliveries__created_at"),
        )
        .order_by("-is_active", "url", "pk")
    )


def delivery_list(*, endpoint: WebhookEndpoint | None = None, status: str = "") -> QuerySet[WebhookDelivery]:
    """Deliveries, newest first, each with its attempts in order."""
    qs = WebhookDelivery.objects.select_related("endpoint").prefetch_related(
        Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
    )
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-pk")
