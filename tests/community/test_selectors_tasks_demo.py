"""The dashboards' selector, the periodic task through Celery, feedback through the signed link, and demo data."""

from __future__ import annotations

import datetime

from django.core import mail
from django.utils import timezone

from community import demo, selectors, services
from community.models import RSVP, Event, EventInvitation, PitchFeedback, PitchSlot
from community.tasks import send_due_reminders
from community.tokens import rsvp_token
from tests.community.conftest import answer, invite, make_event, make_msp


def test_upcoming_events_for_each_role(world):
    soon = make_event(world.partner, title="Soon dinner", days=1)
    invite(soon, world.a.msp)
    later = make_event(world.partner, title="Later pitch", kind=Event.Kind.PITCH, days=9)
    PitchSlot.objects.create(event=later, vendor=world.a.vendor, order=1, minutes=10)
    make_event(world.partner, title="Past dinner", days=-5)

    def titles(user):
        return [e.title for e in selectors.upcoming_events(user=user, limit=50)]

    assert "Soon dinner" in titles(world.partner) and "Past dinner" not in titles(world.partner)
    from tmw.accounts.tenancy import scope_for_user

    with scope_for_user(world.a.msp_member):
        assert "Soon dinner" in titles(world.a.msp_member) and "Later pitch" not in titles(world.a.msp_member)
    with scope_for_user(world.a.vendor_admin):
        assert "Later pitch" in titles(world.a.vendor_admin) and "Soon dinner" not in titles(world.a.vendor_admin)
    with scope_for_user(world.b.vendor_admin):
        assert "Later pitch" not in titles(world.b.vendor_admin)
    assert len(selectors.upcoming_events(user=world.partner, limit=1)) == 1


def test_the_periodic_task_sends_reminders_and_feedback_requests_once(world, django_capture_on_commit_callbacks):
    upcoming = make_event(world.partner, days=0)
    Event.objects.filter(pk=upcoming.pk).update(
        starts_at=timezone.now() + datetime.timedelta(hours=30), ends_at=timezone.now() + datetime.timedelta(hours=32)
    )
    answer(invite(upcoming))
    pitch = make_event(world.partner, kind=Event.Kind.PITCH, days=1)
    rsvp = answer(invite(pitch))
    Event.objects.filter(pk=pitch.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=3), ends_at=timezone.now() - datetime.timedelta(hours=1)
    )
    services.rsvp_check_in(rsvp=rsvp, actor=world.partner)
    RSVP.objects.exclude(pk=rsvp.pk).update(feedback_requested_at=timezone.now())  # the world's own sessions
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = send_due_reminders.delay().get()
        second = send_due_reminders.delay().get()
    assert first == {"reminders": 1, "feedback_requests": 1}
    assert second == {"reminders": 0, "feedback_requests": 0}
    subjects = sorted(m.subject for m in mail.outbox)
    assert len(subjects) == 2
    assert subjects[0].startswith("How were the pitches?") and subjects[1].startswith("In two days")
    feedback_mail = next(m for m in mail.outbox if m.subject.startswith("How were the pitches?"))
    assert "/community/f/" in feedback_mail.body


def test_feedback_through_the_signed_link(world, client_for):
    event = make_event(world.partner, kind=Event.Kind.PITCH, days=1)
    vendor = world.a.vendor
    slot = services.pitch_slot_add(event=event, vendor=vendor, actor=world.partner)
    invitation = invite(event, make_msp())
    rsvp = answer(invitation)
    token = rsvp_token(invitation)
    Event.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=2), ends_at=timezone.now() + datetime.timedelta(hours=1)
    )
    client = client_for(None)
    assert "Your feedback on the pitches" not in client.get(f"/community/r/{token}/").content.decode()
    services.rsvp_check_in(rsvp=rsvp, actor=world.partner)
    assert "Your feedback on the pitches" in client.get(f"/community/r/{token}/").content.decode()
    response = client.post(
        f"/community/r/{token}/feedback/",
        {"pitch_slot": slot.pk, f"slot{slot.pk}-interest": "pilot", f"slot{slot.pk}-comment": "Two clients"},
    )
    assert response.status_code == 302
    feedback = PitchFeedback.objects.get(rsvp=rsvp, pitch_slot=slot)
    assert (feedback.interest, feedback.comment) == ("pilot", "Two clients")


def test_demo_seed_is_idempotent(world):
    context = {
        "staff": {"dana.whitfield": world.partner, "marcus.okafor": world.partner},
        "vendors": {"Option A desk": world.a.vendor, "Option B desk": world.b.vendor},
        "msps": [make_msp(f"Demo MSP {i}") for i in range(20)],
    }
    demo.seed(context)
    counts = (
        Event.objects.count(),
        EventInvitation.objects.count(),
        RSVP.objects.count(),
        PitchFeedback.objects.count(),
    )
    demo.seed(context)
    assert counts == (
        Event.objects.count(),
        EventInvitation.objects.count(),
        RSVP.objects.count(),
        PitchFeedback.objects.count(),
    )
    kinds = set(Event.objects.filter(title__in=[s["title"] for s in demo.EVENTS]).values_list("kind", flat=True))
    assert kinds == set(Event.Kind.values)
    assert RSVP.objects.filter(status=RSVP.Status.WAITLISTED).exists()
    assert RSVP.objects.filter(attendance=RSVP.Attendance.ATTENDED).exists()
    assert PitchFeedback.objects.exclude(rsvp__msp__in=[world.a.msp, world.b.msp]).exists()
    for event in Event.objects.all():
        assert RSVP.objects.filter(event=event, status="going", invitation__walk_in=False).count() <= event.capacity
