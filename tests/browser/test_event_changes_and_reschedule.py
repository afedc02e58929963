"""In real Chromium: a partner moves an event (invitees get an updated .ics) and cancels it; a prospect
reschedules their review through the emailed link on a phone; a partner's calendar feed."""

from __future__ import annotations

import datetime
import re

import icalendar
import pytest

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _no_sideways_scroll(page) -> None:
    # Charts follow a viewport change on the next frames (Chart.js observes its container's size).
    # Polled from here: wait_for_function polls through eval, which the page's policy forbids.
    for _ in range(30):
        width = page.evaluate("document.documentElement.scrollWidth")
        if width <= PHONE["width"]:
            break
        page.wait_for_timeout(100)
    assert width <= PHONE["width"], f"{page.url} scrolls sideways at 390 px ({width} px wide)"


def _calendars(outbox) -> dict[str, icalendar.Calendar]:
    found = {}
    for message in outbox:
        for part in message.message().walk():
            if part.get_content_type() == "text/calendar":
                found[message.to[0]] = icalendar.Calendar.from_ical(part.get_payload(decode=True).decode())
    return found


@pytest.fixture(autouse=True)
def _fresh_booking_throttle():
    from django.core.cache import cache

    from diagnostics.booking.views import ip_throttle_key

    cache.delete(ip_throttle_key("127.0.0.1"))
    yield
    cache.delete(ip_throttle_key("127.0.0.1"))


def test_a_partner_moves_then_cancels_an_event_in_the_browser(world, live_server, page):
    from django.core import mail

    from community import services
    from community.models import Event
    from tests.community.conftest import answer, invite, make_event
    from tmw.accounts.tenancy import operator_scope

    with operator_scope():
        event = make_event(world.partner, tz="America/Chicago", capacity=10)
        services.event_question_add(
            event=event, actor=world.partner, label="Which PSA?", kind="choice", choices="Halo\nAutotask", required=True
        )
        going = invite(event, email="going@msp.example")
        answer(going, answers={"q" + str(event.questions.get().pk): "Halo"})
        declined = invite(event, email="declined@msp.example")
        answer(declined, going=False)
        invite(event, email="quiet@msp.example")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server, world.partner)
    page.goto(f"{live_server.url}/community/events/{event.pk}/edit/")
    local_start = (event.starts_at.astimezone(event.zone) + datetime.timedelta(days=1)).replace(second=0)
    page.fill("input[name=starts_at]", local_start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("input[name=ends_at]", (local_start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    mail.outbox.clear()
    page.click("button:has-text('Save')")
    page.wait_for_url(re.compile(rf".*/community/events/{event.pk}/$"))
    assert "2 invitees who had not declined are emailed" in page.content()
    assert "Halo" in page.content()  # the answer to the RSVP question, on the event page
    calendars = _calendars(mail.outbox)
    assert sorted(calendars) == ["going@msp.example", "quiet@msp.example"]
    for cal in calendars.values():
        (vevent,) = cal.walk("VEVENT")
        assert cal["METHOD"] == "REQUEST" and int(vevent["SEQUENCE"]) == 1
        assert vevent["DTSTART"].params["TZID"] == "America/Chicago"
        assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["America/Chicago"]
        assert vevent.decoded("DTSTART").replace(tzinfo=None) == local_start.replace(tzinfo=None)

    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    mail.outbox.clear()
    page.on("dialog", lambda dialog: dialog.accept())
    page.fill("#cancel-event input[name=reason]", "The venue flooded")
    page.click("#cancel-event button[type=submit]")
    page.wait_for_selector("#event-cancelled")
    cancels = _calendars(mail.outbox)
    assert sorted(cancels) == ["going@msp.example", "quiet@msp.example"]
    assert all(c["METHOD"] == "CANCEL" and c.walk("VEVENT")[0]["STATUS"] == "CANCELLED" for c in cancels.values())
    with operator_scope():
        assert Event.objects.get(pk=event.pk).sequence == 2
    assert errors == []


def test_a_prospect_reschedules_through_the_emailed_link_on_a_phone(live_server, page):
    from django.core import mail

    from diagnostics.booking import services
    from diagnostics.booking.models import Booking
    from diagnostics.booking.selectors import free_slots
    from tests.diagnostics.test_booking_slots import make_partner, window
    from tmw.accounts import policy

    partner = make_partner("Dana Whitfield", time_zone="America/New_York")
    for weekday in range(7):
        window(partner, weekday, "09:00", "12:00")
    first = free_slots(partner=partner)[0]
    booking = services.booking_create(
        actor=policy.VISITOR,
        partner=partner,
        starts_at=first.starts_at,
        company="Harborline Security",
        website="https://harborline-security.example",
        contact_name="Elena Vargas",
        email="elena@harborline-security.example",
        phone="+1 617 555 0142",
        role="VP Sales",
        sells="Email security.",
        time_zone="America/Los_Angeles",
    )
    services.booking_emails_send(booking=booking, kind="confirmed", actor=policy.SYSTEM)
    prospect_mail = next(m for m in mail.outbox if m.to == [booking.email])
    link = re.search(r"https?://[^/\s]+(/book/reschedule/[^\s]+/)", prospect_mail.body).group(1)
    mail.outbox.clear()

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{link}")
    # The browser's own zone is picked (book.js), as on /book/.
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Reschedule your channel review"
    _no_sideways_scroll(page)
    days = page.locator(".day")
    days.nth(1).click()
    chosen_day = days.nth(1).get_attribute("data-day")
    page.wait_for_selector(f".day.active[data-day='{chosen_day}']")
    label = page.locator(".slot label").first
    assert "with" not in label.inner_text()
    label.click()
    page.screenshot(path="/tmp/events-reschedule-390.png", full_page=True)
    page.click("button:has-text('Move my review to this time')")
    page.wait_for_url(re.compile(r".*/book/manage/.*"))
    assert "Your review is moved" in page.content()
    _no_sideways_scroll(page)
    booking.refresh_from_db()
    assert booking.sequence == 1 and booking.starts_at != first.starts_at
    assert booking.previous_starts_at == first.starts_at
    calendars = _calendars(mail.outbox)
    cal = calendars[booking.email]
    (vevent,) = cal.walk("VEVENT")
    assert int(vevent["SEQUENCE"]) == 1 and str(vevent["UID"]).startswith(f"booking-{booking.pk}@")
    assert partner.email in calendars
    assert Booking.objects.count() == 1
    assert errors == []


def test_a_partners_feed_url_is_copied_from_the_profile_and_stops_after_regenerate(world, live_server, page):
    from django.test import Client

    log_in(page, live_server, world.partner)
    page.goto(f"{live_server.url}/accounts/profile/")
    page.click("button:has-text('Create the feed URL')")
    page.wait_for_selector("[data-testid=calendar-feed-url]")
    old = page.input_value("[data-testid=calendar-feed-url]")
    path = re.sub(r"^https?://[^/]+", "", old)
    assert Client().get(path).status_code == 200
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Make a new URL')")
    page.wait_for_load_state("networkidle")
    new = page.input_value("[data-testid=calendar-feed-url]")
    assert new != old
    assert Client().get(path).status_code == 404
    assert Client().get(re.sub(r"^https?://[^/]+", "", new)).status_code == 200
    page.set_viewport_size(PHONE)
    page.screenshot(path="/tmp/events-profile-390.png", full_page=True)
    _no_sideways_scroll(page)
