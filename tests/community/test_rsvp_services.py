"""RSVPs: capacity, the ordered waitlist, promotion exactly once, the deadline, check-in, walk-ins, no-shows."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from community import services
from community.models import RSVP, Event
from tests.community.conftest import answer, invite, make_event, make_msp
from tmw.accounts import policy
from tmw.errors import ApplicationError


def test_answers_past_capacity_join_the_waitlist_in_order(world):
    event = make_event(world.partner, capacity=2)
    rsvps = [answer(invite(event)) for _ in range(5)]
    assert [r.status for r in rsvps] == ["going", "going", "waitlisted", "waitlisted", "waitlisted"]
    assert [r.waitlist_position for r in rsvps[2:]] == [1, 2, 3]


def test_a_cancellation_promotes_the_next_person_once_with_an_email(world, django_capture_on_commit_callbacks):
    event = make_event(world.partner, capacity=1)
    first, second, third = (answer(invite(event)) for _ in range(3))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.rsvp_cancel(rsvp=first, actor=policy.VISITOR)
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.status == RSVP.Status.GOING and second.promoted_at is not None
    assert third.status == RSVP.Status.WAITLISTED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [second.invitation.email]
    assert "seat opened up" in mail.outbox[0].subject
    assert any(a.get_content_type() == "text/calendar" for a in mail.outbox[0].attachments)
    with django_capture_on_commit_callbacks(execute=True):
        services.rsvp_cancel(rsvp=first, actor=policy.VISITOR)  # a second cancel changes nothing
    third.refresh_from_db()
    assert third.status == RSVP.Status.WAITLISTED
    assert len(mail.outbox) == 1


def test_saying_not_going_gives_up_the_seat(world):
    event = make_event(world.partner, capacity=1)
    first_inv = invite(event)
    answer(first_inv)
    waiting = answer(invite(event))
    answer(first_inv, going=False)
    waiting.refresh_from_db()
    assert waiting.status == RSVP.Status.GOING


def test_confirmation_email_carries_an_ics(world, django_capture_on_commit_callbacks):
    event = make_event(world.partner, capacity=3)
    with django_capture_on_commit_callbacks(execute=True):
        answer(invite(event, email="amy@msp.example"))
    (message,) = mail.outbox
    assert message.subject.startswith("You're going")
    (part,) = [a for a in message.attachments if a.get_content_type() == "text/calendar"]
    body = part.get_payload(decode=True).decode()
    assert "BEGIN:VEVENT" in body and "amy@msp.example" in body


def test_the_rsvp_deadline_is_enforced(world):
    event = make_event(world.partner, days=3, rsvp_deadline=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(ApplicationError, match="deadline"):
        answer(invite(event))


def test_dietary_needs_are_kept_for_dinners_only(world):
    dinner = make_event(world.partner, kind=Event.Kind.DINNER)
    focus = make_event(world.partner, kind=Event.Kind.FOCUS_GROUP)
    assert answer(invite(dinner), dietary="Vegan").dietary == "Vegan"
    assert answer(invite(focus), dietary="Vegan").dietary == ""


def test_check_in_walk_in_and_no_shows(world):
    event = make_event(world.partner, capacity=3, days=1)
    came, missed = answer(invite(event)), answer(invite(event))
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=3), ends_at=timezone.now() - datetime.timedelta(hours=1)
    )
    services.rsvp_check_in(rsvp=came, actor=world.partner)
    walk = services.walk_in_add(
        event=event, msp=make_msp(), name="Walk In", email="walk@in.example", actor=world.partner
    )
    assert walk.attended and walk.invitation.walk_in
    assert services.no_shows_record(event=event, actor=world.partner) == 1
    missed.refresh_from_db()
    came.refresh_from_db()
    assert missed.attendance == RSVP.Attendance.NO_SHOW
    assert came.attendance == RSVP.Attendance.ATTENDED


def test_only_partners_check_people_in(world):
    event = make_event(world.partner)
    rsvp = answer(invite(event))
    with pytest.raises(ApplicationError):
        services.rsvp_check_in(rsvp=rsvp, actor=world.a.vendor_admin)


def test_reminders_go_out_once_each(world, django_capture_on_commit_callbacks):
    soon = make_event(world.partner, days=0, capacity=5)
    Event.objects.filter(pk=soon.pk).update(
        starts_at=timezone.now() + datetime.timedelta(hours=40), ends_at=timezone.now() + datetime.timedelta(hours=42)
    )
    rsvp = answer(invite(soon))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send_due(actor=policy.SYSTEM) == 1
        assert services.reminders_send_due(actor=policy.SYSTEM) == 0
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["In two days"]
    later = timezone.now() + datetime.timedelta(hours=39)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send_due(actor=policy.SYSTEM, now=later) == 1
        assert services.reminders_send_due(actor=policy.SYSTEM, now=later) == 0
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["In two days", "Starting soon"]
    rsvp.refresh_from_db()
    assert rsvp.reminder_48h_sent_at and rsvp.reminder_2h_sent_at


def test_a_late_yes_gets_only_the_two_hour_reminder(world, django_capture_on_commit_callbacks):
    event = make_event(world.partner, days=0)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() + datetime.timedelta(minutes=90), ends_at=timezone.now() + datetime.timedelta(hours=3)
    )
    answer(invite(event))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send_due(actor=policy.SYSTEM) == 1
        assert services.reminders_send_due(actor=policy.SYSTEM) == 0
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Starting soon"]


def test_the_beat_task_is_scheduled_every_fifteen_minutes():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["community-send-due-reminders"]
    assert entry["task"] == "community.send_due_reminders" and entry["schedule"] == 15 * 60


def test_capacity_cannot_drop_below_people_going(world):
    event = make_event(world.partner, capacity=2)
    answer(invite(event))
    answer(invite(event))
    with pytest.raises(ApplicationError):
        services.event_update(event=event, actor=world.partner, capacity=1)
