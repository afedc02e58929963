"""The forecast's pure functions, checked against amounts worked out by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from commissions.forecast import (
    ForecastAccount,
    account_year,
    add_months,
    chart_data,
    project_revenue_share,
    rate_for_year,
    share,
    tail_if_stopped,
)

SCHEDULE = [Decimal("0.15"), Decimal("0.10"), Decimal("0.05")]


def test_account_year_counts_from_the_attribution_month():
    start = date(2025, 3, 20)
    assert account_year(starts_on=start, period=date(2025, 2, 1)) == 0
    assert account_year(starts_on=start, period=date(2025, 3, 1)) == 1  # month 1 of year 1
    assert account_year(starts_on=start, period=date(2026, 2, 1)) == 1  # month 12
    assert account_year(starts_on=start, period=date(2026, 3, 1)) == 2  # month 13
    assert account_year(starts_on=start, period=date(2027, 3, 1)) == 3
    assert account_year(starts_on=start, period=date(2031, 3, 1)) == 7


def test_rate_holds_the_last_step_and_never_rises():
    assert rate_for_year(SCHEDULE, 0) == Decimal("0")
    assert rate_for_year(SCHEDULE, 1) == Decimal("0.15")
    assert rate_for_year(SCHEDULE, 2) == Decimal("0.10")
    assert rate_for_year(SCHEDULE, 3) == Decimal("0.05")
    assert rate_for_year(SCHEDULE, 9) == Decimal("0.05")
    rates = [rate_for_year(SCHEDULE, y) for y in range(1, 10)]
    assert rates == sorted(rates, reverse=True)


def test_share_rounds_half_up_to_the_cent():
    assert share(Decimal("1000.50"), Decimal("0.15")) == Decimal("150.08")  # 150.075 -> 150.08
    assert share(Decimal("333.33"), Decimal("0.10")) == Decimal("33.33")  # 33.333
    assert share(Decimal("0.05"), Decimal("0.10")) == Decimal("0.01")  # 0.005 -> 0.01


def test_add_months_crosses_years():
    assert add_months(date(2025, 11, 14), 1) == date(2025, 12, 1)
    assert add_months(date(2025, 11, 1), 2) == date(2026, 1, 1)
    assert add_months(date(2025, 1, 1), -1) == date(2024, 12, 1)


def test_projection_drops_the_rate_when_an_account_crosses_into_year_two():
    # A: attributed June 2025, MRR 2,000.00 -> year 1 (15%) until May 2026, year 2 (10%) from June 2026.
    # B: attributed January 2026, MRR 1,234.56 -> 15% all along the horizon (year 1 ends December 2026).
    accounts = [
        ForecastAccount(name="A", starts_on=date(2025, 6, 15), mrr=Decimal("2000.00")),
        ForecastAccount(name="B", starts_on=date(2026, 1, 1), mrr=Decimal("1234.56")),
    ]
    months = project_revenue_share(accounts=accounts, schedule=SCHEDULE, first_period=date(2026, 1, 1))
    assert len(months) == 12
    assert months[0].period == date(2026, 1, 1)
    assert months[-1].period == date(2026, 12, 1)
    # January to May: 300.00 + 185.18 (1234.56 x 0.15 = 185.184)
    for m in months[:5]:
        assert m.by_account == {"A": Decimal("300.00"), "B": Decimal("185.18")}
        assert m.total == Decimal("485.18")
    # June to December: 200.00 + 185.18
    for m in months[5:]:
        assert m.by_account["A"] == Decimal("200.00")
        assert m.total == Decimal("385.18")
    assert sum(m.total for m in months) == Decimal("485.18") * 5 + Decimal("385.18") * 7  # 5122.16


def test_projection_ignores_accounts_before_their_start_and_after_their_end():
    accounts = [
        ForecastAccount(name="later", starts_on=date(2026, 3, 10), mrr=Decimal("100")),
        ForecastAccount(name="ended", starts_on=date(2025, 1, 1), mrr=Decimal("100"), ended_on=date(2026, 1, 31)),
    ]
    months = project_revenue_share(accounts=accounts, schedule=SCHEDULE, first_period=date(2026, 1, 1), months=4)
    # ended: year 2 in January 2026 (10%), nothing after. later: 15% from March.
    assert [m.total for m in months] == [Decimal("10.00"), Decimal("0.00"), Decimal("15.00"), Decimal("15.00")]


def test_tail_if_stopped_today_runs_for_the_tail_months_after_the_stop_month():
    # Stop on 10 May 2026 with a 3-month tail: June, July and August earn.
    # A (from June 2025): June-August 2026 are months 13-15 -> year 2, 10% of 2,000 = 200.00 each.
    # B (from April 2026): year 1, 15% of 500 = 75.00 each.
    # C (attributed after the stop date) earns nothing.
    accounts = [
        ForecastAccount(name="A", starts_on=date(2025, 6, 1), mrr=Decimal("2000")),
        ForecastAccount(name="B", starts_on=date(2026, 4, 2), mrr=Decimal("500")),
        ForecastAccount(name="C", starts_on=date(2026, 5, 11), mrr=Decimal("900")),
    ]
    tail = tail_if_stopped(accounts=accounts, schedule=SCHEDULE, stop_on=date(2026, 5, 10), tail_months=3)
    assert [m.period for m in tail.months] == [date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)]
    assert [m.total for m in tail.months] == [Decimal("275.00")] * 3
    assert tail.total == Decimal("825.00")


def test_tail_with_a_fixed_rate_and_no_tail():
    accounts = [ForecastAccount(name="A", starts_on=date(2024, 1, 1), mrr=Decimal("1000.10"))]
    fixed = tail_if_stopped(
        accounts=accounts, schedule=SCHEDULE, stop_on=date(2026, 5, 31), tail_months=2, tail_rate=Decimal("0.075")
    )
    assert fixed.total == Decimal("75.01") * 2  # 75.0075 -> 75.01
    none = tail_if_stopped(accounts=accounts, schedule=SCHEDULE, stop_on=date(2026, 5, 31), tail_months=0)
    assert none.months == [] and none.total == Decimal("0.00")


def test_chart_data_uses_decimal_strings():
    accounts = [ForecastAccount(name="A", starts_on=date(2026, 1, 1), mrr=Decimal("100"))]
    months = project_revenue_share(accounts=accounts, schedule=SCHEDULE, first_period=date(2026, 1, 1), months=2)
    tail = tail_if_stopped(accounts=accounts, schedule=SCHEDULE, stop_on=date(2025, 12, 31), tail_months=1)
    data = chart_data(projection=months, tail=tail)
    assert data["labels"] == ["Jan 2026", "Feb 2026"]
    assert data["datasets"][0]["data"] == ["15.00", "15.00"]
    assert data["datasets"][1]["data"] == ["0.00", "0.00"]  # A was attributed after the stop date
