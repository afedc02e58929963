"""Calendar months: the one place that parses, formats and counts them.

A month is stored and passed around as the ``datetime.date`` of its first day. Text
comes in as ``YYYY-MM`` (an ``<input type=month>``), or ``YYYY-MM-01``; anything else
is refused with ``InvalidMonth``, whose message says what to type.
"""

from __future__ import annotations

import calendar
import datetime
import functools
import re

__all__ = [
    "InvalidMonth",
    "MONTH_HINT",
    "add_months",
    "days_in_month",
    "first_of_month",
    "format_month",
    "last_of_month",
    "month_label",
    "month_short_label",
    "months_between",
    "parse_month",
    "parse_month_or_none",
    "previous_month",
    "this_month",
]

MONTH_HINT = "Give the month as YYYY-MM."
FIRST_YEAR, LAST_YEAR = 2000, 2999
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-01)?$")


class InvalidMonth(ValueError):
    """Text that is not a calendar month; ``str()`` is the message to show."""

    def __init__(self, text: object, message: str = MONTH_HINT) -> None:
        super().__init__(message)
        self.text = text
        self.message = message


def parse_month(text: str) -> datetime.date:
    """``YYYY-MM`` (or ``YYYY-MM-01``) as the first day of that month; raises ``InvalidMonth`` otherwise.

    Years from 2000 to 2999, months 1 to 12.
    """
    match = _MONTH_RE.match((text or "").strip())
    if not match:
        raise InvalidMonth(text)
    year, month = int(match.group(1)), int(match.group(2))
    if not (1 <= month <= 12 and FIRST_YEAR <= year <= LAST_YEAR):
        raise InvalidMonth(text)
    return datetime.date(year, month, 1)


def parse_month_or_none(text: str | None) -> datetime.date | None:
    """Like ``parse_month``, but None for text that is not a month (query strings with a default)."""
    try:
        return parse_month(text or "")
    except InvalidMonth:
        return None


def first_of_month(day: datetime.date) -> datetime.date:
    """The first day of ``day``'s month (a datetime counts by its date)."""
    if isinstance(day, datetime.datetime):
        day = day.date()
    return day.replace(day=1)


def days_in_month(period: datetime.date) -> int:
    """How many days the month of ``period`` has."""
    return calendar.monthrange(period.year, period.month)[1]


def last_of_month(period: datetime.date) -> datetime.date:
    """The last day of ``period``'s month."""
    return period.replace(day=days_in_month(period))


def add_months(period: datetime.date, months: int) -> datetime.date:
    """The first of the month ``months`` calendar months after ``period``'s month (negative goes back)."""
    index = period.year * 12 + (period.month - 1) + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(earlier: datetime.date, later: datetime.date) -> int:
    """Whole calendar months from ``earlier``'s month to ``later``'s month (0 for the same month)."""
    return (later.year - earlier.year) * 12 + (later.month - earlier.month)


def this_month(today: datetime.date | None = None) -> datetime.date:
    """The first day of the current month (in the active time zone), or of ``today``'s."""
    if today is None:
        from django.utils import timezone  # here, so that pure modules can import this one without Django set up

        today = timezone.localdate()
    return first_of_month(today)


def previous_month(today: datetime.date | None = None) -> datetime.date:
    """The first day of the month before ``today``'s (default: the current month)."""
    return add_months(this_month(today), -1)


def format_month(period: datetime.date) -> str:
    """``2025-03``: the form ``parse_month`` reads, used in URLs, CSV cells and file names."""
    return f"{period:%Y-%m}"


@functools.lru_cache(maxsize=1024)  # strftime's month name is slow, and a batch names the same month a thousand times
def month_label(period: datetime.date) -> str:
    """``March 2025``: a month for people to read."""
    return f"{period:%B %Y}"


def month_short_label(period: datetime.date) -> str:
    """``Mar 2025``: a month on a chart axis."""
    return f"{period:%b %Y}"
