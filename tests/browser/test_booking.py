"""A prospect books a channel review on the public page in real Chromium and sees the confirmation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_booking_throttle():
    """Each test starts with no booking attempts counted for the test client's address."""
    from django.core.cache import cache

    from diagnostics.booking.views import ip_throttle_key

    cache.delete(ip_throttle_key("127.0.0.1"))
    yield
    cache.delete(ip_throttle_key("127.0.0.1"))


@pytest.fixture
def partner(transactional_db):
    from tests.diagnostics.test_booking_slots import make_partner, window

    person = make_partner("Dana Whitfield", time_zone="America/New_York")
    for weekday in range(7):
        window(person, weekday, "09:00", "12:00")
    return person


def test_a_prospect_books_a_slot_and_sees_the_confirmation(partner, live_server, page):
    from django.core import mail

    from diagnostics.booking.models import Booking

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/book/")
    assert page.locator("h1").first.inner_text() == "Book a 45-minute channel review"
    assert page.locator("select[name=tz]").input_value() == "America/New_York"

    # Switch to Vancouver time: the picker reloads through htmx and shows the same partner.
    page.select_option("select[name=tz]", "America/Vancouver")
    expect(page.locator("select[name=tz]")).to_have_value("America/Vancouver")
    page.wait_for_load_state("networkidle")
    # Pick the second day with free times, then its first slot.
    days = page.locator(".day")
    assert days.count() >= 2
    chosen_day = days.nth(1).get_attribute("data-day")
    days.nth(1).click()
    page.wait_for_selector(f".day.active[data-day='{chosen_day}']")
    slot_label = page.locator(".slot label").first
    assert "with Dana Whitfield" in slot_label.inner_text()
    slot_label.click()

    page.fill("input[name=company]", "Harborline Security")
    page.fill("input[name=website]", "https://harborline-security.example")
    page.fill("input[name=contact_name]", "Elena Vargas")
    page.fill("input[name=role]", "VP Sales")
    page.fill("input[name=email]", "elena@harborline-security.example")
    page.fill("input[name=phone]", "+1 617 555 0142")
    page.check("input[name=has_us_sales]")
    page.fill("textarea[name=sells]", "Email security gateway, sold per mailbox.")
    page.click("button:has-text('Book the review')")

    page.wait_for_selector("#confirmation")
    assert "You're booked." in page.locator("#confirmation").inner_text()
    assert "America/Vancouver" in page.content()
    booking = Booking.objects.get()
    assert booking.partner == partner and booking.time_zone == "America/Vancouver" and booking.has_us_sales
    assert booking.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("America/Vancouver")).date().isoformat() == (
        chosen_day
    )
    assert len(mail.outbox) == 2
    assert errors == []
