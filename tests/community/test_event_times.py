"""One Chicago event, seen in every place it appears: the emails, the portal pages, the signed link and the .ics.

Emails show the event's own wall-clock time, named with its zone, whatever zone the worker runs in;
pages show the viewer's zone, named; the .ics carries the UTC instant.
"""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.utils import timezone

from community import tasks
from community.models import Event, EventInvitation
from community.tokens import rsvp_token
from tests.community.conftest import answer, invite
from tests.factories import UserFactory
from tmw.accounts.models import Role

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture
def chicago(world):
    """An evening event 18:00-20:30 in Chicago, about a month ahead (standard or daylight time alike)."""
    day = (timezone.now() + datetime.timedelta(days=30)).astimezone(CHICAGO).date()
    starts = datetime.datetime(day.year, day.month, day.day, 18, 0, tzinfo=CHICAGO)
    event = Event.objects.create(
        kind=Event.Kind.PITCH,
        title="Chicago pitch night",
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2, minutes=30),
        time_zone="America/Chicago",
        venue="The Loop, Chicago",
        capacity=10,
        host=world.partner,
    )
    new_york = world.a.msp_member
    new_york.time_zone = "America/New_York"
    new_york.save(update_fields=["time_zone"])
    vancouver = UserFactory(
        organisation=world.a.msp, role=Role.MSP_MEMBER, time_zone="America/Vancouver", full_name="Val Couver"
    )
    return {
        "event": event,
        "starts": starts,
        "new_york": (new_york, invite(event, world.a.msp, name="Nia York", email=new_york.email)),
        "vancouver": (vancouver, invite(event, world.a.msp, name="Val Couver", email=vancouver.email)),
    }


def _local(moment: datetime.datetime, zone: str) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%H:%M")


EMAIL_KINDS = ["confirmed", "waitlisted", "promoted", "reminder_48h", "reminder_2h", "feedback"]


@pytest.mark.parametrize("worker_zone", ["America/New_York", "America/Vancouver", "UTC"])
def test_every_email_shows_the_events_own_time_and_zone(chicago, worker_zone):
    invitation = chicago["new_york"][1]
    rsvp = answer(invitation)
    mail.outbox.clear()
    with timezone.override(zoneinfo.ZoneInfo(worker_zone)):
        tasks.send_invitation_email(invitation.pk)
        for kind in EMAIL_KINDS:
            tasks.send_rsvp_email(rsvp.pk, kind)
    assert len(mail.outbox) == 1 + len(EMAIL_KINDS)
    for message in mail.outbox:
        html = message.alternatives[0][0]
        for body in (message.body, html):
            assert "18:00 – 20:30 (America/Chicago)" in body, (message.subject, body)
            assert "19:00" not in body and "16:00" not in body
    first = mail.outbox[0]
    expected_day = chicago["starts"].strftime("%A %-d %B %Y")
    assert f"When: {expected_day}, 18:00 – 20:30 (America/Chicago)" in first.body


def test_the_calendar_attachment_and_download_carry_the_events_own_zone(chicago, client_for):
    user, invitation = chicago["new_york"]
    answer(invitation)
    start = chicago["starts"]
    end = start + datetime.timedelta(hours=2, minutes=30)
    # 18:00 in Chicago, written as Chicago's wall clock with Chicago's VTIMEZONE (whatever the viewer's zone).
    dtstart = f"DTSTART;TZID=America/Chicago:{start:%Y%m%dT%H%M%S}"
    dtend = f"DTEND;TZID=America/Chicago:{end:%Y%m%dT%H%M%S}"
    assert start.strftime("%H:%M") == "18:00"
    mail.outbox.clear()
    tasks.send_invitation_email(invitation.pk)
    (message,) = mail.outbox
    (calendar,) = [part for part in message.attachments if "calendar" in str(part.get_content_type())]
    text = calendar.get_payload(decode=True).decode()
    assert dtstart in text and dtend in text and "TZID:America/Chicago" in text
    download = client_for(user).get(f"/community/portal/invitations/{invitation.pk}/event.ics").content.decode()
    assert dtstart in download and dtend in download
    link = client_for(None).get(f"/community/r/{rsvp_token(invitation)}/event.ics").content.decode()
    assert dtstart in link


@pytest.mark.parametrize("who", ["new_york", "vancouver"])
def test_portal_pages_show_the_viewers_own_zone_and_name_it(chicago, client_for, who):
    user, invitation = chicago[who]
    zone = user.time_zone
    start, end = _local(chicago["starts"], zone), _local(chicago["event"].ends_at, zone)
    assert start == {"new_york": "19:00", "vancouver": "16:00"}[who]
    client = client_for(user)
    page = client.get(f"/community/portal/invitations/{invitation.pk}/").content.decode()
    assert f'{start} – {end}</span> <span id="event-zone">({zone})</span>' in page
    assert f"Times are in your time zone, {zone}." in page
    assert "At the event:" in page and "18:00 – 20:30 (America/Chicago)" in page
    listing = client.get("/community/portal/invitations/").content.decode()
    assert f"Times are in your time zone, {zone}." in listing
    assert f", {start}</td>" in listing and ", 18:00</td>" not in listing


def test_signed_link_shows_the_events_zone_to_a_visitor_and_the_viewers_to_a_signed_in_member(chicago, client_for):
    user, invitation = chicago["vancouver"]
    path = f"/community/r/{rsvp_token(invitation)}/"
    anonymous = client_for(None).get(path).content.decode()
    assert '18:00 – 20:30</span> <span id="event-zone">(America/Chicago)</span>' in anonymous
    assert "Times are in the event's time zone, America/Chicago." in anonymous
    assert "At the event:" not in anonymous
    signed_in = client_for(user).get(path).content.decode()
    assert '16:00 – 18:30</span> <span id="event-zone">(America/Vancouver)</span>' in signed_in
    assert "Times are in your time zone, America/Vancouver." in signed_in


def test_an_event_past_midnight_names_the_day_it_ends(chicago):
    event = chicago["event"]
    Event.objects.filter(pk=event.pk).update(ends_at=chicago["starts"] + datetime.timedelta(hours=7))
    invitation = EventInvitation.objects.get(pk=chicago["new_york"][1].pk)
    mail.outbox.clear()
    tasks.send_invitation_email(invitation.pk)
    next_day = (chicago["starts"] + datetime.timedelta(days=1)).strftime("%A %-d %B")
    assert f"18:00 – {next_day}, 01:00 (America/Chicago)" in mail.outbox[0].body
