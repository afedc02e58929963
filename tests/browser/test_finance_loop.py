"""In real headless Chromium: finance issues (the email goes out and shows), a vendor queries a line on a phone,
finance accepts it; every page of the loop fits 390 px and 1366 px."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core import mail

from tests.browser.walk import session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(os.environ["SCREENSHOTS_DIR"]) if os.environ.get("SCREENSHOTS_DIR") else None


@pytest.fixture
def world(db):
    from tests.factories import build_world

    return build_world()


def _page(browser, live_server, user, width: int):
    context = browser.new_context(viewport={"width": width, "height": 844})
    context.add_cookies([session_cookie(user, live_server.url)])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return context, page, errors


def _fits(page, width: int, name: str, role: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, (name, width)
    if SCREENSHOTS is not None:
        folder = SCREENSHOTS / role / str(width)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_issue_deliver_query_and_answer_in_the_browser(world, live_server, browser):
    from commissions import services
    from commissions.models import Statement, StatementDelivery, StatementQuery
    from tests.commissions.tenant_objects import statement_for
    from tmw.accounts.tenancy import operator_scope

    with operator_scope():
        draft = statement_for(world, world.a)
        services.statement_approve(statement=draft, actor=world.finance)

    context, page, errors = _page(browser, live_server, world.finance, 1366)
    try:
        page.goto(f"{live_server.url}/commissions/statements/{draft.pk}/")
        page.click("#statement-actions button:has-text('Issue')")
        page.wait_for_load_state("networkidle")
        assert "Sent" in page.locator("#statement-deliveries").inner_text()
        assert mail.outbox and mail.outbox[-1].attachments[0][2] == "application/pdf"
        _fits(page, 1366, "statement_detail_issued", "finance")
        page.click("#resend")
        page.wait_for_load_state("networkidle")
        with operator_scope():
            assert StatementDelivery.objects.filter(statement_id=draft.pk, reason="resent", status="sent").count() == 1
        assert not errors, errors
    finally:
        context.close()

    with operator_scope():
        statement = Statement.objects.get(pk=draft.pk)
        line = statement.lines.get(kind="revenue_share")
    for width in (390, 1366):
        context, page, errors = _page(browser, live_server, world.a.vendor_admin, width)
        try:
            page.goto(f"{live_server.url}/commissions/portal/statements/")
            assert statement.number in page.locator("#portal-statements").inner_text()
            _fits(page, width, "portal_statements", "vendor_admin")
            page.goto(f"{live_server.url}/commissions/portal/statements/{statement.pk}/")
            _fits(page, width, "portal_statement_detail", "vendor_admin")
            if width == 390:
                page.click(f"#line-{line.pk} a:has-text('Query')")
                page.select_option("select[name=reason]", "wrong_revenue")
                page.fill("textarea[name=comment]", "Revenue was 1,800.00 last month.")
                page.fill("input[name=expected_amount]", "270.00")
                page.click("#raise-query button[type=submit]")
                page.wait_for_load_state("networkidle")
                assert "Queried" in page.locator(f"#line-{line.pk}").inner_text()
                _fits(page, width, "portal_statement_queried", "vendor_admin")
            page.goto(f"{live_server.url}/commissions/portal/billing-contacts/")
            _fits(page, width, "portal_billing_contacts", "vendor_admin")
            assert not errors, errors
        finally:
            context.close()

    with operator_scope():
        query = StatementQuery.objects.get(statement=statement, line=line)
    for width in (390, 1366):
        context, page, errors = _page(browser, live_server, world.finance, width)
        try:
            page.goto(f"{live_server.url}/finance/")
            assert statement.number in page.locator("#finance-queries").inner_text()
            _fits(page, width, "finance_home", "finance")
            page.goto(f"{live_server.url}/commissions/queries/")
            _fits(page, width, "query_list", "finance")
            page.goto(f"{live_server.url}/commissions/statements/{statement.pk}/")
            _fits(page, width, "statement_detail_queried", "finance")
            if width == 1366:
                page.check(f"input[name=q{query.pk}-decision][value=adjustment]")
                page.click(f"#query-{query.pk} button[type=submit]")
                page.wait_for_load_state("networkidle")
                with operator_scope():
                    query.refresh_from_db()
                assert query.status == "accepted" and query.adjustment_amount is not None
                _fits(page, width, "statement_detail_answered", "finance")
            page.goto(f"{live_server.url}/commissions/vendors/{world.a.vendor.pk}/billing-contacts/")
            _fits(page, width, "billing_contacts", "finance")
            assert not errors, errors
        finally:
            context.close()
