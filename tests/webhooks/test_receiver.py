"""The acceptance test: a real event, signed and sent to a real local receiver that answers 500 once and then 200.

Once with a real Celery worker through Redis (PostgreSQL), the retry waiting its back-off in the broker; once with
the task run in-process and the retry's back-off skipped (any database).
"""

from __future__ import annotations

import json
import time

import pytest
from django.utils import timezone

from engagements import services as engagement_services
from engagements.models import Opportunity
from tests.webhooks.receiver import Receiver
from tmw.accounts.tenancy import operator_scope
from tmw.webhooks import services, tasks
from tmw.webhooks.models import WebhookAttempt, WebhookDelivery


def _register(world, receiver: Receiver):
    endpoint, secret = services.endpoint_register(
        actor=world.partner, url=receiver.url, events=["opportunity.stage_changed"], description="Local receiver"
    )
    receiver.secret = secret
    return endpoint


def _opportunity(world) -> Opportunity:
    opportunity = world.a.objects[Opportunity]
    assert opportunity.stage == Opportunity.Stage.SIGNED
    return opportunity


def _check(receiver: Receiver, delivery: WebhookDelivery, opportunity: Opportunity) -> None:
    assert [r.answered for r in receiver.requests] == [500, 200]
    assert all(r.verified for r in receiver.requests), "every request's signature verified"
    assert len(receiver.accepted) == 1
    accepted = receiver.accepted[0]
    document = json.loads(accepted.body)
    assert document["type"] == "opportunity.stage_changed"
    assert document["id"] == delivery.event_id == accepted.headers["TMW-Webhook-Id"]
    assert set(document) == {"id", "type", "created", "data"}
    assert document["data"]["opportunity"]["id"] == opportunity.pk
    assert (document["data"]["from_stage"], document["data"]["to_stage"]) == ("signed", "live")
    assert receiver.requests[0].body == accepted.body  # the retry sends the same bytes
    assert delivery.status == WebhookDelivery.Status.DELIVERED and delivery.attempts == 2
    log = list(WebhookAttempt.all_objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.outcome, a.status_code) for a in log] == [(1, "http_error", 500), (2, "success", 200)]
    assert "try again later" in log[0].response_excerpt and all(a.duration_ms >= 0 for a in log)


def test_a_stage_move_reaches_the_receiver_once_after_a_500_in_process(
    world, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    receiver = Receiver(secret="", answers=[500, 200]).start()
    try:
        with operator_scope():
            _register(world, receiver)
            opportunity = _opportunity(world)
            with django_capture_on_commit_callbacks(execute=True):
                engagement_services.opportunity_move(opportunity=opportunity, stage="live", actor=world.partner)
            delivery = WebhookDelivery.objects.get(event_type="opportunity.stage_changed")
            assert delivery.status == "pending" and delivery.attempts == 1
            assert delivery.next_attempt_at > timezone.now()  # waiting its back-off: 1 minute
            # Skip the back-off: the sweep finds the delivery due and sends it again.
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
            assert tasks.send_due.delay().get() == 1
            delivery.refresh_from_db()
            _check(receiver, delivery, opportunity)
            assert tasks.send_due.delay().get() == 0  # nothing more is due
    finally:
        receiver.stop()


@pytest.fixture
def _local_receiver_env(monkeypatch, settings):
    """What the worker is started with: it may deliver to a local receiver and waits one second between attempts."""
    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "1")
    monkeypatch.setenv("WEBHOOKS_RETRY_SCHEDULE", "1,1")
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture
def webhook_worker(_local_receiver_env, transactional_db, celery_worker_process):
    """A real worker (started after the environment above is set) on the test database."""
    return celery_worker_process


@pytest.mark.worker
@pytest.mark.postgres
def test_a_stage_move_reaches_the_receiver_once_after_a_500_through_a_real_worker(webhook_worker, world):
    receiver = Receiver(secret="", answers=[500, 200]).start()
    try:
        with operator_scope():
            _register(world, receiver)
            opportunity = _opportunity(world)
            engagement_services.opportunity_move(opportunity=opportunity, stage="live", actor=world.partner)
        deadline = time.monotonic() + 60
        with operator_scope():
            delivery = WebhookDelivery.objects.get(event_type="opportunity.stage_changed")
            while time.monotonic() < deadline and delivery.status == "pending":
                time.sleep(0.2)
                delivery.refresh_from_db()
            log = list(WebhookAttempt.objects.filter(delivery=delivery).values_list("outcome", "status_code", "error"))
            assert delivery.status == "delivered", (delivery.status, delivery.attempts, log)
            _check(receiver, delivery, opportunity)
    finally:
        receiver.stop()
