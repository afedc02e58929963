"""Every page each role can reach, at phone and laptop width: no sideways scroll, no console error, no 5xx.

The pages come from the URL resolver (see ``tests.browser.walk``), not from a hand list. With
``SCREENSHOTS_DIR`` set the same walk saves a full-page screenshot of each page there
(``<dir>/<role>/<width>/<route>.png``); ``make screenshots`` does that.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.browser.walk import ROLES, pages_for, visit_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ["SCREENSHOTS_DIR"]) if os.environ.get("SCREENSHOTS_DIR") else None


@pytest.fixture
def built_world(db):
    from tests.factories import build_world

    return build_world()


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_fits_the_screen(role, built_world, live_server, browser):
    started = time.monotonic()
    user = ROLES[role](built_world)
    problems = visit_all(browser, live_server.url, role, user, built_world, screenshots=SCREENSHOTS)
    print(f"{role}: walked in {time.monotonic() - started:.1f} s")
    assert not problems, "\n".join(problems)


def test_the_walk_finds_each_roles_pages(built_world):
    """The walk is not empty and follows the policy: the vendor never gets the partner's people page."""
    partner = {p.name for p in pages_for(built_world.partner, built_world).pages}
    vendor = {p.name for p in pages_for(built_world.a.vendor_admin, built_world).pages}
    assert "accounts:people" in partner
    assert "accounts:people" not in vendor
    assert len(partner) > 10 and vendor


def phone_page(browser, live_server, user):
    from tests.browser.walk import session_cookie

    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies([session_cookie(user, live_server.url)])
    return context, context.new_page()


def test_the_opened_phone_menu_sits_below_the_logo(built_world, live_server, browser):
    context, page = phone_page(browser, live_server, built_world.admin)
    try:
        page.goto(f"{live_server.url}/partner/")
        page.click(".nav-toggle-label")
        brand = page.locator(".brand").bounding_box()
        nav = page.locator(".mainnav").bounding_box()
        assert brand and nav
        assert nav["y"] >= brand["y"] + brand["height"]  # a row of its own, not beside the logo
        assert nav["width"] > 300  # the bar's whole width
        links = page.locator(".mainnav a")
        tops = {round(links.nth(i).bounding_box()["y"]) for i in range(links.count())}
        assert len(tops) == links.count()  # one link a line
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        if SCREENSHOTS is not None:
            page.screenshot(path=str(SCREENSHOTS / "admin" / "390" / "menu_opened.png"))
    finally:
        context.close()


def test_the_pipeline_board_scrolls_inside_itself_on_a_phone(built_world, live_server, browser):
    from engagements.models import Engagement

    engagement = built_world.a.objects[Engagement]
    context, page = phone_page(browser, live_server, built_world.partner)
    try:
        page.goto(f"{live_server.url}/engagements/{engagement.pk}/board/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        board = page.locator(".board-columns")
        assert board.evaluate("el => el.scrollWidth > el.clientWidth")  # the columns scroll in their box
    finally:
        context.close()


def test_typing_in_the_invite_form_does_not_reload_the_people_page(built_world, live_server, browser):
    context, page = phone_page(browser, live_server, built_world.partner)
    try:
        page.goto(f"{live_server.url}/accounts/people/")
        email = page.locator("#invite-panel input[name=email]")
        email.fill("new.colleague@tmw.example")
        page.wait_for_timeout(900)  # three times the filter's delay
        assert email.input_value() == "new.colleague@tmw.example"
        # The filter itself still reloads the list as one types in its search box.
        with page.expect_request(lambda r: "/accounts/people/?q=zebra" in r.url):
            page.locator("form.filters input[name=q]").fill("zebra")
        page.wait_for_url("**/accounts/people/?q=zebra*")
        assert page.locator("#invite-panel input[name=email]").input_value() == ""  # the page was swapped
    finally:
        context.close()
