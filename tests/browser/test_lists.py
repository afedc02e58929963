"""Lists in real Chromium: a clicked header sorts without a reload, and a filter changed afterwards keeps the sort.

Then an MSP member proposes a profile change and a partner approves it, as each would at a phone's width.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.walk import session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def built_world(db):
    from tests.directory.tenant_objects import add_msps
    from tests.factories import build_world

    world = build_world()
    add_msps(6, prefix="Browse")
    return world


def _page_as(browser, live_server, user, width: int = 1366):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies([session_cookie(user, live_server.url)])
    return context.new_page()


def test_sorting_the_directory_survives_a_filter_change(built_world, live_server, browser):
    page = _page_as(browser, live_server, built_world.partner)
    page.goto(live_server.url + "/diagnostics/msps/?q=Browse")
    header = page.locator("#msp-results th", has_text="Techs")
    header.locator("a").click()
    expect(page.locator("#msp-results th[aria-sort=ascending]", has_text="Techs")).to_be_visible()
    header = page.locator("#msp-results th", has_text="Techs")
    header.locator("a").click()
    expect(page.locator("#msp-results th[aria-sort=descending]", has_text="Techs")).to_be_visible()
    assert "sort=-techs" in page.url
    page.locator("select[name=community]").select_option("yes")
    expect(page).to_have_url(re.compile(r"community=yes"))
    assert "sort=-techs" in page.url
    expect(page.locator("#msp-results th[aria-sort=descending]", has_text="Techs")).to_be_visible()
    techs = [int(t) for t in page.locator("#msp-results tbody tr td:nth-child(4)").all_inner_texts()]
    assert techs and techs == sorted(techs, reverse=True)


def test_an_msp_proposes_a_change_and_a_partner_approves_it(built_world, live_server, browser):
    from tmw.accounts.tenancy import operator_scope
    from tmw.directory.models import MSPProfile, MSPProfileChange

    with operator_scope():
        MSPProfileChange.objects.all().delete()
    msp = _page_as(browser, live_server, built_world.a.msp_member, width=390)
    msp.goto(live_server.url + "/msp/profile/")
    msp.locator("input[name=technicians]").fill("27")
    msp.locator("button", has_text="Send to TMW for review").click()
    expect(msp.locator(".message-success")).to_contain_text("Sent to TMW")
    expect(msp.get_by_text("Waiting for review")).to_be_visible()

    partner = _page_as(browser, live_server, built_world.partner, width=390)
    partner.goto(live_server.url + "/diagnostics/msps/changes/")
    partner.locator("a", has_text="Review").first.click()
    expect(partner.locator("td", has_text="27")).to_be_visible()
    partner.locator("button", has_text="Approve").click()
    expect(partner.locator(".message-success")).to_contain_text("profile is updated")
    with operator_scope():
        assert MSPProfile.objects.get(pk=built_world.a.msp.pk).technicians == 27
