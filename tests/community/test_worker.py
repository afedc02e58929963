"""The community tasks through a real Celery worker and the Redis broker (CI runs these on PostgreSQL)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from community.models import RSVP, Event, EventInvitation
from community.tasks import send_due_reminders, send_invitation_email
from tests.community.conftest import answer, invite, make_event

pytestmark = pytest.mark.worker


def test_real_worker_emails_an_invitation_once(celery_worker_process, world):
    invitation = invite(make_event(world.partner))
    assert send_invitation_email.apply_async(args=[invitation.pk]).get(timeout=30) == "sent"
    assert EventInvitation.objects.get(pk=invitation.pk).sent_at is not None
    assert send_invitation_email.apply_async(args=[invitation.pk]).get(timeout=30) == "skipped"


def test_real_worker_runs_the_reminder_sweep(celery_worker_process, world):
    event = make_event(world.partner, days=0)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() + datetime.timedelta(hours=20), ends_at=timezone.now() + datetime.timedelta(hours=22)
    )
    rsvp = answer(invite(event))
    result = send_due_reminders.apply_async().get(timeout=30)
    assert result["reminders"] == 1
    assert RSVP.objects.get(pk=rsvp.pk).reminder_48h_sent_at is not None
    assert send_due_reminders.apply_async().get(timeout=30)["reminders"] == 0
