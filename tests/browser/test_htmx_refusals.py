"""Each htmx form the server refuses shows the server's message where the form was, in real Chromium.

htmx swaps 4xx answers on every page (templates/includes/htmx_config.html), so a refused form is
re-rendered with its message instead of nothing happening.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.walk import session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def built_world(db):
    from tests.factories import build_world

    return build_world()


def _page_as(browser, live_server, user, width: int = 390):
    context = browser.new_context(viewport={"width": width, "height": 844})
    context.add_cookies([session_cookie(user, live_server.url)])
    return context.new_page()


def test_an_invitation_to_an_address_the_server_refuses_says_so(built_world, live_server, browser):
    page = _page_as(browser, live_server, built_world.partner)
    page.goto(live_server.url + "/accounts/people/")
    form = page.locator("#invite-panel form")
    # The organisation picker searches every organisation as the partner types.
    form.locator("input[type=search]").fill(built_world.a.vendor.name)
    picker = form.locator("select[name=organisation]")
    expect(picker.locator("option", has_text=built_world.a.vendor.name)).to_have_count(1)
    picker.select_option(label=built_world.a.vendor.name)
    form.locator("input[name=email]").fill("someone@b")  # the browser's own check accepts this
    form.locator("button[type=submit]").click()
    expect(page.locator("#invite-panel .errorlist").first).to_be_visible()
    expect(page.locator("#invite-panel input[name=email]")).to_have_value("someone@b")


def test_a_vendor_admins_team_invitation_the_server_refuses_says_so(built_world, live_server, browser):
    page = _page_as(browser, live_server, built_world.a.vendor_admin)
    page.goto(live_server.url + "/accounts/team/")
    form = page.locator("#invite-panel form")
    form.locator("input[name=email]").fill("colleague@b")
    form.locator("button[type=submit]").click()
    expect(page.locator("#invite-panel .errorlist").first).to_be_visible()


def test_excluding_a_target_without_a_reason_says_why_not(built_world, live_server, browser):
    from diagnostics.models import TargetEntry

    entry = built_world.a.objects[TargetEntry]
    page = _page_as(browser, live_server, built_world.partner, width=1366)
    page.goto(live_server.url + f"/diagnostics/{entry.target_list.diagnostic_id}/targets/")
    row = page.locator(f"#entry-{entry.pk}")
    row.locator("button[value=exclude]").click()
    expect(page.locator(f"#entry-{entry.pk} .errorlist")).to_be_visible()
    entry.refresh_from_db()
    assert not entry.excluded


def test_an_availability_window_that_ends_before_it_starts_says_so(built_world, live_server, browser):
    page = _page_as(browser, live_server, built_world.partner, width=1366)
    page.goto(live_server.url + "/bookings/availability/")
    form = page.locator("#availability form:has(input[name=action][value=window])")
    form.locator("select[name=start_time]").select_option("15:00")
    form.locator("select[name=end_time]").select_option("09:00")
    form.locator("button[type=submit]").click()
    expect(page.locator("#availability .errorlist").first).to_be_visible()
