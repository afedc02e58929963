"""Finance records two part payments on an issued statement in real headless Chromium and sees it paid."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_statements import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    from tests.factories import build_world

    return build_world()


def test_finance_records_two_part_payments_and_sees_the_statement_paid(world, live_server, page):
    from commissions import services
    from commissions.models import Statement
    from tests.commissions.tenant_objects import statement_for
    from tmw.accounts.tenancy import operator_scope

    with operator_scope():
        statement = Statement.objects.get(pk=statement_for(world, world.a).pk)
        statement = services.statement_issue(
            statement=services.statement_approve(statement=statement, actor=world.finance), actor=world.finance
        )
        due = statement.balance
    first = (due / 2).quantize(due) if due else due
    rest = due - first

    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, live_server, world.finance)
    page.goto(f"{live_server.url}/commissions/statements/{statement.pk}/")
    form = page.locator("#payment-form")
    form.locator("input[name=amount]").fill(f"{first}")
    form.locator("input[name=reference]").fill("WIRE 1001")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#statement-balance")).to_have_attribute("data-balance", f"{rest}")
    assert "WIRE 1001" in page.locator("#payment-list").inner_text()

    # Too much is refused beside the amount, and nothing is written.
    form.locator("input[name=amount]").fill(f"{rest + 1}")
    form.locator("input[name=reference]").fill("WIRE 1002")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "the balance" in page.locator("#payment-form").inner_text()
    expect(page.locator("#statement-balance")).to_have_attribute("data-balance", f"{rest}")

    form.locator("input[name=amount]").fill(f"{rest}")
    form.locator("select[name=method]").select_option("ach")
    form.locator("input[name=reference]").fill("ACH 1003")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator("#statement-balance")).to_have_attribute("data-balance", "0.00")
    assert "Paid" in page.locator(".page-head").inner_text()
    assert page.locator("#payment-form").count() == 0
    with operator_scope():
        statement.refresh_from_db()
        assert (
            statement.status == "paid"
            and statement.payments.filter(reference__in=["WIRE 1001", "ACH 1003"]).count() == 2
        )
    assert errors == []
