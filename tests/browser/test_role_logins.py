"""Each role logs in through real headless Chromium and lands on its home page with no console errors."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOMES = {
    "partner": ("/partner/", "Portfolio"),
    "finance": ("/finance/", "Finance"),
    "admin": ("/partner/", "Portfolio"),
    "vendor_admin": ("/portal/", "Alphaquill Vendor"),
    "msp_member": ("/msp/", "Marlinspike MSP"),
}


@pytest.fixture
def users(db):
    from tests.factories import build_world

    world = build_world()
    return {
        "partner": world.partner,
        "finance": world.finance,
        "admin": world.admin,
        "vendor_admin": world.a.vendor_admin,
        "msp_member": world.a.msp_member,
    }


@pytest.mark.parametrize("role", list(HOMES))
def test_role_logs_in_and_lands_home(role, users, live_server, page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", users[role].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    path, heading = HOMES[role]
    page.wait_for_url(f"{live_server.url}{path}")
    assert heading in page.locator("h1").first.inner_text()
    assert page.locator(".org-badge").inner_text() == users[role].organisation.name
    if role == "partner":
        expect(page.locator("canvas[data-chart]").first).to_have_attribute("data-drawn", "1")
    page.click("text=Log out")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert errors == []


def test_phone_layout_has_a_menu(users, live_server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", users["vendor_admin"].email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/portal/")
    assert not page.locator(".mainnav").is_visible()
    page.click(".nav-toggle-label")
    assert page.locator(".mainnav").is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    context.close()
