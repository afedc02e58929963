"""A partner scores a diagnostic, builds the target list, decides go, completes it and downloads the PDF;
the vendor then sees the result in its portal."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.diagnostics.objects_core import SENTINEL_LEVELS, THESIS
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    from tests.factories import build_world

    return build_world()


def _login(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _has_target_pages() -> bool:
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("diagnostics:target_list_build", args=[1])
    except NoReverseMatch:
        return False
    return True


def test_partner_completes_a_diagnostic_and_the_vendor_sees_it(world, live_server, page, tmp_path):
    from diagnostics.models import Criterion, Diagnostic
    from tmw.accounts.tenancy import operator_scope

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # The partner starts a diagnostic of vendor A.
    _login(page, live_server, world.partner)
    page.goto(f"{live_server.url}/diagnostics/new/")
    page.select_option("select[name=vendor]", str(world.a.vendor.pk))
    page.click("button:has-text('Start diagnostic')")
    page.wait_for_url("**/diagnostics/*/")
    with operator_scope():
        diagnostic = Diagnostic.objects.filter(vendor=world.a.vendor).order_by("-pk").first()
        criteria = list(Criterion.objects.filter(rubric=diagnostic.rubric).order_by("order"))

    # Scores each criterion with htmx: the row and the summary update without a reload.
    for criterion in criteria:
        row = page.locator(f"#criterion-{criterion.pk}")
        row.locator("select[name=level]").select_option(str(SENTINEL_LEVELS[criterion.key]))
        row.locator("textarea[name=evidence]").fill(f"Seen in the demo: {criterion.title}")
        row.locator("button:has-text('Save')").click()
        page.locator(f"#criterion-{criterion.pk} >> text=Saved").wait_for()
    assert page.locator("[data-testid=overall-score]").inner_text() == "82.8"
    expect(page.locator("canvas[data-chart=group-chart]")).to_have_attribute("data-drawn", "1")

    # US teams: the vendor has them all, so Option A is recommended.
    for name in ("has_us_sales", "has_us_marketing", "has_us_channel"):
        page.check(f"#settings input[name={name}]")
    page.click("button:has-text('Save settings')")
    page.wait_for_load_state("networkidle")
    assert "Option A" in page.locator("#score-summary").inner_text()

    # Build the target list when the directory pages are installed.
    if _has_target_pages():
        page.goto(f"{live_server.url}/diagnostics/{diagnostic.pk}/targets/")
        page.locator("form[action$='/targets/build/'] button").click()
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_server.url}/diagnostics/{diagnostic.pk}/")

    # Thesis, decision go, then review and complete.
    for name, text in THESIS.items():
        page.fill(f"#thesis textarea[name={name}]", text)
    page.click("button:has-text('Save thesis')")
    page.wait_for_load_state("networkidle")
    page.check("#decision input[name=outcome][value=go]")
    page.fill("#decision textarea[name=rationale]", "Strong product fit and margin headroom.")
    page.select_option("#decision select[name=option]", "A")
    page.click("button:has-text('Record decision')")
    page.wait_for_load_state("networkidle")
    page.click("button:has-text('Send to review')")
    page.wait_for_load_state("networkidle")
    page.click("button:has-text('Mark complete')")
    page.wait_for_load_state("networkidle")
    assert "Complete" in page.locator(".page-head").inner_text()

    with page.expect_download() as download_info:
        page.click("text=Download report (PDF)")
    download = download_info.value
    path = tmp_path / "report.pdf"
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    assert download.suggested_filename.endswith(".pdf")
    page.click("text=Log out")

    # The vendor sees the result in its portal and downloads the same report.
    _login(page, live_server, world.a.vendor_member)
    page.goto(f"{live_server.url}/diagnostics/portal/")
    body = page.locator("main").inner_text()
    assert "82.8" in body
    assert "Go" in page.locator("[data-testid=decision-outcome]").inner_text()
    assert "Option A" in body
    assert THESIS["target_segment"] in body
    if _has_target_pages():
        with operator_scope():
            from diagnostics.selectors import latest_target_list

            assert latest_target_list(diagnostic=diagnostic) is not None
        assert "No target list yet" not in body
    expect(page.locator("canvas[data-chart=portal-group-chart]")).to_have_attribute("data-drawn", "1")
    with page.expect_download() as download_info:
        page.click("text=Download the report (PDF)")
    assert download_info.value.suggested_filename.endswith(".pdf")
    assert errors == []
