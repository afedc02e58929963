"""Sales tax on a statement: one line per statement, computed on the cash due and rounded once.

Pure functions, no database: ``engine.compute_lines`` (the reference) and the statement run
(``commissions.generation``) both call ``tax_line`` with the terms version in force in the
statement's month, so the two agree to the cent. The rule, as the billing conventions say it:

- the **base** is the cash due: the sum of every line except the retainer taken as equity,
  which is added only when the terms say so (``tax_on_equity``);
- the **tax** = base × rate, rounded half-up to the cent **once per statement** (not per line);
- it is its own line (kind ``tax``), last on the statement, and counts in the total;
- a credit note negates it with every other line, so it carries the negative tax in proportion.

Retainer, revenue-share, tail and adjustment lines never change because of tax.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from commissions import engine

__all__ = ["RATES", "TAX", "TERMS_FIELDS", "TaxRule", "label_of", "rule_of", "rule_of_values", "tax_line"]

# The columns of ``AgreementTerms`` that make its tax, in the order ``rule_of_values`` reads them.
TERMS_FIELDS = ("tax_kind", "tax_rate", "tax_name", "tax_registration", "tax_on_equity")

TAX = "tax"  # StatementLine.Kind.TAX, repeated so this module imports nothing from Django

# The named taxes: (name printed on the statement, rate as a fraction).
RATES: dict[str, tuple[str, Decimal]] = {
    "gst": ("GST", Decimal("0.05")),
    "hst13": ("HST", Decimal("0.13")),
    "hst15": ("HST", Decimal("0.15")),
    "qst": ("QST", Decimal("0.09975")),
}


@dataclass(frozen=True)
class TaxRule:
    """The tax a terms version charges: name, rate (a fraction), registration number, whether equity is taxed."""

    name: str
    rate: Decimal
    registration: str = ""
    on_equity: bool = False


def rule_of(
    kind: str, *, rate: Decimal | None = None, name: str = "", registration: str = "", on_equity: bool = False
) -> TaxRule | None:
    """The rule of a terms version's tax fields; None for no tax (or a custom tax without its rate)."""
    if kind in RATES:
        label, fixed = RATES[kind]
        return TaxRule(label, fixed, registration.strip(), on_equity)
    if kind == "custom" and rate is not None:
        return TaxRule(name.strip() or "Tax", rate, registration.strip(), on_equity)
    return None


def rule_of_values(values: Sequence[Any]) -> TaxRule | None:
    """The rule of a terms version's ``TERMS_FIELDS`` values, as a ``values_list`` row gives them."""
    kind, rate, name, registration, on_equity = values
    return rule_of(kind, rate=rate, name=name or "", registration=registration or "", on_equity=bool(on_equity))


def label_of(rule: TaxRule) -> str:
    """``HST 13 %``."""
    return f"{rule.name} {engine.percent(rule.rate)}"


def tax_line(rule: TaxRule | None, lines: list[engine.LineDraft], *, order: int = 0) -> engine.LineDraft | None:
    """The tax line of a statement with ``lines`` (every other line of it), or None without tax or base.

    ``lines`` may be summaries (the statement run passes its account lines as one sum per kind):
    only their kinds and amounts are read.
    """
    if rule is None or not rule.rate:
        return None
    base = sum(
        (line.amount for line in lines if rule.on_equity or line.kind != engine.EQUITY_ACCRUAL), Decimal("0")
    ).quantize(engine.CENT)
    if not base:
        return None
    registration = f"; registration no. {rule.registration}" if rule.registration else ""
    scope = "cash due and equity" if rule.on_equity else "cash due"
    return engine.LineDraft(
        kind=TAX,
        description=f"{label_of(rule)} on {scope} of {base:,.2f}{registration}"[:300],
        amount=engine.cents(base * rule.rate),
        rate=rule.rate,
        order=order,
    )
