"""The bound on amounts taken in (1,000,000,000.00 each) and columns wide enough for any total it allows."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from commissions import services
from commissions.forms import last_month
from commissions.limits import MAX_INPUT_AMOUNT, MAX_TOTAL, bounded_amount, check_total
from commissions.models import Agreement, RetainerTier, RevenueReport, Statement, StatementLine
from engagements.models import Attribution
from tests.commissions.money import D, agreement, engagement
from tests.factories import OrganisationFactory
from tmw.accounts.models import Organisation
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError

LIMIT = "1,000,000,000.00"
ACCOUNTS = 1000  # 1000 accounts at the bound, at a rate of 100 %: a total of 10^12, past the old 14-digit columns


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def body(world, amount) -> dict:
    return {
        "account": f"{world.a.marker} Billing MSP",
        "period": f"{last_month():%Y-%m}",
        "amount": amount,
        "currency": "USD",
    }


def test_the_bound_is_one_billion_and_names_the_field():
    assert bounded_amount("1,000,000,000.00", "amount") == MAX_INPUT_AMOUNT
    for too_much in ("1000000000.01", "999999999999.99", D("5000000000"), "-1000000000.01"):
        with pytest.raises(ApplicationError) as err:
            bounded_amount(too_much, "monthly_fee_usd", allow_negative=True)
        assert err.value.status == 400 and LIMIT in err.value.extra["monthly_fee_usd"][0]
    with pytest.raises(ApplicationError) as err:
        bounded_amount("10000000000000", "amount")  # past tmw.money's own bound: still this message
    assert LIMIT in err.value.extra["amount"][0]
    with pytest.raises(ApplicationError) as err:
        check_total(MAX_TOTAL, "total")
    assert "total" in err.value.extra


@pytest.mark.parametrize("amount", ["999999999999.99", "1000000000.01", 999999999999.99])
def test_the_api_refuses_a_revenue_line_over_the_bound(world, amount):
    response = api(world.a.vendor_admin).post("/api/v1/revenue-reports/", body(world, amount), format="json")
    assert response.status_code == 400, response.content
    assert LIMIT in response.json()["extra"]["amount"][0]
    with operator_scope():
        assert not RevenueReport.all_objects.filter(amount__gt=MAX_INPUT_AMOUNT).exists()


def test_the_api_takes_the_bound_itself_and_a_replay_of_it(world):
    client = api(world.a.vendor_admin)
    first = client.post(
        "/api/v1/revenue-reports/", body(world, "1000000000.00"), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert first.status_code == 201 and first.json()["amount"] == "1000000000.00"
    again = client.post(
        "/api/v1/revenue-reports/", body(world, "1000000000.00"), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert again.status_code == 201 and again.json() == first.json()
    over = client.post(
        "/api/v1/revenue-reports/", body(world, "999999999999.99"), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert over.status_code == 400 and "amount" in over.json()["extra"]


def test_the_csv_upload_and_the_revenue_grid_refuse_a_line_over_the_bound(world, client_for):
    text = f"account,period,amount,currency\n{world.a.marker} Billing MSP,{last_month():%Y-%m},999999999999.99,USD\n"
    response = client_for(world.a.vendor_admin).post(
        reverse("commissions:portal_revenue_upload"), {"content": text, "confirm": "1"}
    )
    assert response.status_code == 400 and LIMIT in response.content.decode()
    with operator_scope():
        billing = Attribution.all_objects.get(msp__name=f"{world.a.marker} Billing MSP")
    grid = client_for(world.finance).post(
        reverse("commissions:revenue_list"),
        {"period": f"{last_month():%Y-%m}", f"amount-{billing.pk}": "999999999999.99"},
    )
    assert grid.status_code == 400 and LIMIT in grid.content.decode()
    with operator_scope():
        assert not RevenueReport.all_objects.filter(amount__gt=MAX_INPUT_AMOUNT).exists()


def test_fees_caps_and_retainers_are_bounded(world):
    with pytest.raises(ApplicationError) as err:
        services.retainer_tier_save(
            actor=world.finance, name="Huge", monthly_fee_usd=D("1000000000.01"), monthly_fee_cad=D("1")
        )
    assert LIMIT in err.value.extra["monthly_fee_usd"][0]
    with operator_scope():
        assert not RetainerTier.objects.filter(name="Huge").exists()
        eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
        for field, extra in (
            ("monthly_amount", {"monthly_amount": D("999999999999.99")}),
            ("principal", {"equity_kind": "convertible", "principal": D("1000000000.01")}),
            ("valuation_cap", {"equity_kind": "convertible", "valuation_cap": D("999999999999.99")}),
        ):
            with pytest.raises(ApplicationError) as err:
                agreement(eng, world.finance, **extra)
            assert LIMIT in err.value.extra[field][0], field
        assert not Agreement.all_objects.filter(engagement=eng).exists()


def test_a_desk_of_accounts_at_the_bound_makes_a_statement_every_page_shows(world, client_for, monkeypatch):
    """A vendor reports the largest amount for a thousand accounts; the statement and every view of it answer."""
    period = last_month()
    with operator_scope():
        eng = engagement(world.a.vendor, world.partner, start=period.replace(day=1))
        agr = agreement(eng, world.finance, rates=[D("1")], tail_months=0)
        msps = [OrganisationFactory(kind=Organisation.Kind.MSP, name=f"Bound {n:04d} MSP") for n in range(ACCOUNTS)]
        Attribution.all_objects.bulk_create(
            [
                Attribution(
                    engagement=eng,
                    vendor_id=eng.vendor_id,
                    msp=msp,
                    starts_on=period,
                    reason="Introduced by TMW",
                    created_by=world.partner,
                )
                for msp in msps
            ]
        )
    rows = "".join(f'Bound {n:04d} MSP,{period:%Y-%m},"$1,000,000,000.00",USD\n' for n in range(ACCOUNTS))
    vendor = client_for(world.a.vendor_admin)
    upload = vendor.post(
        reverse("commissions:portal_revenue_upload"),
        {"content": "account,period,amount,currency\n" + rows, "confirm": "1"},
    )
    assert upload.status_code in (200, 302), upload.content.decode()[:2000]
    with operator_scope():
        assert (
            RevenueReport.all_objects.filter(attribution__engagement=eng, amount=MAX_INPUT_AMOUNT).count() == ACCOUNTS
        )

    with operator_scope():
        run = services.statement_run_now(period=period, actor=world.finance)
        assert run.status == run.Status.DONE, run.error
        statement = Statement.all_objects.get(agreement=agr, period=period)
    expected = MAX_INPUT_AMOUNT * ACCOUNTS + D("6000.00")
    assert statement.total == expected  # 1,000,000,006,000.00: 15 digits
    with operator_scope():
        assert StatementLine.all_objects.filter(statement=statement).count() == ACCOUNTS + 1
        statement = services.statement_approve(statement=statement, actor=world.finance)
        statement = services.statement_issue(statement=statement, actor=world.finance)
        statement.refresh_from_db()
    assert statement.total == expected

    finance = client_for(world.finance)
    for url in (
        reverse("commissions:statement_list") + f"?period={period:%Y-%m}",
        reverse("commissions:statement_detail", args=[statement.pk]),
        reverse("commissions:statement_pdf", args=[statement.pk]),
        reverse("commissions:statement_lines_csv") + f"?period={period:%Y-%m}",
        reverse("commissions:agreement_detail", args=[agr.pk]),
        "/api/v1/statements/",
        f"/api/v1/statements/{statement.pk}/",
    ):
        assert finance.get(url).status_code == 200, url
    lines_csv = finance.get(reverse("commissions:statement_lines_csv") + f"?period={period:%Y-%m}").content.decode()
    assert "1000000000.00" in lines_csv
    listed = finance.get("/api/v1/statements/").json()["results"]
    assert any(row["id"] == statement.pk and row["total"] == f"{expected}" for row in listed)
    for url in (
        reverse("commissions:portal_statements"),
        reverse("commissions:statement_pdf", args=[statement.pk]),
        "/api/v1/statements/",
        f"/api/v1/statements/{statement.pk}/",
    ):
        assert vendor.get(url).status_code == 200, url
    mine = vendor.get(f"/api/v1/statements/{statement.pk}/").json()
    assert mine["total"] == f"{expected}" and len(mine["lines"]) == ACCOUNTS + 1
