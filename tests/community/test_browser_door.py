"""In real headless Chromium: the arrived count follows each tap at the door, and the comment counter follows typing."""

from __future__ import annotations

import datetime
import os

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOT_DIR", "")


@pytest.fixture
def world(db):
    from tests.factories import build_world

    return build_world()


def login(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _under_way(event) -> None:
    from django.utils import timezone

    from community.models import Event

    now = timezone.now()
    Event.objects.filter(pk=event.pk).update(
        starts_at=now - datetime.timedelta(minutes=30), ends_at=now + datetime.timedelta(hours=2)
    )


def test_each_check_in_tap_updates_the_arrived_count(world, live_server, page):
    from community.models import Event
    from tests.community.conftest import answer, invite, make_event

    event = make_event(world.partner, kind=Event.Kind.DINNER, capacity=10)
    rsvps = [answer(invite(event, world.a.msp, name=f"Guest {n}")) for n in range(3)]
    _under_way(event)
    page.set_viewport_size({"width": 390, "height": 844})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_server, world.partner)
    page.goto(f"{live_server.url}/community/events/{event.pk}/check-in/")
    expect(page.locator("#arrived")).to_have_text("0")
    page.click(f"#rsvp-{rsvps[0].pk} button")
    expect(page.locator("#arrived")).to_have_text("1")
    page.click(f"#rsvp-{rsvps[1].pk} button")
    expect(page.locator("#arrived")).to_have_text("2")
    expect(page.locator(f"#rsvp-{rsvps[1].pk} button")).to_contain_text("✓")
    page.click(f"#rsvp-{rsvps[0].pk} button")  # undo
    expect(page.locator("#arrived")).to_have_text("1")
    _shot(page, "check-in-open-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not errors


def test_check_in_weeks_ahead_says_when_it_opens(world, live_server, page):
    from community.models import Event
    from tests.community.conftest import answer, invite, make_event

    event = make_event(world.partner, kind=Event.Kind.DINNER, capacity=10, days=49)
    answer(invite(event, world.a.msp, name="Early Guest"))
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, world.partner)
    page.goto(f"{live_server.url}/community/events/{event.pk}/check-in/")
    expect(page.locator("#check-in-window")).to_contain_text("Check-in opens")
    expect(page.locator(".checkin-list .check-in-closed")).to_contain_text("Opens")
    expect(page.locator(".checkin-list button")).to_have_count(0)
    _shot(page, "check-in-not-yet-390")


def test_the_comment_counter_follows_typing_and_stops_at_the_limit(world, live_server, page):
    from community import services
    from community.models import Event
    from tests.community.conftest import answer, invite, make_event

    event = make_event(world.partner, kind=Event.Kind.PITCH, capacity=10)
    slot = services.pitch_slot_add(event=event, vendor=world.a.vendor, actor=world.partner)
    invitation = invite(event, world.a.msp, name="Mia Member", email=world.a.msp_member.email)
    rsvp = answer(invitation)
    _under_way(event)
    services.rsvp_check_in(rsvp=rsvp, actor=world.partner)
    page.set_viewport_size({"width": 390, "height": 844})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_server, world.a.msp_member)
    page.goto(f"{live_server.url}/community/portal/invitations/{invitation.pk}/")
    comment = page.locator(f"textarea[name=slot{slot.pk}-comment]")
    counter = comment.locator("xpath=following-sibling::*[@data-maxlength-output][1]")
    expect(counter).to_have_text("0 / 2,000 characters")
    comment.fill("Two clients asked")
    expect(counter).to_have_text("17 / 2,000 characters")
    comment.fill("")
    comment.press_sequentially("abc")
    expect(counter).to_have_text("3 / 2,000 characters")
    comment.fill("x" * 1999)
    comment.press_sequentially("yz")  # the browser stops at the limit
    assert len(comment.input_value()) == 2000
    expect(counter).to_have_text("2,000 / 2,000 characters (the limit)")
    _shot(page, "feedback-counter-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not errors


def test_the_portal_lists_a_shared_event_once_and_refuses_an_answer_not_chosen(world, live_server, page):
    from community.models import RSVP, Event
    from tests.community.conftest import invite, make_event
    from tests.factories import UserFactory
    from tmw.accounts.models import Role

    event = make_event(world.partner, kind=Event.Kind.DINNER, capacity=10, title="Harbour dinner")
    colleague = UserFactory(organisation=world.a.msp, role=Role.MSP_MEMBER, full_name="Sam Second")
    mine = invite(event, world.a.msp, name="Mia Member", email=world.a.msp_member.email)
    invite(event, world.a.msp, name="Sam Second", email=colleague.email)
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, world.a.msp_member)
    page.goto(f"{live_server.url}/community/portal/invitations/")
    expect(page.locator("tr", has_text="Harbour dinner")).to_have_count(1)
    expect(page.locator("tr", has_text="Harbour dinner")).to_contain_text("Also invited: Sam Second")
    _shot(page, "portal-list-390")
    page.goto(f"{live_server.url}/community/portal/invitations/{mine.pk}/")
    expect(page.locator("input[name=answer]:checked")).to_have_count(0)
    page.click("#rsvp-submit")  # the browser holds it back: a choice is required
    assert page.locator("input[name=answer]").first.evaluate("el => el.validity.valueMissing")
    assert not RSVP.objects.filter(invitation=mine).exists()
    page.locator("#rsvp-submit").evaluate("el => { el.form.noValidate = true; }")
    page.click("#rsvp-submit")  # and the server refuses it beside the field
    expect(page.locator("#id_answer_error")).to_have_text("Choose Going or Not going.")
    assert not RSVP.objects.filter(invitation=mine).exists()
    _shot(page, "portal-rsvp-refused-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
