"""Business actions on webhooks: endpoints (register, update, disable, enable, rotate the secret, send a test
event), resending a delivery, ``publish`` (what other apps call when an event happens) and one attempt at
sending a delivery (what the task calls).

Every operator action takes an actor, asks the policy first and writes an audit row, in one transaction.
``publish`` takes no actor: it is part of the action that raised the event (issuing a statement, moving an
opportunity, an RSVP), which its own service already authorized; it only records deliveries and queues them
after commit.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from tmw.accounts import policy
from tmw.accounts.models import Organisation
from tmw.accounts.policy import Actor
from tmw.accounts.services import audit_record
from tmw.errors import ApplicationError
from tmw.tasks import enqueue_on_commit

from . import network, signing
from .models import TEST_EVENT, Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint

DELIVER_TASK = "webhooks.deliver"
# While one attempt is under way its delivery is not due again (a worker that dies mid-send leaves it to the sweep).
LEASE = datetime.timedelta(minutes=10)
_SECRET_RE = re.compile(r"[A-Za-z0-9_\-.~+/=]+")


def retry_schedule() -> list[int]:
    """Seconds to wait after each failed attempt; once they are used up the delivery fails."""
    return [int(s) for s in getattr(settings, "WEBHOOKS_RETRY_SCHEDULE", [60, 300, 1800, 7200, 43200])]


def max_attempts() -> int:
    return len(retry_schedule()) + 1


# --- validation ----------------------------------------------------------------------------------------------


def _field_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, extra={field: [message]})


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise _field_error("url", "Enter the endpoint's URL.")
    if len(url) > 500:
        raise _field_error("url", "Keep the URL to 500 characters.")
    try:
        network.check_url(url)
    except network.UnsafeURL as exc:
        raise _field_error("url", str(exc)) from None
    return url


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(str(e) for e in events or ()))
    unknown = [e for e in chosen if e not in Event.values]
    if unknown:
        raise _field_error("events", f"Unknown event {unknown[0][:60]!r}: choose from {', '.join(Event.values)}.")
    if not chosen:
        raise _field_error("events", "Choose at least one event.")
    return [e for e in Event.values if e in chosen]


def _clean_vendor(vendor: Organisation | None) -> Organisation | None:
    if vendor is not None and vendor.kind != Organisation.Kind.VENDOR:
        raise _field_error("vendor", f"{vendor} is not a vendor.")
    return vendor


def _clean_secret(secret: str) -> str:
    secret = (secret or "").strip()
    if not secret:
        return signing.new_secret()
    if not signing.MIN_SECRET_LENGTH <= len(secret) <= 128 or not _SECRET_RE.fullmatch(secret):
        raise _field_error(
            "secret",
            f"A secret is {signing.MIN_SECRET_LENGTH} to 128 characters of letters, digits and - _ . ~ + / =; "
            "leave it empty to have one generated.",
        )
    return secret


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > 200:
        raise _field_error("description", "Keep the description to 200 characters.")
    return description


# --- endpoints -----------------------------------------------------------------------------------------------


@transaction.atomic
def endpoint_register(
    *,
    actor: Actor,
    url: str,
    events: Iterable[str],
    vendor: Organisation | None = None,
    description: str = "",
    secret: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; answers it and its signing secret (generated unless supplied), shown only now."""
    policy.require(actor, "webhook.manage", "register webhook endpoints")
    endpoint = WebhookEndpoint(
        url=_clean_url(url),
        events=_clean_events(events),
        vendor=_clean_vendor(vendor),
        description=_clean_description(description),
        secret=_clean_secret(secret),
        secret_set_at=timezone.now(),
        created_by=policy.user_of(actor),
    )
    endpoint.save()
    audit_record(
        actor=actor,
        verb="webhook.registered",
        obj=endpoint,
        data={
            "url": endpoint.url,
            "events": endpoint.events,
            "vendor": endpoint.vendor_id,
            "secret_supplied": bool(secret),
        },
    )
    return endpoint, endpoint.secret


@transaction.atomic
def endpoint_update(
    *,
    actor: Actor,
    endpoint: WebhookEndpoint,
    url: str,
    events: Iterable[str],
    vendor: Organisation | None = None,
    description: str = "",
) -> WebhookEndpoint:
    """Change where an endpoint points, what it receives and for which vendor; the secret stays."""
    policy.require(actor, "webhook.manage", "change webhook endpoints")
    endpoint = WebhookEndpoint.all_objects.select_for_update().get(pk=endpoint.pk)  # unscoped: lock
    before = {"url": endpoint.url, "events": endpoint.events, "vendor": endpoint.vendor_id}
    endpoint.url = _clean_url(url)
    endpoint.events = _clean_events(events)
    endpoint.vendor = _clean_vendor(vendor)
    endpoint.description = _clean_description(description)
    endpoint.save(update_fields=["url", "events", "vendor", "description"])
    after = {"url": endpoint.url, "events": endpoint.events, "vendor": endpoint.vendor_id}
    audit_record(actor=actor, verb="webhook.updated", obj=endpoint, data={"before": before, "after": after})
    return endpoint


@transaction.atomic
def endpoint_set_active(*, actor: Actor, endpoint: WebhookEndpoint, active: bool) -> WebhookEndpoint:
    """Disable an endpoint (nothing more is sent to it, queued retries fail) or enable it again."""
    policy.require(actor, "webhook.manage", "disable webhook endpoints")
    endpoint = WebhookEndpoint.all_objects.select_for_update().get(pk=endpoint.pk)  # unscoped: lock
    if endpoint.is_active == active:
        return endpoint
    endpoint.is_active = active
    endpoint.disabled_at = None if active else timezone.now()
    endpoint.save(update_fields=["is_active", "disabled_at"])
    audit_record(actor=actor, verb="webhook.enabled" if active else "webhook.disabled", obj=endpoint)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, actor: Actor, endpoint: WebhookEndpoint, secret: str = "") -> tuple[WebhookEndpoint, str]:
    """Replace the signing secret (generated unless supplied); every later request is signed with the new one."""
    policy.require(actor, "webhook.manage", "rotate webhook secrets")
    endpoint = WebhookEndpoint.all_objects.select_for_update().get(pk=endpoint.pk)  # unscoped: lock
    endpoint.secret = _clean_secret(secret)
    endpoint.secret_set_at = timezone.now()
    endpoint.save(update_fields=["secret", "secret_set_at"])
    audit_record(actor=actor, verb="webhook.secret_rotated", obj=endpoint, data={"secret_supplied": bool(secret)})
    return endpoint, endpoint.secret


def _refuse_disabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.is_active:
        raise ApplicationError("This endpoint is disabled: enable it first.", status=409)


@transaction.atomic
def endpoint_send_test(*, actor: Actor, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a ``webhook.test`` event to one endpoint, whatever events it asked for."""
    policy.require(actor, "webhook.manage", "send test webhooks")
    _refuse_disabled(endpoint)
    user = policy.user_of(actor)
    data = {
        "endpoint": {"id": endpoint.pk, "url": endpoint.url},
        "message": "A test event from TMW Channel Desk.",
        "sent_by": user.email if user is not None else str(actor),
    }
    delivery = _record(
        endpoint=endpoint, event_id=_event_id(), event_type=TEST_EVENT, body=_body(TEST_EVENT, data), vendor=None
    )
    audit_record(actor=actor, verb="webhook.test_sent", obj=endpoint, data={"delivery": delivery.pk})
    return delivery


@transaction.atomic
def delivery_resend(*, actor: Actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again as a new delivery with the same event id and body (a receiver can tell it is the same
    event), and its own attempts."""
    policy.require(actor, "webhook.manage", "resend webhooks")
    endpoint = delivery.endpoint
    _refuse_disabled(endpoint)
    again = _record(
        endpoint=endpoint,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        body=delivery.body,
        vendor=delivery.vendor,
        resend_of=delivery,
    )
    audit_record(actor=actor, verb="webhook.resent", obj=delivery, data={"delivery": again.pk})
    return again


# --- publishing ----------------------------------------------------------------------------------------------


def _event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def _body(event_type: str, data: dict[str, Any], event_id: str | None = None) -> str:
    document = {
        "id": event_id or _event_id(),
        "type": event_type,
        "created": timezone.now().astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True)


def _record(
    *,
    endpoint: WebhookEndpoint,
    event_id: str,
    event_type: str,
    body: str,
    vendor: Organisation | None,
    resend_of: WebhookDelivery | None = None,
) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=event_id,
        event_type=event_type,
        body=body,
        vendor=vendor,
        resend_of=resend_of,
        next_attempt_at=timezone.now(),
    )
    enqueue_on_commit(DELIVER_TASK, delivery.pk)
    return delivery


def publish(event: str, *, payload: dict[str, Any], vendor: Organisation | None = None) -> list[WebhookDelivery]:
    """Record one delivery of ``event`` for every active endpoint that asked for it (and is for every vendor, or
    for ``vendor``), and queue each to be sent once the caller's transaction commits.

    ``payload`` is the event's ``data``: the key fields of the object's API representation (ids, numbers,
    amounts as strings, the currency). Called inside the service that raised the event, so a rolled-back action
    sends nothing.
    """
    if event not in Event.values:
        raise ValueError(f"Unknown webhook event {event!r}")
    # unscoped: shared (operators' endpoints, read on behalf of whoever's action raised the event)
    candidates = WebhookEndpoint.all_objects.filter(is_active=True).order_by("pk")
    matching = [e for e in candidates if event in e.events and e.vendor_id in (None, getattr(vendor, "pk", None))]
    if not matching:
        return []
    event_id = _event_id()
    body = _body(event, payload, event_id)
    with transaction.atomic():
        return [
            _record(endpoint=endpoint, event_id=event_id, event_type=event, body=body, vendor=vendor)
            for endpoint in matching
        ]


# --- sending -------------------------------------------------------------------------------------------------


def _claim(delivery_id: int, now: datetime.datetime) -> tuple[WebhookDelivery, int] | None:
    """Take the next attempt of a due delivery (its number), so no other worker sends it meanwhile; None if not due."""
    with transaction.atomic():
        # unscoped: lock (the task runs for the system, and claims the row whoever's vendor it concerns)
        delivery = (
            WebhookDelivery.all_objects.select_for_update().select_related("endpoint").filter(pk=delivery_id).first()
        )
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return None
        if delivery.next_attempt_at is None or delivery.next_attempt_at > now:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
        return delivery, delivery.attempts


def delivery_attempt(*, delivery_id: int, actor: Actor) -> tuple[WebhookDelivery | None, int | None]:
    """Send a due delivery once and log the attempt; answers the delivery and the seconds until its next attempt
    (None when it is delivered, failed for good, or was not due: another worker has it, or it is finished).

    The request is made outside any transaction; claiming it before and recording the answer after are each
    one transaction.
    """
    policy.require(actor, "webhook.send", "send webhooks")
    started = timezone.now()
    claimed = _claim(delivery_id, started)
    if claimed is None:
        return None, None
    delivery, number = claimed
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        answer = network.Answer(None, "", 0, error="The endpoint is disabled; nothing was sent.", blocked=True)
        final = True
    else:
        headers = signing.headers(
            secret=endpoint.secret, delivery_id=delivery.event_id, event_type=delivery.event_type, body=delivery.body
        )
        answer = network.post(endpoint.url, body=delivery.body, headers=headers)
        final = answer.ok or number >= max_attempts()
    if answer.ok:
        outcome = WebhookAttempt.Outcome.SUCCESS
    elif answer.blocked:
        outcome = WebhookAttempt.Outcome.BLOCKED
    elif answer.status_code is not None:
        outcome = WebhookAttempt.Outcome.HTTP_ERROR
    else:
        outcome = WebhookAttempt.Outcome.NETWORK_ERROR
    finished = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started,
            duration_ms=answer.duration_ms,
            outcome=outcome,
            status_code=answer.status_code,
            error=answer.error[:300],
            response_excerpt=answer.excerpt[:500],
        )
        delivery = WebhookDelivery.all_objects.select_for_update().get(pk=delivery.pk)  # unscoped: lock
        retry_in: int | None = None
        if answer.ok:
            delivery.status, delivery.next_attempt_at, delivery.finished_at = (
                WebhookDelivery.Status.DELIVERED,
                None,
                finished,
            )
        elif final:
            delivery.status, delivery.next_attempt_at, delivery.finished_at = (
                WebhookDelivery.Status.FAILED,
                None,
                finished,
            )
        else:
            retry_in = retry_schedule()[number - 1]
            delivery.next_attempt_at = finished + datetime.timedelta(seconds=retry_in)
        delivery.save(update_fields=["status", "next_attempt_at", "finished_at"])
    return delivery, retry_in


def deliveries_due(*, actor: Actor, now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    """The ids of pending deliveries whose next attempt is due (the sweep queues them; a claim makes it safe twice)."""
    policy.require(actor, "webhook.send", "send webhooks")
    # unscoped: lock (a periodic job picking up due rows of every vendor; each is claimed under a lock when sent)
    due = WebhookDelivery.all_objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now or timezone.now()
    )
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
