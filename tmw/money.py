"""Amounts of money typed by people or sent by other systems: the one parser.

The rule, the same on every page, in the API and in CSV imports:

- digits are ASCII ``0-9`` (Python's ``Decimal`` would also read "١٢٣"; this refuses it);
- an optional leading ``$`` and, for grouping, commas every three digits: ``$1,234.50``;
- at most two decimals (``1234.5`` is ``1234.50``; ``12.345`` is refused, not rounded);
- fewer than 12 digits before the point, as the money columns hold (``max_digits=14, decimal_places=2``);
- a leading minus only where the caller allows it (``allow_negative=True``).

Floats are refused: money is ``Decimal``. A ``Decimal`` or ``int`` given directly (a form's
or serializer's cleaned value) is checked by the same bounds. Errors are ``InvalidAmount``,
a ``ValueError`` that names the field.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = ["CENT", "MAX_AMOUNT", "InvalidAmount", "parse_amount"]

CENT = Decimal("0.01")
MAX_DIGITS, DECIMAL_PLACES = 14, 2  # as the money columns
MAX_AMOUNT = Decimal(10) ** (MAX_DIGITS - DECIMAL_PLACES)  # the first amount that does not fit
_AMOUNT_RE = re.compile(
    r"^(?P<sign>-?)\$?(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.(?P<fraction>[0-9]*))?$",
    re.ASCII,
)


class InvalidAmount(ValueError):
    """An amount that the rule refuses; ``message`` says why and ``field`` which field it was."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _parse_text(text: str, field: str) -> Decimal:
    cleaned = text.strip().replace(" ", "")
    if cleaned == "":
        raise InvalidAmount(field, "Give the amount.")
    if cleaned.startswith("$-"):  # "$-12.00" reads as "-$12.00"
        cleaned = "-$" + cleaned[2:]
    if any(not ch.isascii() and unicodedata.category(ch) == "Nd" for ch in cleaned):
        raise InvalidAmount(field, f"“{text.strip()}” is not an amount: write its digits as 0-9.")
    match = _AMOUNT_RE.match(cleaned)
    if match is None or (match.group("whole") is None and not match.group("fraction")):
        raise InvalidAmount(field, f"“{text.strip()}” is not an amount: give a number such as 1234.50 or $1,234.50.")
    fraction = match.group("fraction") or ""
    if len(fraction) > DECIMAL_PLACES:
        raise InvalidAmount(field, "Give the amount in dollars and cents (at most two decimals).")
    whole = (match.group("whole") or "0").replace(",", "")
    return Decimal(f"{match.group('sign')}{whole}.{fraction or '0'}")


def parse_amount(text: object, *, field: str = "amount", allow_negative: bool = False) -> Decimal:
    """An amount of money as a ``Decimal`` with two places, or ``InvalidAmount`` naming ``field``."""
    if isinstance(text, (bool, float)):
        raise InvalidAmount(field, "Give the amount as a decimal number, not a float.")
    if isinstance(text, str):
        amount = _parse_text(text, field)
    elif isinstance(text, Decimal | int):
        amount = Decimal(text)
        if not amount.is_finite():
            raise InvalidAmount(field, "Give the amount as a number.")
    else:
        raise InvalidAmount(field, "Give the amount as a number.")
    if amount < 0 and not allow_negative:
        raise InvalidAmount(field, "The amount cannot be negative.")
    if amount.copy_abs() >= MAX_AMOUNT:  # checked before quantize, which cannot hold a huge number
        raise InvalidAmount(field, "The amount is too large.")
    try:
        cents = amount.quantize(CENT)
    except InvalidOperation:  # pragma: no cover - the bound above keeps quantize within the context
        raise InvalidAmount(field, "The amount is too large.") from None
    if amount != cents:
        raise InvalidAmount(field, "Give the amount in dollars and cents (at most two decimals).")
    return cents + Decimal("0.00")  # no negative zero
