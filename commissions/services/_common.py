"""What every commissions service shares: validation and input parsing (who may act is ``tmw.accounts.policy``)."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models

from commissions.limits import bounded_amount
from tmw import months
from tmw.accounts.policy import Actor
from tmw.errors import ApplicationError

__all__ = ["Actor", "_fraction", "_money", "_month", "_validate"]


def _validate(obj: models.Model) -> None:
    """full_clean() turned into an ApplicationError with field messages."""
    try:
        obj.full_clean()
    except ValidationError as exc:
        extra = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        first = next(iter(extra.values()))[0] if extra else "Invalid."
        raise ApplicationError(first, extra=extra) from exc


def _month(value: datetime.date | str | None, field: str = "period") -> datetime.date:
    """A calendar month as its first day: a date, or text as ``tmw.months.parse_month`` reads it."""
    if isinstance(value, datetime.date):
        return months.first_of_month(value)
    try:
        return months.parse_month(value or "")
    except months.InvalidMonth as exc:
        raise ApplicationError(exc.message, extra={field: [exc.message]}) from exc


def _money(value: object, field: str = "amount", *, allow_negative: bool = False) -> Decimal:
    """An amount as ``tmw.money.parse_amount`` reads it, at most 1,000,000,000.00; else a 400 naming the field."""
    return bounded_amount(value, field, allow_negative=allow_negative)


def _fraction(value: object, field: str) -> Decimal:
    """A rate or share between 0 and 1 (0.15 is 15 %)."""
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, (float, bool)) else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number < 0 or number > 1:
        raise ApplicationError("Give a fraction between 0 and 1 (0.15 is 15 %).", extra={field: ["Between 0 and 1."]})
    return number
