"""The one parser of amounts of money (tmw.money) and of months (tmw.months)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tmw import months
from tmw.money import MAX_AMOUNT, InvalidAmount, parse_amount


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.50", "1234.50"),
        ("1234.5", "1234.50"),
        ("1234", "1234.00"),
        (" 1234 ", "1234.00"),
        ("$1,234.50", "1234.50"),
        ("1,234", "1234.00"),
        ("$1,234,567.89", "1234567.89"),
        ("$0.99", "0.99"),
        (".5", "0.50"),
        ("0", "0.00"),
        ("999999999999.99", "999999999999.99"),
        (Decimal("12.3"), "12.30"),
        (7, "7.00"),
    ],
)
def test_amounts_that_are_read(text, expected):
    amount = parse_amount(text, field="amount")
    assert amount == Decimal(expected)
    assert str(amount) == expected  # always two places


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "Give the amount"),
        ("   ", "Give the amount"),
        ("lots", "not an amount"),
        ("12abc", "not an amount"),
        ("١٢٣", "not an amount"),  # Arabic-Indic digits: Decimal() would read them
        ("１２３", "not an amount"),  # full-width digits
        ("1,23", "not an amount"),  # a comma that does not group thousands
        ("12,34.00", "not an amount"),
        ("1.234,50", "not an amount"),
        ("1e3", "not an amount"),
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        ("$", "not an amount"),
        ("€12", "not an amount"),
        ("10.005", "two decimals"),
        ("12.340", "two decimals"),
        ("-5", "cannot be negative"),
        ("-$5.00", "cannot be negative"),
        ("1000000000000", "too large"),
        ("$1,000,000,000,000.00", "too large"),
        (1.5, "not a float"),
        (True, "not a float"),
        (None, "as a number"),
        (Decimal("1.005"), "two decimals"),
        (Decimal("NaN"), "as a number"),
    ],
)
def test_amounts_that_are_refused_name_their_field(text, why):
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(text, field="monthly_fee_usd")
    assert caught.value.field == "monthly_fee_usd"
    assert why in caught.value.message
    assert str(caught.value).startswith("monthly_fee_usd: ")
    assert isinstance(caught.value, ValueError)


def test_negative_amounts_only_where_allowed():
    assert parse_amount("-12.50", field="x", allow_negative=True) == Decimal("-12.50")
    assert parse_amount("-$1,234.00", field="x", allow_negative=True) == Decimal("-1234.00")
    assert parse_amount("$-3", field="x", allow_negative=True) == Decimal("-3.00")
    assert str(parse_amount("-0", field="x", allow_negative=True)) == "0.00"
    with pytest.raises(InvalidAmount, match="too large"):
        parse_amount(-MAX_AMOUNT, field="x", allow_negative=True)


def test_the_bound_is_the_money_columns():
    from commissions.models import RevenueReport

    field = RevenueReport._meta.get_field("amount")  # an input column (statement totals are wider)
    assert Decimal(10) ** (field.max_digits - field.decimal_places) == MAX_AMOUNT


@pytest.mark.parametrize("text", ["2025-03", "2025-3", " 2025-03 ", "2025-03-01"])
def test_months_that_are_read(text):
    assert months.parse_month(text) == datetime.date(2025, 3, 1)


@pytest.mark.parametrize("text", ["", "March", "2025-13", "2025-00", "2025-03-15", "1999-12", "25-03", "2025/03", None])
def test_months_that_are_refused_say_what_to_type(text):
    with pytest.raises(months.InvalidMonth) as caught:
        months.parse_month(text)
    assert caught.value.message == "Give the month as YYYY-MM."
    assert months.parse_month_or_none(text) is None


def test_month_arithmetic_and_labels():
    march = datetime.date(2025, 3, 1)
    assert months.first_of_month(datetime.date(2025, 3, 31)) == march
    assert months.first_of_month(datetime.datetime(2025, 3, 31, 23, 59)) == march
    assert months.last_of_month(datetime.date(2024, 2, 10)) == datetime.date(2024, 2, 29)
    assert months.add_months(march, 10) == datetime.date(2026, 1, 1)
    assert months.add_months(march, -3) == datetime.date(2024, 12, 1)
    assert months.months_between(datetime.date(2024, 12, 31), march) == 3
    assert months.previous_month(datetime.date(2025, 1, 15)) == datetime.date(2024, 12, 1)
    assert months.format_month(march) == "2025-03"
    assert months.parse_month(months.format_month(march)) == march
    assert months.month_label(march) == "March 2025"
    assert months.month_short_label(march) == "Mar 2025"
