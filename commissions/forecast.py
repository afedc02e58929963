"""Forecast of an agreement's revenue share: pure Decimal functions, plus one adapter that reads an agreement.

The projection holds each attributed account's current monthly recurring revenue (MRR) flat
and applies the revenue-share schedule month by month, so an account crossing into a new
account year drops to that year's rate. The tail estimate answers "what would the tail earn
if the engagement stopped today": every account attributed on or before today keeps earning
for the agreement's tail months after the current month, at its schedule rate (or the fixed
tail rate), on its current MRR.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HORIZON_MONTHS = 12


@dataclass(frozen=True)
class ForecastAccount:
    """An attributed account as the forecast sees it: when its attribution started and its current MRR."""

    name: str
    starts_on: date
    mrr: Decimal
    ended_on: date | None = None


@dataclass
class ForecastMonth:
    """One projected month: the period, the revenue share per account and the month's total."""

    period: date
    total: Decimal = ZERO
    by_account: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class TailForecast:
    """What the tail would earn if the engagement stopped on ``stop_on``."""

    stop_on: date
    months: list[ForecastMonth]

    @property
    def total(self) -> Decimal:
        return sum((m.total for m in self.months), ZERO)


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def add_months(period: date, months: int) -> date:
    """The first day of the month ``months`` after ``period``'s month."""
    index = period.year * 12 + (period.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> int:
    """Whole calendar months from ``start``'s month to ``end``'s month."""
    return (end.year - start.year) * 12 + (end.month - start.month)


def account_year(*, starts_on: date, period: date) -> int:
    """The account's year in ``period``: the attribution's first month is month 1 of year 1; 0 before it."""
    elapsed = months_between(starts_on, period)
    if elapsed < 0:
        return 0
    return elapsed // 12 + 1


def rate_for_year(schedule: Sequence[Decimal], year: int) -> Decimal:
    """The schedule's rate for an account year; past the last step the last rate holds; nothing before year 1."""
    if year < 1 or not schedule:
        return ZERO
    return Decimal(schedule[min(year, len(schedule)) - 1])


def share(amount: Decimal, rate: Decimal) -> Decimal:
    """``amount × rate`` rounded half-up to the cent."""
    return (Decimal(amount) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def _active(account: ForecastAccount, period: date) -> bool:
    if months_between(account.starts_on, period) < 0:
        return False
    return account.ended_on is None or month_start(account.ended_on) >= period


def project_revenue_share(
    *,
    accounts: Iterable[ForecastAccount],
    schedule: Sequence[Decimal],
    first_period: date,
    months: int = HORIZON_MONTHS,
) -> list[ForecastMonth]:
    """Revenue share for ``months`` months from ``first_period``, each account's MRR held flat."""
    accounts = list(accounts)
    result = []
    for i in range(months):
        period = add_months(month_start(first_period), i)
        month = ForecastMonth(period=period)
        for account in accounts:
            if not _active(account, period):
                continue
            rate = rate_for_year(schedule, account_year(starts_on=account.starts_on, period=period))
            amount = share(account.mrr, rate)
            month.by_account[account.name] = month.by_account.get(account.name, ZERO) + amount
            month.total += amount
        result.append(month)
    return result


def tail_if_stopped(
    *,
    accounts: Iterable[ForecastAccount],
    schedule: Sequence[Decimal],
    stop_on: date,
    tail_months: int,
    tail_rate: Decimal | None = None,
) -> TailForecast:
    """The tail months after a stop on ``stop_on``: accounts attributed on or before it keep earning."""
    eligible = [a for a in accounts if a.starts_on <= stop_on and (a.ended_on is None or a.ended_on >= stop_on)]
    stop_month = month_start(stop_on)
    months = []
    for i in range(1, max(tail_months, 0) + 1):
        period = add_months(stop_month, i)
        month = ForecastMonth(period=period)
        for account in eligible:
            if tail_rate is not None:
                rate = Decimal(tail_rate)
            else:
                rate = rate_for_year(schedule, account_year(starts_on=account.starts_on, period=period))
            amount = share(account.mrr, rate)
            month.by_account[account.name] = month.by_account.get(account.name, ZERO) + amount
            month.total += amount
        months.append(month)
    return TailForecast(stop_on=stop_on, months=months)


def chart_data(*, projection: list[ForecastMonth], tail: TailForecast | None = None) -> dict:
    """The chart spec that ``static/js/app.js`` draws: projected share per month, and the tail if any."""
    labels = [m.period.strftime("%b %Y") for m in projection]
    datasets = [{"label": "Projected revenue share", "data": [str(m.total) for m in projection]}]
    if tail is not None and tail.months:
        by_period = {m.period: m.total for m in tail.months}
        datasets.append(
            {
                "label": "Tail if stopped today",
                "data": [str(by_period.get(m.period, ZERO)) for m in projection],
            }
        )
    return {"type": "bar", "labels": labels, "datasets": datasets}
