"""Pure statement computation: turns terms, attributed accounts and revenue into statement lines.

Nothing here touches the database; ``commissions.services.statement_compute`` loads the
data in a few batched queries and calls ``compute_lines``. The conventions implemented
here are written out in ``commissions/README.md``.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from tmw.months import add_months, days_in_month, first_of_month, last_of_month, month_label, months_between

if TYPE_CHECKING:
    from commissions.tax import TaxRule

CENT = Decimal("0.01")
ZERO = Decimal("0")

# Line kinds (the values of StatementLine.Kind, repeated so this module imports nothing from Django).
RETAINER_CASH = "retainer_cash"
EQUITY_ACCRUAL = "equity_accrual"
REVENUE_SHARE = "revenue_share"
TAIL = "tail"
ADJUSTMENT = "adjustment"
CREDIT = "credit"
TAX = "tax"


def cents(value: Decimal) -> Decimal:
    """Round to the cent, half-up (away from zero on a half): the one rounding rule of the app."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def cents_of_fraction(value: Fraction) -> Decimal:
    """Round an exact fraction to the cent, half-up, without any intermediate rounding."""
    hundredths = value * 100
    sign = -1 if hundredths < 0 else 1
    magnitude = abs(hundredths)
    whole = int(magnitude)  # floor for a non-negative value
    if magnitude - whole >= Fraction(1, 2):
        whole += 1
    return (Decimal(sign * whole) / 100).quantize(CENT)


def account_year(starts_on: datetime.date, period: datetime.date) -> int | None:
    """The account's year in ``period``: the start month is month 1 of year 1; None before the start."""
    elapsed = months_between(starts_on, period)
    if elapsed < 0:
        return None
    return elapsed // 12 + 1


def account_year_starts(year: int, period: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last start dates that put an account in ``year`` during ``period`` (``account_year``'s inverse)."""
    month = first_of_month(period)
    return add_months(month, 1 - 12 * year), last_of_month(add_months(month, 12 - 12 * year))


def percent(rate: Decimal) -> str:
    """A rate as a percentage for line descriptions: 0.15 -> '15 %', 0.125 -> '12.5 %'."""
    value = (rate * 100).normalize()
    text = f"{value:f}"
    return f"{text} %"


def schedule_rate(rates: Sequence[Decimal], year: int) -> Decimal:
    """The rate of an account's year: the one definition of the app.

    ``rates`` is the schedule by account year (``[0.15, 0.10, 0.05]``); years past the last
    step use the last rate; nothing before year 1 or without a schedule. The forecast, the
    statement lines and the statement run's rate table all take their rates from here.
    """
    if not rates or year < 1:
        return ZERO
    return rates[min(year, len(rates)) - 1]


@dataclass(frozen=True)
class Terms:
    """One terms version, reduced to what the computation needs (amounts in the agreement's currency)."""

    effective_month: datetime.date
    monthly_retainer: Decimal
    rates: tuple[Decimal, ...] = ()
    tail_months: int = 0
    tail_rate: Decimal | None = None
    equity_share: Decimal = ZERO
    equity_label: str = "equity"
    tax: TaxRule | None = None  # the sales tax on the statement's cash due (``commissions/tax.py``)

    def rate_for_year(self, year: int) -> Decimal:
        """The schedule's rate for an account year; years past the last step use the last rate."""
        return schedule_rate(self.rates, year)


@dataclass(frozen=True)
class Account:
    """An attributed account: the attribution's id, the MSP's name and the attribution's dates."""

    id: int
    name: str
    starts_on: datetime.date
    ended_on: datetime.date | None = None


@dataclass(frozen=True)
class Correction:
    """A change to the revenue of a month whose statement is locked: current minus what was billed."""

    account: Account
    period: datetime.date
    difference: Decimal


@dataclass(frozen=True)
class LineDraft:
    """One computed statement line, before it is stored."""

    kind: str
    description: str
    amount: Decimal
    attribution_id: int | None = None
    revenue: Decimal | None = None
    account_year: int | None = None
    rate: Decimal | None = None
    corrects_period: datetime.date | None = None
    order: int = 0


@dataclass(frozen=True)
class ShareRate:
    """How an account's revenue of one month earns: kind (revenue share or tail), account year and rate."""

    kind: str
    year: int
    rate: Decimal


def terms_for(terms: list[Terms], period: datetime.date) -> Terms | None:
    """The version in force in ``period``: the latest one whose effective month is not after it."""
    found = None
    for version in terms:
        if version.effective_month <= period and (found is None or version.effective_month > found.effective_month):
            found = version
    return found


def days_in_term(period: datetime.date, start: datetime.date | None, stop: datetime.date | None) -> int:
    """Days of ``period``'s month within the term [start, stop], both inclusive."""
    if start is None:
        return 0
    first = max(first_of_month(period), start)
    last = last_of_month(period) if stop is None else min(last_of_month(period), stop)
    return max(0, (last - first).days + 1)


def retainer_for(
    monthly: Decimal, period: datetime.date, start: datetime.date | None, stop: datetime.date | None
) -> Decimal:
    """Monthly amount × days of the month in term / days in the month, half-up to the cent."""
    days = days_in_term(period, start, stop)
    if days == 0:
        return ZERO.quantize(CENT)
    month_days = days_in_month(period)
    if days == month_days:  # the whole month: the amount itself, to the cent
        return cents(monthly)
    return cents_of_fraction(Fraction(monthly) * days / month_days)


def equity_split(retainer: Decimal, share: Decimal) -> tuple[Decimal, Decimal]:
    """(cash part, equity part): equity = retainer × share half-up to the cent, cash = retainer − equity."""
    equity = cents(retainer * share)
    return retainer - equity, equity


@dataclass(frozen=True)
class ShareRule:
    """How the attributed accounts of one agreement earn in one month, before the per-account conditions.

    Everything in ``share_rate`` that depends on the agreement and the month alone: whether
    accounts earn at all, as revenue share or as tail, at which rates, and the stop date that
    excludes accounts attributed after it. ``account_earns`` adds the per-account conditions;
    ``commissions.generation`` applies the same conditions in SQL.
    """

    kind: str
    rates: tuple[Decimal, ...]
    tail_rate: Decimal | None = None
    stop: datetime.date | None = None

    def rate_for_year(self, year: int) -> Decimal:
        """The rate of an account year: the tail's fixed rate if set, else the schedule's (last step beyond it)."""
        if self.kind == TAIL and self.tail_rate is not None:
            return self.tail_rate
        return schedule_rate(self.rates, year)

    @property
    def last_step(self) -> int:
        """The account year from which every later year earns the same rate (1 for a fixed tail rate)."""
        if self.kind == TAIL and self.tail_rate is not None:
            return 1
        return max(1, len(self.rates))


def share_rule(
    *, terms: list[Terms], period: datetime.date, start: datetime.date | None, stop: datetime.date | None
) -> ShareRule | None:
    """How accounts earn in ``period``, or None when no account earns (before the term, after the tail)."""
    if start is None or period < first_of_month(start):
        return None
    version = terms_for(terms, period)
    if version is None:
        return None
    if stop is None or period <= first_of_month(stop):
        return ShareRule(REVENUE_SHARE, version.rates, None, stop)
    if months_between(stop, period) > version.tail_months:
        return None
    return ShareRule(TAIL, version.rates, version.tail_rate, stop)


def account_earns(rule: ShareRule, account: Account, period: datetime.date) -> ShareRate | None:
    """The per-account conditions: attributed by ``period``, not ended before it, not after the stop date."""
    year = account_year(account.starts_on, period)
    if year is None:  # revenue of months before the attribution start earns nothing
        return None
    if account.ended_on is not None and period > first_of_month(account.ended_on):
        return None
    if rule.stop is not None and account.starts_on > rule.stop:  # attributed after the engagement stopped
        return None
    return ShareRate(rule.kind, year, rule.rate_for_year(year))


def share_rate(
    *,
    terms: list[Terms],
    account: Account,
    period: datetime.date,
    start: datetime.date | None,
    stop: datetime.date | None,
) -> ShareRate | None:
    """How ``account``'s revenue of ``period`` earns, or None when it earns nothing."""
    rule = share_rule(terms=terms, period=period, start=start, stop=stop)
    return None if rule is None else account_earns(rule, account, period)


def account_line(account: Account, earns: ShareRate, amount: Decimal) -> LineDraft:
    """The revenue-share or tail line of one account for one month."""
    return LineDraft(
        kind=earns.kind,
        description=account_description(account.name, earns.kind, earns.year, earns.rate),
        amount=cents(amount * earns.rate),
        attribution_id=account.id,
        revenue=amount,
        account_year=earns.year,
        rate=earns.rate,
    )


def account_description_parts(kind: str, rate: Decimal) -> tuple[str, str]:
    """The text around the account year in an account line: ``name + prefix + year + suffix``."""
    label = "tail" if kind == TAIL else "revenue share"
    return f": {label}, account year ", f" at {percent(rate)}"


def account_description(name: str, kind: str, year: int, rate: Decimal) -> str:
    """``Acme IT: revenue share, account year 2 at 10 %`` (at most 300 characters, like the column)."""
    prefix, suffix = account_description_parts(kind, rate)
    return f"{name}{prefix}{year}{suffix}"[:300]


def last_billable_month(terms: list[Terms], stop: datetime.date | None) -> datetime.date | None:
    """The last month anything can be billed (the stop month plus the tail); None while the engagement runs."""
    if stop is None:
        return None
    version = terms_for(terms, add_months(first_of_month(stop), 1)) or terms_for(terms, first_of_month(stop))
    tail = version.tail_months if version is not None else 0
    return add_months(first_of_month(stop), tail)


def retainer_lines(
    *, terms: list[Terms], period: datetime.date, start: datetime.date | None, stop: datetime.date | None
) -> list[LineDraft]:
    """The retainer's cash part and, with an equity layer, its equity accrual for ``period`` (unnumbered)."""
    version = terms_for(terms, period)
    if version is None:
        return []
    days = days_in_term(period, start, stop)
    if not days or not version.monthly_retainer:
        return []
    retainer = retainer_for(version.monthly_retainer, period, start, stop)
    month_days = days_in_month(period)
    portion = "" if days == month_days else f" ({days} of {month_days} days)"
    cash, equity = equity_split(retainer, version.equity_share)
    lines = [
        LineDraft(
            kind=RETAINER_CASH,
            description=f"Monthly retainer, {month_label(period)}{portion}"
            + (f", cash part ({percent(1 - version.equity_share)})" if version.equity_share else ""),
            amount=cash,
        )
    ]
    if version.equity_share:
        share = f"{percent(version.equity_share)} of {retainer:,.2f}"
        lines.append(
            LineDraft(
                kind=EQUITY_ACCRUAL,
                description=f"Retainer taken as {version.equity_label} ({share})",
                amount=equity,
                rate=version.equity_share,
            )
        )
    return lines


def adjustment_lines(
    *,
    terms: list[Terms],
    corrections: list[Correction],
    start: datetime.date | None,
    stop: datetime.date | None,
) -> list[LineDraft]:
    """One line per corrected account-month: the difference × that month's rate (unnumbered)."""
    lines = []
    for correction in sorted(corrections, key=lambda c: (c.period, c.account.name.lower(), c.account.id)):
        if not correction.difference:
            continue
        earns = share_rate(terms=terms, account=correction.account, period=correction.period, start=start, stop=stop)
        if earns is None or not earns.rate:
            continue
        sign = "+" if correction.difference > 0 else "−"
        lines.append(
            LineDraft(
                kind=ADJUSTMENT,
                description=f"{correction.account.name}: {month_label(correction.period)} revenue corrected "
                f"({sign}{abs(correction.difference)}) at {percent(earns.rate)}",
                amount=cents(correction.difference * earns.rate),
                attribution_id=correction.account.id,
                revenue=correction.difference,
                account_year=earns.year,
                rate=earns.rate,
                corrects_period=correction.period,
            )
        )
    return lines


def numbered(lines: list[LineDraft], first: int = 1) -> list[LineDraft]:
    """The lines with their display order set, counting from ``first``."""
    return [LineDraft(**{**line.__dict__, "order": index}) for index, line in enumerate(lines, start=first)]


def compute_lines(
    *,
    period: datetime.date,
    start: datetime.date | None,
    stop: datetime.date | None,
    terms: list[Terms],
    accounts: list[Account],
    revenue: dict[int, Decimal],
    corrections: Sequence[Correction] = (),
) -> list[LineDraft]:
    """Every line of one agreement's statement for ``period``, in display order.

    Retainer lines first, then one line per account with revenue (by account name), then the
    adjustments, then the tax line of the version in force (``commissions.tax``). The statement
    run writes the account lines in SQL (``commissions.generation``); this is the reference it is
    tested against.
    """
    period = first_of_month(period)
    lines = retainer_lines(terms=terms, period=period, start=start, stop=stop)
    rule = share_rule(terms=terms, period=period, start=start, stop=stop)
    if rule is not None:
        for account in sorted(accounts, key=lambda a: (a.name.lower(), a.id)):
            amount = revenue.get(account.id)
            earns = None if amount is None else account_earns(rule, account, period)
            if earns is not None and earns.rate and amount is not None:
                lines.append(account_line(account, earns, amount))
    lines.extend(adjustment_lines(terms=terms, corrections=list(corrections), start=start, stop=stop))
    from commissions import tax  # tax builds on this module

    version = terms_for(terms, period)
    taxed = tax.tax_line(version.tax if version is not None else None, lines)
    return numbered(lines + ([taxed] if taxed is not None else []))


def total_of(lines: list[LineDraft]) -> Decimal:
    """A statement's total: the sum of its lines."""
    return sum((line.amount for line in lines), ZERO.quantize(CENT))
