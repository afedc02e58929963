"""A partner's private calendar feed: their bookings and events, no login, revoked by regenerating."""

from __future__ import annotations

import datetime
import re

import icalendar
import pytest
from django.utils import timezone

from community.models import Event
from diagnostics.booking.models import Booking
from tests.diagnostics.test_booking_slots import make_partner
from tmw.accounts import calendar_feeds, services
from tmw.accounts.models import CalendarFeed


def _booking(partner, company: str, days: int) -> Booking:
    starts = (timezone.now() + datetime.timedelta(days=days)).replace(microsecond=0, second=0)
    return Booking.objects.create(
        partner=partner,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(minutes=45),
        company=company,
        website="https://example.com",
        contact_name="Lee",
        email=f"lee@{company.lower()}.example",
        phone="555 0100 222",
        role="CEO",
        sells="Things",
        time_zone="America/Vancouver",
    )


def _event(host, title: str, tz: str) -> Event:
    starts = (timezone.now() + datetime.timedelta(days=5)).replace(microsecond=0)
    return Event.objects.create(
        kind=Event.Kind.DINNER,
        title=title,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        time_zone=tz,
        venue="The Loft",
        capacity=10,
        host=host,
    )


@pytest.fixture
def two_partners(db):
    dana = make_partner("Dana Whitfield", time_zone="America/New_York", email="dana@tmw.example")
    marcus = make_partner("Marcus Okafor", email="marcus@tmw.example")
    _booking(dana, "Acme", 3)
    _booking(marcus, "Globex", 4)
    _event(dana, "Dana's dinner", "America/Chicago")
    _event(marcus, "Marcus's dinner", "America/Toronto")
    return dana, marcus


def _feed_path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_the_feed_serves_the_partners_own_bookings_and_events_without_login(two_partners, client_for):
    dana, _ = two_partners
    feed = services.calendar_feed_regenerate(actor=dana)
    url = calendar_feeds.feed_url(feed)
    assert url and len(url.rsplit("/", 2)[-2]) == 64
    assert feed.token_hash != url.rsplit("/", 2)[-2]  # only the hash is stored
    response = client_for(None).get(_feed_path(url))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content.decode())
    assert "METHOD" not in cal
    summaries = sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT"))
    assert any("Acme" in s for s in summaries) and any("Dana's dinner" in s for s in summaries)
    assert not any("Globex" in s or "Marcus" in s for s in summaries)
    assert {str(z["TZID"]) for z in cal.walk("VTIMEZONE")} == {"America/New_York", "America/Chicago"}


def test_regenerating_revokes_the_old_url(two_partners, client_for):
    dana, _ = two_partners
    old = calendar_feeds.feed_url(services.calendar_feed_regenerate(actor=dana))
    new = calendar_feeds.feed_url(services.calendar_feed_regenerate(actor=dana))
    assert old != new
    client = client_for(None)
    assert client.get(_feed_path(old)).status_code == 404
    assert client.get(_feed_path(new)).status_code == 200
    assert CalendarFeed.objects.filter(user=dana).count() == 1
    services.calendar_feed_revoke(actor=dana)
    assert client.get(_feed_path(new)).status_code == 404
    assert client.get("/accounts/calendar/not-a-token/tmw.ics").status_code == 404


def test_the_profile_shows_copy_and_regenerate(two_partners, client_for, world):
    dana, _ = two_partners
    client = client_for(dana)
    page = client.get("/accounts/profile/").content.decode()
    assert "Calendar feed" in page and "Create the feed URL" in page
    made = client.post("/accounts/profile/calendar/", follow=True).content.decode()
    url = calendar_feeds.feed_url(CalendarFeed.objects.get(user=dana))
    assert url in made and 'data-copy="#calendar-feed-url"' in made and "Make a new URL" in made
    # Not for other roles.
    assert "Calendar feed" not in client_for(world.a.vendor_admin).get("/accounts/profile/").content.decode()
    assert client_for(world.a.vendor_admin).post("/accounts/profile/calendar/").status_code == 403


def test_the_public_routes_answer_every_role_alike(two_partners, world, client_for):
    """The feed and the reschedule link are public: the token decides, never the session (and never a 5xx)."""
    from diagnostics.booking import services as booking_services

    dana, _ = two_partners
    feed_path = _feed_path(calendar_feeds.feed_url(services.calendar_feed_regenerate(actor=dana)))
    booking = Booking.objects.get(partner=dana)
    reschedule = f"/book/reschedule/{booking_services.reschedule_token(booking)}/"
    api = f"/api/v1/booking-reschedules/{booking_services.reschedule_token(booking)}/"
    users = [None, world.partner, world.finance, world.admin, world.a.vendor_admin, world.a.msp_member]
    expected = {feed_path: 200, reschedule: 200, api: 200}
    for user in users:
        client = client_for(user)
        for path, code in expected.items():
            response = client.get(path)
            assert response.status_code == code, (user, path, response.status_code)
        for path in ("/accounts/calendar/bogus/tmw.ics", "/book/reschedule/bogus/", "/api/v1/booking-reschedules/x/"):
            assert client.get(path).status_code == 404, (user, path)
    # The feed is the same whoever asks: Dana's, and only hers.
    texts = {client_for(u).get(feed_path).content.decode().split("DTSTAMP")[0] for u in users}
    assert all("Globex" not in t for t in texts)
