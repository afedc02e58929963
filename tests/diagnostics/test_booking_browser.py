"""In real Chromium: the booking page follows the browser's time zone, the note counts its characters, and a
booking with an unbroken note fits a 390 px phone."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def partner(transactional_db):
    from tests.diagnostics.test_booking_slots import make_partner, window

    person = make_partner("Dana Whitfield", time_zone="America/New_York")
    for weekday in range(7):
        window(person, weekday, "09:00", "12:00")
    return person


def test_a_visitor_in_los_angeles_sees_los_angeles_times(partner, live_server, browser):
    from diagnostics.booking.selectors import free_slots

    context = browser.new_context(timezone_id="America/Los_Angeles")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/book/")
    expect(page.locator("select[name=tz]")).to_have_value("America/Los_Angeles")
    page.wait_for_load_state("networkidle")
    first = free_slots()[0]
    local = first.starts_at.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
    expect(page.locator(".day.active")).to_have_attribute("data-day", local.date().isoformat())
    label = page.locator(".slot label").first.inner_text()
    assert label.startswith(local.strftime("%-I:%M %p")), label
    new_york = first.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert new_york.hour - local.hour == 3  # the partner's 9:00 AM is the visitor's 6:00 AM

    # The note shows how much of its limit is used.
    page.fill("textarea[name=notes]", "Hello")
    expect(page.locator("#id_notes_counter")).to_have_text("5 / 4,000 characters")
    assert errors == []
    context.close()


def test_without_javascript_the_default_zone_and_the_select_work(partner, live_server, browser):
    context = browser.new_context(timezone_id="America/Los_Angeles", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/book/")
    assert page.locator("select[name=tz]").input_value() == "America/New_York"
    from diagnostics.booking.selectors import free_slots

    page.goto(f"{live_server.url}/book/?tz=America/Los_Angeles")
    assert page.locator("select[name=tz]").input_value() == "America/Los_Angeles"
    local = free_slots()[0].starts_at.astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert page.locator(".slot label").first.inner_text().startswith(local.strftime("%-I:%M %p"))
    context.close()


def test_a_booking_with_an_unbroken_note_fits_a_phone(partner, live_server, browser):
    from diagnostics.booking.models import Booking

    start = datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=3)
    booking = Booking.objects.create(
        partner=partner,
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=45),
        company="Harborline" + "X" * 180,  # the column holds 200
        website="https://harborline.example/" + "a" * 250,
        contact_name="Elena Vargas",
        email="elena@harborline.example",
        phone="+1 617 555 0142",
        role="VP Sales",
        sells="S" * 2000,
        notes="N" * 4000,
    )
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", partner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/bookings/{booking.pk}/")
    expect(page.locator("h2", has_text="Notes")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path="/tmp/tbook-detail-390.png", full_page=True)
    assert width <= 390, width
    context.close()


def test_the_availability_page_with_its_holidays_fits_a_phone(partner, live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", partner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/bookings/availability/")
    expect(page.locator("#closed-days button", has_text="Open this holiday").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#closed-days button", has_text="Open this holiday").first.click()
    expect(page.locator("#closed-days .badge", has_text="open for reviews").first).to_be_visible()
    context.close()
