"""The booking page's time zone (chosen, validated), the note limit, and holidays closed by default."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.urls import reverse

from diagnostics.booking import services
from diagnostics.booking.closures import closed_days, holiday_countries
from diagnostics.booking.models import BlackoutDate, Booking
from diagnostics.booking.selectors import free_slots
from tests.diagnostics.test_booking import _form
from tests.diagnostics.test_booking_slots import make_partner, utc, window
from tmw.accounts.models import AuditEvent
from tmw.errors import ApplicationError

LA = zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.fixture(autouse=True)
def _fresh_booking_throttle():
    from django.core.cache import cache

    from diagnostics.booking.views import ip_throttle_key

    cache.delete(ip_throttle_key("127.0.0.1"))
    yield
    cache.delete(ip_throttle_key("127.0.0.1"))


@pytest.fixture
def partner(db):
    person = make_partner("Dana Whitfield", time_zone="America/New_York")
    for weekday in range(7):
        window(person, weekday, "09:00", "12:00")
    return person


def _days(slots, tz) -> set[datetime.date]:
    return {s.starts_at.astimezone(tz).date() for s in slots}


# --- Time zone ----------------------------------------------------------------------------------


def test_the_page_asks_the_browser_for_its_zone_only_when_none_was_chosen(partner, client):
    page = client.get(reverse("booking:book")).content.decode()
    assert "data-detect-zone" in page and "js/book.js" in page
    chosen = client.get(reverse("booking:book"), {"tz": "America/Los_Angeles"}).content.decode()
    assert "data-detect-zone" not in chosen
    assert '<option value="America/Los_Angeles" selected>' in chosen
    first = free_slots()[0].starts_at.astimezone(LA)
    # The first day's first slot, shown in Los Angeles time (9:00 New York is 6:00 Los Angeles).
    assert first.strftime("%-I:%M %p") in chosen


def test_an_unknown_zone_answers_400_naming_the_field_and_falls_back(partner, client):
    response = client.get(reverse("booking:book"), {"tz": "Mars/Olympus_Mons"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Time zone:" in body and "Mars/Olympus_Mons" in body
    assert '<option value="America/New_York" selected>' in body
    htmx = client.get(reverse("booking:book"), {"tz": "Mars/Olympus_Mons"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400 and "Time zone:" in htmx.content.decode()


def test_a_booking_with_an_unknown_zone_is_refused_not_stored_in_another(partner, client):
    slot = free_slots()[0]
    response = client.post(reverse("booking:book"), _form(slot, tz="Nowhere/Void"))
    assert response.status_code == 400
    assert "Time zone:" in response.content.decode()
    assert not Booking.objects.exists()


# --- The note -----------------------------------------------------------------------------------


def test_the_note_shows_its_limit_and_a_longer_one_is_refused_naming_the_field(partner, client):
    page = client.get(reverse("booking:book")).content.decode()
    assert 'maxlength="4000"' in page and 'data-maxlength-counter="id_notes_counter"' in page
    assert "Up to 4,000 characters." in page
    slot = free_slots()[0]
    response = client.post(reverse("booking:book"), _form(slot, notes="x" * 4001))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Notes: keep them to 4000 characters (these have 4001)" in body
    assert not Booking.objects.exists()
    ok = client.post(reverse("booking:book"), _form(slot, notes="y" * 4000))
    assert ok.status_code == 302
    assert len(Booking.objects.get().notes) == 4000


# --- Holidays -----------------------------------------------------------------------------------


def test_christmas_eve_and_christmas_day_are_closed_by_default(partner):
    slots = free_slots(now=utc(2027, 12, 10, 12, 0), partner=partner)
    days = _days(slots, zoneinfo.ZoneInfo("America/New_York"))
    assert datetime.date(2027, 12, 23) in days and datetime.date(2027, 12, 27) in days
    assert datetime.date(2027, 12, 24) not in days  # TMW's own closure
    assert datetime.date(2027, 12, 25) not in days  # a public holiday
    assert datetime.date(2028, 1, 1) not in days


def test_the_partners_country_chooses_the_holidays(db):
    assert holiday_countries("America/Toronto") == ("CA",)
    assert holiday_countries("America/Los_Angeles") == ("US",)
    assert holiday_countries("Europe/London") == ("US", "CA")  # TMW's default: both
    toronto = make_partner("Marie Tremblay", time_zone="America/Toronto", email="marie@tmw.example")
    chicago = make_partner("Marcus Okafor", time_zone="America/Chicago")
    for person in (toronto, chicago):
        for weekday in range(7):
            window(person, weekday, "09:00", "12:00")
    now = utc(2027, 6, 20, 12, 0)
    canada_day, independence_day = datetime.date(2027, 7, 1), datetime.date(2027, 7, 5)  # 4 July 2027 is a Sunday
    ca_days = _days(free_slots(now=now, partner=toronto), zoneinfo.ZoneInfo("America/Toronto"))
    us_days = _days(free_slots(now=now, partner=chicago), zoneinfo.ZoneInfo("America/Chicago"))
    assert canada_day not in ca_days and canada_day in us_days
    assert independence_day in ca_days and independence_day not in us_days
    both = closed_days("UTC", datetime.date(2027, 6, 20), datetime.date(2027, 7, 10))
    assert canada_day in both and independence_day in both


def test_a_partner_opens_a_holiday_with_an_audit_row_and_blocks_days_as_before(partner):
    now = utc(2027, 12, 10, 12, 0)
    christmas = datetime.date(2027, 12, 25)
    with pytest.raises(ApplicationError) as refused:
        services.closed_day_open(partner=partner, actor=partner, date=datetime.date(2027, 12, 22))
    assert "date" in refused.value.extra
    mark = services.closed_day_open(partner=partner, actor=partner, date=christmas)
    assert mark.opened and "Christmas" in mark.reason
    assert AuditEvent.all_objects.filter(verb="availability.holiday_opened", object_id=str(mark.pk)).exists()
    assert christmas in _days(free_slots(now=now, partner=partner), zoneinfo.ZoneInfo("America/New_York"))
    # Blocking a normal day still works, and blocking the opened holiday closes it again.
    services.blackout_date_add(partner=partner, actor=partner, date=datetime.date(2027, 12, 22))
    services.blackout_date_add(partner=partner, actor=partner, date=christmas, reason="Family")
    days = _days(free_slots(now=now, partner=partner), zoneinfo.ZoneInfo("America/New_York"))
    assert datetime.date(2027, 12, 22) not in days and christmas not in days
    assert BlackoutDate.objects.get(partner=partner, date=christmas).opened is False


def test_the_availability_page_lists_closed_days_and_opens_one(partner, client_for):
    client = client_for(partner)
    page = client.get(reverse("booking:availability")).content.decode()
    assert "Holidays and closures" in page and "Open this holiday" in page
    day = datetime.date(datetime.date.today().year, 12, 25)
    if day < datetime.date.today():
        day = day.replace(year=day.year + 1)
    response = client.post(
        reverse("booking:availability"), {"action": "open_holiday", "date": day.isoformat()}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "open for reviews" in response.content.decode()
    assert BlackoutDate.objects.filter(partner=partner, date=day, opened=True).exists()
    bad = client.post(
        reverse("booking:availability"), {"action": "open_holiday", "date": "2099-03-03"}, HTTP_HX_REQUEST="true"
    )
    assert bad.status_code == 400 and "Date:" in bad.content.decode()
