"""Partners' booking pages: permissions, the list and its filters, availability with htmx, conversion, the API."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from diagnostics.booking import services
from diagnostics.booking.models import AvailabilityWindow, BlackoutDate, Booking
from diagnostics.booking.selectors import free_slots
from diagnostics.models import Diagnostic
from tests.diagnostics.test_booking_slots import make_partner, window
from tmw.accounts.models import AuditEvent, Invitation, Organisation, Role
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError

CONTACT = {
    "company": "Harborline Security",
    "website": "https://harborline-security.example",
    "contact_name": "Elena Vargas",
    "email": "elena.vargas@harborline-security.example",
    "phone": "+1 617 555 0142",
    "role": "VP Sales",
    "sells": "Email security gateway, sold per mailbox.",
}


@pytest.fixture(autouse=True)
def _fresh_booking_throttle():
    """Each test starts with no booking attempts counted for the test client's address."""
    from django.core.cache import cache

    from diagnostics.booking.views import ip_throttle_key

    cache.delete(ip_throttle_key("127.0.0.1"))
    yield
    cache.delete(ip_throttle_key("127.0.0.1"))


def _booking(partner, *, days: float = 3, **overrides) -> Booking:
    start = (timezone.now() + datetime.timedelta(days=days)).replace(second=0, microsecond=0)
    data = {**CONTACT, **overrides}
    return Booking.objects.create(
        partner=partner, starts_at=start, ends_at=start + datetime.timedelta(minutes=45), **data
    )


def _users(world) -> dict:
    return {
        "anonymous": None,
        "other vendor": world.b.vendor_admin,
        "own vendor": world.a.vendor_member,
        "MSP user": world.a.msp_member,
        "partner": world.partner,
        "finance": world.finance,
        "admin": world.admin,
    }


EXPECTED = {
    "anonymous": 302,
    "other vendor": 403,
    "own vendor": 403,
    "MSP user": 403,
    "partner": 200,
    "finance": 403,
    "admin": 200,
}


def test_permission_matrix_of_the_partner_pages(world, client_for):
    booking = _booking(world.partner)
    pages = [
        reverse("booking:booking_list"),
        reverse("booking:booking_detail", args=[booking.pk]),
        reverse("booking:booking_convert", args=[booking.pk]),
        reverse("booking:booking_ics", args=[booking.pk]),
        reverse("booking:availability"),
    ]
    for label, user in _users(world).items():
        client = client_for(user)
        for url in pages:
            response = client.get(url)
            assert response.status_code == EXPECTED[label], (label, url, response.status_code)
            if label == "anonymous":
                assert "/accounts/login/" in response["Location"]
        if EXPECTED[label] != 200:
            cancel = client.post(reverse("booking:booking_cancel", args=[booking.pk]))
            assert cancel.status_code in (302, 403) and Booking.objects.get(pk=booking.pk).status == "confirmed"
    assert client_for(world.admin).post(reverse("booking:booking_cancel", args=[booking.pk])).status_code == 302
    assert Booking.objects.get(pk=booking.pk).status == "cancelled"
    # The public page is open to everyone.
    for user in _users(world).values():
        assert client_for(user).get(reverse("booking:book")).status_code == 200


def test_the_list_shows_upcoming_and_past_bookings_with_status_and_filters(world, client_for):
    other = make_partner("Dana Whitfield", time_zone="America/New_York")
    upcoming = _booking(world.partner, company="Upcoming Co")
    past = _booking(world.partner, days=-3, company="Past Co", email="p@past.example")
    cancelled = _booking(other, company="Cancelled Co", email="c@cancel.example", status="cancelled")
    client = client_for(world.partner)
    body = client.get(reverse("booking:booking_list")).content.decode()
    assert "Upcoming Co" in body and "Cancelled Co" in body and "Past Co" not in body
    assert "Confirmed" in body and "Cancelled" in body
    past_page = client.get(reverse("booking:booking_list"), {"when": "past"}).content.decode()
    assert "Past Co" in past_page and "Upcoming Co" not in past_page
    by_status = client.get(reverse("booking:booking_list"), {"when": "all", "status": "cancelled"}).content.decode()
    assert "Cancelled Co" in by_status and "Upcoming Co" not in by_status
    by_partner = client.get(reverse("booking:booking_list"), {"when": "all", "partner": other.pk}).content.decode()
    assert "Cancelled Co" in by_partner and "Past Co" not in by_partner
    search = client.get(reverse("booking:booking_list"), {"when": "all", "q": "past"}).content.decode()
    assert "Past Co" in search and "Upcoming Co" not in search
    partial = client.get(reverse("booking:booking_list"), {"when": "all"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode() and 'id="booking-table"' in partial.content.decode()
    bad = client.get(reverse("booking:booking_list"), {"partner": "x", "status": "nope", "when": "?"})
    assert bad.status_code == 400 and "partner" in bad.content.decode()
    for odd in ("99999999999999999999", "-9.83e+34"):
        assert client.get(reverse("booking:booking_list"), {"partner": odd}).status_code == 400
    detail = client.get(reverse("booking:booking_detail", args=[upcoming.pk])).content.decode()
    assert "Email security gateway" in detail and "Turn into a vendor" in detail
    assert upcoming.pk and past.pk and cancelled.pk


@pytest.mark.parametrize("count", [2, 12])
def test_the_list_keeps_a_constant_number_of_queries(world, client_for, django_assert_num_queries, count):
    for i in range(count):
        _booking(world.partner, days=2 + i, company=f"Co {i}", email=f"x{i}@co{i}.example")
    client = client_for(world.partner)
    client.get(reverse("booking:booking_list"))
    # user, its organisation (top bar), partners for the filter, the page count, the page of bookings (the session
    # is read from the cache)
    with django_assert_num_queries(5):
        response = client.get(reverse("booking:booking_list"))
    assert response.status_code == 200 and "Co 1" in response.content.decode()


def test_a_partner_cancels_a_booking_and_both_sides_hear(world, client_for, django_capture_on_commit_callbacks):
    booking = _booking(world.partner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.partner).post(reverse("booking:booking_cancel", args=[booking.pk]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "cancelled" and not booking.cancelled_by_prospect
    assert sorted(m.to[0] for m in mail.outbox) == sorted([booking.email, world.partner.email])
    assert AuditEvent.all_objects.filter(verb="booking.cancelled", object_id=str(booking.pk)).exists()


# --- Availability ---------------------------------------------------------------------------------


def test_a_partner_adds_pauses_and_removes_windows_with_htmx(world, client_for):
    client = client_for(world.partner)
    page = client.get(reverse("booking:availability"))
    assert page.status_code == 200 and "Weekly windows" in page.content.decode()
    added = client.post(
        reverse("booking:availability"),
        {"action": "window", "weekday": 1, "start_time": "09:00", "end_time": "11:15"},
        HTTP_HX_REQUEST="true",
    )
    assert added.status_code == 200
    assert "<html" not in added.content.decode() and "3 reviews" in added.content.decode()
    win = AvailabilityWindow.objects.get(partner=world.partner)
    assert (win.weekday, win.start_time, win.end_time) == (1, datetime.time(9), datetime.time(11, 15))

    overlapping = client.post(
        reverse("booking:availability"),
        {"action": "window", "weekday": 1, "start_time": "10:00", "end_time": "12:00"},
        HTTP_HX_REQUEST="true",
    )
    assert overlapping.status_code == 400 and "overlaps" in overlapping.content.decode()
    too_short = client.post(
        reverse("booking:availability"),
        {"action": "window", "weekday": 2, "start_time": "10:00", "end_time": "10:30"},
        HTTP_HX_REQUEST="true",
    )
    assert too_short.status_code == 400 and "at least one 45-minute" in too_short.content.decode()
    odd = client.post(
        reverse("booking:availability"), {"action": "window", "weekday": 2, "start_time": "10:10", "end_time": "12:00"}
    )
    assert odd.status_code == 400 and "quarter hour" in odd.content.decode()
    assert AvailabilityWindow.objects.count() == 1

    paused = client.post(reverse("booking:availability_window_toggle", args=[win.pk]), HTTP_HX_REQUEST="true")
    assert paused.status_code == 200 and "Resume" in paused.content.decode()
    assert not AvailabilityWindow.objects.get().active
    assert free_slots(partner=world.partner) == []
    client.post(reverse("booking:availability_window_toggle", args=[win.pk]))
    assert free_slots(partner=world.partner)

    blocked_day = free_slots(partner=world.partner)[0].starts_at.astimezone(
        __import__("zoneinfo").ZoneInfo(world.partner.time_zone)
    )
    client.post(reverse("booking:availability"), {"action": "blackout", "date": blocked_day.date().isoformat()})
    blackout = BlackoutDate.objects.get()
    assert all(
        s.starts_at.astimezone(blocked_day.tzinfo).date() != blocked_day.date()
        for s in free_slots(partner=world.partner)
    )
    client.post(reverse("booking:blackout_date_remove", args=[blackout.pk]), HTTP_HX_REQUEST="true")
    assert not BlackoutDate.objects.exists()

    removed = client.post(reverse("booking:availability_window_remove", args=[win.pk]), HTTP_HX_REQUEST="true")
    assert removed.status_code == 200
    assert not AvailabilityWindow.objects.exists()


def test_a_partner_changes_only_their_own_windows_and_admins_pick_a_partner(world, client_for):
    other = make_partner("Dana Whitfield", time_zone="America/New_York")
    theirs = window(other, 0, "09:00", "10:30")
    client = client_for(world.partner)
    assert client.post(reverse("booking:availability_window_remove", args=[theirs.pk])).status_code == 403
    assert client.post(reverse("booking:availability_window_toggle", args=[theirs.pk])).status_code == 403
    assert AvailabilityWindow.objects.get().active
    admin = client_for(world.admin)
    page = admin.get(reverse("booking:availability"), {"partner": other.pk})
    assert page.status_code == 200 and "Dana Whitfield" in page.content.decode()
    admin.post(
        reverse("booking:availability"),
        {"action": "window", "partner": other.pk, "weekday": 4, "start_time": "13:00", "end_time": "14:30"},
    )
    assert AvailabilityWindow.objects.filter(partner=other).count() == 2


@pytest.mark.parametrize("count", [1, 7])
def test_the_availability_page_keeps_a_constant_number_of_queries(world, client_for, django_assert_num_queries, count):
    for weekday in range(count):
        window(world.partner, weekday, "09:00", "12:00")
        BlackoutDate.objects.create(partner=world.partner, date=timezone.localdate() + datetime.timedelta(days=weekday))
        _booking(world.partner, days=2 + weekday, email=f"b{weekday}@co.example")
    client = client_for(world.partner)
    client.get(reverse("booking:availability"))
    # user, its organisation (top bar), windows, blackouts; free slots: windows, blackouts, bookings (the session is
    # read from the cache)
    with django_assert_num_queries(7):
        assert client.get(reverse("booking:availability")).status_code == 200


# --- Conversion -------------------------------------------------------------------------------------


def _convert_form(booking, **overrides) -> dict:
    data = {
        "name": booking.company,
        "website": booking.website,
        "category": "Email security",
        "city": "Boston",
        "region": "ma",
        "country": "US",
        "lead_partner": booking.partner_id,
    }
    data.update(overrides)
    return data


def test_a_partner_turns_a_booking_into_a_vendor_with_a_draft_diagnostic(
    world, client_for, django_capture_on_commit_callbacks
):
    booking = _booking(world.partner, has_us_sales=True, has_us_channel=True)
    client = client_for(world.partner)
    form = client.get(reverse("booking:booking_convert", args=[booking.pk]))
    assert form.status_code == 200
    assert 'value="Harborline Security"' in form.content.decode()
    assert form.context["form"].initial["lead_partner"] == world.partner.pk
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("booking:booking_convert", args=[booking.pk]), _convert_form(booking))
    assert response.status_code == 302, response.content.decode()[:3000]
    with operator_scope():
        vendor = Organisation.objects.get(name="Harborline Security")
        assert (vendor.kind, vendor.region, vendor.website) == ("vendor", "MA", booking.website)
        invitation = Invitation.objects.get(organisation=vendor)
        assert (invitation.email, invitation.role) == (booking.email, Role.VENDOR_ADMIN)
        diagnostic = Diagnostic.objects.get(vendor=vendor)
        assert (diagnostic.status, diagnostic.lead_partner) == ("draft", world.partner)
        assert (diagnostic.has_us_sales, diagnostic.has_us_marketing, diagnostic.has_us_channel) == (True, False, True)
    booking.refresh_from_db()
    assert (booking.status, booking.vendor) == ("converted", vendor)
    assert booking.converted_at is not None
    assert [m.to for m in mail.outbox] == [[booking.email]]  # the invitation
    detail = client.get(reverse("booking:booking_detail", args=[booking.pk])).content.decode()
    assert "Converted" in detail and "Turn into a vendor" not in detail
    assert reverse("diagnostics:diagnostic_detail", args=[diagnostic.pk]) in detail
    # Twice is refused.
    again = client.post(reverse("booking:booking_convert", args=[booking.pk]), _convert_form(booking, name="Other"))
    assert again.status_code == 302
    with operator_scope():
        assert Organisation.objects.filter(kind="vendor", name="Other").count() == 0


def test_conversion_is_all_or_nothing(world, client_for):
    booking = _booking(world.partner, email=world.a.vendor_member.email)  # already a user: the invitation fails
    client = client_for(world.partner)
    response = client.post(reverse("booking:booking_convert", args=[booking.pk]), _convert_form(booking))
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    with operator_scope():
        assert not Organisation.objects.filter(name="Harborline Security").exists()
        assert not Diagnostic.objects.filter(vendor__name="Harborline Security").exists()
    assert Booking.objects.get(pk=booking.pk).status == "confirmed"

    clash = _booking(world.partner, days=4, company=world.a.vendor.name, email="new@clash.example")
    response = client.post(reverse("booking:booking_convert", args=[clash.pk]), _convert_form(clash))
    assert response.status_code == 400 and "already exists" in response.content.decode()
    cancelled = _booking(world.partner, days=5, status="cancelled", email="z@z.example")
    with operator_scope(), pytest.raises(ApplicationError):
        services.booking_convert(
            booking=cancelled, actor=world.partner, **_convert_form(cancelled, lead_partner=world.partner)
        )


# --- API ----------------------------------------------------------------------------------------------


def test_the_api_lists_bookings_and_manages_windows_for_partners_only(world, client_for):
    booking = _booking(world.partner)
    _booking(world.partner, days=-2, company="Past Co", email="p@past.example")
    partner = client_for(world.partner)
    listing = partner.get("/api/v1/bookings/", {"when": "upcoming"})
    assert listing.status_code == 200
    assert [row["company"] for row in listing.json()["results"]] == ["Harborline Security"]
    assert partner.get(f"/api/v1/bookings/{booking.pk}/").json()["email"] == booking.email
    created = partner.post(
        "/api/v1/availability-windows/",
        {"weekday": 2, "start_time": "09:00", "end_time": "10:30"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    window_id = created.json()["id"]
    assert created.json()["partner"] == world.partner.pk
    bad = partner.post(
        "/api/v1/availability-windows/",
        {"weekday": 2, "start_time": "10:00", "end_time": "10:15"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["message"]
    patched = partner.patch(
        f"/api/v1/availability-windows/{window_id}/", {"active": False}, content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert partner.delete(f"/api/v1/availability-windows/{window_id}/").status_code == 204
    for user in (world.a.vendor_admin, world.a.msp_member, world.finance):
        client = client_for(user)
        assert client.get("/api/v1/bookings/").status_code == 403
        assert client.get(f"/api/v1/bookings/{booking.pk}/").status_code == 403
        assert client.get("/api/v1/availability-windows/").status_code == 403
    assert client_for(None).get("/api/v1/bookings/").status_code in (401, 403)


# --- Demo data ------------------------------------------------------------------------------------------


def test_demo_data_gives_both_partners_availability_and_four_bookings_idempotently(db):
    from diagnostics.booking import demo as booking_demo
    from tmw.accounts import demo

    with operator_scope():
        context = demo.seed()
        booking_demo.seed(context)
        booking_demo.seed(context)
    dana, marcus = context["staff"]["dana.whitfield"], context["staff"]["marcus.okafor"]
    assert AvailabilityWindow.objects.filter(partner=dana).count() == 3
    assert AvailabilityWindow.objects.filter(partner=marcus).count() == 3
    assert Booking.objects.count() == 4
    assert set(Booking.objects.values_list("status", flat=True)) == {"confirmed", "cancelled"}
    assert Booking.objects.filter(ends_at__lt=timezone.now()).count() == 1
    assert free_slots(partner=dana) and free_slots(partner=marcus)
