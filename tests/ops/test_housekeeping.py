"""Daily housekeeping: expired sessions and idempotency records past their keeping are deleted, nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from rest_framework.test import APIClient

from tmw import idempotency
from tmw.accounts.models import IdempotencyRecord
from tmw.ops.tasks import housekeeping


def _record(user, key: str, age: timedelta) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(
        user=user, key=key, route="POST /api/v1/vendors/", request_hash="0" * 64, status=201, body={"id": 1}
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - age)
    return record


def _session(expires_in: timedelta) -> str:
    store = SessionStore()
    store["marker"] = "kept"
    store.set_expiry(expires_in)
    store.create()
    assert store.session_key is not None
    return store.session_key


def test_housekeeping_deletes_what_is_past_its_keeping_and_keeps_the_rest(world, settings):
    settings.IDEMPOTENCY_KEEP_DAYS = 7
    old = _record(world.partner, "old", timedelta(days=7, minutes=1))
    fresh = _record(world.partner, "fresh", timedelta(days=6, hours=23))
    expired, live = _session(timedelta(seconds=-60)), _session(timedelta(days=1))

    result = housekeeping.apply().get()

    assert result == {"sessions": 1, "idempotency_records": 1}
    assert not IdempotencyRecord.objects.filter(pk=old.pk).exists()
    assert IdempotencyRecord.objects.filter(pk=fresh.pk).exists()
    assert not Session.objects.filter(session_key=expired).exists()
    assert SessionStore(session_key=live).load()["marker"] == "kept"
    # Run again (a beat that fired twice): nothing more to delete, nothing else touched.
    assert housekeeping.apply().get() == {"sessions": 0, "idempotency_records": 0}
    assert IdempotencyRecord.objects.filter(pk=fresh.pk).exists()


def test_the_purge_deletes_in_batches_until_none_is_left(world, monkeypatch):
    monkeypatch.setattr(idempotency, "PURGE_BATCH", 2)
    for n in range(5):
        _record(world.partner, f"k{n}", timedelta(days=30))
    _record(world.partner, "today", timedelta(0))
    assert idempotency.idempotency_records_purge(before=timezone.now() - timedelta(days=1)) == 5
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["today"]


def test_a_retry_after_the_keeping_is_a_new_request(world, settings):
    """Within the keeping a retry replays; once housekeeping has run past it, the same key writes anew."""
    settings.IDEMPOTENCY_KEEP_DAYS = 7
    partner = APIClient()
    partner.force_authenticate(world.partner)
    body = {"name": "Harbourline Backup Ltd.", "country": "CA", "region": "ON", "city": "Toronto"}
    first = partner.post("/api/v1/vendors/", body, format="json", HTTP_IDEMPOTENCY_KEY="vendor-x")
    assert first.status_code == 201, first.json()
    replay = partner.post("/api/v1/vendors/", body, format="json", HTTP_IDEMPOTENCY_KEY="vendor-x")
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == first.json()

    IdempotencyRecord.objects.filter(key="vendor-x").update(created_at=timezone.now() - timedelta(days=8))
    assert housekeeping.apply().get()["idempotency_records"] == 1
    # The key is forgotten: the same body is a new write, refused here as a duplicate name, with its message.
    again = partner.post("/api/v1/vendors/", body, format="json", HTTP_IDEMPOTENCY_KEY="vendor-x")
    assert again.status_code == 400 and "name" in again.json()["extra"]
    assert not again.has_header("Idempotent-Replayed")


def test_beat_sends_housekeeping_daily_and_the_schema_says_how_long_a_key_is_kept(settings, client, db):
    from celery.schedules import crontab

    entry = settings.CELERY_BEAT_SCHEDULE["ops-housekeeping"]
    assert entry["task"] == "ops.housekeeping"
    assert entry["schedule"] == crontab(minute=45, hour=4)
    assert f"remembered for {settings.IDEMPOTENCY_KEEP_DAYS} days" in idempotency.IDEMPOTENCY_PARAMETER.description


@pytest.mark.worker
def test_a_real_worker_runs_housekeeping(celery_worker_process):
    from tests.factories import UserFactory

    user = UserFactory(email="housekeeping@tmw.example")
    _record(user, "stale", timedelta(days=400))
    result = housekeeping.delay().get(timeout=30)
    assert result["idempotency_records"] == 1
    assert not IdempotencyRecord.objects.filter(key="stale").exists()
