"""Check-in at the door: a window around the event (not weeks ahead), and the arrived count that follows each tap."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from community import services
from community.models import RSVP, Event
from tests.community.conftest import answer, invite, make_event
from tmw.errors import ApplicationError


def _at(event: Event, *, starts_in: datetime.timedelta, hours: int = 2) -> Event:
    starts = timezone.now() + starts_in
    Event.objects.filter(pk=event.pk).update(starts_at=starts, ends_at=starts + datetime.timedelta(hours=hours))
    return Event.objects.get(pk=event.pk)


@pytest.fixture
def door(world):
    event = make_event(world.partner, days=49, capacity=10)  # seven weeks ahead
    rsvps = [answer(invite(event, world.a.msp, name=f"Guest {n}")) for n in range(3)]
    return event, rsvps


def test_check_in_seven_weeks_ahead_is_refused_and_nothing_is_written(world, door):
    event, (rsvp, *_) = door
    with pytest.raises(ApplicationError) as refused:
        services.rsvp_check_in(rsvp=rsvp, actor=world.partner)
    assert refused.value.status == 409
    assert "opens" in refused.value.message and "a day before it starts" in refused.value.message
    with pytest.raises(ApplicationError):
        services.walk_in_add(event=event, msp=world.a.msp, name="Walker", email="walk@in.example", actor=world.partner)
    assert not RSVP.objects.filter(event=event, attendance=RSVP.Attendance.ATTENDED).exists()
    assert not RSVP.objects.filter(event=event, invitation__email="walk@in.example").exists()


@pytest.mark.parametrize(
    ("starts_in", "allowed"),
    [
        (datetime.timedelta(days=1, minutes=5), False),  # just over a day ahead
        (datetime.timedelta(hours=23), True),  # the evening before
        (datetime.timedelta(hours=-1), True),  # under way
        (datetime.timedelta(hours=-25), True),  # ended 23 hours ago (2-hour event)
        (datetime.timedelta(hours=-27), False),  # ended over a day ago
    ],
)
def test_check_in_is_open_from_a_day_before_the_start_until_a_day_after_the_end(world, door, starts_in, allowed):
    event, (rsvp, *_) = door
    _at(event, starts_in=starts_in)
    if allowed:
        assert services.rsvp_check_in(rsvp=rsvp, actor=world.partner).attended
    else:
        with pytest.raises(ApplicationError) as refused:
            services.rsvp_check_in(rsvp=rsvp, actor=world.partner)
        assert refused.value.status == 409
        assert not RSVP.objects.get(pk=rsvp.pk).attended


def test_the_page_says_when_check_in_opens_and_a_tap_is_refused_with_its_message(world, door, client_for):
    event, (rsvp, *_) = door
    client = client_for(world.partner)
    page = client.get(f"/community/events/{event.pk}/check-in/").content.decode()
    opens = timezone.localtime(event.starts_at - datetime.timedelta(days=1), datetime.UTC)
    window = page.split('id="check-in-window">', 1)[1].split("</p>", 1)[0]
    assert "Check-in opens" in window and "America/New_York" in window  # the partner's zone (the site's)
    assert timezone.localtime(opens, timezone.get_default_timezone()).strftime("%H:%M") in window
    opens_day = timezone.localtime(opens, timezone.get_default_timezone()).strftime("%-d %b")
    assert f'<small class="muted check-in-closed">Opens {opens_day}</small>' in page
    assert '<button class="btn" type="submit">Check in</button>' not in page
    assert "Add a walk-in" not in page
    response = client.post(f"/community/rsvps/{rsvp.pk}/check-in/", HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "Check-in for" in response.content.decode() and "opens" in response.content.decode()
    assert not RSVP.objects.get(pk=rsvp.pk).attended


def test_each_tap_answers_the_row_and_the_arrived_count_out_of_band(world, door, client_for):
    event, rsvps = door
    _at(event, starts_in=datetime.timedelta(minutes=-10))
    client = client_for(world.partner)
    page = client.get(f"/community/events/{event.pk}/check-in/").content.decode()
    assert '<span id="arrived">0</span> arrived' in page and "Check-in is open until" in page
    for n, rsvp in enumerate(rsvps[:2], start=1):
        response = client.post(f"/community/rsvps/{rsvp.pk}/check-in/", HTTP_HX_REQUEST="true")
        body = response.content.decode()
        assert response.status_code == 200
        assert f'<li id="rsvp-{rsvp.pk}">' in body and "✓" in body
        assert f'<span id="arrived" hx-swap-oob="true">{n}</span>' in body
    undo = client.post(f"/community/rsvps/{rsvps[0].pk}/check-in/", {"undo": "1"}, HTTP_HX_REQUEST="true")
    assert '<span id="arrived" hx-swap-oob="true">1</span>' in undo.content.decode()
    assert (
        '<span id="arrived">1</span> arrived' in client.get(f"/community/events/{event.pk}/check-in/").content.decode()
    )
