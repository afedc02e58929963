"""The bounds of the amounts the commissions app takes in, and the width of the columns that hold its totals.

Every amount a person or another system gives (a month's recurring revenue of one account, a
retainer fee, a negotiated monthly amount, an equity principal or valuation cap) is at most
``MAX_INPUT_AMOUNT``: 1,000,000,000.00. ``tmw.money.parse_amount`` reads the amount (and holds
it under its own, wider bound); ``bounded_amount`` then holds it under this one, with a message
naming the field.

Statements add such amounts up, so their columns are wider than any input: the worst case of one
statement is every attributed account of an agreement at the bound, at a rate of 1, plus the
retainer, plus corrections of earlier months (each again at most the bound per account), plus
the tail. ``TOTAL_DIGITS`` (18 digits, 16 before the point: below 10^16) holds a million
accounts at the bound with a million corrections more; ``check_total`` refuses, naming the
field, a sum that would not fit, so a run never fails inside the database.
"""

from __future__ import annotations

from decimal import Decimal

from tmw.errors import ApplicationError
from tmw.money import InvalidAmount, parse_amount

__all__ = [
    "MAX_INPUT_AMOUNT",
    "MAX_TOTAL",
    "TOTAL_DIGITS",
    "bounded_amount",
    "check_total",
]

MAX_INPUT_AMOUNT = Decimal("1000000000.00")  # per revenue line (one account's month), and per fee or cap
MAX_INPUT_LABEL = "1,000,000,000.00"
TOTAL_DIGITS = 18  # max_digits of statement totals and line amounts, two of them decimals
MAX_TOTAL = Decimal(10) ** (TOTAL_DIGITS - 2)  # the first total that does not fit


def bounded_amount(value: object, field: str = "amount", *, allow_negative: bool = False) -> Decimal:
    """An amount as ``tmw.money.parse_amount`` reads it, at most 1,000,000,000.00; else a 400 naming the field."""
    try:
        amount = parse_amount(value, field=field, allow_negative=allow_negative)
    except InvalidAmount as exc:
        message = exc.message
        if message == "The amount is too large.":
            message = f"The amount is too large: at most {MAX_INPUT_LABEL}."
        raise ApplicationError(message, extra={field: [message]}) from exc
    if abs(amount) > MAX_INPUT_AMOUNT:
        message = f"The amount is too large: at most {MAX_INPUT_LABEL}."
        raise ApplicationError(message, extra={field: [message]})
    return amount


def check_total(value: Decimal, field: str = "total") -> Decimal:
    """``value`` when a statement column holds it; else a 400 naming the field."""
    if abs(value) >= MAX_TOTAL:
        message = "This statement's total is too large to store."
        raise ApplicationError(message, extra={field: [message]})
    return value
