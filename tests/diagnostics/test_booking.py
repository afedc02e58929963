"""The public booking page: happy path with emails and .ics, validation, throttling, the signed link, the race."""

from __future__ import annotations

import datetime
import re
import threading
import time
from unittest import mock

import pytest
from django.core import mail, signing
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from diagnostics.booking import services, tasks
from diagnostics.booking.models import Booking
from diagnostics.booking.selectors import free_slots
from tests.conftest import uses_postgres
from tests.diagnostics.test_booking_slots import make_partner, window
from tests.test_ics import event_values, unescape
from tmw.accounts import policy
from tmw.errors import ApplicationError

PROSPECT = {
    "company": "Harborline Security",
    "website": "https://harborline-security.example",
    "contact_name": "Elena Vargas",
    "email": "Elena.Vargas@Harborline-Security.example",
    "phone": "+1 617 555 0142",
    "role": "VP Sales",
    "has_us_sales": "on",
    "has_us_channel": "on",
    "sells": "Email security gateway, sold per mailbox.",
    "notes": "Two MSPs resell us informally.",
}


@pytest.fixture(autouse=True)
def _fresh_booking_throttle():
    """Each test starts with no booking attempts counted for the test client's address."""
    from django.core.cache import cache

    from diagnostics.booking.views import ip_throttle_key

    cache.delete(ip_throttle_key("127.0.0.1"))
    yield
    cache.delete(ip_throttle_key("127.0.0.1"))


@pytest.fixture
def partner(db):
    """A partner in Chicago who takes reviews every day from 8:00 to 18:00."""
    person = make_partner()
    for weekday in range(7):
        window(person, weekday, "08:00", "18:00")
    return person


def _form(chosen, **overrides) -> dict:
    data = {**PROSPECT, "slot": chosen.key, "tz": "America/Vancouver", "day": chosen.starts_at.date().isoformat()}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _service_kwargs(**overrides) -> dict:
    data = {k: v for k, v in PROSPECT.items() if not k.startswith("has_")}
    data.update(overrides)
    return data


def _calendar_part(message):
    for part in message.message().walk():
        if part.get_content_type() == "text/calendar":
            return part
    raise AssertionError("no text/calendar attachment")


def test_the_public_page_shows_days_and_slots_in_the_visitors_zone(partner, client):
    page = client.get(reverse("booking:book"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Book a 45-minute channel review" in body
    assert 'value="America/New_York" selected' in body
    assert "with Marcus Okafor" in body
    slot = free_slots()[0]
    first_ny = slot.starts_at.astimezone(datetime.timezone(datetime.timedelta(0))).strftime("%Y%m%dT%H%MZ")
    assert first_ny in body  # the slot key
    # htmx asks for the picker alone, in another zone.
    partial = client.get(reverse("booking:book"), {"tz": "America/Vancouver"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert 'value="America/Vancouver" selected' in partial.content.decode()


def test_a_prospect_books_a_slot_and_gets_emails_with_an_ics(partner, client, django_capture_on_commit_callbacks):
    slot = free_slots()[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("booking:book"), _form(slot))
    assert response.status_code == 302, response.content.decode()[:2000]
    booking = Booking.objects.get()
    assert (booking.partner, booking.starts_at, booking.status) == (partner, slot.starts_at, "confirmed")
    assert booking.ends_at - booking.starts_at == datetime.timedelta(minutes=45)
    assert booking.email == "elena.vargas@harborline-security.example"
    assert (booking.has_us_sales, booking.has_us_marketing, booking.has_us_channel) == (True, False, True)
    assert booking.time_zone == "America/Vancouver"

    confirmation = client.get(response["Location"])
    assert confirmation.status_code == 200
    assert "You're booked" in confirmation.content.decode()

    assert sorted(m.to[0] for m in mail.outbox) == ["elena.vargas@harborline-security.example", partner.email]
    prospect_mail = next(m for m in mail.outbox if m.to == [booking.email])
    assert "Confirmed" in prospect_mail.subject
    html = prospect_mail.alternatives[0]
    assert html.mimetype == "text/html" and "View or cancel your booking" in html.content
    part = _calendar_part(prospect_mail)
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "channel-review.ics"
    values = event_values(part.get_payload(decode=True).decode("utf-8"))
    assert values["METHOD"] == "REQUEST"
    # Written in the prospect's zone, with its VTIMEZONE.
    vancouver = __import__("zoneinfo").ZoneInfo("America/Vancouver")
    assert values["DTSTART"] == slot.starts_at.astimezone(vancouver).strftime("%Y%m%dT%H%M%S")
    assert values["DTSTART:params"]["TZID"] == "America/Vancouver"
    assert values["DTEND"] == (slot.starts_at + datetime.timedelta(minutes=45)).astimezone(vancouver).strftime(
        "%Y%m%dT%H%M%S"
    )
    assert values["ORGANIZER"] == f"mailto:{partner.email}"
    assert values["ATTENDEE"] == f"mailto:{booking.email}"
    assert values["UID"].startswith(f"booking-{booking.pk}@")
    # The visitor's local time appears in their email.
    local = slot.starts_at.astimezone(datetime.UTC).astimezone(__import__("zoneinfo").ZoneInfo("America/Vancouver"))
    assert local.strftime("%-I:%M %p") in prospect_mail.body
    # The link in the email opens the booking, without a password.
    link = re.search(r"https?://[^/\s]+(/book/manage/[^\s]+/)", prospect_mail.body).group(1)
    assert unescape(values["DESCRIPTION"]).find(link) != -1
    manage = client.__class__().get(link)
    assert manage.status_code == 200 and "Harborline Security" in manage.content.decode()
    ics = client.__class__().get(reverse("booking:manage_ics", args=[link.split("/")[3]]))
    assert ics.status_code == 200 and ics["Content-Type"].startswith("text/calendar; method=REQUEST")
    assert event_values(ics.content.decode())["DTSTART"] == values["DTSTART"]

    partner_mail = next(m for m in mail.outbox if m.to == [partner.email])
    assert "New channel review" in partner_mail.subject and "Harborline Security" in partner_mail.subject
    assert "sales, channel" in partner_mail.body
    assert _calendar_part(partner_mail).get_param("method") == "REQUEST"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "someone@gmail.com"}, "email", "work email"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"company": ""}, "company", "required"),
        ({"sells": ""}, "sells", "required"),
        ({"phone": "call me"}, "phone", "phone number"),
        ({"website": "not a site"}, "website", "valid URL"),
        ({"slot": ""}, "slot", "Pick a day"),
        ({"slot": "99-garbage"}, "slot", "Pick a day"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_booked(partner, client, overrides, field, message):
    slot = free_slots()[0]
    response = client.post(reverse("booking:book"), _form(slot, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["form"].errors[field]
    assert not Booking.objects.exists()
    assert mail.outbox == []
    # What the prospect typed is kept.
    if overrides.get("company", "x"):
        assert PROSPECT["company"] in response.content.decode()


def test_a_slot_taken_meanwhile_or_in_the_past_or_not_offered_is_refused(partner, client):
    slot = free_slots()[0]
    Booking.objects.create(
        partner=partner,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        **_service_kwargs(email="first@acme.example"),
    )
    taken = client.post(reverse("booking:book"), _form(slot))
    assert taken.status_code == 409
    assert "That slot was just taken" in taken.content.decode()

    past = slot.starts_at - datetime.timedelta(days=30)
    key = f"{partner.pk}-{past:%Y%m%dT%H%MZ}"
    assert client.post(reverse("booking:book"), _form(slot, slot=key)).status_code in (400, 409)
    soon = timezone.now().replace(second=0, microsecond=0) + datetime.timedelta(hours=2)
    key = f"{partner.pk}-{soon:%Y%m%dT%H%MZ}"
    assert client.post(reverse("booking:book"), _form(slot, slot=key)).status_code == 409
    odd = slot.starts_at + datetime.timedelta(minutes=7)
    key = f"{partner.pk}-{odd:%Y%m%dT%H%MZ}"
    assert client.post(reverse("booking:book"), _form(slot, slot=key)).status_code == 409
    assert Booking.objects.count() == 1


def test_a_prospect_books_at_most_three_reviews_a_day(partner, client):
    slots = free_slots()
    for slot in slots[:3]:
        assert client.post(reverse("booking:book"), _form(slot)).status_code == 302
    fourth = client.post(reverse("booking:book"), _form(slots[3]))
    assert fourth.status_code == 429
    assert "several reviews today" in fourth.content.decode()
    assert Booking.objects.count() == 3


def test_one_network_is_throttled_after_many_attempts(partner, client):
    slot = free_slots()[0]
    for _ in range(20):
        client.post(reverse("booking:book"), _form(slot, company=""))
    response = client.post(reverse("booking:book"), _form(slot))
    assert response.status_code == 429
    assert not Booking.objects.exists()


def test_line_breaks_in_one_line_fields_cannot_reach_email_headers(partner, client, django_capture_on_commit_callbacks):
    slot = free_slots()[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("booking:book"), _form(slot, company="Acme\r\nBcc: victim@else.example"))
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.company == "Acme Bcc: victim@else.example"
    assert all("\n" not in m.subject and m.bcc == [] for m in mail.outbox) and len(mail.outbox) == 2


# --- The signed link --------------------------------------------------------------------------


def _book(partner, **overrides) -> Booking:
    slot = free_slots(partner=partner)[0]
    return services.booking_create(
        actor=policy.VISITOR, partner=partner, starts_at=slot.starts_at, **_service_kwargs(**overrides)
    )


def test_the_prospect_cancels_through_the_signed_link(partner, client, django_capture_on_commit_callbacks):
    booking = _book(partner)
    token = services.booking_token(booking)
    page = client.get(reverse("booking:manage", args=[token]))
    assert page.status_code == 200 and "Cancel the review" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("booking:manage_cancel", args=[token]), follow=True)
    assert response.status_code == 200
    assert "Your review is cancelled" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == "cancelled" and booking.cancelled_by_prospect and booking.cancelled_at
    cancel_mails = [m for m in mail.outbox if m.subject.startswith("Cancelled")]
    assert sorted(m.to[0] for m in cancel_mails) == sorted([booking.email, partner.email])
    assert _calendar_part(cancel_mails[0]).get_param("method") == "CANCEL"
    # The slot is free again, and a second cancel changes nothing.
    assert booking.starts_at in [s.starts_at for s in free_slots(partner=partner)]
    again = client.post(reverse("booking:manage_cancel", args=[token]), follow=True)
    assert "is cancelled" in again.content.decode()
    assert Booking.objects.get().status == "cancelled"


def test_tampered_and_expired_links_are_refused(partner, client):
    booking = _book(partner)
    token = services.booking_token(booking)
    other = _book(partner, email="second@harborline-security.example")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    wrong_salt = signing.dumps({"b": other.pk, "e": other.email}, salt="another-purpose")
    # Correctly signed, but naming another booking than the email it was given for.
    mismatched = signing.dumps({"b": other.pk, "e": booking.email}, salt=services.LINK_SALT)
    for bad in (tampered, wrong_salt, mismatched, "not-a-real-token", token + "x"):
        for name in ("booking:manage", "booking:manage_ics", "booking:confirmation"):
            assert client.get(reverse(name, args=[bad])).status_code == 404, (name, bad)
        assert client.post(reverse("booking:manage_cancel", args=[bad])).status_code == 404
    # Signed long ago: expired.
    long_ago = time.time() - services.LINK_MAX_AGE.total_seconds() - 60
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        expired = services.booking_token(booking)
    assert client.get(reverse("booking:manage", args=[expired])).status_code == 404
    assert client.post(reverse("booking:manage_cancel", args=[expired])).status_code == 404
    # A link whose email no longer matches the booking is stale.
    Booking.objects.filter(pk=booking.pk).update(email="changed@harborline-security.example")
    assert client.get(reverse("booking:manage", args=[token])).status_code == 404
    assert Booking.objects.filter(status="confirmed").count() == 2


# --- Never double-booked --------------------------------------------------------------------------


def test_the_database_refuses_two_live_bookings_of_one_partner_slot(partner):
    start = timezone.now() + datetime.timedelta(days=3)
    fields = {"partner": partner, "starts_at": start, "ends_at": start + datetime.timedelta(minutes=45)}
    first = Booking.objects.create(**fields, **_service_kwargs(email="a@acme.example"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(**fields, **_service_kwargs(email="b@acme.example"))
    first.status = Booking.Status.CANCELLED
    first.save()
    Booking.objects.create(**fields, **_service_kwargs(email="b@acme.example"))  # a cancelled booking frees it
    other = make_partner("Dana Whitfield", time_zone="America/New_York")
    Booking.objects.create(**{**fields, "partner": other}, **_service_kwargs(email="c@acme.example"))
    assert Booking.objects.exclude(status="cancelled").count() == 2


def test_an_integrity_error_becomes_a_clear_slot_taken_message(partner):
    slot = free_slots(partner=partner)[0]
    Booking.objects.create(
        partner=partner, starts_at=slot.starts_at, ends_at=slot.ends_at, **_service_kwargs(email="a@acme.example")
    )
    # Pretend the availability check missed the booking (as a racing request would): the constraint still holds.
    with mock.patch.object(services, "free_slots", return_value=[slot]), pytest.raises(ApplicationError) as caught:
        services.booking_create(actor=policy.VISITOR, partner=partner, starts_at=slot.starts_at, **_service_kwargs())
    assert caught.value.message == services.SLOT_TAKEN and caught.value.status == 409
    assert Booking.objects.count() == 1


@pytest.mark.postgres
def test_two_prospects_racing_for_one_slot_get_one_booking(transactional_db):
    if not uses_postgres():
        pytest.skip("the race needs PostgreSQL row locks; CI runs it on PostgreSQL")
    partner = make_partner()
    for weekday in range(7):
        window(partner, weekday, "08:00", "18:00")
    slot = free_slots(partner=partner)[0]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def attempt(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            services.booking_create(
                actor=policy.VISITOR,
                partner=partner,
                starts_at=slot.starts_at,
                **_service_kwargs(email=f"buyer{i}@company{i}.example"),
            )
            results.append("booked")
        except ApplicationError as exc:
            results.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == sorted(["booked", services.SLOT_TAKEN])
    assert Booking.objects.filter(partner=partner, starts_at=slot.starts_at).count() == 1


def test_the_public_page_keeps_a_constant_number_of_queries(partner, client, django_assert_num_queries):
    client.get(reverse("booking:book"))
    with django_assert_num_queries(3):
        client.get(reverse("booking:book"))
    for weekday in range(7):
        window(make_partner(f"Other {weekday}", email=f"o{weekday}@tmw.example"), weekday, "09:00", "17:00")
    for slot in free_slots()[:5]:
        Booking.objects.create(
            partner_id=slot.partner_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            **_service_kwargs(email=f"x{slot.partner_id}{slot.starts_at:%d%H%M}@acme.example"),
        )
    with django_assert_num_queries(3):
        client.get(reverse("booking:book"))


@pytest.mark.worker
def test_a_real_worker_sends_the_booking_emails(celery_worker_process):
    """The worker finds the task through autodiscovery and reads the booking from the shared database."""
    partner = make_partner()
    window(partner, 0, "09:00", "12:00")
    slot = free_slots(partner=partner)[0]
    booking = Booking.objects.create(
        partner=partner, starts_at=slot.starts_at, ends_at=slot.ends_at, **_service_kwargs(email="w@worker.example")
    )
    result = tasks.send_booking_emails.apply_async(args=[booking.pk, "confirmed"])
    assert result.get(timeout=30) == "confirmed"
