"""Pages run under the Content-Security-Policy in real Chromium with no violation and no console error."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_desk_journey import desk, log_in  # noqa: F401  (the desk fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Injected by the browser before any page script (not subject to the page's policy): records every
# violation the policy reports, so a blocked script, style or eval fails the test even when it is silent.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var where = e.sourceFile + ":" + e.lineNumber;
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + where);
});
"""


def watch(page) -> list[str]:
    errors: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    return errors


def violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def test_pages_run_under_the_policy_without_errors(desk, live_server, page):  # noqa: F811
    world, engagement, opportunity = desk
    errors = watch(page)

    response = page.goto(f"{live_server.url}/accounts/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert violations(page) == []
    log_in(page, live_server, world.partner)

    page.goto(f"{live_server.url}/partner/")
    expect(page.locator("canvas[data-chart]")).not_to_have_count(0)
    expect(page.locator("canvas[data-chart]:not([data-drawn='1'])")).to_have_count(0)
    assert violations(page) == []

    page.goto(f"{live_server.url}/engagements/{engagement.pk}/")
    page.locator("canvas[data-chart][data-drawn='1']").first.wait_for(state="attached")
    assert violations(page) == []

    # An htmx stage move on the board: the request, the swap and the settle all run under the policy.
    page.goto(f"{live_server.url}/engagements/{engagement.pk}/board/")
    page.wait_for_load_state("load")
    assert page.evaluate("[htmx.config.allowEval, htmx.config.includeIndicatorStyles]") == [False, False]
    card = page.locator(f"#opp-{opportunity.pk}")
    card.locator("select[name=stage]").select_option("signed")
    card.locator("button[type=submit]").click()
    page.locator(f"section[data-stage='signed'] #opp-{opportunity.pk}").wait_for()
    assert page.locator("head style").count() == 0
    assert violations(page) == []

    assert errors == []


def test_the_api_docs_render_under_their_own_policy(desk, live_server, page):  # noqa: F811
    world, _, _ = desk
    errors = watch(page)
    log_in(page, live_server, world.partner)
    response = page.goto(f"{live_server.url}/api/docs/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy + ";"
    page.locator(".swagger-ui .info .title").wait_for()
    page.locator(".opblock").first.wait_for()
    assert violations(page) == []
    assert errors == []


def test_the_data_behaviours_replace_the_inline_handlers(desk, live_server, page):  # noqa: F811
    import datetime

    from django.utils import timezone

    from diagnostics.booking.models import Booking
    from tests.diagnostics.test_booking_partner import CONTACT
    from tests.diagnostics.test_booking_slots import make_partner

    world, _, _ = desk
    other = make_partner("Sam Okafor", time_zone="America/New_York")
    start = (timezone.now() + datetime.timedelta(days=3)).replace(second=0, microsecond=0)
    booking = Booking.objects.create(
        partner=world.partner, starts_at=start, ends_at=start + datetime.timedelta(minutes=45), **CONTACT
    )
    errors = watch(page)
    log_in(page, live_server, world.admin)

    # <select data-autosubmit> (was onchange="this.form.submit()") reloads the page for the partner picked.
    page.goto(f"{live_server.url}/bookings/availability/")
    with page.expect_navigation():
        page.locator("select[data-autosubmit]").select_option(str(other.pk))
    assert f"partner={other.pk}" in page.url

    # <form data-confirm> (was onsubmit="return confirm(...)"): dismissing keeps the booking, accepting cancels it.
    page.goto(f"{live_server.url}/bookings/{booking.pk}/")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("text=Cancel the review")
    page.wait_for_timeout(300)
    assert questions == ["Cancel this review? Both sides get an email."]
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("text=Cancel the review")
    booking.refresh_from_db()
    assert booking.status == "cancelled"

    assert violations(page) == []
    assert errors == []
