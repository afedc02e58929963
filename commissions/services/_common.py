"""What every commissions service shares: the roles that may act, validation and input parsing."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models

from tmw import months
from tmw.accounts.models import Role, User
from tmw.errors import ApplicationError
from tmw.money import InvalidAmount, parse_amount

FINANCE_ROLES = frozenset({Role.FINANCE, Role.ADMIN})
TERMS_ROLES = frozenset({Role.PARTNER, Role.FINANCE, Role.ADMIN})

# Who acts: a user, a visitor who is not logged in (refused), or nobody (scheduled work).
Actor: TypeAlias = User | AnonymousUser | None


def _user(actor: Actor) -> User | None:
    """The logged-in user acting, or None."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def _require(actor: Actor, roles: frozenset[str], what: str) -> User:
    """The acting user when it holds one of ``roles``; else a 403 saying what it may not do."""
    user = _user(actor)
    if user is None or user.role not in roles:
        raise ApplicationError(f"You may not {what}.", status=403)
    return user


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
    """An amount as ``tmw.money.parse_amount`` reads it, or an ApplicationError naming the field."""
    try:
        return parse_amount(value, field=field, allow_negative=allow_negative)
    except InvalidAmount as exc:
        raise ApplicationError(exc.message, extra={field: [exc.message]}) from exc


def _fraction(value: object, field: str) -> Decimal:
    """A rate or share between 0 and 1 (0.15 is 15 %)."""
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, (float, bool)) else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite() or number < 0 or number > 1:
        raise ApplicationError("Give a fraction between 0 and 1 (0.15 is 15 %).", extra={field: ["Between 0 and 1."]})
    return number
