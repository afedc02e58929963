"""Revenue intake through the services: validation, all-or-nothing imports, idempotency keys, history."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from commissions import services
from commissions.models import RevenueReport, RevenueReportRevision
from commissions.selectors import previous_month
from tests.commissions.money import D, agreement, attribute, engagement
from tmw.accounts.tenancy import operator_scope
from tmw.errors import ApplicationError


@pytest.fixture
def desk(world):
    with operator_scope():
        eng = engagement(world.a.vendor, world.partner, start=datetime.date(2025, 1, 1))
        agr = agreement(eng, world.finance)
        acme = attribute(eng, world.partner, starts_on=datetime.date(2025, 1, 1), name="Acme Managed MSP")
        blue = attribute(eng, world.partner, starts_on=datetime.date(2025, 3, 1), name="Bluebird IT MSP")
        yield eng, agr, acme, blue


def test_import_all_rows(world, desk):
    eng, agr, acme, blue = desk
    rows = [
        {"account": "Acme Managed MSP", "period": "2025-03", "amount": "1200.50"},
        {"account": "bluebird it msp", "period": "2025-03-01", "amount": "99", "currency": "usd"},
    ]
    reports = services.revenue_reports_import(vendor=world.a.vendor, rows=rows, actor=world.a.vendor_admin)
    assert [(r.attribution_id, r.amount, r.source) for r in reports] == [
        (acme.pk, D("1200.50"), "vendor_csv"),
        (blue.pk, D("99.00"), "vendor_csv"),
    ]


def test_import_reports_every_bad_row_and_imports_nothing(world, desk):
    eng, agr, acme, blue = desk
    future = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).strftime("%Y-%m")
    rows = [
        {"account": "Acme Managed MSP", "period": "2025-03", "amount": "100"},  # fine on its own
        {"account": "Nobody MSP", "period": "2025-03", "amount": "100"},  # unknown
        {"account": "Bluebird IT MSP", "period": "2025-02", "amount": "100"},  # not attributed yet
        {"account": "Acme Managed MSP", "period": "2025-04", "amount": "-5"},  # negative
        {"account": "Acme Managed MSP", "period": "2025-05", "amount": "lots"},  # not a number
        {"account": "Acme Managed MSP", "period": future, "amount": "1"},  # future
        {"account": "Acme Managed MSP", "period": "2025-03", "amount": "100"},  # duplicate of row 2
        {"account": "Acme Managed MSP", "period": "2025-06", "amount": "1", "currency": "CAD"},  # wrong currency
        {"account": "Acme Managed MSP", "period": "March", "amount": "1.234"},  # bad month and cents
    ]
    with pytest.raises(ApplicationError) as err:
        services.revenue_reports_import(vendor=world.a.vendor, rows=rows, actor=world.a.vendor_admin)
    found = {(e["row"], e["field"]) for e in err.value.extra["rows"]}
    assert found == {
        (3, "account"),
        (4, "account"),
        (5, "amount"),
        (6, "amount"),
        (7, "period"),
        (8, "account"),
        (9, "currency"),
        (10, "period"),
        (10, "amount"),
    }
    assert all(e["message"] for e in err.value.extra["rows"])
    assert "nothing was imported" in err.value.message
    with operator_scope():
        assert not RevenueReport.objects.filter(attribution__engagement=eng).exists()


def test_another_vendors_account_is_unknown(world, desk):
    with pytest.raises(ApplicationError) as err:
        services.revenue_reports_import(
            vendor=world.b.vendor,
            rows=[{"account": "Acme Managed MSP", "period": "2025-03", "amount": "1"}],
            actor=world.b.vendor_admin,
        )
    assert err.value.extra["rows"][0]["field"] == "account"
    with pytest.raises(ApplicationError) as err:
        services.revenue_reports_import(
            vendor=world.a.vendor,
            rows=[{"account": "Acme Managed MSP", "period": "2025-03", "amount": "1"}],
            actor=world.b.vendor_admin,
        )
    assert err.value.status == 404


def test_idempotency_key_replays_and_refuses_other_content(world, desk):
    eng, agr, acme, blue = desk
    kwargs = {"attribution": acme, "period": previous_month(), "currency": "USD", "source": "api"}
    first = services.revenue_report_record(
        amount=D("10.00"), actor=world.a.vendor_admin, idempotency_key="k-1", **kwargs
    )
    assert first.replayed is False
    again = services.revenue_report_record(
        amount=D("10.00"), actor=world.a.vendor_admin, idempotency_key="k-1", **kwargs
    )
    assert again.pk == first.pk and again.replayed is True
    with pytest.raises(ApplicationError) as err:
        services.revenue_report_record(amount=D("11.00"), actor=world.a.vendor_admin, idempotency_key="k-1", **kwargs)
    assert err.value.status == 409
    corrected = services.revenue_report_record(
        amount=D("12.00"), actor=world.a.vendor_admin, idempotency_key="k-2", **kwargs
    )
    assert corrected.pk == first.pk and corrected.amount == D("12.00") and corrected.revision == 2
    # The first key still answers with the report, now corrected.
    assert (
        services.revenue_report_record(
            amount=D("10.00"), actor=world.a.vendor_admin, idempotency_key="k-1", **kwargs
        ).pk
        == first.pk
    )
    with operator_scope():
        history = list(
            RevenueReportRevision.objects.filter(report=first).values_list("number", "amount", "previous_amount")
        )
    assert history == [(1, D("10.00"), None), (2, D("12.00"), D("10.00"))]


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        (D("-1"), "amount"),
        ("abc", "amount"),
        (1.5, "amount"),
        (D("1.001"), "amount"),
        (D("NaN"), "amount"),
        ("1e30", "amount"),
        ("", "amount"),
    ],
)
def test_bad_amounts_are_refused(world, desk, amount, field):
    eng, agr, acme, blue = desk
    with pytest.raises(ApplicationError) as err:
        services.revenue_report_record(
            attribution=acme,
            period=datetime.date(2025, 3, 1),
            amount=amount,
            currency="USD",
            source="finance",
            actor=world.finance,
        )
    assert field in err.value.extra


def test_future_months_and_msp_users_are_refused(world, desk):
    eng, agr, acme, blue = desk
    with pytest.raises(ApplicationError) as err:
        services.revenue_report_record(
            attribution=acme,
            period=timezone.localdate().replace(day=1) + datetime.timedelta(days=40),
            amount=D("1"),
            currency="USD",
            source="finance",
            actor=world.finance,
        )
    assert "period" in err.value.extra
    with pytest.raises(ApplicationError) as err:
        services.revenue_report_record(
            attribution=acme,
            period=datetime.date(2025, 3, 1),
            amount=D("1"),
            currency="USD",
            source="api",
            actor=world.a.msp_member,
        )
    assert err.value.status == 403
