"""Builders of the webhooks' tenant-owned models (see tests/factories.py).

Side X's endpoint is limited to side X's vendor, and its delivery and attempt are about that vendor.
"""

from __future__ import annotations

import json

from django.utils import timezone

from tests.factories import Side, World, tenant_object
from tmw.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_for(side: Side) -> WebhookEndpoint:
    existing = WebhookEndpoint.all_objects.filter(vendor=side.vendor).order_by("pk").first()
    if existing is not None:
        return existing
    return WebhookEndpoint.all_objects.create(
        url=f"https://hooks.{side.key}.example/tmw",
        description=f"{side.marker} receiver",
        events=["statement.issued"],
        vendor=side.vendor,
        secret="whsec_" + "x" * 40,
        secret_set_at=timezone.now(),
    )


def delivery_for(side: Side) -> WebhookDelivery:
    endpoint = endpoint_for(side)
    existing = WebhookDelivery.all_objects.filter(endpoint=endpoint).order_by("pk").first()
    if existing is not None:
        return existing
    return WebhookDelivery.all_objects.create(
        endpoint=endpoint,
        event_id=f"evt_{side.key}",
        event_type="statement.issued",
        body=json.dumps({"data": {"vendor": side.marker}}),
        vendor=side.vendor,
        status=WebhookDelivery.Status.DELIVERED,
        attempts=1,
    )


@tenant_object(WebhookEndpoint)
def _endpoint(world: World, side: Side):
    return endpoint_for(side)


@tenant_object(WebhookDelivery)
def _delivery(world: World, side: Side):
    return delivery_for(side)


@tenant_object(WebhookAttempt)
def _attempt(world: World, side: Side):
    delivery = delivery_for(side)
    return WebhookAttempt.all_objects.create(
        delivery=delivery, number=1, started_at=timezone.now(), outcome="success", status_code=200
    )
