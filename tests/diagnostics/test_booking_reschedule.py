"""A prospect moves their channel review through the signed link in the confirmation email."""

from __future__ import annotations

import datetime
import re

import icalendar
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from diagnostics.booking import services
from diagnostics.booking.models import Booking
from diagnostics.booking.selectors import free_slots
from tests.diagnostics.test_booking import _calendar_part, _service_kwargs
from tests.diagnostics.test_booking_slots import make_partner, window
from tmw.accounts import policy
from tmw.errors import ApplicationError


@pytest.fixture(autouse=True)
def _fresh_booking_throttle():
    from django.core.cache import cache

    from diagnostics.booking.views import ip_throttle_key

    cache.delete(ip_throttle_key("127.0.0.1"))
    yield
    cache.delete(ip_throttle_key("127.0.0.1"))


@pytest.fixture
def partner(db):
    person = make_partner()
    for weekday in range(7):
        window(person, weekday, "08:00", "18:00")
    return person


@pytest.fixture
def booking(partner, django_capture_on_commit_callbacks):
    slot = free_slots(partner=partner)[0]
    with django_capture_on_commit_callbacks(execute=True):
        made = services.booking_create(
            actor=policy.VISITOR,
            partner=partner,
            starts_at=slot.starts_at,
            time_zone="America/Vancouver",
            **_service_kwargs(),
        )
    return made


def test_the_confirmation_email_has_the_reschedule_link(booking):
    prospect_mail = next(m for m in mail.outbox if m.to == [booking.email])
    link = re.search(r"https?://[^/\s]+(/book/reschedule/[^\s]+/)", prospect_mail.body).group(1)
    assert services.booking_for_reschedule_token(link.split("/")[3]) == booking
    assert "Reschedule your review" in prospect_mail.alternatives[0].content


def test_a_prospect_reschedules_through_the_link(booking, partner, client, django_capture_on_commit_callbacks):
    token = services.reschedule_token(booking)
    url = reverse("booking:reschedule", args=[token])
    page = client.get(url, {"tz": "America/Vancouver"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Reschedule your channel review" in body and 'value="America/Vancouver" selected' in body
    old_start = booking.starts_at
    target = next(s for s in free_slots(partner=partner) if s.starts_at > old_start + datetime.timedelta(days=1))
    assert (
        target.key
        in client.get(
            url,
            {
                "tz": "America/Vancouver",
                "day": target.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("America/Vancouver"))
                .date()
                .isoformat(),
            },
        ).content.decode()
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"slot": target.key, "tz": "America/Vancouver"})
    assert response.status_code == 302, response.content.decode()[:3000]
    booking.refresh_from_db()
    assert (booking.starts_at, booking.sequence, booking.previous_starts_at) == (target.starts_at, 1, old_start)
    # The old slot is free again; the new one is not.
    starts = {s.starts_at for s in free_slots(partner=partner)}
    assert old_start in starts and target.starts_at not in starts
    prospect_mail = next(m for m in mail.outbox if m.to == [booking.email])
    partner_mail = next(m for m in mail.outbox if m.to == [partner.email])
    assert prospect_mail.subject.startswith("Rescheduled:") and "moved" in partner_mail.body
    cal = icalendar.Calendar.from_ical(_calendar_part(prospect_mail).get_payload(decode=True).decode())
    (event,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"booking-{booking.pk}@127.0.0.1" and int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == target.starts_at
    assert event["DTSTART"].params["TZID"] == "America/Vancouver"


def test_a_taken_slot_is_refused_with_a_message_naming_the_slot(booking, partner, client):
    other = next(s for s in free_slots(partner=partner) if s.starts_at != booking.starts_at)
    services.booking_create(
        actor=policy.VISITOR,
        partner=partner,
        starts_at=other.starts_at,
        **_service_kwargs(email="someone.else@othercorp.example"),
    )
    url = reverse("booking:reschedule", args=[services.reschedule_token(booking)])
    response = client.post(url, {"slot": other.key, "tz": "America/New_York"})
    assert response.status_code == 409
    assert services.SLOT_TAKEN in response.content.decode()
    booking.refresh_from_db()
    assert booking.sequence == 0 and booking.starts_at != other.starts_at
    with pytest.raises(ApplicationError) as refused:
        services.booking_reschedule(booking=booking, starts_at=other.starts_at, actor=policy.VISITOR)
    assert refused.value.extra == {"slot": [services.SLOT_TAKEN]} and refused.value.status == 409
    missing = client.post(url, {"tz": "America/New_York"})
    assert missing.status_code == 400 and "Slot: pick a day and a new time." in missing.content.decode()


def test_a_cancelled_or_past_booking_says_so(booking, client):
    url = reverse("booking:reschedule", args=[services.reschedule_token(booking)])
    services.booking_cancel(booking=booking, actor=policy.VISITOR)
    page = client.get(url)
    assert page.status_code == 410 and "This review was cancelled" in page.content.decode()
    booking.status = Booking.Status.CONFIRMED
    booking.starts_at = timezone.now() - datetime.timedelta(days=2)
    booking.ends_at = booking.starts_at + datetime.timedelta(minutes=45)
    booking.save()
    page = client.get(url)
    assert page.status_code == 410 and "already taken place" in page.content.decode()
    assert client.get(reverse("booking:reschedule", args=["nonsense"])).status_code == 404
    # The manage link is not a reschedule link (each link kind has its own salt).
    assert client.get(reverse("booking:reschedule", args=[services.booking_token(booking)])).status_code == 404


def test_the_reschedule_api(booking, partner, client):
    token = services.reschedule_token(booking)
    state = client.get(f"/api/v1/booking-reschedules/{token}/")
    assert state.status_code == 200
    data = state.json()
    assert data["can_reschedule"] and data["booking"]["sequence"] == 0 and data["free_slots"]
    target = data["free_slots"][3]["starts_at"]
    moved = client.post(f"/api/v1/booking-reschedules/{token}/", {"starts_at": target}, content_type="application/json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["sequence"] == 1
    again = client.post(f"/api/v1/booking-reschedules/{token}/", {"starts_at": target}, content_type="application/json")
    assert again.status_code == 400 and "slot" in again.json()["extra"]
    assert client.get("/api/v1/booking-reschedules/nope/").status_code == 404


@pytest.mark.postgres
def test_a_reschedule_racing_a_new_booking_for_one_slot_gives_the_slot_once(transactional_db):
    """The partner row is locked by both paths: one wins, the other is told the slot was just taken."""
    import threading

    from django.db import connection

    from tests.conftest import uses_postgres

    if not uses_postgres():
        pytest.skip("the race needs PostgreSQL row locks; CI runs it on PostgreSQL")
    person = make_partner()
    for weekday in range(7):
        window(person, weekday, "08:00", "18:00")
    first, target = free_slots(partner=person)[:2]
    mine = services.booking_create(actor=policy.VISITOR, partner=person, starts_at=first.starts_at, **_service_kwargs())
    barrier = threading.Barrier(2)
    results: list[str] = []

    def move() -> None:
        try:
            barrier.wait(timeout=10)
            services.booking_reschedule(booking=mine, starts_at=target.starts_at, actor=policy.VISITOR)
            results.append("moved")
        except ApplicationError as exc:
            results.append(exc.message)
        finally:
            connection.close()

    def book() -> None:
        try:
            barrier.wait(timeout=10)
            services.booking_create(
                actor=policy.VISITOR,
                partner=person,
                starts_at=target.starts_at,
                **_service_kwargs(email="other.buyer@othercorp.example"),
            )
            results.append("booked")
        except ApplicationError as exc:
            results.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=move), threading.Thread(target=book)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert services.SLOT_TAKEN in results and len(results) == 2
    assert Booking.objects.filter(partner=person, starts_at=target.starts_at).exclude(status="cancelled").count() == 1
