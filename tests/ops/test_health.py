"""/healthz: database and broker decide the answer; worker and beat freshness come from the heartbeat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tmw.ops.models import Heartbeat
from tmw.ops.services import heartbeat_record
from tmw.ops.tasks import heartbeat


@pytest.fixture
def with_broker(settings, monkeypatch):
    """Pretend a broker is configured and answers, without touching one."""
    from tmw.dashboard import views

    settings.REDIS_URL = "redis://127.0.0.1:6379/11"
    monkeypatch.setattr(views, "_check_broker", lambda: "ok")


def _beat(name: str, ago: timedelta) -> None:
    heartbeat_record(name=name, at=timezone.now() - ago)


def test_without_a_broker_the_worker_is_in_process(db, client, settings):
    settings.REDIS_URL = ""
    body = client.get("/healthz").json()
    assert body["worker"] == "in-process" and body["beat"] == "never"
    assert body["worker_seen_at"] is None and body["beat_seen_at"] is None
    settings.HEALTHZ_REQUIRE_WORKER = True
    assert client.get("/healthz").status_code == 200  # no worker to require


def test_never_seen(db, client, with_broker):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "worker": "never",
        "beat": "never",
        "worker_seen_at": None,
        "beat_seen_at": None,
    }


def test_fresh_heartbeats_are_ok(db, client, with_broker):
    _beat(Heartbeat.Name.WORKER, timedelta(seconds=30))
    _beat(Heartbeat.Name.BEAT, timedelta(seconds=31))
    body = client.get("/healthz").json()
    assert body["worker"] == "ok" and body["beat"] == "ok"
    worker_at = Heartbeat.objects.get(name="worker").beat_at
    assert body["worker_seen_at"] == worker_at.isoformat()


def test_stale_heartbeats_do_not_fail_the_check_by_default(db, client, with_broker, settings):
    _beat(Heartbeat.Name.WORKER, timedelta(minutes=10))
    _beat(Heartbeat.Name.BEAT, timedelta(seconds=20))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"] == "stale" and response.json()["beat"] == "ok"
    settings.HEALTHZ_REQUIRE_WORKER = True
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "error"


def test_require_worker_answers_503_for_stale_beat_or_no_heartbeat_and_200_when_fresh(
    db, client, with_broker, settings
):
    settings.HEALTHZ_REQUIRE_WORKER = True
    assert client.get("/healthz").status_code == 503  # never seen
    _beat(Heartbeat.Name.WORKER, timedelta(seconds=5))
    _beat(Heartbeat.Name.BEAT, timedelta(minutes=5))
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["beat"] == "stale"
    _beat(Heartbeat.Name.BEAT, timedelta(seconds=5))
    assert client.get("/healthz").status_code == 200


def test_the_broker_rule_is_unchanged(db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["broker"].startswith("error")


def test_a_database_failure_answers_503_and_unknown_heartbeats(db, client, monkeypatch):
    from tmw.dashboard import views

    class Down:
        def cursor(self):
            raise RuntimeError("database down")

    monkeypatch.setattr(views, "connection", Down())
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"].startswith("error") and body["worker"] == "unknown" and body["beat"] == "unknown"


def test_the_heartbeat_task_writes_both_rows_idempotently(db):
    first = heartbeat.delay().get()
    second = heartbeat.delay().get()
    assert Heartbeat.objects.count() == 2
    assert second["worker_at"] >= first["worker_at"]
    worker = Heartbeat.objects.get(name="worker")
    assert worker.beat_at.isoformat() == second["worker_at"]


def test_a_heartbeat_never_goes_back_in_time(db):
    now = timezone.now()
    heartbeat_record(name=Heartbeat.Name.BEAT, at=now)
    heartbeat_record(name=Heartbeat.Name.BEAT, at=now - timedelta(minutes=1))
    assert Heartbeat.objects.get(name="beat").beat_at == now


def test_the_beat_heartbeat_is_the_time_the_message_was_sent(db):
    sent = timezone.now() - timedelta(seconds=40)
    heartbeat.apply(headers={"published_at": sent.isoformat()})
    assert Heartbeat.objects.get(name="beat").beat_at == sent
    assert Heartbeat.objects.get(name="worker").beat_at > sent


def test_beat_sends_the_heartbeat_every_minute(settings):
    from tmw.tasks import TenantTask

    entry = settings.CELERY_BEAT_SCHEDULE["ops-heartbeat"]
    assert entry == {"task": "ops.heartbeat", "schedule": 60}
    assert isinstance(heartbeat, TenantTask) and heartbeat.scope == "operator"


@pytest.mark.worker
def test_a_real_worker_writes_the_heartbeat_under_the_request_id_it_was_sent_with(celery_worker_process):
    from tmw.request_id import set_request_id

    set_request_id("req-through-redis")
    try:
        answer = heartbeat.apply_async().get(timeout=30)
    finally:
        set_request_id(None)
    assert answer["request_id"] == "req-through-redis"
    assert answer["beat_at"] <= answer["worker_at"]
    assert Heartbeat.objects.filter(name="worker").exists() and Heartbeat.objects.filter(name="beat").exists()
    from_beat = heartbeat.apply_async().get(timeout=30)  # what beat sends: no request behind it
    assert from_beat["request_id"] and from_beat["request_id"] != "req-through-redis"
