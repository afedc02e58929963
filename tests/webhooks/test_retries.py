"""The back-off: each failure waits its step of the schedule, the last one marks the delivery failed; a disabled
endpoint's queued delivery fails without a request; an attempt that is not due does nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tmw.accounts import policy
from tmw.accounts.tenancy import operator_scope
from tmw.webhooks import network, services
from tmw.webhooks.models import WebhookDelivery


@pytest.fixture
def endpoint(world, settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOKS_RETRY_SCHEDULE = [60, 300, 1800]
    with operator_scope():
        found, _ = services.endpoint_register(
            actor=world.partner, url="http://127.0.0.1:9/hook", events=["booking.created"]
        )
    return found


def _due_now(delivery):
    WebhookDelivery.all_objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_failures_back_off_then_fail_for_good(endpoint, monkeypatch):
    calls = []
    monkeypatch.setattr(
        network, "post", lambda url, *, body, headers: calls.append(url) or network.Answer(503, "busy", 5)
    )
    with operator_scope():
        (delivery,) = services.publish("booking.created", payload={"booking": {"id": 1}})
        waits = []
        for _ in range(4):
            before = timezone.now()
            delivery, retry_in = services.delivery_attempt(delivery_id=delivery.pk, actor=policy.SYSTEM)
            waits.append(retry_in)
            if retry_in:
                assert delivery.next_attempt_at >= before + datetime.timedelta(seconds=retry_in)
                assert services.delivery_attempt(delivery_id=delivery.pk, actor=policy.SYSTEM) == (
                    None,
                    None,
                )  # not due
                _due_now(delivery)
        assert waits == [60, 300, 1800, None]
        assert delivery.status == "failed" and delivery.attempts == 4 and delivery.next_attempt_at is None
        assert len(calls) == 4
        assert list(delivery.attempt_log.values_list("outcome", flat=True)) == ["http_error"] * 4
        assert services.delivery_attempt(delivery_id=delivery.pk, actor=policy.SYSTEM) == (None, None)


def test_a_disabled_endpoint_gets_nothing(world, endpoint, monkeypatch):
    monkeypatch.setattr(network, "post", lambda *a, **k: pytest.fail("sent to a disabled endpoint"))
    with operator_scope():
        (delivery,) = services.publish("booking.created", payload={})
        services.endpoint_set_active(actor=world.partner, endpoint=endpoint, active=False)
        assert services.publish("booking.created", payload={}) == []
        delivery, retry_in = services.delivery_attempt(delivery_id=delivery.pk, actor=policy.SYSTEM)
        assert delivery.status == "failed" and retry_in is None
        assert delivery.attempt_log.get().outcome == "blocked"


def test_only_the_system_sends(world, endpoint):
    from tmw.errors import ApplicationError

    with operator_scope(), pytest.raises(ApplicationError):
        services.delivery_attempt(delivery_id=1, actor=world.partner)
