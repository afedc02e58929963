"""Pure statement computation: turns agreement terms, attributions and revenue into statement lines."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    """Round to the cent, half-up (the one rounding rule of the app)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


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
