"""The pure computation: month arithmetic, rounding and lines, by hand (no database)."""

from __future__ import annotations

import datetime
from decimal import Decimal as D
from fractions import Fraction

from commissions import engine
from commissions.engine import Account, Correction, Terms

TERMS = [
    Terms(
        effective_month=datetime.date(2025, 1, 1),
        monthly_retainer=D("3100.00"),
        rates=(D("0.15"), D("0.10"), D("0.05")),
        tail_months=2,
    )
]


def test_half_up_rounding_to_the_cent():
    assert engine.cents(D("0.005")) == D("0.01")
    assert engine.cents(D("0.004999")) == D("0.00")
    assert engine.cents(D("-0.005")) == D("-0.01")
    assert engine.cents_of_fraction(Fraction(1, 200)) == D("0.01")
    assert engine.cents_of_fraction(Fraction(-1, 200)) == D("-0.01")
    assert engine.cents_of_fraction(Fraction(1000, 3)) == D("333.33")


def test_account_year_counts_from_the_start_month():
    start = datetime.date(2024, 3, 25)
    assert engine.account_year(start, datetime.date(2024, 2, 1)) is None
    assert engine.account_year(start, datetime.date(2024, 3, 1)) == 1
    assert engine.account_year(start, datetime.date(2025, 2, 1)) == 1
    assert engine.account_year(start, datetime.date(2025, 3, 1)) == 2
    assert engine.account_year(start, datetime.date(2026, 3, 1)) == 3


def test_rates_past_the_schedule_use_the_last_step():
    assert [TERMS[0].rate_for_year(y) for y in (1, 2, 3, 4, 10)] == [
        D("0.15"),
        D("0.10"),
        D("0.05"),
        D("0.05"),
        D("0.05"),
    ]


def test_retainer_days_in_term():
    feb = datetime.date(2024, 2, 1)  # a leap February: 29 days
    assert engine.retainer_for(D("2900"), feb, datetime.date(2024, 2, 15), None) == D("1500.00")
    assert engine.retainer_for(D("2900"), feb, datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)) == D("100.00")
    assert engine.retainer_for(D("2900"), feb, datetime.date(2024, 1, 1), datetime.date(2024, 1, 31)) == D("0.00")
    assert engine.retainer_for(D("1000"), datetime.date(2025, 1, 1), datetime.date(2025, 1, 2), None) == D("967.74")


def test_equity_split_keeps_the_retainer_whole():
    cash, equity = engine.equity_split(D("4258.06"), D("0.40"))
    assert (cash, equity) == (D("2554.84"), D("1703.22"))
    assert engine.equity_split(D("0.05"), D("0.5")) == (D("0.02"), D("0.03"))


def test_compute_lines_orders_retainer_share_tail_and_adjustments():
    start, stop = datetime.date(2025, 1, 1), datetime.date(2025, 3, 10)
    old = Account(id=1, name="Beta MSP", starts_on=datetime.date(2025, 1, 5))
    lines = engine.compute_lines(
        period=datetime.date(2025, 3, 1),
        start=start,
        stop=stop,
        terms=TERMS,
        accounts=[old, Account(id=2, name="Alpha MSP", starts_on=datetime.date(2025, 2, 1))],
        revenue={1: D("100.00"), 2: D("200.00")},
        corrections=[Correction(account=old, period=datetime.date(2025, 1, 1), difference=D("10.00"))],
    )
    assert [(line.kind, line.amount, line.order) for line in lines] == [
        ("retainer_cash", D("1000.00"), 1),  # 3,100 × 10/31
        ("revenue_share", D("30.00"), 2),  # Alpha first (by name)
        ("revenue_share", D("15.00"), 3),
        ("adjustment", D("1.50"), 4),
    ]
    assert engine.total_of(lines) == D("1046.50")
    tail = engine.compute_lines(
        period=datetime.date(2025, 5, 1), start=start, stop=stop, terms=TERMS, accounts=[old], revenue={1: D("100")}
    )
    assert [(line.kind, line.amount) for line in tail] == [("tail", D("15.00"))]
    after = engine.compute_lines(
        period=datetime.date(2025, 6, 1), start=start, stop=stop, terms=TERMS, accounts=[old], revenue={1: D("100")}
    )
    assert after == []


def test_an_ended_attribution_stops_earning_after_its_end_month():
    account = Account(id=1, name="Gone MSP", starts_on=datetime.date(2025, 1, 1), ended_on=datetime.date(2025, 2, 14))
    kwargs = {"terms": TERMS, "account": account, "start": datetime.date(2025, 1, 1), "stop": None}
    assert engine.share_rate(period=datetime.date(2025, 2, 1), **kwargs).rate == D("0.15")
    assert engine.share_rate(period=datetime.date(2025, 3, 1), **kwargs) is None


def test_versions_apply_from_their_month():
    versions = [*TERMS, Terms(effective_month=datetime.date(2025, 4, 1), monthly_retainer=D("1.00"), rates=(D("0.2"),))]
    assert engine.terms_for(versions, datetime.date(2025, 3, 1)).monthly_retainer == D("3100.00")
    assert engine.terms_for(versions, datetime.date(2025, 4, 1)).monthly_retainer == D("1.00")
    assert engine.terms_for(versions, datetime.date(2024, 12, 1)) is None


def test_percent_labels():
    assert engine.percent(D("0.15")) == "15 %"
    assert engine.percent(D("0.125")) == "12.5 %"


def test_account_year_starts_bound_exactly_the_start_dates_of_that_year():
    """Every start date within the bounds is in that year; the days just outside are not."""
    day = datetime.timedelta(days=1)
    for period in (datetime.date(2026, 1, 1), datetime.date(2026, 2, 1), datetime.date(2024, 12, 1)):
        for year in range(1, 6):
            first, last = engine.account_year_starts(year, period)
            assert engine.account_year(first, period) == year
            assert engine.account_year(last, period) == year
            assert engine.account_year(first - day, period) == year + 1
            assert engine.account_year(last + day, period) == (year - 1 or None)


def test_a_share_rules_last_step_is_where_its_rate_stops_changing():
    schedule = engine.ShareRule(engine.REVENUE_SHARE, (D("0.15"), D("0.10"), D("0.05")))
    assert schedule.last_step == 3
    assert schedule.rate_for_year(3) == schedule.rate_for_year(9) == D("0.05")
    fixed_tail = engine.ShareRule(engine.TAIL, (D("0.15"), D("0.10")), tail_rate=D("0.02"))
    assert fixed_tail.last_step == 1 and fixed_tail.rate_for_year(1) == fixed_tail.rate_for_year(7)
    assert engine.ShareRule(engine.REVENUE_SHARE, ()).last_step == 1


def test_a_full_months_retainer_is_the_amount_itself_and_a_part_month_is_prorated():
    start = datetime.date(2025, 1, 1)
    assert engine.retainer_for(D("3100.005"), datetime.date(2025, 3, 1), start, None) == D("3100.01")
    assert engine.retainer_for(D("3100.00"), datetime.date(2025, 3, 1), datetime.date(2025, 3, 17), None) == D(
        "1500.00"
    )
