"""Free review slots: weekly windows in the partner's time zone, across DST, shown in the visitor's time zone."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from diagnostics.booking.models import AvailabilityWindow, BlackoutDate, Booking
from diagnostics.booking.selectors import free_slots, parse_slot_key, slots_by_day, zone_or_default
from tests.factories import OrganisationFactory, UserFactory
from tmw.accounts.models import Organisation, Role

UTC = datetime.UTC
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
VANCOUVER = zoneinfo.ZoneInfo("America/Vancouver")


def make_partner(name: str = "Marcus Okafor", time_zone: str = "America/Chicago", **kwargs):
    operator = OrganisationFactory(kind=Organisation.Kind.OPERATOR, name="The MSP Works", slug="the-msp-works")
    email = kwargs.pop("email", f"{name.split()[0].lower()}@tmw.example")
    return UserFactory(
        email=email, full_name=name, organisation=operator, role=Role.PARTNER, time_zone=time_zone, **kwargs
    )


def window(partner, weekday: int, start: str, end: str, active: bool = True) -> AvailabilityWindow:
    return AvailabilityWindow.objects.create(
        partner=partner,
        weekday=weekday,
        start_time=datetime.time.fromisoformat(start),
        end_time=datetime.time.fromisoformat(end),
        active=active,
    )


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def starts(slots) -> list[datetime.datetime]:
    return [s.starts_at for s in slots]


# Monday 1 March 2027, noon UTC. US clocks spring forward on Sunday 14 March 2027.
NOW = utc(2027, 3, 1, 12, 0)


def test_weekly_windows_in_the_partner_zone_follow_daylight_saving(db):
    partner = make_partner()
    window(partner, 0, "09:00", "10:30")  # Mondays, 9:00-10:30 in Chicago: two reviews
    slots = free_slots(now=NOW, partner=partner)
    assert starts(slots) == [
        # 1 March is less than 24 hours away; 29 March is past the four-week horizon.
        utc(2027, 3, 8, 15, 0),  # 9:00 CST = 15:00 UTC
        utc(2027, 3, 8, 15, 45),
        utc(2027, 3, 15, 14, 0),  # 9:00 CDT = 14:00 UTC after the change
        utc(2027, 3, 15, 14, 45),
        utc(2027, 3, 22, 14, 0),
        utc(2027, 3, 22, 14, 45),
    ]
    assert all(s.ends_at - s.starts_at == datetime.timedelta(minutes=45) for s in slots)
    assert {s.starts_at.astimezone(CHICAGO).strftime("%H:%M") for s in slots} == {"09:00", "09:45"}


def test_a_visitor_in_vancouver_sees_the_same_instants_on_their_own_clock_and_day(db):
    partner = make_partner()
    window(partner, 0, "09:00", "09:45")  # Monday 9:00 Chicago = Monday 7:00 Vancouver
    window(partner, 1, "00:15", "01:00")  # Tuesday 0:15 Chicago = Monday 22:15 Vancouver
    slots = free_slots(now=NOW, partner=partner)
    days = slots_by_day(slots, VANCOUVER)
    monday = datetime.date(2027, 3, 8)
    assert [s.local_start(VANCOUVER).strftime("%a %H:%M") for s in days[monday]] == ["Mon 07:00", "Mon 22:15"]
    assert datetime.date(2027, 3, 9) not in days  # the Tuesday window falls on Monday evening in Vancouver
    # In the partner's own zone the late window is on Tuesday.
    assert datetime.date(2027, 3, 9) in slots_by_day(slots, CHICAGO)


def test_the_spring_forward_night_loses_a_slot_and_the_autumn_night_gains_one(db):
    partner = make_partner()
    window(partner, 6, "01:30", "03:45")  # Sunday night: 1:30-3:45 on the wall clock
    spring = free_slots(now=utc(2027, 3, 1, 0, 0), partner=partner)
    # 14 March: 1:30 CST (07:30 UTC) to 3:45 CDT (08:45 UTC) is 75 real minutes: one review.
    assert [s.starts_at for s in spring if s.starts_at.date() == datetime.date(2027, 3, 14)] == [
        utc(2027, 3, 14, 7, 30)
    ]
    # A normal Sunday (7 March) holds 135 minutes: three reviews.
    assert len([s for s in spring if s.starts_at.date() == datetime.date(2027, 3, 7)]) == 3

    fall = free_slots(now=utc(2027, 10, 25, 0, 0), partner=partner)
    # 7 November: 1:30 CDT (06:30 UTC) to 3:45 CST (09:45 UTC) is 195 real minutes: four reviews.
    on_the_night = [s.starts_at for s in fall if s.starts_at.date() == datetime.date(2027, 11, 7)]
    assert on_the_night == [
        utc(2027, 11, 7, 6, 30),
        utc(2027, 11, 7, 7, 15),
        utc(2027, 11, 7, 8, 0),
        utc(2027, 11, 7, 8, 45),
    ]
    for a, b in zip(on_the_night, on_the_night[1:], strict=False):
        assert b - a >= datetime.timedelta(minutes=45), "slots never overlap"


def test_no_slot_in_the_past_or_within_24_hours_or_past_four_weeks(db):
    partner = make_partner(time_zone="America/New_York")
    for weekday in range(7):
        window(partner, weekday, "08:00", "18:00")
    now = datetime.datetime.now(UTC)
    slots = free_slots(now=now, partner=partner)
    assert slots
    assert min(starts(slots)) >= now + datetime.timedelta(hours=24)
    assert max(starts(slots)) <= now + datetime.timedelta(weeks=4)
    assert free_slots(partner=partner)  # the default "now" is the real clock


def test_booked_blacked_out_paused_and_inactive_partners_offer_nothing(db):
    partner = make_partner()
    other = make_partner("Dana Whitfield", time_zone="America/New_York")
    window(partner, 0, "09:00", "10:30")
    window(partner, 2, "09:00", "09:45", active=False)  # paused
    window(other, 0, "10:00", "10:45")  # 10:00 New York = 9:00 Chicago: the same instant, another partner
    BlackoutDate.objects.create(partner=partner, date=datetime.date(2027, 3, 15))
    Booking.objects.create(
        partner=partner,
        starts_at=utc(2027, 3, 8, 15, 0),
        ends_at=utc(2027, 3, 8, 15, 45),
        company="Acme",
        website="https://acme.example",
        contact_name="A",
        email="a@acme.example",
        phone="555 0100 000",
        role="CEO",
        sells="x",
    )
    Booking.objects.create(
        partner=partner,
        starts_at=utc(2027, 3, 22, 14, 0),
        ends_at=utc(2027, 3, 22, 14, 45),
        status=Booking.Status.CANCELLED,
        company="Gone",
        website="https://gone.example",
        contact_name="G",
        email="g@gone.example",
        phone="555 0100 000",
        role="CEO",
        sells="x",
    )
    mine = starts(free_slots(now=NOW, partner=partner))
    assert mine == [
        utc(2027, 3, 8, 15, 45),  # 15:00 is booked; 15 March is blocked
        utc(2027, 3, 22, 14, 0),  # a cancelled booking frees its slot
        utc(2027, 3, 22, 14, 45),
    ]
    everyone = free_slots(now=NOW)
    assert {(s.partner_name, s.starts_at) for s in everyone if s.starts_at == utc(2027, 3, 8, 15, 0)} == {
        ("Dana Whitfield", utc(2027, 3, 8, 15, 0))
    }
    other.is_active = False
    other.save()
    assert all(s.partner_id == partner.pk for s in free_slots(now=NOW))


def test_slot_keys_round_trip_and_bad_input_is_refused():
    key = f"12-{utc(2027, 3, 8, 15, 0):%Y%m%dT%H%MZ}"
    assert parse_slot_key(key) == (12, utc(2027, 3, 8, 15, 0))
    for bad in ("", "x-20270308T1500Z", "12-2027", "12", None):
        assert parse_slot_key(bad) is None
    assert zone_or_default("Mars/Olympus").key == "America/New_York"
    assert zone_or_default("America/Vancouver").key == "America/Vancouver"


@pytest.mark.parametrize("count", [1, 6])
def test_slot_generation_takes_three_queries_whatever_the_number_of_partners(db, django_assert_num_queries, count):
    for i in range(count):
        partner = make_partner(f"Partner {i}", email=f"p{i}@tmw.example")
        window(partner, 0, "09:00", "12:00")
        window(partner, 3, "13:00", "17:00")
    with django_assert_num_queries(3):
        assert len(free_slots(now=NOW)) > 0
