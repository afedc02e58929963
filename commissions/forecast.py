"""Forecast of an agreement's revenue share: pure Decimal functions, plus one adapter that reads an agreement.

The projection holds each attributed account's current monthly recurring revenue (MRR) flat
and applies the revenue-share schedule month by month, so an account crossing into a new
account year drops to that year's rate. The tail estimate answers "what would the tail earn
if the engagement stopped today": every account attributed on or before today keeps earning
for the agreement's tail months after the current month, at its schedule rate (or the fixed
tail rate), on its current MRR.

The weighted pipeline answers "what would the open pipeline earn": each TMW-sourced
opportunity before signing is taken as attributed from its expected close month (or next
month, when that date has passed), its expected MRR weighted by its stage's probability,
at the schedule rate of its account year, each month's amount rounded half-up to the cent.
An opportunity without an expected close date is left out (the page says how many).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from commissions import engine
from commissions.engine import schedule_rate
from tmw.months import add_months, first_of_month, month_short_label, months_between

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


@dataclass(frozen=True)
class PipelineOpportunity:
    """An open opportunity as the forecast weighs it: expected MRR, its stage's probability (percent), close date."""

    name: str
    mrr: Decimal
    probability: int
    closes_on: date | None


def account_year(*, starts_on: date, period: date) -> int:
    """The account's year in ``period``: the attribution's first month is month 1 of year 1; 0 before it."""
    return engine.account_year(starts_on, period) or 0


def rate_for_year(schedule: Sequence[Decimal], year: int) -> Decimal:
    """The schedule's rate for an account year, as the statements bill it (``engine.schedule_rate``)."""
    return Decimal(schedule_rate(schedule, year))


def share(amount: Decimal, rate: Decimal) -> Decimal:
    """``amount × rate`` rounded half-up to the cent."""
    return (Decimal(amount) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def _active(account: ForecastAccount, period: date) -> bool:
    if months_between(account.starts_on, period) < 0:
        return False
    return account.ended_on is None or first_of_month(account.ended_on) >= period


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
        period = add_months(first_of_month(first_period), i)
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


def weighted_amount(mrr: Decimal, probability: int, rate: Decimal) -> Decimal:
    """``mrr × probability/100 × rate``, computed exactly and rounded half-up to the cent once."""
    return (Decimal(mrr) * Decimal(probability) / Decimal(100) * Decimal(rate)).quantize(CENT, rounding=ROUND_HALF_UP)


def project_pipeline_share(
    *,
    opportunities: Iterable[PipelineOpportunity],
    schedule: Sequence[Decimal],
    first_period: date,
    months: int = HORIZON_MONTHS,
) -> list[ForecastMonth]:
    """Revenue share the open pipeline would earn over ``months`` months from ``first_period``, weighted."""
    first = first_of_month(first_period)
    starts = [(opp, max(first_of_month(opp.closes_on), first)) for opp in opportunities if opp.closes_on is not None]
    result = []
    for i in range(months):
        period = add_months(first, i)
        month = ForecastMonth(period=period)
        for opp, start in starts:
            if months_between(start, period) < 0:
                continue
            rate = rate_for_year(schedule, account_year(starts_on=start, period=period))
            amount = weighted_amount(opp.mrr, opp.probability, rate)
            month.by_account[opp.name] = month.by_account.get(opp.name, ZERO) + amount
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
    stop_month = first_of_month(stop_on)
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


def chart_data(
    *,
    projection: list[ForecastMonth],
    tail: TailForecast | None = None,
    pipeline: list[ForecastMonth] | None = None,
) -> dict:
    """The chart spec that ``static/js/app.js`` draws: projected share per month, the weighted pipeline and the tail."""
    labels = [month_short_label(m.period) for m in projection]
    datasets = [{"label": "Projected revenue share", "data": [str(m.total) for m in projection]}]
    if pipeline and any(m.total for m in pipeline):
        by_month = {m.period: m.total for m in pipeline}
        datasets.append(
            {"label": "Open pipeline, weighted", "data": [str(by_month.get(m.period, ZERO)) for m in projection]}
        )
    if tail is not None and tail.months:
        by_period = {m.period: m.total for m in tail.months}
        datasets.append(
            {
                "label": "Tail if stopped today",
                "data": [str(by_period.get(m.period, ZERO)) for m in projection],
            }
        )
    return {"type": "bar", "labels": labels, "datasets": datasets}
