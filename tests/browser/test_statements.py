"""Finance runs a month's statements in real headless Chromium: the progress bar, approval, issue and the PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


def test_finance_runs_approves_issues_and_downloads(world, live_server, page):
    from commissions.forms import last_month
    from commissions.models import Statement, StatementRun
    from tmw.accounts.tenancy import operator_scope

    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_server, world.finance)

    # Start the run for last month from the page.
    page.goto(f"{live_server.url}/commissions/runs/")
    page.fill("input[name=period]", f"{last_month():%Y-%m}")
    page.click("#start-run")
    page.wait_for_url("**/commissions/runs/*/")
    bar = page.locator("#run-progress [role=progressbar]")
    bar.wait_for()
    expect(page.locator("#run-progress [role=progressbar]")).to_have_attribute("aria-valuenow", "100", timeout=20000)
    assert page.locator("#run-progress").get_attribute("data-status") == "done"
    assert world.a.vendor.name in page.locator("#run-progress").inner_text()

    # A run still in progress is polled every second until it finishes.
    with operator_scope():
        running = StatementRun.objects.create(period=last_month(), status="running", total=2, done=1)
    page.goto(f"{live_server.url}/commissions/runs/{running.pk}/")
    assert bar.get_attribute("aria-valuenow") == "50"
    with operator_scope():
        StatementRun.objects.filter(pk=running.pk).update(done=2, status="done")
    expect(page.locator("#run-progress [role=progressbar]")).to_have_attribute("aria-valuenow", "100", timeout=10000)
    assert page.locator("#run-progress").get_attribute("hx-trigger") is None  # polling stopped

    # Open vendor A's draft, approve and issue it.
    page.click(f"#run-progress >> text={world.a.vendor.name}")
    page.wait_for_url("**/commissions/statements/*/")
    page.click("#statement-actions button:has-text('Approve')")
    page.wait_for_load_state("networkidle")
    assert "Approved" in page.locator(".page-head").inner_text()
    page.click("#statement-actions button:has-text('Issue')")
    page.wait_for_load_state("networkidle")
    with operator_scope():
        statement = Statement.objects.get(vendor=world.a.vendor, period=last_month(), credit_note_for__isnull=True)
    assert statement.status == "issued" and statement.number
    assert statement.number in page.locator("h1").inner_text()
    assert page.locator("#statement-actions button:has-text('Approve')").count() == 0

    # Download its PDF: the stored one.
    with page.expect_download() as info:
        page.click("#download-pdf")
    download = info.value
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"%PDF")
    assert download.suggested_filename.startswith(statement.number)
    with operator_scope():
        assert content == statement.pdf.open("rb").read()
    assert errors == []
